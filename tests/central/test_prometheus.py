"""A real Prometheus (Debian's `prometheus`) scrapes a real `edgewise server` with sites, one
of them a running site controller, and answers PromQL over Edgewise's series, every expression
of the Grafana dashboards (monitoring/grafana) among them."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.central.test_grafana_dashboards import dashboard, expressions
from tests.integration.harness import CentralProcess, enroll, free_port, start_controller, stop

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PROMETHEUS is None, reason="needs Debian's prometheus (apt install prometheus)"
    ),
]
WAIT_S = 60  # for the first scrape with the site online, on a shared 2-core machine


def config(central_port: int, token_file: Path) -> str:
    """Scrapes GET /metrics every second with the admin's token (Prometheus' `authorization`)."""
    return f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: edgewise
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ["127.0.0.1:{central_port}"]
"""


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[Any]:
    """Starts a Prometheus on loopback for a central's port; stopped (by pid) at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(central_port: int, token_file: Path) -> str:
        assert PROMETHEUS is not None
        home = tmp_path / "prometheus"
        home.mkdir()
        (home / "prometheus.yml").write_text(config(central_port, token_file))
        port = free_port()
        command = [
            PROMETHEUS,
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with (home / "prometheus.log").open("ab") as log:
            started.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        return f"http://127.0.0.1:{port}"

    try:
        yield start
    finally:
        for process in started:
            stop(process)


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    """The instant vector PromQL answers through Prometheus' HTTP API ([] while not ready)."""
    try:
        answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=2)
    except httpx.HTTPError:
        return []
    if answer.status_code != 200:
        return []
    body = answer.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_a_real_prometheus_scrapes_the_central_and_answers_promql(
    tmp_path: Path, prometheus_for: Any
) -> None:
    central_process = CentralProcess(tmp_path / "central")
    central_process.data_dir.mkdir()
    controller = None
    with central_process.running() as central:
        for name in ("branch-2", "branch-3"):
            central.new_site(name)  # never enrolled
        site_dir = tmp_path / "site"
        enroll(central, "branch-1", site_dir)
        controller = start_controller(site_dir)
        try:
            prometheus = prometheus_for(
                central_process.port, central_process.data_dir / "admin.token"
            )
            by_presence: dict[str, float] = {}
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                rows = query(prometheus, "sum by (presence) (edgewise_sites)")
                by_presence = {r["metric"]["presence"]: float(r["value"][1]) for r in rows}
                polls = query(prometheus, "sum(edgewise_channel_polls_total)")
                if by_presence.get("online") == 1 and polls and float(polls[0]["value"][1]) > 0:
                    break
                time.sleep(0.5)
            log = (tmp_path / "prometheus" / "prometheus.log").read_text()[-2000:]
            assert by_presence == {"online": 1, "offline": 0, "never-enrolled": 2}, log
            up = query(prometheus, 'up{job="edgewise"}')
            assert [float(r["value"][1]) for r in up] == [1.0]
            enrolled = query(prometheus, "edgewise_channel_enrollments_total")
            assert [float(r["value"][1]) for r in enrolled] == [1.0]
        finally:
            stop(controller)


def test_a_real_prometheus_answers_every_dashboard_expression(
    tmp_path: Path, prometheus_for: Any
) -> None:
    central_process = CentralProcess(tmp_path / "central")
    central_process.data_dir.mkdir()
    with central_process.running() as central:
        central.new_site("branch-1")
        prometheus = prometheus_for(central_process.port, central_process.data_dir / "admin.token")
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not query(prometheus, "edgewise_sites"):
            time.sleep(0.5)
        assert query(prometheus, "edgewise_sites"), "no scrape yet"
        for name in ("edgewise-fleet.json", "edgewise-site.json"):
            for expr in expressions(dashboard(name)):
                promql = (
                    expr.replace("$__rate_interval", "1m")
                    .replace("$tenant", "acme")
                    .replace("$site", "branch-1")
                )
                answer = httpx.get(
                    f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5
                )
                assert answer.status_code == 200, (name, promql, answer.text)
                assert answer.json()["status"] == "success", (name, promql, answer.text)
        assert query(prometheus, "sum by (presence) (edgewise_sites)")
