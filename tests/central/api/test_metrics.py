"""GET /metrics: Prometheus' text format, the app's own registry, an operator's token, the
fleet's, operations', rollouts', notifications', links' and channel's series read at scrape."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select, text

from edgewise.central.config import CentralSettings
from edgewise.central.services import link_reports, metrics_counters
from edgewise.central.services.metrics import StoreCollector
from edgewise.central.services.site_channel import ReportItem, record_batches
from edgewise.central.store.sdwan_tables import SiteLinkStateRow
from edgewise.central.store.tables import SiteRow, TenantRow
from tests.central.api.conftest import Central, running
from tests.central.api.sdwan import INET, MPLS, new_site
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_rollouts import ROLLOUTS, fleet, run_until


def samples(central: Central) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The scrape's samples by name and sorted labels."""
    answer = central.client.get("/metrics", headers=central.admin.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_metrics_need_an_operator_token_and_say_why(central: Central) -> None:
    acme = central.tenant("acme")
    anonymous = central.client.get("/metrics")
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["content-type"] == "application/problem+json"
    refused = central.client.get("/metrics", headers=acme.headers)
    assert refused.status_code == 403, refused.text
    assert "admin" in refused.json()["detail"]


def test_sites_by_presence_and_sync(central: Central) -> None:
    acme = central.tenant("acme")
    ids = [new_site(central, acme, f"branch-{n}") for n in range(4)]
    central.bring_online(ids[:2])
    central.bring_online(ids[2:3], last_seen=datetime.now(UTC) - timedelta(hours=1))
    with central.sessions.begin() as session:  # the first site reports it applied its document
        body = {"revision": 1}
        link_reports.record(session, ids[0], body, datetime.now(UTC))
    got = samples(central)
    by_presence: dict[str, float] = {}
    for (name, labels), value in got.items():
        if name == "edgewise_sites":
            presence = dict(labels)["presence"]
            by_presence[presence] = by_presence.get(presence, 0) + value
    assert by_presence == {"online": 2, "offline": 1, "never-enrolled": 1}
    assert got[("edgewise_sites", (("presence", "offline"), ("sync", "out-of-sync")))] == 1


def test_operations_and_rollouts_are_counted_by_type_and_state(central: Central) -> None:
    acme = central.tenant("acme")
    got = samples(central)
    assert not any(name == "edgewise_operations" for name, _ in got)  # none yet: no sample
    nsd = onboard_nsd(central, central.admin)
    sites = fleet(central, acme, eu=2)
    made = central.client.post(
        ROLLOUTS,
        json={"name": "vcpe", "nsdId": nsd, "labels": "region=eu", "batchSize": 2},
        headers=acme.headers,
    )
    assert made.status_code == 201, made.text
    assert samples(central)[("edgewise_rollouts", (("state", "RUNNING"),))] == 1
    run_until(central, acme, made.json()["id"], sites, {"COMPLETED"})
    got = samples(central)
    assert got[("edgewise_rollouts", (("state", "COMPLETED"),))] == 1
    assert ("edgewise_rollouts", (("state", "RUNNING"),)) not in got
    completed = (("operation", "INSTANTIATE"), ("state", "COMPLETED"))
    assert got[("edgewise_operations", completed)] == 2
    assert got[("edgewise_operation_duration_seconds_count", completed)] == 2
    inf = (("le", "+Inf"), ("operation", "INSTANTIATE"), ("state", "COMPLETED"))
    assert got[("edgewise_operation_duration_seconds_bucket", inf)] == 2
    assert 0 < got[("edgewise_operation_duration_seconds_sum", completed)] < 2 * 30
    assert got[("edgewise_sites", (("presence", "online"), ("sync", "in-sync")))] == 2


def test_link_series_per_site_in_base_units(central: Central) -> None:
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS, INET)
    central.bring_online([site])
    report = {
        "links": [
            {"name": "mpls", "state": "up", "latency_ms": 20, "loss_percent": 1.5, "jitter_ms": 2},
            {"name": "inet", "state": "down"},
        ]
    }
    with central.sessions.begin() as session:
        link_reports.record(session, site, report, datetime.now(UTC))
    got = samples(central)
    mpls = (("link", "mpls"), ("site", "branch"), ("tenant", "acme"))
    inet = (("link", "inet"), ("site", "branch"), ("tenant", "acme"))
    assert got[("edgewise_link_up", mpls)] == 1
    assert got[("edgewise_link_up", inet)] == 0
    assert got[("edgewise_link_latency_seconds", mpls)] == 0.02
    assert got[("edgewise_link_jitter_seconds", mpls)] == 0.002
    assert got[("edgewise_link_loss_ratio", mpls)] == 0.015
    assert ("edgewise_link_latency_seconds", inet) not in got  # not measured: no sample
    assert got[("edgewise_links", (("state", "up"),))] == 1
    assert got[("edgewise_links", (("state", "down"),))] == 1
    assert got[("edgewise_links_latency_seconds_max", ())] == 0.02
    assert got[("edgewise_link_site_series", ())] == 1


