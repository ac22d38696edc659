"""Site values: kinds, capacity and label selectors."""

from __future__ import annotations

import pytest

from edgewise.model.sites import Capacity, LabelSelector, SiteKind, label_problem


def test_capacity_in_slots() -> None:
    assert Capacity(3, 20).vnf_slots == 60
    assert SiteKind.ON_PREMISE.default_slots_per_node == 2
    assert SiteKind.CLOUD.default_slots_per_node == 20


@pytest.mark.parametrize(
    ("text", "labels", "matches"),
    [
        ("region=eu", {"region": "eu"}, True),
        ("region=eu,env=prod", {"region": "eu", "env": "prod"}, True),
        ("region=eu,env=prod", {"region": "eu"}, False),
        ("region=eu", {"region": "us"}, False),
        ("", {"anything": "x"}, True),
        (" region = eu , ", {"region": "eu"}, True),
    ],
)
def test_selector_matching(text: str, labels: dict[str, str], matches: bool) -> None:
    assert LabelSelector.parse(text).matches(labels) is matches


@pytest.mark.parametrize("text", ["region", "Region=eu", "region=eu west", "=x", "a=-b"])
def test_bad_selectors_say_what_is_wrong(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        LabelSelector.parse(text)


def test_label_rules() -> None:
    assert label_problem("region", "eu-west-1") is None
    assert label_problem("edgewise.dev/tier", "") is None
    assert "label key" in (label_problem("UPPER", "x") or "")
    assert "label value" in (label_problem("k", "x" * 64) or "")
