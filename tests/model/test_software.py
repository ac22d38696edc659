"""The contract of a third-party VNF (model/software.py): what a site accepts, every refusal
with its path, templates checked against the variables the site fills in."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from edgewise.model.desired import DesiredState, DocumentError
from edgewise.model.fields import read, write
from edgewise.model.software import MAX_FILES_BYTES, SoftwareConfig, template_names


def file(path: str, content: str, **extra: Any) -> dict[str, Any]:
    digest = hashlib.sha256(content.encode()).hexdigest()
    return {"path": path, "content": content, "sha256": digest, **extra}


GOOD: dict[str, Any] = {
    "vnfd_id": "dnsmasq-vnfd",
    "vnfd_version": "1.0",
    "provider": "Edgewise samples",
    "product": "dnsmasq",
    "programs": [
        {
            "name": "dnsmasq",
            "command": ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=${root}/d.conf"],
            "ready": {"kind": "udp", "port": 53},
            "cpu_millis": 500,
            "memory_mib": 64,
            "capabilities": ["NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW"],
        }
    ],
    "packages": [{"name": "dnsmasq-base"}],
    "files": [
        file("d.conf", "interface=${lan_if}\ndomain=${param_domain}\n", template=True),
        file("Scripts/check.sh", 'test -n "$LAN_IF"\n', mode=0o755),
    ],
    "hooks": [{"operation": "modify_information_end", "command": ["${root}/Scripts/check.sh"]}],
    "params": {"domain": "lan"},
    "reload": "script",
}


def problems(value: dict[str, Any]) -> list[str]:
    try:
        read(SoftwareConfig, value)
    except DocumentError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_a_good_config_reads_and_writes_back_equal() -> None:
    config = read(SoftwareConfig, GOOD)
    assert config.programs[0].ready is not None
    assert config.programs[0].ready.port == 53
    assert config.variables() == {"param_domain": "lan"}
    assert read(SoftwareConfig, write(config)) == config


def test_a_service_of_a_software_vnf_is_a_desired_state_the_site_accepts() -> None:
    service = {"id": "s", "name": "s", "tenant": "t", "chain": ["dns"],
               "vnfs": [{"name": "dns", "function": "software", "config": GOOD}]}  # fmt: skip
    state = DesiredState.from_document(3, {"services": [service]})
    assert isinstance(state.services[0].vnfs[0].config, SoftwareConfig)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"programs": []}, "programs: a VNF runs at least one program (VDU)"),
        ({"files": [file("../etc/passwd", "x")]}, "files[0].path: '../etc/passwd' is not a plain"),
        ({"files": [file("/etc/passwd", "x")]}, "files[0].path: '/etc/passwd' is not a relative"),
        ({"files": [dict(file("a", "x"), content="y")]}, "files[0].sha256: does not match"),
        (
            {"files": [file("a", "${wan_iff}", template=True)]},
            "files[0].content: names no template variable and no parameter of this VNF: wan_iff",
        ),
        (
            {"files": [file("a", "x\ncost $5", template=True)]},
            "files[0].content: line 2: a '$' that starts no ${name}",
        ),
        (
            {"programs": [{"name": "p", "command": ["${param_nope}"]}]},
            "programs[0].command: names no template variable and no parameter of this VNF: param",
        ),
        ({"reload": "script", "hooks": []}, "reload: reload by script needs a modify_informat"),
        (
            {"programs": [{"name": "p", "command": ["x"], "ready": {"kind": "tcp"}}]},
            "programs[0].ready.port: a tcp readiness probe needs a port",
        ),
        (
            {"programs": [{"name": "p", "command": ["x"], "capabilities": ["SYS_MODULE"]}]},
            "programs[0].capabilities[0]: 'SYS_MODULE' is not one of NET_ADMIN",
        ),
        ({"packages": [{"name": "Frr!"}]}, "packages[0].name: 'Frr!' is not a Debian package"),
        (
            {"files": [file(f"f{i}", "x" * 60_000) for i in range(5)]},
            f"files: 300000 bytes in all: at most {MAX_FILES_BYTES}",
        ),
    ],
)
def test_every_refusal_names_its_field(change: dict[str, Any], expected: str) -> None:
    found = problems({**GOOD, **change})
    assert any(p.startswith(expected) for p in found), found


def test_template_names_finds_both_forms_and_ignores_escapes() -> None:
    assert template_names("$a ${b} $$c") == {"a", "b"}
