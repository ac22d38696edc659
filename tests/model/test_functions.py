"""The native functions' typed configs: read from the document form with every problem named by
its path, written back canonically, bounded where they enter."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edgewise.model.fields import merge_patch
from edgewise.model.functions import (
    MAX_RULES,
    FirewallConfig,
    NatConfig,
    PortForward,
    ProcessConfig,
    RateLimiterConfig,
    VnfFunction,
    config_document,
    read_config,
)
from edgewise.model.problems import DocumentError

from .strategies import configs


def problems(function: VnfFunction, config: object) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        read_config(function, config)
    return [str(p) for p in caught.value.problems]


def test_configs_are_read_into_typed_values() -> None:
    nat = read_config(
        VnfFunction.NAT,
        {
            "mode": "snat",
            "source_address": "198.51.100.7",
            "port_forwards": [{"port": 22, "to_address": "172.16.0.10"}],
        },
    )
    assert nat == NatConfig(
        "snat", IPv4Address("198.51.100.7"), (PortForward(22, IPv4Address("172.16.0.10")),)
    )
    assert isinstance(nat, NatConfig)
    assert nat.port_forwards[0].target_port == 22
    rate = read_config(VnfFunction.RATE_LIMITER, {"ingress_rate": "10 Mbps", "burst": "64 KiB"})
    assert rate == RateLimiterConfig(10_000_000, None, 65536)
    assert config_document(rate) == {"ingress_rate": "10000000 bps", "burst": "65536 B"}
    assert read_config(VnfFunction.FIREWALL, {}) == FirewallConfig("drop", ())
    assert read_config(VnfFunction.FIREWALL, None) == FirewallConfig("drop", ())
    process = read_config(
        VnfFunction.PROCESS, {"command": "dnsmasq", "env": {"B": "2", "A": ""}, "args": [""]}
    )
    assert process == ProcessConfig("dnsmasq", ("",), (("A", ""), ("B", "2")), "on-failure")


@pytest.mark.parametrize(
    ("function", "config", "problem"),
    [
        # what a new user typed (issue 10): every one of them is now refused, by name
        (VnfFunction.FIREWALL, {"default_action": "alow"},
         "default_action: 'alow' is not one of accept, drop, reject"),
        (VnfFunction.FIREWALL, {"rules": [{"action": "acept"}]},
         "rules[0].action: 'acept' is not one of accept, drop, reject"),
        (VnfFunction.FIREWALL, {"rules": [{"protocol": "tpc"}]},
         "rules[0].protocol: 'tpc' is not one of tcp, udp, icmp, any"),
        (VnfFunction.FIREWALL, {"rules": [{"protocol": "tcp", "port": "eighty"}]},
         "rules[0].port: 'eighty' is not a port number from 1 to 65535"),
        (VnfFunction.ROUTER, {"routes": [{"destination": "10.0.0.0/8"}]},
         "routes[0]: a route needs via (a gateway address) or device (lan or wan), or both"),
        # and the rest of the rules a site relies on
        (VnfFunction.FIREWALL, {"rules": [{"protocol": "icmp", "port": 80}]},
         "rules[0].port: a port needs protocol tcp or udp, not 'icmp'"),
        (VnfFunction.FIREWALL, {"rules": [{"source": "10.0.0.300/8"}]},
         "rules[0].source: '10.0.0.300/8' is not an IPv4 address or prefix (e.g. 192.0.2.0/24)"),
        (VnfFunction.FIREWALL, {"rules": [{"source": "2001:db8::/32"}]},
         "rules[0].source: '2001:db8::/32' is IPv6: sites route IPv4 only today"),
        (VnfFunction.FIREWALL, {"rules": [{"protocol": "tcp", "port_range": [90, 80]}]},
         ("rules[0].port_range: an array is not a port range [low, high] with 1 <= low <= high "
         "<= 65535")),
        (VnfFunction.FIREWALL, {"rules": [{"direction": "sideways"}], "color": "red"},
         "color: not a property of this object; it has default_action, rules"),
        (VnfFunction.NAT, {"mode": "snat"},
         "source_address: mode 'snat' needs source_address, the address to use"),
        (VnfFunction.NAT, {"port_forwards": [{"port": 70000, "to_address": "10.0.0.1"}]},
         "port_forwards[0].port: 70000 is not a port number from 1 to 65535"),
        (VnfFunction.NAT, {"port_forwards": [{"port": 80}]},
         "port_forwards[0].to_address: missing: expected an IPv4 address (e.g. 192.0.2.1)"),
        (VnfFunction.RATE_LIMITER, {"ingress_rate": "fast"}, ("ingress_rate: 'fast' is not a "
         "bitrate with a unit, e.g. '10 Mbps'")),
        (VnfFunction.RATE_LIMITER, {"ingress_rate": 5_000_000}, ("ingress_rate: 5000000 is not a "
         "bitrate with a unit, e.g. '10 Mbps'")),
        (VnfFunction.RATE_LIMITER, {"egress_rate": "10 bps"},
         "egress_rate: '10 bps' is outside 8000 to 1000000000000 bps"),
        (VnfFunction.CLASSIFIER, {"classes": [{"name": "a"}, {"name": "a"}]},
         "classes[1]: 'a' repeats classes[0]"),
        (VnfFunction.CLASSIFIER, {"classes": [{"name": "unclassified"}]},
         "classes[0].name: 'unclassified' is the name of what no class matches"),
        (VnfFunction.CLASSIFIER, {"classes": [{"name": "a", "ports": [53]}]},
         "classes[0].ports: ports need protocol tcp or udp, not 'any'"),
        (VnfFunction.PROCESS, {}, "command: missing: expected a program"),
        (VnfFunction.PROCESS, {"command": "x", "env": {"1A": "v"}},
         "env.1A: '1A' is not an environment variable name"),
        (VnfFunction.FIREWALL, {"rules": [{}] * (MAX_RULES + 1)},
         f"rules: {MAX_RULES + 1} items: at most {MAX_RULES}"),
        (VnfFunction.PROCESS, {"command": "x" * 5000}, "command: 5000 characters: at most 4096"),
        (VnfFunction.FIREWALL, [], "(document): an array is not an object"),
    ],
)  # fmt: skip
def test_a_bad_config_names_the_property_at_fault(
    function: VnfFunction, config: object, problem: str
) -> None:
    assert any(p.startswith(problem) for p in problems(function, config)), problems(
        function, config
    )


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        VnfFunction.FIREWALL,
        {"default_action": "alow",
         "rules": [{"action": "acept", "protocol": "tpc", "port": "eighty"}]},
    )  # fmt: skip
    assert [p.split(":")[0] for p in found] == [
        "default_action", "rules[0].action", "rules[0].protocol", "rules[0].port"
    ]  # fmt: skip


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(VnfFunction)).flatmap(lambda f: st.tuples(st.just(f), configs(f))))
def test_written_configs_read_back_equal(case: tuple[VnfFunction, dict[str, Any]]) -> None:
    function, document = case
    try:
        config = read_config(function, document)
    except DocumentError:
        assume(False)
        raise
    written = config_document(config)
    assert read_config(function, written) == config
    assert config_document(read_config(function, written)) == written


def test_merge_patch_follows_rfc_7396() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "rules": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "rules": [3]}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "rules": [3]}
    assert merge_patch({"a": 1}, {"a": None}) == {}
    assert merge_patch("x", {"a": 1}) == {"a": 1}
    assert target["c"] == {"d": "e", "f": "g"}  # the target is not changed


def test_prefixes_and_addresses_are_typed() -> None:
    firewall = read_config(VnfFunction.FIREWALL, {"rules": [{"destination": "192.0.2.7"}]})
    assert isinstance(firewall, FirewallConfig)
    assert firewall.rules[0].destination == IPv4Network("192.0.2.7/32")
    assert config_document(firewall)["rules"][0]["destination"] == "192.0.2.7/32"
