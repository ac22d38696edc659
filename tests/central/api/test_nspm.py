"""SOL005 NS performance management (`nspm/v1`): PM jobs and thresholds checked and scoped to
their tenant, a job over an NS whose sites report counters reporting the right values, and a
threshold crossing up and down once each, notified through the outbox to a real callback."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from sqlalchemy import event, func, select

from edgewise.central.services import pm_collect, pm_jobs, site_channel
from edgewise.central.services.site_channel import ReportItem
from edgewise.central.store.pm_tables import PmReportRow, PmThresholdRow
from edgewise.central.store.sdwan_tables import SiteLinkStateRow
from edgewise.central.store.tables import NotificationRow, utcnow
from tests.central.api.callbacks import Callback
from tests.central.api.conftest import Caller, Central
from tests.central.api.sol005 import SCHEMAS
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import add_sites, create_ns, instantiate_on, sessions

JOBS = "/nspm/v1/pm_jobs"
THRESHOLDS = "/nspm/v1/thresholds"
SUBSCRIPTIONS = "/nspm/v1/subscriptions"


def suite_schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / "NSPerformanceManagement-API" / "schemas" / f"{name}.schema.json"
    if not path.is_file():
        pytest.skip(f"ETSI schema {path} is not available")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def ns_on_sites(central: Central, caller: Caller, *names: str) -> tuple[str, list[str]]:
    """An NS instance (the vCPE: firewall, then NAT) instantiated on new sites."""
    sites = add_sites(central, caller, *names)
    ns = create_ns(central, caller, onboard_nsd(central, caller))["id"]
    instantiate_on(central, caller, ns, *sites)
    return ns, sites


def counters(central: Central, site: str, ns: str, vnfs: dict[str, Any]) -> datetime:
    """What a site's counters report records (the channel itself is tested elsewhere)."""
    at = datetime.now(UTC)
    item = ReportItem(f"c-{time.monotonic_ns()}", "counters", at, {"services": {ns: vnfs}})
    with sessions(central).begin() as session:
        site_channel.record_reports(session, site, [item])
    return at


def firewall(packets: tuple[int, int], size: tuple[int, int]) -> dict[str, Any]:
    return {"rules": {"rule-0": {"packets": packets[0], "bytes": size[0]},
                      "default-outbound": {"packets": packets[1], "bytes": size[1]}}}  # fmt: skip


def job_request(ns: str, **criteria: Any) -> dict[str, Any]:
    return {
        "objectInstanceIds": [ns],
        "criteria": {"performanceMetric": ["PacketCount"], "collectionPeriod": 10,
                     "reportingPeriod": 20} | criteria,
    }  # fmt: skip


def problems_of(answer: Any) -> dict[str, str]:
    return {p["where"]: p["message"] for p in answer.json()["problems"]}


