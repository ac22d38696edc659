"""Placement, table-driven: the sites chosen, in what order, and the reason for every other."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgewise.model.placement import Candidate, Request, Strategy, place
from edgewise.model.sites import LabelSelector, SiteKind

ON_PREM, CLOUD = SiteKind.ON_PREMISE, SiteKind.CLOUD


def site(name: str, *, kind: SiteKind = ON_PREM, slots: int = 2, used: int = 0,
         tenant: str = "t1", **labels: str) -> Candidate:  # fmt: skip
    return Candidate(f"id-{name}", name, tenant, kind, MappingProxyType(labels), slots, used)


FLEET = (
    site("paris", region="eu", slots=2, used=0),
    site("lyon", region="eu", slots=2, used=1),
    site("berlin", region="eu", slots=4, used=3),
    site("austin", region="us", slots=2, used=0),
    site("fra-pop", kind=CLOUD, region="eu", slots=60, used=30),
    site("nyc-pop", kind=CLOUD, region="us", slots=40, used=2),
    site("rival", tenant="t2", region="eu"),
)


@dataclass(frozen=True)
class Case:
    name: str
    request: Request
    chosen: list[str]
    reasons: dict[str, str] = field(default_factory=dict)  # site -> start of its reason
    refusal: list[str] = field(default_factory=list)


def eu() -> LabelSelector:
    return LabelSelector.parse("region=eu")


CASES = [
    Case("named sites that fit", Request(slots=1, sites=("paris", "id-lyon"), tenant_id="t1"),
         ["paris", "lyon"], {"austin": "not named", "rival": "belongs to another tenant"}),
    Case("a named site over-subscribed refuses the whole request",
         Request(slots=2, sites=("paris", "lyon"), tenant_id="t1"), ["paris"],
         {"lyon": "1 of 2 VNF slots free; the NS needs 2"},
         ["lyon: 1 of 2 VNF slots free; the NS needs 2"]),
    Case("a name that is no site", Request(slots=1, sites=("paris", "nowhere"), tenant_id="t1"),
         ["paris"], refusal=["nowhere: no such site"]),
    Case("labels and kind", Request(slots=1, selector=eu(), kind=CLOUD, tenant_id="t1"),
         ["fra-pop"], {"paris": "is on-premise, the request wants cloud",
                       "nyc-pop": "labels do not match region=eu (has region=us)"}),
    Case("least occupied first, all that fit",
         Request(slots=2, tenant_id="t1"), ["austin", "paris", "nyc-pop", "fra-pop"],
         {"lyon": "1 of 2 VNF slots free", "berlin": "1 of 4 VNF slots free"}),
    Case("pack: the fullest that fit first, count 2",
         Request(slots=1, strategy=Strategy.PACK, count=2, tenant_id="t1"), ["berlin", "lyon"],
         {"paris": "not among the first 2 by pack"}),
    Case("spread over regions", Request(slots=1, strategy=Strategy.SPREAD, count=4,
                                        tenant_id="t1"),
         ["paris", "austin", "fra-pop", "nyc-pop"]),
    Case("minimum free slots left", Request(slots=1, min_free_slots=10, tenant_id="t1"),
         ["nyc-pop", "fra-pop"],
         {"paris": "would keep 1 VNF slots free; the request wants at least 10"}),
    Case("asking for more sites than fit", Request(slots=1, selector=eu(), kind=CLOUD, count=3,
                                                   tenant_id="t1"),
         ["fra-pop"], refusal=["only 1 site(s) meet the criteria; 3 were asked"]),
    Case("nothing fits", Request(slots=99, tenant_id="t1"), [],
         {"fra-pop": "30 of 60 VNF slots free; the NS needs 99"},
         ["no site meets the criteria"]),
    Case("an admin's NS may go to any tenant's site", Request(slots=1, selector=eu(), count=7),
         ["paris", "rival", "fra-pop", "lyon", "berlin"],
         refusal=["only 5 site(s) meet the criteria; 7 were asked"]),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_placement(case: Case) -> None:
    result = place(case.request, FLEET)
    assert [c.name for c in result.chosen] == case.chosen
    reasons = {r.site_name: r.reason for r in result.rejected}
    for name, start in case.reasons.items():
        assert reasons[name].startswith(start), (name, reasons[name])
    assert set(reasons) | {c.name for c in result.chosen} == {c.name for c in FLEET}
    assert result.refusal(case.request) == case.refusal


candidates = st.lists(
    st.builds(
        site,
        st.text("abcdefgh", min_size=1, max_size=6),
        kind=st.sampled_from([ON_PREM, CLOUD]),
        slots=st.integers(1, 40),
        used=st.integers(0, 40),
        tenant=st.sampled_from(["t1", "t2"]),
        region=st.sampled_from(["eu", "us", "ap"]),
    ),
    max_size=25,
    unique_by=lambda c: c.name,
)


@given(
    candidates, st.integers(1, 8), st.sampled_from(list(Strategy)), st.none() | st.integers(1, 9)
)
def test_every_site_is_chosen_or_has_a_reason_and_nothing_is_oversubscribed(
    fleet: list[Candidate], slots: int, strategy: Strategy, count: int | None
) -> None:
    request = Request(slots=slots, strategy=strategy, count=count, tenant_id="t1")
    result = place(request, fleet)
    chosen = {c.id for c in result.chosen}
    assert chosen.isdisjoint(r.site_id for r in result.rejected)
    assert chosen | {r.site_id for r in result.rejected} == {c.id for c in fleet}
    assert all(c.free >= slots and c.tenant_id == "t1" for c in result.chosen)
    assert count is None or len(chosen) <= count
    assert place(request, list(reversed(fleet))) == result  # order of input does not matter