def test_the_registry_is_the_apps_own(central: Central) -> None:
    samples(central)
    assert REGISTRY.get_sample_value("edgewise_link_site_series") is None
    assert not any(isinstance(c, StoreCollector) for c in REGISTRY._collector_to_names)


def add_sites(central: Central, count: int, links: tuple[str, ...], *, first: int = 0) -> None:
    """`count` sites of tenant acme straight into the store, each reporting `links` up."""
    now = datetime.now(UTC)
    with central.sessions.begin() as session:
        tenant = session.scalar(select(TenantRow.id).where(TenantRow.name == "acme"))
        ids = [str(uuid.uuid4()) for _ in range(count)]
        session.execute(
            insert(SiteRow),
            [
                {"id": site, "tenant_id": tenant, "name": f"s{n}", "kind": "on-premise",
                 "labels": {}, "compute_nodes": 1, "slots_per_node": 2, "created_at": now,
                 "enrolled_at": now, "cert_serial": f"{n:x}"}
                for n, site in enumerate(ids, start=first)
            ],
        )  # fmt: skip
        session.execute(
            insert(SiteLinkStateRow),
            [
                {"site_id": site, "name": link, "state": "up", "latency_ms": 10.0 + n % 50,
                 "loss_percent": 0.0, "jitter_ms": 1.0, "counters": {}, "reported_at": now}
                for n, site in enumerate(ids)
                for link in links
            ],
        )  # fmt: skip


def test_per_site_link_series_stop_above_the_setting(tmp_path: Path) -> None:
    settings = CentralSettings(data_dir=tmp_path, metrics_site_series=2)
    with running(settings) as central:
        central.tenant("acme")
        add_sites(central, 2, ("inet",))
        got = samples(central)
        assert sum(1 for name, _ in got if name == "edgewise_link_up") == 2
        add_sites(central, 1, ("inet",), first=2)
        got = samples(central)
        assert not any(name.startswith("edgewise_link_") for name, _ in got if
                       name != "edgewise_link_site_series")  # fmt: skip
        assert got[("edgewise_link_site_series", ())] == 0
        assert got[("edgewise_links", (("state", "up"),))] == 3


SCRAPE_BUDGET_S = 2.0  # one scrape of 10,000 sites on the embedded store, shared 2-core machine
MAX_SERIES = 60


def test_a_scrape_of_10000_sites_is_bounded_in_time_and_series(
    tmp_path: Path, database_url: str
) -> None:
    # the default setting: per-site series up to 500 sites
    settings = CentralSettings(data_dir=tmp_path, database_url=database_url)
    with running(settings) as central:
        central.tenant("acme")
        add_sites(central, 10_000, ("mpls", "inet"))
        samples(central)  # warm: the first scrape also loads the store's pages
        started = time.monotonic()
        answer = central.client.get("/metrics", headers=central.admin.headers)
        took = time.monotonic() - started
        assert answer.status_code == 200
        series = [line for line in answer.text.splitlines() if not line.startswith("#")]
        print(f"10,000 sites, 20,000 links: scrape {took * 1000:.0f} ms, {len(series)} series, "
              f"{len(answer.content)} B")  # fmt: skip
        assert took < SCRAPE_BUDGET_S
        assert len(series) <= MAX_SERIES
        got = samples(central)
        online = (("presence", "online"), ("sync", "out-of-sync"))
        assert got[("edgewise_sites", online)] == 10_000
        assert got[("edgewise_links", (("state", "up"),))] == 20_000
        assert got[("edgewise_links_latency_seconds_max", ())] == pytest.approx(0.059)


