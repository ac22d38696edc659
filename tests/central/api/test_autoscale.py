"""Auto-scaling by telemetry (docs/elastic-vnfs.md): a rule bound to an NS instance starts
SCALE_VNF by itself when the rate of a VNF's counters leaves its band, with
isAutomaticInvocation true on the occurrence and its notifications; cool-down and levels hold."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from edgewise.central.services import site_channel
from edgewise.central.services.site_channel import ReportItem
from edgewise.central.store.autoscale_tables import AutoScaleRuleRow
from edgewise.central.store.tables import aware
from tests.central.api.callbacks import Callback
from tests.central.api.conftest import Caller, Central
from tests.central.api.test_nslcm import sessions, settle_all
from tests.central.api.test_scale_vnf import elastic_ns, firewall_of, step

SUBS = "/nslcm/v1/subscriptions"
RULES = "/api/v1/autoscale-rules"


def test_an_automatic_invocation_is_carried_by_both_notifications(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    acme, href, sites = elastic_ns(central)
    made = central.client.post(SUBS, json={"callbackUri": uri, "filter": {"notificationTypes": [
        "NsLcmOperationOccurrenceNotification"], "operationTypes": ["SCALE"]}},
        headers=acme.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    out = central.client.post(f"{href}/scale", json=step("firewall", "SCALE_OUT")
                              | {"isAutomaticInvocation": True}, headers=acme.headers)  # fmt: skip
    assert out.status_code == 202, out.text
    settle_all(central, acme, out.headers["Location"], *sites)
    heard = subscriber.wait_for(2)
    assert sorted(n["notificationStatus"] for n in heard) == ["RESULT", "START"]
    assert all(n["isAutomaticInvocation"] is True for n in heard), heard


def counted(central: Central, site: str, ns: str, packets: int, at: datetime) -> None:
    """A counters report of the site's firewall (the channel itself is tested elsewhere)."""
    body = {"services": {ns: {"firewall": {"rules": {"rule-0": {"packets": packets}}}}}}
    item = ReportItem(f"c-{time.monotonic_ns()}", "counters", at, body)
    with sessions(central).begin() as session:
        site_channel.record_reports(session, site, [item])