def test_bad_jobs_and_thresholds_are_refused_naming_the_field(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    ns, _ = ns_on_sites(central, acme, "a")
    cases: list[tuple[dict[str, Any], int, str]] = [
        (job_request(ns, performanceMetric=["CpuLoad"]), 400, "criteria.performanceMetric[0]"),
        (job_request(ns, performanceMetric=[], performanceMetricGroup=["LinkQuality"]), 400,
         "criteria.performanceMetricGroup[0]"),
        (job_request(ns, performanceMetric=[]), 400, "criteria.performanceMetric"),
        (job_request(ns, collectionPeriod=1), 400, "criteria.collectionPeriod"),
        (job_request(ns, reportingPeriod=25), 400, "criteria.reportingPeriod"),
        (job_request(ns, reportingPeriod=10_000), 400, "criteria.reportingPeriod"),
        (job_request(ns, performanceMetric=[f"PacketCount.v{i}" for i in range(30)],
                     reportingPeriod=1000) | {"objectInstanceIds": [ns, "b", "c", "d"]}, 400,
         "criteria.reportingPeriod"),  # 4 x 30 x 100 values a report
        (job_request(ns) | {"objectInstanceIds": [ns, ns]}, 400, "objectInstanceIds[1]"),
        (job_request(ns) | {"objectType": "VNF"}, 400, "objectType"),
        ({"objectInstanceIds": [ns]}, 400, "criteria"),
        (job_request("no-such-ns"), 422, "objectInstanceIds[0]"),
    ]  # fmt: skip
    for body, status, where in cases:
        answer = client.post(JOBS, json=body, headers=acme.headers)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert where in problems_of(answer), (where, answer.json())
    threshold = {"objectInstanceId": ns, "criteria": {
        "performanceMetric": "PacketCount", "thresholdType": "SIMPLE",
        "simpleThresholdDetails": {"thresholdValue": 10, "hysteresis": -1}}}  # fmt: skip
    answer = client.post(THRESHOLDS, json=threshold, headers=acme.headers)
    assert answer.status_code == 400
    assert "criteria.simpleThresholdDetails.hysteresis" in problems_of(answer)
    link: dict[str, Any] = {"objectType": "SITE", "objectInstanceId": ns, "criteria": {
        "performanceMetric": "LinkLatency", "thresholdType": "SIMPLE",
        "simpleThresholdDetails": {"thresholdValue": 10, "hysteresis": 1}}}  # fmt: skip
    answer = client.post(THRESHOLDS, json=link, headers=acme.headers)
    assert answer.status_code == 400
    assert "name the link" in problems_of(answer)["criteria.performanceMetric"]
    link["criteria"]["performanceMetric"] = "LinkLatency.mpls"
    answer = client.post(THRESHOLDS, json=link, headers=acme.headers)
    assert answer.status_code == 422  # ns is not a site
    assert "objectInstanceId" in problems_of(answer)
    assert client.get(JOBS, headers=acme.headers).json() == []
    assert client.get(THRESHOLDS, headers=acme.headers).json() == []


def test_a_job_whose_objects_reported_nothing_writes_no_report(central: Central) -> None:
    acme = central.tenant("acme")
    ns, _ = ns_on_sites(central, acme, "a")
    start = utcnow()
    job = central.client.post(JOBS, json=job_request(ns), headers=acme.headers).json()["id"]
    with sessions(central).begin() as session:
        assert pm_collect.collect(session, start + timedelta(seconds=11)) == 1
        assert pm_collect.collect(session, start + timedelta(seconds=21)) == 1
    assert "reports" not in central.client.get(f"{JOBS}/{job}", headers=acme.headers).json()
    with sessions(central).begin() as session:
        assert session.scalar(select(func.count()).select_from(NotificationRow)) == 0


def test_jobs_per_tenant_are_bounded(central: Central, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = central.tenant("acme")
    ns, _ = ns_on_sites(central, acme, "a")
    monkeypatch.setattr(pm_jobs, "MAX_JOBS_PER_OWNER", 1)
    assert central.client.post(JOBS, json=job_request(ns), headers=acme.headers).status_code == 201
    again = central.client.post(JOBS, json=job_request(ns), headers=acme.headers)
    assert again.status_code == 409
    assert "delete one first" in again.json()["detail"]


def test_another_tenant_neither_sees_nor_uses_the_objects(central: Central) -> None:
    client, acme, globex = central.client, central.tenant("acme"), central.tenant("globex")
    ns, (site,) = ns_on_sites(central, acme, "a")
    job = client.post(JOBS, json=job_request(ns), headers=acme.headers).json()["id"]
    on_theirs = client.post(JOBS, json=job_request(ns), headers=globex.headers)
    assert on_theirs.status_code == 422
    assert problems_of(on_theirs) == {"objectInstanceIds[0]": f"NS instance {ns} does not exist"}
    for path in (f"{JOBS}/{job}", f"{JOBS}/{job}/reports/x"):
        assert client.get(path, headers=globex.headers).status_code == 404
    assert client.delete(f"{JOBS}/{job}", headers=globex.headers).status_code == 404
    assert client.get(JOBS, headers=globex.headers).json() == []
    assert client.get(f"{JOBS}/{job}", headers=acme.headers).status_code == 200
    assert client.get(JOBS, headers=central.admin.headers).json()[0]["id"] == job
    site_job = {"objectType": "SITE", "objectInstanceIds": [site], "criteria": {
        "performanceMetricGroup": ["LinkQuality"], "collectionPeriod": 60,
        "reportingPeriod": 600}}  # fmt: skip
    assert client.post(JOBS, json=site_job, headers=globex.headers).status_code == 422
    assert client.post(JOBS, json=site_job, headers=acme.headers).status_code == 201
    assert client.delete(f"{JOBS}/{job}", headers=acme.headers).status_code == 204
    assert client.get(f"{JOBS}/{job}", headers=acme.headers).status_code == 404


def subscribe(central: Central, caller: Caller, uri: str, types: list[str]) -> str:
    body = {"callbackUri": uri, "filter": {"notificationTypes": types}}
    made = central.client.post(SUBSCRIPTIONS, json=body, headers=caller.headers)
    assert made.status_code == 201, made.text
    jsonschema.validate(made.json(), suite_schema("PmSubscription"))
    subscription: str = made.json()["id"]
    return subscription


def test_a_job_reports_what_the_ns_sites_counted(
    central: Central, callback: tuple[Callback, str]
) -> None:
    client, acme = central.client, central.tenant("acme")
    subscriber, uri = callback
    subscribe(central, acme, uri, ["PerformanceInformationAvailableNotification"])
    ns, (one, two) = ns_on_sites(central, acme, "a", "b")
    start = utcnow()
    body = job_request(ns, performanceMetric=["PacketCount", "ByteCount.firewall"])
    made = client.post(JOBS, json=body, headers=acme.headers)
    assert made.status_code == 201, made.text
    job = made.json()
    assert made.headers["Location"] == job["_links"]["self"]["href"]
    assert job["criteria"]["collectionPeriod"] == 10
    nat = {"nat": {"source-nat": {"packets": 7, "bytes": 700}}}
    counters(central, one, ns, {"firewall": firewall((10, 5), (1000, 500)), "nat": nat})
    counters(central, two, ns, {"firewall": firewall((1, 2), (100, 200))})
    with sessions(central).begin() as session:  # the tracker's step, on a clock of the test's
        assert pm_collect.collect(session, start + timedelta(seconds=5)) == 0  # not due yet
        assert pm_collect.collect(session, start + timedelta(seconds=11)) == 1
    counters(central, two, ns, {"firewall": firewall((4, 2), (400, 200))})
    with sessions(central).begin() as session:
        assert pm_collect.collect(session, start + timedelta(seconds=21)) == 1
    (notification,) = subscriber.wait_for(1)
    jsonschema.validate(notification, suite_schema("PerformanceInformationAvailableNotification"))
    assert notification["objectInstanceId"] == ns
    report_href = notification["_links"]["performanceReport"]["href"]
    report = client.get(report_href, headers=acme.headers)
    assert report.status_code == 200, report.text
    entries = {e["performanceMetric"]: e for e in report.json()["entries"]}
    assert sorted(entries) == ["ByteCount.firewall", "PacketCount"]
    assert [v["value"] for v in entries["PacketCount"]["performanceValues"]] == [25.0, 28.0]
    assert [v["value"] for v in entries["ByteCount.firewall"]["performanceValues"]] == [
        1800.0, 2100.0]  # fmt: skip
    assert entries["PacketCount"]["objectInstanceId"] == ns
    nsd_id = client.get(f"/nslcm/v1/ns_instances/{ns}", headers=acme.headers).json()["nsdId"]
    assert entries["PacketCount"]["objectType"] == nsd_id
    read = client.get(f"{JOBS}/{job['id']}", headers=acme.headers).json()
    assert [r["href"].split("/nspm/")[1] for r in read["reports"]] == [report_href[len("/nspm/") :]]
    assert "reports" not in client.get(JOBS, headers=acme.headers).json()[0]
    assert "reports" in client.get(JOBS, params={"all_fields": ""}, headers=acme.headers).json()[0]


def test_a_threshold_crosses_up_and_down_once_each_with_hysteresis(
    central: Central, callback: tuple[Callback, str]
) -> None:
    """Through the running tracker: each counters report is judged once, on its own."""
    client, acme = central.client, central.tenant("acme")
    subscriber, uri = callback
    subscribe(central, acme, uri, ["ThresholdCrossedNotification"])
    ns, (site,) = ns_on_sites(central, acme, "a")
    body = {"objectInstanceId": ns, "criteria": {
        "performanceMetric": "PacketCount.firewall", "thresholdType": "SIMPLE",
        "simpleThresholdDetails": {"thresholdValue": 100, "hysteresis": 10}}}  # fmt: skip
    made = client.post(THRESHOLDS, json=body, headers=acme.headers)
    assert made.status_code == 201, made.text
    jsonschema.validate(made.json(), suite_schema("Threshold"))
    threshold = made.json()["id"]

    def judged(packets: int) -> None:
        at = counters(central, site, ns, {"firewall": firewall((packets, 0), (0, 0))})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with sessions(central).begin() as session:
                row = session.get(PmThresholdRow, threshold)
                assert row is not None
                if row.seen_at is not None and row.seen_at.replace(tzinfo=UTC) >= at:
                    return
            time.sleep(0.1)
        raise AssertionError(f"the reading {packets} was not judged in 10 s")

    for packets in (50, 105, 120, 130, 125, 95, 85, 80):  # under, in the band, UP, stays, DOWN
        judged(packets)
    up, down = subscriber.wait_for(2)
    with sessions(central).begin() as session:
        assert session.scalar(select(func.count()).select_from(NotificationRow)) == 2
    schema = suite_schema("ThresholdCrossedNotification")
    for notification, direction, value in ((up, "UP", 120.0), (down, "DOWN", 85.0)):
        jsonschema.validate(notification, schema | {"properties": schema["properties"] | {
            "performanceValue": {"type": "number"}}})  # fmt: skip
        assert (notification["crossingDirection"], notification["performanceValue"]) == (
            direction, value)  # fmt: skip
        assert notification["thresholdId"] == threshold
        assert notification["_links"]["threshold"]["href"] == f"{THRESHOLDS}/{threshold}"


def test_pm_subscription_filters_are_checked(
    central: Central, callback: tuple[Callback, str]
) -> None:
    acme = central.tenant("acme")
    _, uri = callback
    for bad, status in (
        ({"notificationTypes": ["AlarmNotification"]}, 400),
        ({"nsInstanceSubscriptionFilter": {"vnfdIds": ["x"]}}, 422),
        ({"objectTypes": ["NS"]}, 400),
    ):
        answer = central.client.post(SUBSCRIPTIONS, json={"callbackUri": uri, "filter": bad},
                                     headers=acme.headers)  # fmt: skip
        assert answer.status_code == status, (bad, answer.text)
    only = {"nsInstanceSubscriptionFilter": {"nsInstanceIds": ["x"]}}
    good = {"callbackUri": uri, "filter": only}
    assert central.client.post(SUBSCRIPTIONS, json=good, headers=acme.headers).status_code == 201


def test_a_site_job_reports_each_link_s_figures(central: Central) -> None:
    """objectType SITE (an Edgewise extension): a link metric without a link, one per link."""
    client, acme = central.client, central.tenant("acme")
    (site,) = add_sites(central, acme, "hq")
    start = utcnow()
    with sessions(central).begin() as session:
        for name, latency, loss in (("mpls", 12.5, 0.0), ("lte", 48.0, 1.5)):
            session.add(SiteLinkStateRow(site_id=site, name=name, state="up", latency_ms=latency,
                                         loss_percent=loss, reported_at=start))  # fmt: skip
    body = {"objectType": "SITE", "objectInstanceIds": [site], "criteria": {
        "performanceMetric": ["LinkLatency", "LinkLoss.lte"], "collectionPeriod": 10,
        "reportingPeriod": 10}}  # fmt: skip
    job = client.post(JOBS, json=body, headers=acme.headers).json()
    assert job["_links"]["objects"] == [{"href": f"http://testserver/api/v1/sites/{site}"}]
    with sessions(central).begin() as session:
        assert pm_collect.collect(session, start + timedelta(seconds=11)) == 1
    (ref,) = client.get(f"{JOBS}/{job['id']}", headers=acme.headers).json()["reports"]
    report = client.get(ref["href"], headers=acme.headers).json()
    found = {e["performanceMetric"]: e["performanceValues"][0]["value"] for e in report["entries"]}
    assert found == {"LinkLatency.lte": 48.0, "LinkLatency.mpls": 12.5, "LinkLoss.lte": 1.5}
    assert {e["objectType"] for e in report["entries"]} == {"SITE"}


def test_a_tracker_pass_is_bounded_and_set_based(
    central: Central, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass takes at most JOB_BATCH due jobs, in as many statements for 2 jobs as for 5, and
    a job keeps its newest KEPT_REPORTS reports."""
    acme = central.tenant("acme")
    ns, (site,) = ns_on_sites(central, acme, "a")
    counters(central, site, ns, {"firewall": firewall((1, 1), (1, 1))})
    start = utcnow()
    for _ in range(7):
        made = central.client.post(JOBS, json=job_request(ns, reportingPeriod=10),
                                   headers=acme.headers)  # fmt: skip
        assert made.status_code == 201, made.text
    monkeypatch.setattr(pm_collect, "JOB_BATCH", 5)
    monkeypatch.setattr(pm_collect, "KEPT_REPORTS", 2)
    engine = sessions(central).kw["bind"]
    statements: list[tuple[object, str]] = []  # (connection, statement): the workers' too

    def count(*args: Any) -> None:
        statements.append((args[0], args[2]))

    event.listen(engine, "before_cursor_execute", count)
    taken: list[tuple[int, int]] = []  # (jobs, statements) of each pass
    try:
        for round_ in (1, 2, 3):  # each: 5 of the 7 due jobs, then the other 2
            for _ in range(2):
                statements.clear()
                with sessions(central).begin() as session:
                    now = start + timedelta(seconds=11 * round_)
                    jobs = pm_collect.collect(session, now)
                    mine = session.connection()
                    taken.append((jobs, sum(conn is mine for conn, _ in statements)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [jobs for jobs, _ in taken] == [5, 2] * 3
    for five, two in zip(taken[0::2], taken[1::2], strict=True):
        assert five[1] == two[1], taken  # as many statements for 5 jobs as for 2
    with sessions(central).begin() as session:
        reports = session.execute(select(PmReportRow.job_id, func.count()).group_by(
            PmReportRow.job_id)).all()  # fmt: skip
    assert sorted(n for _, n in reports) == [2] * 7  # 3 each, the oldest pruned


def test_api_versions_and_methods_not_implemented(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    for path in ("/nspm/api_versions", "/nspm/v1/api_versions"):
        versions = client.get(path, headers=acme.headers)
        assert versions.json() == {"uriPrefix": "/nspm/v1", "apiVersions": [{"version": "2.6.1"}]}
        jsonschema.validate(versions.json(), suite_schema("ApiVersionInformation"))
    ns, _ = ns_on_sites(central, acme, "a")
    job = client.post(JOBS, json=job_request(ns), headers=acme.headers)
    assert job.headers["Version"] == "2.6.1"
    for method, path in (("PUT", JOBS), ("PATCH", f"{JOBS}/{job.json()['id']}"),
                         ("PUT", f"{THRESHOLDS}/x"), ("PATCH", f"{SUBSCRIPTIONS}/x")):  # fmt: skip
        assert client.request(method, path, headers=acme.headers).status_code == 405