def test_per_class_and_per_vnf_counters(central: Central, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS)
    central.bring_online([site])
    now = datetime.now(UTC)
    classes = {"voice": {"packets": 10, "bytes": 1500}, "backup": {"bytes": 9}}
    link = {"name": "mpls", "state": "up", "classes": classes}
    vnfs = {
        "ns-1": {
            "fw": {"rules": {"rule-0": {"packets": 3, "bytes": 300},
                             "default-inbound": {"packets": 2, "bytes": 100}},
                   "weird": {"x": {"packets": 99}}},
            "shaper": {"queues": {"lan": {"packets": 5, "bytes": 50, "drops": 1},
                                  "wan": {"packets": 6, "bytes": 60, "drops": 2}}},
        }
    }  # fmt: skip
    with central.sessions.begin() as session:
        record_batches(
            session,
            [(site, [ReportItem("st", "status", now, {"links": [link]}),
                     ReportItem("ct", "counters", now, {"services": vnfs})])],
        )  # fmt: skip
    got = samples(central)
    voice = (("class", "voice"), ("link", "mpls"), ("site", "branch"), ("tenant", "acme"))
    assert got[("edgewise_link_class_sent_packets_total", voice)] == 10
    assert got[("edgewise_link_class_sent_bytes_total", voice)] == 1500
    backup = (("class", "backup"), *voice[1:])
    assert got[("edgewise_link_class_sent_packets_total", backup)] == 0
    fw = (("group", "rules"), ("service", "ns-1"), ("site", "branch"), ("tenant", "acme"),
          ("vnf", "fw"))  # fmt: skip
    assert got[("edgewise_vnf_counted_packets_total", fw)] == 5
    assert got[("edgewise_vnf_counted_bytes_total", fw)] == 400
    assert ("edgewise_vnf_counted_drops_total", fw) not in got
    shaper = (("group", "queues"), *fw[1:4], ("vnf", "shaper"))
    assert got[("edgewise_vnf_counted_drops_total", shaper)] == 3
    assert not any(dict(labels).get("group") == "weird" for _, labels in got)  # groups bounded
    assert got[("edgewise_vnf_site_series", ())] == 1
    monkeypatch.setattr(metrics_counters, "MAX_VNFS_PER_SITE", 1)  # VNFs per site bounded
    vnf_names = {dict(labels).get("vnf") for name, labels in samples(central)
                 if name.startswith("edgewise_vnf_counted")}  # fmt: skip
    assert vnf_names == {"fw"}


def test_per_vnf_series_stop_above_the_setting(tmp_path: Path) -> None:
    settings = CentralSettings(data_dir=tmp_path, metrics_site_series=1)
    with running(settings) as central:
        acme = central.tenant("acme")
        sites = [new_site(central, acme, f"b{n}") for n in range(2)]
        body = {"services": {"ns": {"fw": {"rules": {"rule-0": {"packets": 1, "bytes": 1}}}}}}
        now = datetime.now(UTC)
        with central.sessions.begin() as session:
            record_batches(session, [(sites[0], [ReportItem("c0", "counters", now, body)])])
        assert any(name.startswith("edgewise_vnf_counted") for name, _ in samples(central))
        with central.sessions.begin() as session:
            record_batches(session, [(sites[1], [ReportItem("c1", "counters", now, body)])])
        got = samples(central)
        assert not any(name.startswith("edgewise_vnf_counted") for name, _ in got)
        assert got[("edgewise_vnf_site_series", ())] == 0


def test_a_slow_store_makes_the_scrape_answer_503_not_hang(central: Central) -> None:
    engine = central.sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no statement timeout, and its readers never wait (WAL)")
    central.client.app.state.metrics = registry_with(central, timeout=0.3)  # type: ignore[attr-defined]
    with engine.connect() as holder:  # another transaction holds the sites table
        holder.execute(text("LOCK TABLE sites IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        answer = central.client.get("/metrics", headers=central.admin.headers)
        took = time.monotonic() - started
        holder.rollback()
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["Retry-After"] == "5"
    assert "within 0.3 s" in answer.json()["detail"]
    assert took < 5
    central.client.app.state.metrics = registry_with(central, timeout=5)  # type: ignore[attr-defined]
    assert central.client.get("/metrics", headers=central.admin.headers).status_code == 200


def registry_with(central: Central, *, timeout: float) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(central.sessions, timeout=timeout))
    return registry
