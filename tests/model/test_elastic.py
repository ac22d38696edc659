"""Elastic VNFs in the desired state: an instance count, left out at 1, bounded, and allowed only
where the neighbours can spread flows (docs/elastic-vnfs.md)."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.model.desired import MAX_INSTANCES, DesiredState, DocumentError


def service(instances: object = 3, at: int = 1, **extra: Any) -> dict[str, Any]:
    vnfs: list[dict[str, Any]] = [
        {"name": "gw", "function": "router", "config": {}},
        {"name": "fw", "function": "firewall", "config": {"default_action": "accept"}},
        {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
    ]
    vnfs[at]["instances"] = instances
    vnfs[at].update(extra)
    return {"id": "s1", "name": "s1", "tenant": "t1", "vnfs": vnfs, "chain": ["gw", "fw", "nat"]}


def problems_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        DesiredState.from_document(1, {"services": [document]})
    return [str(p) for p in caught.value.problems]


def test_an_instance_count_reads_and_writes_back() -> None:
    state = DesiredState.from_document(1, {"services": [service(3)]})
    fw = state.services[0].vnfs[1]
    assert fw.instances == 3
    assert state.to_document()["services"][0]["vnfs"][1]["instances"] == 3


def test_one_instance_is_left_out_so_existing_documents_are_unchanged() -> None:
    document = service(1)
    state = DesiredState.from_document(1, {"services": [document]})
    written = state.to_document()["services"][0]["vnfs"]
    assert all("instances" not in v for v in written)


def test_the_digest_changes_with_the_count_but_the_ruleset_digest_does_not() -> None:
    one = DesiredState.from_document(1, {"services": [service(1)]}).services[0].vnfs[1]
    three = DesiredState.from_document(1, {"services": [service(3)]}).services[0].vnfs[1]
    assert one.config_digest() == one.ruleset_digest() == three.ruleset_digest()
    assert three.config_digest() != one.config_digest()


@pytest.mark.parametrize("count", [0, MAX_INSTANCES + 1, "3", True, 2.5])
def test_the_count_is_bounded(count: object) -> None:
    (problem,) = problems_of(service(count))
    assert problem.startswith("services[0].vnfs[1].instances:")
    assert f"from 1 to {MAX_INSTANCES}" in problem


@pytest.mark.parametrize(
    ("at", "why"),
    [(0, "first or last in the chain"), (2, "first or last in the chain")],
)
def test_only_a_vnf_between_two_vnfs_runs_as_several_instances(at: int, why: str) -> None:
    (problem,) = problems_of(service(2, at))
    assert problem.startswith(f"services[0].vnfs[{at}].instances:")
    assert why in problem


def test_a_classifier_neighbour_is_refused() -> None:
    document = service(2)
    document["vnfs"][0] = {"name": "gw", "function": "classifier", "config": {"classes": []}}
    (problem,) = problems_of(document)
    assert "a classifier (it owns the conntrack mark)" in problem


def test_two_scaled_neighbours_are_refused() -> None:
    document = service(2)
    document["vnfs"][0]["instances"] = 2
    found = problems_of(document)
    assert any("runs as several instances too" in p for p in found)


def test_a_vnf_outside_the_chain_is_refused() -> None:
    document = service(2)
    document["chain"] = ["gw", "nat"]
    (problem,) = problems_of(document)
    assert "is not in the chain" in problem
