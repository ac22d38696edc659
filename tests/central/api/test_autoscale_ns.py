"""Auto-scaling by SCALE_NS (docs/elastic-vnfs.md): a rule on an NSD scaling aspect scales the
NS out onto one more site of the rule's `addSites` when a VNF's counters rise above its band,
and in off that site when they fall, automatically (isAutomaticInvocation), within its levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.central.api.conftest import Central
from tests.central.api.test_autoscale import cooled, counted, decided, rule_of
from tests.central.api.test_nslcm import settle_all
from tests.central.api.test_scale_vnf import elastic_ns

RULES = "/api/v1/ns-instances/{}/autoscale-rules"


def test_a_rule_on_the_nsd_aspect_scales_the_ns_by_sites(central: Central) -> None:
    acme, href, sites = elastic_ns(central)
    client, ns = central.client, href.rsplit("/", 1)[-1]
    made = client.post("/api/v1/sites", json={"name": "e3", "kind": "cloud",
                       "slots_per_node": 5}, headers=acme.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    extra = made.json()["id"]
    central.bring_online([extra])
    body = {"vnf": "firewall", "aspectId": "sites", "metric": "PacketCount",
            "scaleOutAbove": 100, "scaleInBelow": 10, "cooldownSeconds": 600,
            "scaleType": "SCALE_NS", "addSites": ["e3"], "maxLevel": 1}  # fmt: skip
    added = client.post(RULES.format(ns), json=body, headers=acme.headers)
    assert added.status_code == 201, added.text
    rule = added.json()["id"]
    assert (added.json()["scaleType"], added.json()["addSites"]) == ("SCALE_NS", [extra])
    kept = [r["origin"] for r in client.get(RULES.format(ns), headers=acme.headers).json()]
    assert sorted(kept) == ["api", "descriptor"]  # the VNFD's SCALE_VNF rule stays
    start, packets, last = datetime.now(UTC), 0, None
    readings = iter(range(1, 50))

    def reading(per_second: int) -> dict[str, Any]:
        nonlocal packets, last
        packets += per_second * 10
        counted(central, sites[0], ns, packets, start + timedelta(seconds=10 * next(readings)))
        found = decided(central, acme, rule, last)
        last = found["at"]
        return found

    counted(central, sites[0], ns, packets, start)
    last = decided(central, acme, rule, None)["at"]
    out = reading(300)
    assert (out["decision"], out["level"]) == ("scale-out", 0), out
    location = f"/nslcm/v1/ns_lcm_op_occs/{out['nsLcmOpOccId']}"
    op = client.get(location, headers=acme.headers).json()
    assert op["isAutomaticInvocation"] is True
    assert op["operationParams"]["scaleType"] == "SCALE_NS"
    settle_all(central, acme, location, *sites, extra)
    instance = client.get(href, headers=acme.headers).json()
    assert sorted(instance["sites"]) == sorted([*sites, extra])
    assert instance["nsScaleStatus"][0]["nsScaleLevelId"] == "1"
    cooled(central, rule)
    at_max = reading(300)
    assert (at_max["decision"], at_max["level"]) == ("held-at-max-level", 1), at_max
    back = reading(1)
    assert back["decision"] == "scale-in", back
    location = f"/nslcm/v1/ns_lcm_op_occs/{back['nsLcmOpOccId']}"
    assert client.get(location, headers=acme.headers).json()["isAutomaticInvocation"] is True
    settle_all(central, acme, location, *sites, extra)
    assert sorted(client.get(href, headers=acme.headers).json()["sites"]) == sorted(sites)
    assert rule_of(central, acme, rule)["lastScaledAt"] is not None


def test_bad_scale_ns_rules_are_refused_naming_the_field(central: Central) -> None:
    acme, href, _ = elastic_ns(central)
    at = RULES.format(href.rsplit("/", 1)[-1])
    good = {"vnf": "firewall", "aspectId": "sites", "metric": "PacketCount",
            "scaleOutAbove": 100, "scaleInBelow": 10, "scaleType": "SCALE_NS",
            "addSites": ["e2"]}  # fmt: skip
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({k: v for k, v in good.items() if k != "addSites"}, 422, "addSites",
         "names the sites (ids or names) a scale-out may add"),
        (good | {"addSites": ["nowhere"]}, 422, "addSites[0]", "'nowhere': no such site"),
        (good | {"aspectId": "instances"}, 422, "aspectId", "the NSD's scaling aspects are sites"),
        (good | {"maxLevel": 9}, 422, "maxLevel", "max_scale_level (8)"),
        (good | {"scaleType": "SCALE_VNF", "aspectId": "instances"}, 422, "addSites",
         "only for scaleType SCALE_NS"),
        (good | {"scaleType": "SCALE_ALL"}, 400, "scaleType", "SCALE_VNF"),
    ]  # fmt: skip
    for body, status, field, text in cases:
        answer = central.client.post(at, json=body, headers=acme.headers)
        assert answer.status_code == status, (body, answer.text)
        assert any(field == p["where"] and text in p["message"]
                   for p in answer.json()["problems"]), (body, answer.json())  # fmt: skip
