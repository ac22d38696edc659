"""A real Alertmanager (Debian's `prometheus-alertmanager`) receives a real `edgewise server`'s
alarms: two enrolled sites stay silent and go offline (two alerts); one site's controller then
starts, and its alert is resolved while the other stays. The sender's failures against an
address where nothing listens are counted, not raised."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from edgewise.central.services.alarm_terms import Kind, ManagedObject, component
from edgewise.central.services.alarms import Fault, raise_faults
from edgewise.central.services.alarms_alertmanager import AlertmanagerSender
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.tables import utcnow
from tests.integration.harness import CentralProcess, enroll, free_port, start_controller, stop

ALERTMANAGER = shutil.which("prometheus-alertmanager")
CONFIG = """\
route:
  receiver: "null"
  group_wait: 1s
receivers:
  - name: "null"
"""
WAIT_S = 60  # offline after 1 hold of 2 s + 5 s of slack, swept every 2 s; on a shared machine


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """An Alertmanager on loopback (no cluster); stopped, by its pid, at the end."""
    if ALERTMANAGER is None:
        pytest.skip("needs Debian's prometheus-alertmanager (apt install prometheus-alertmanager)")
    home = tmp_path / "alertmanager"
    home.mkdir()
    (home / "alertmanager.yml").write_text(CONFIG)
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        ALERTMANAGER,
        f"--config.file={home / 'alertmanager.yml'}",
        f"--storage.path={home / 'data'}",
        f"--web.listen-address={url.removeprefix('http://')}",
        "--cluster.listen-address=",
    ]
    with (home / "alertmanager.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _ready(url), 30, "Alertmanager to be ready")
        yield url
    finally:
        stop(process)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def alerts(url: str) -> dict[str, dict[str, Any]]:
    """Alertmanager's active alerts, by their `site` label."""
    found: list[dict[str, Any]] = httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
    return {a["labels"].get("site", ""): a for a in found}


@pytest.mark.slow
def test_a_real_alertmanager_hears_sites_go_offline_and_one_come_back(
    tmp_path: Path, alertmanager: str
) -> None:
    central_process = CentralProcess(
        tmp_path / "central",
        env={
            "EDGEWISE_ALERTMANAGER_URL": alertmanager,
            "EDGEWISE_ALERTMANAGER_INTERVAL": "0.5",
            "EDGEWISE_ALARM_OFFLINE_HOLDS": "1",
        },
    )
    central_process.data_dir.mkdir()
    controller = None
    with central_process.running() as central:
        back = enroll(central, "branch-1", tmp_path / "site-1")
        gone = enroll(central, "branch-2", tmp_path / "site-2")
        wait_until(lambda: {back, gone} <= set(alerts(alertmanager)), WAIT_S, "two alerts")
        alert = alerts(alertmanager)[gone]
        assert alert["labels"]["alertname"] == "SITE_OFFLINE"
        assert alert["labels"]["severity"] == "critical"
        assert alert["labels"]["tenant"] == central.tenant_id
        assert alert["labels"]["component"] == f"site:{gone}"
        assert alert["status"]["state"] == "active"
        controller = start_controller(tmp_path / "site-1")
        try:
            wait_until(lambda: back not in alerts(alertmanager), WAIT_S, "site 1's alert resolved")
            assert gone in alerts(alertmanager)
        finally:
            stop(controller)


def test_an_alertmanager_away_is_counted_not_raised(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'edgewise.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        failed = Fault(Kind.OPERATION_FAILED, component(operation="op-1"), ManagedObject.NS, "ns")
        raise_faults(session, [failed], utcnow())
    sender = AlertmanagerSender(sessions, f"http://127.0.0.1:{free_port()}")

    async def once() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            await sender.send_once(http)

    asyncio.run(once())
    assert (sender.sent, sender.failed) == (0, 1)
    assert "cannot be reached" in sender.errors[-1]
    engine.dispose()
