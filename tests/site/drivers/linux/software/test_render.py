"""Rendering a third-party VNF (pure): files, argv, environment, checksums, its saved form."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.software.errors import SoftwareFileError
from edgewise.site.drivers.linux.software.facts import Leg, VnfDirs, VnfFacts
from edgewise.site.drivers.linux.software.render import Rendering, render
from tests.site.drivers.chains import desired
from tests.site.drivers.linux.software.packaged import dns_service, dnsmasq

PARAMS = {"pool_start": "172.16.0.100", "pool_end": "172.16.0.150", "allowed_ip": "192.0.2.7"}
FACTS = VnfFacts(
    "dns", "svc", "ew-0001-dns", VnfDirs(Path("/var/lib/edgewise/ew/software/ew-0001-dns")),
    IPv4Network("172.16.1.0/24"), IPv4Interface("172.16.1.1/24"),
    Leg("ewab12cd34r", IPv4Interface("172.16.1.1/24")),
    Leg("ewef56ab78l", IPv4Interface("10.255.0.16/31")),
)  # fmt: skip


def config(**params: str) -> SoftwareConfig:
    state = desired(1, dns_service("svc", dnsmasq({**PARAMS, **params})))
    found = state.services[0].vnfs[0].config
    assert isinstance(found, SoftwareConfig)
    return found


def test_files_and_commands_are_filled_in_with_the_facts_and_params() -> None:
    rendering = render(config(), FACTS)
    conf = next(f for f in rendering.files if f.path == "etc/dnsmasq/dnsmasq.conf")
    text = conf.content.decode()
    assert "interface=ewab12cd34r\n" in text
    assert "listen-address=172.16.1.1\n" in text
    assert "dhcp-range=172.16.0.100,172.16.0.150,1h\n" in text
    assert "pid-file=/var/lib/edgewise/ew/software/ew-0001-dns/run/dnsmasq.pid" in text
    assert conf.mode == 0o644
    keep = next(f for f in rendering.files if f.path == "var/lib/dnsmasq/.keep")
    assert keep.content == b""
    assert rendering.own_dirs() == ["etc/dnsmasq", "var/lib/dnsmasq"]
    hook = rendering.hook("instantiate_start")
    assert hook is not None
    assert hook.argv[-1] == 'echo "$LAN_IF $PARAM_ALLOWED_IP" > /var/lib/dnsmasq/instantiated'


def test_the_environment_holds_every_variable_in_upper_case() -> None:
    env = render(config(), FACTS).env
    assert env["LAN_IF"] == "ewab12cd34r"
    assert env["WAN_ADDRESS"] == "10.255.0.16"
    assert env["WAN_PEER"] == "10.255.0.17"  # the other end of its /31
    assert env["LAN_PEER"] == ""  # the LAN's hosts: no one hop
    assert env["LAN_GATEWAY"] == "172.16.1.1"
    assert env["LAN_PREFIXLEN"] == "24"
    assert env["PARAM_ALLOWED_IP"] == "192.0.2.7"
    assert env["ROOT"].endswith("/ew-0001-dns/root")
    assert env["PATH"]


def test_a_file_whose_checksum_does_not_match_is_not_rendered() -> None:
    good = config()
    tampered = replace(good.files[0], content=good.files[0].content + "# changed\n")
    with pytest.raises(SoftwareFileError, match=r"file etc/dnsmasq/dnsmasq.conf: its SHA-256"):
        render(replace(good, files=(tampered, *good.files[1:])), FACTS)


def test_the_rendering_survives_the_state_file() -> None:
    rendering = render(config(), FACTS)
    again = Rendering.from_json(rendering.to_json())
    assert again.programs == rendering.programs
    assert again.hooks == rendering.hooks
    assert again.env == rendering.env
    assert [(f.path, f.mode) for f in again.files] == [(f.path, f.mode) for f in rendering.files]
