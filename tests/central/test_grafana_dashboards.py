"""The Grafana dashboards in monitoring/grafana: each parses, has its panels (the site's chosen
by template variables), and every metric its PromQL names is one GET /metrics exposes.
tests/central/test_prometheus.py has a real Prometheus answer every expression."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from edgewise.central.config import CentralSettings
from edgewise.central.services.site_channel import ReportItem, record_batches
from tests.central.api.conftest import Central, running
from tests.central.api.sdwan import MPLS, new_site
from tests.conftest import REPO

DASHBOARDS = REPO / "monitoring" / "grafana"
METRIC = re.compile(r"\bedgewise_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def dashboard(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((DASHBOARDS / name).read_text())
    return found


def expressions(board: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def test_each_dashboard_parses_and_has_its_panels() -> None:
    assert sorted(p.name for p in DASHBOARDS.glob("*.json")) == [
        "edgewise-fleet.json",
        "edgewise-site.json",
    ]
    for name, at_least in (("edgewise-fleet.json", 12), ("edgewise-site.json", 8)):
        board = dashboard(name)
        assert board["uid"] == name.removesuffix(".json")
        assert len(board["panels"]) >= at_least
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
        for panel in board["panels"]:
            assert panel["title"], panel
            assert panel["targets"], panel
            assert panel["datasource"]["uid"] == "${datasource}"
            assert all(METRIC.search(t["expr"]) for t in panel["targets"]), panel["title"]
        variables = [v["name"] for v in board["templating"]["list"]]
        assert variables[0] == "datasource"
    site = dashboard("edgewise-site.json")
    assert [v["name"] for v in site["templating"]["list"]] == ["datasource", "tenant", "site"]
    assert all('site="$site"' in expr for expr in expressions(site))


def exposed(central: Central) -> set[str]:
    """The sample names GET /metrics exposes (families without samples too, by their type)."""
    answer = central.client.get("/metrics", headers=central.admin.headers)
    assert answer.status_code == 200
    return {
        family.name + suffix
        for family in text_string_to_metric_families(answer.text)
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def report(central: Central) -> None:
    """A site of acme's that reports its link (figures, classes) and its VNFs' counters."""
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS)
    central.bring_online([site])
    link = {"name": "mpls", "state": "up", "latency_ms": 20, "loss_percent": 1, "jitter_ms": 2,
            "classes": {"voice": {"packets": 1, "bytes": 100}}}  # fmt: skip
    queues = {"queues": {"lan": {"packets": 1, "bytes": 1, "drops": 0}}}
    now = datetime.now(UTC)
    with central.sessions.begin() as session:
        record_batches(
            session,
            [(site, [ReportItem("s", "status", now, {"links": [link]}),
                     ReportItem("c", "counters", now, {"services": {"ns": {"rl": queues}}})])],
        )  # fmt: skip


def test_every_metric_the_dashboards_use_is_exposed(tmp_path: Path) -> None:
    with running(CentralSettings(data_dir=tmp_path)) as central:
        report(central)
        names = exposed(central)
    for name in ("edgewise-fleet.json", "edgewise-site.json"):
        used = {m for expr in expressions(dashboard(name)) for m in METRIC.findall(expr)}
        assert used, name
        assert used <= names, (name, sorted(used - names))
