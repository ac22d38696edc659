"""One contract, three places that read it: the TOSCA loader (onboarding a descriptor), the
central (an NS update) and the site controller (its desired state) accept and refuse the same
VNF configurations, and name the same fields when they refuse."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgewise.central.orchestrator import documents
from edgewise.central.services.errors import Invalid
from edgewise.model.desired import DesiredState, DocumentError
from edgewise.model.fields import merge_patch
from edgewise.model.functions import TOSCA_TYPES, VnfFunction
from edgewise.tosca import Nsd, TypeCache, load_bytes

from .strategies import configs, json_values, mutate

TYPES = {function: name for name, function in TOSCA_TYPES.items()}
CACHE = TypeCache()
NODE = "topology_template.node_templates.x.properties"
UPDATE = "modifyVnfInfoData[0].vnfConfigurableProperties"


def site_refuses(function: VnfFunction, config: Any) -> set[str]:
    """The fields the site controller refuses in its desired state (empty: it accepts)."""
    service = {"id": "s", "name": "s", "tenant": "t", "chain": ["x"],
               "vnfs": [{"name": "x", "function": function.value, "config": config}]}  # fmt: skip
    try:
        DesiredState.from_document(1, {"services": [service]})
    except DocumentError as exc:
        prefix = "services[0].vnfs[0].config"
        return {p.where.removeprefix(prefix).lstrip(".") or "(config)" for p in exc.problems}
    return set()


def central_refuses(function: VnfFunction, config: Any) -> set[str]:
    """The fields an NS update that sets these properties is refused for (a 422)."""
    entry = {"id": "s", "name": "s", "tenant": "t", "chain": ["x"],
             "vnfs": [{"name": "x", "function": function.value, "config": {}}]}  # fmt: skip
    try:
        documents.configure_entry(entry, {"x": config}, {"x": "modifyVnfInfoData[0]"})
    except Invalid as exc:
        return {p.where.removeprefix(UPDATE).lstrip(".") or "(config)" for p in exc.problems}
    return set()


def loader_refuses(function: VnfFunction, config: Any) -> set[str]:
    """The properties an NSD whose VNF node has this config is refused for at onboarding."""
    nsd = {
        "tosca_definitions_version": "tosca_simple_yaml_1_3",
        "topology_template": {"node_templates": {
            "ns": {"type": "tosca.nodes.nfv.NS",
                   "properties": {"descriptor_id": "agree", "designer": "d", "version": "1",
                                  "name": "agree", "invariant_id": "agree",
                                  "flavour_id": "default"}},
            "x": {"type": TYPES[function], "properties": config},
        }},
    }  # fmt: skip
    result = load_bytes(yaml.safe_dump(nsd).encode(), "nsd.yaml", cache=CACHE)
    if isinstance(result.descriptor, Nsd):
        return set()
    refused = {p.path.removeprefix(NODE).lstrip(".") or "(config)" for p in result.problems}
    assert refused, [str(p) for p in result.problems]
    return refused


def agree(function: VnfFunction, config: Any) -> None:
    value = merge_patch({}, config)  # a null in a patch removes a property: no value to check
    site = site_refuses(function, value)
    central = central_refuses(function, value)
    loader = loader_refuses(function, value)
    assert bool(site) == bool(central) == bool(loader), (site, central, loader)
    assert site == central
    # the loader's type checks may name a field of a field (or the field) the contract names
    for field in site:
        head = field.split("[")[0].split(".")[0]
        assert not head or any(f.split("[")[0].split(".")[0] == head for f in loader), (
            field,
            loader,
        )


# A third-party VNF's config comes from its package's VNFD, not from a node template's
# properties: the loader's side of it is tests/tosca/test_software.py.
cases = st.sampled_from(list(TYPES)).flatmap(
    lambda f: st.tuples(
        st.just(f), configs(f), st.lists(st.integers(0, 9), max_size=4), json_values
    )
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases, st.booleans())
def test_loader_central_and_site_accept_and_refuse_the_same_configs(
    case: tuple[VnfFunction, dict[str, Any], list[int], Any], mutated: bool
) -> None:
    function, config, path, replacement = case
    if mutated and isinstance(config, dict) and config:
        config = mutate(config, path, replacement)
    if isinstance(config, dict):
        agree(function, config)


@pytest.mark.parametrize(
    ("function", "config"),
    [
        (VnfFunction.FIREWALL, {"default_action": "alow"}),
        (VnfFunction.FIREWALL, {"rules": [{"action": "acept", "protocol": "tpc",
                                           "port": "eighty"}]}),
        (VnfFunction.ROUTER, {"routes": [{"destination": "10.0.0.0/8"}]}),
        (VnfFunction.ROUTER, {"routes": [{"destination": "10.0.0.0/8", "device": "wan0"}]}),
        (VnfFunction.RATE_LIMITER, {"ingress_rate": "10 bps"}),
        (VnfFunction.RATE_LIMITER, {"ingress_rate": 10_000_000}),
        (VnfFunction.NAT, {"mode": "snat"}),
        (VnfFunction.CLASSIFIER, {"classes": [{"name": "a", "ports": [53]}]}),
        (VnfFunction.FIREWALL, {"rules": [{"source": "2001:db8::/32"}]}),
        (VnfFunction.PROCESS, {"command": "x", "env": {"1A": "v"}}),
        (VnfFunction.FIREWALL, {"rules": [{"protocol": "tcp", "port": 80}]}),
    ],
)  # fmt: skip
def test_the_values_a_new_user_tried_are_judged_alike(
    function: VnfFunction, config: dict[str, Any]
) -> None:
    agree(function, config)