def rule_of(central: Central, caller: Caller, rule: str) -> dict[str, Any]:
    answer = central.client.get(f"{RULES}/{rule}", headers=caller.headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def decided(central: Central, caller: Caller, rule: str, after: str | None) -> dict[str, Any]:
    """The rule's next decision (by the running tracker) after the one at `after`."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        last = rule_of(central, caller, rule)["lastDecision"]
        if last is not None and last["at"] != after:
            return dict(last)
        time.sleep(0.1)
    raise AssertionError(f"rule {rule} decided nothing new in 15 s")


def cooled(central: Central, rule: str) -> None:
    """The cool-down is over (the rule last scaled long ago: a clock of the test's)."""
    with sessions(central).begin() as session:
        row = session.get(AutoScaleRuleRow, rule)
        assert row is not None
        if row.scaled_at is not None:
            row.scaled_at = aware(row.scaled_at) - timedelta(seconds=COOL_DOWN + 1)


COOL_DOWN = 600


def test_counters_rising_scale_out_then_cool_down_bounds_and_scale_in(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    acme, href, sites = elastic_ns(central)
    client, ns = central.client, href.rsplit("/", 1)[-1]
    made = client.post(SUBS, json={"callbackUri": uri, "filter": {
        "notificationTypes": ["NsLcmOperationOccurrenceNotification"]}},
        headers=acme.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    body = {"vnf": "firewall", "aspectId": "instances", "metric": "PacketCount",
            "scaleOutAbove": 100, "scaleInBelow": 10, "cooldownSeconds": COOL_DOWN,
            "maxLevel": 2}  # fmt: skip
    added = client.post(f"/api/v1/ns-instances/{ns}/autoscale-rules", json=body,
                        headers=acme.headers)  # fmt: skip
    assert added.status_code == 201, added.text
    rule = added.json()["id"]
    assert (added.json()["minLevel"], added.json()["maxLevel"]) == (0, 2)
    start, packets, last = datetime.now(UTC), 0, None
    readings = iter(range(1, 100))

    def reading(per_second: int) -> dict[str, Any]:
        """A report 10 s of the site's clock after the last, at `per_second`; the decision."""
        nonlocal packets, last
        packets += per_second * 10
        counted(central, sites[0], ns, packets, start + timedelta(seconds=10 * next(readings)))
        found = decided(central, acme, rule, last)
        last = found["at"]
        return found

    def scaled(found: dict[str, Any], kind: str, instances: int, *, settle: bool = True) -> str:
        assert found["decision"] == kind, found
        location = f"/nslcm/v1/ns_lcm_op_occs/{found['nsLcmOpOccId']}"
        op = client.get(location, headers=acme.headers)
        assert op.json()["isAutomaticInvocation"] is True
        assert op.json()["operationParams"]["scaleVnfData"][0]["scaleVnfType"] == kind.upper(
        ).replace("-", "_")  # fmt: skip
        for site in sites:
            assert firewall_of(central, acme, site).get("instances", 1) == instances
        if settle:
            settle_all(central, acme, location, *sites)
        return location

    counted(central, sites[0], ns, packets, start)
    assert decided(central, acme, rule, None)["decision"] == "baseline"
    last = rule_of(central, acme, rule)["lastDecision"]["at"]
    assert reading(50)["decision"] == "within-band"
    out = reading(200)
    assert out["ratePerSecond"] == 200.0
    scaled(out, "scale-out", 2)
    listed = client.get("/nslcm/v1/ns_lcm_op_occs", headers=acme.headers).json()
    automatic = [o for o in listed if o["isAutomaticInvocation"]]
    assert [o["id"] for o in automatic] == [out["nsLcmOpOccId"]]
    held = reading(200)
    assert held["decision"] == "held-cool-down", held
    assert "cool-down" in held["detail"]
    cooled(central, rule)
    second = scaled(reading(200), "scale-out", 3, settle=False)
    cooled(central, rule)
    busy = reading(5)  # the scale-out is still in flight: nothing else starts
    assert busy["decision"] == "held-operation-in-flight", busy
    assert second.rsplit("/", 1)[-1] in busy["detail"]
    settle_all(central, acme, second, *sites)
    at_max = reading(500)
    assert (at_max["decision"], at_max["level"]) == ("held-at-max-level", 2), at_max
    scaled(reading(5), "scale-in", 2)
    cooled(central, rule)
    scaled(reading(0), "scale-in", 1)
    cooled(central, rule)
    assert reading(0)["decision"] == "held-at-min-level"
    heard = subscriber.wait_for(8)  # START and RESULT of each of the four
    scales = [n for n in heard if n["operation"] == "SCALE"]
    assert len(scales) == 8
    assert all(n["isAutomaticInvocation"] is True for n in scales)
    assert rule_of(central, acme, rule)["lastScaledAt"] is not None


def test_bad_rules_are_refused_naming_the_field(central: Central) -> None:
    acme, href, _ = elastic_ns(central)
    ns = href.rsplit("/", 1)[-1]
    at = f"/api/v1/ns-instances/{ns}/autoscale-rules"
    good = {"vnf": "firewall", "aspectId": "instances", "metric": "PacketCount",
            "scaleOutAbove": 100, "scaleInBelow": 10}  # fmt: skip
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        (good | {"vnf": "fw"}, 422, "vnf", "'fw': the NS's VNFs are firewall, gw, nat"),
        (good | {"aspectId": "cpu"}, 422, "aspectId", "aspect 'cpu' is not one of VNFD"),
        (good | {"vnf": "nat"}, 422, "vnf", "is in no onboarded VNF package"),
        (good | {"metric": "LinkLatency"}, 422, "metric", "one of PacketCount, ByteCount"),
        (good | {"scaleInBelow": 100}, 422, "scaleInBelow", "must be under scaleOutAbove"),
        (good | {"maxLevel": 4}, 422, "maxLevel", "to the aspect's max_scale_level (3)"),
        (good | {"minLevel": 2, "maxLevel": 2}, 422, "maxLevel", "from minLevel + 1 (3)"),
        (good | {"cooldownSeconds": -1}, 400, "cooldownSeconds", "greater than or equal to 0"),
        ({k: v for k, v in good.items() if k != "vnf"}, 400, "vnf", "Field required"),
        (good | {"extra": 1}, 400, "extra", "Extra inputs are not permitted"),
    ]  # fmt: skip
    for body, status, field, text in cases:
        answer = central.client.post(at, json=body, headers=acme.headers)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert any(field == p["where"] and text in p["message"]
                   for p in answer.json()["problems"]), (body, answer.json())  # fmt: skip
    # nothing refused was made: only the VNFD's own rule (seeded at instantiation) is there
    seeded = central.client.get(at, headers=acme.headers).json()
    assert [(r["origin"], r["vnf"]) for r in seeded] == [("descriptor", "firewall")]
    made = central.client.post(at, json=good, headers=acme.headers)
    assert made.status_code == 201, made.text
    assert made.json()["maxLevel"] == 3  # the aspect's max_scale_level
    assert made.json()["lastDecision"] is None
    rule = f"{RULES}/{made.json()['id']}"
    # the operator's rule for the firewall's aspect supersedes the descriptor's
    assert [(r["id"], r["origin"]) for r in central.client.get(at, headers=acme.headers).json()
            ] == [(made.json()["id"], "api")]  # fmt: skip
    assert central.client.delete(rule, headers=acme.headers).status_code == 204
    assert central.client.get(rule, headers=acme.headers).status_code == 404
