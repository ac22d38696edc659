"""Shared by the end-to-end tests: a central as a child process, site controllers, journals.

Everything here starts real processes (`edgewise server`, `edgewise site-controller run`) and
cleans up only the processes it started, by their PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from edgewise.lab.central import free_port

__all__ = ["free_port"]

DOCUMENT: dict[str, Any] = {
    "services": [
        {
            "id": "vcpe-1",
            "name": "vcpe",
            "tenant": "acme",
            "vnfs": [
                {"name": "fw", "function": "firewall", "config": {"default_action": "drop"}},
                {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
            ],
            "chain": ["fw", "nat"],
        }
    ]
}


def document(step: int) -> dict[str, Any]:
    """DOCUMENT with a firewall rule that differs per step: one change to the data plane."""
    service = DOCUMENT["services"][0]
    fw = {
        **service["vnfs"][0],
        "config": {"default_action": "drop", "rules": [{"protocol": "tcp", "port": step}]},
    }
    return {"services": [{**service, "vnfs": [fw, service["vnfs"][1]]}]}


@dataclass
class Central:
    api: httpx.Client
    southbound: str
    ca_file: Path
    tenant_id: str
    data_dir: Path

    def new_site(self, name: str) -> tuple[str, str]:
        response = self.api.post(
            "api/v1/sites", json={"name": name, "kind": "on-premise", "tenantId": self.tenant_id}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["id"], body["enrollmentToken"]["token"]

    def status(self, site_id: str) -> dict[str, Any]:
        status: dict[str, Any] = self.api.get(f"api/v1/sites/{site_id}/status").json()
        return status

    def put_desired(self, site_id: str, body: dict[str, Any]) -> int:
        written = self.api.put(f"api/v1/sites/{site_id}/desired-state", json=body)
        assert written.status_code == 200, written.text
        revision: int = written.json()["revision"]
        return revision


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def edgewise(*args: str, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "edgewise", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def enroll(central: Central, name: str, data_dir: Path, *, southbound: str | None = None) -> str:
    """Creates a site and enrolls `data_dir` as it with the real CLI; returns the site id."""
    site_id, token = central.new_site(name)
    result = edgewise(
        "site-controller", "enroll", "--central", southbound or central.southbound,
        "--token", token, "--data-dir", str(data_dir), "--ca-file", str(central.ca_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert site_id in result.stdout
    return site_id


def start_controller(
    data_dir: Path,
    *,
    latency: float = 0.01,
    reconcile_interval: float = 0.5,
    prefix: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """`edgewise site-controller run` (sim driver), its output appended to controller.log."""
    with (data_dir / "controller.log").open("ab") as log:
        return subprocess.Popen(
            [
                *prefix, sys.executable, "-m", "edgewise", "site-controller", "run",
                "--data-dir", str(data_dir), "--driver", "sim", "--sim-latency", str(latency),
                "--reconcile-interval", str(reconcile_interval), "--first-poll-max-delay", "0.2",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after `timeout` s: only ever the process we started."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def kill9(process: subprocess.Popen[Any]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class CentralProcess:
    """`edgewise server` on fixed ports and a fixed data dir, so it can be killed and restarted."""

    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.southbound_port = free_port()
        self.env = dict(os.environ, EDGEWISE_DATA_DIR=str(data_dir), EDGEWISE_POLL_HOLD="1,2")
        self.env.pop("EDGEWISE_DATABASE_URL", None)
        self.env.update(env or {})
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        with (self.data_dir / "central.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "edgewise", "server", "--port", str(self.port),
                 "--southbound-port", str(self.southbound_port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                log_text = (self.data_dir / "central.log").read_text()[-2000:]
                raise AssertionError(f"the central exited at start-up:\n{log_text}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}health", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"the central did not answer within {timeout} s")
            time.sleep(0.1)

    def kill9(self) -> None:
        assert self.process is not None
        kill9(self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    @property
    def database(self) -> Path:
        return self.data_dir / "edgewise.db"

    @contextlib.contextmanager
    def running(self) -> Iterator[Central]:
        """Starts the central; yields an admin API client on a new tenant; stops it at the end."""
        try:
            self.start()
            token = (self.data_dir / "admin.token").read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=self.url, headers=headers, timeout=30) as api:
                info = api.get("api/v1/central").json()
                ca_file = self.data_dir / "ca-for-sites.pem"
                ca_file.write_text(info["caCertificate"])
                tenant = api.post("api/v1/tenants", json={"name": "acme"}).json()
                yield Central(api, info["southboundUrl"], ca_file, tenant["id"], self.data_dir)
        finally:
            self.stop()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only SQLite connection (a journal or the central's store), closed afterwards."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        yield connection
    finally:
        connection.close()


@dataclass(frozen=True)
class JournalView:
    """A fresh read of a site's journal, taken from outside the controller."""

    desired_revision: int
    desired: Any
    received: int
    applied: int
    outbox: list[tuple[str, str, dict[str, Any], bool]]  # id, kind, body, sent

    def items(self, kind: str) -> list[dict[str, Any]]:
        return [body for _, k, body, _ in self.outbox if k == kind]

    @property
    def pending(self) -> int:
        return sum(1 for *_, sent in self.outbox if not sent)


def read_journal(path: Path) -> JournalView:
    with read_only(path) as db:
        desired = db.execute("SELECT revision, document FROM desired").fetchone()
        progress = dict(db.execute("SELECT name, revision FROM progress").fetchall())
        rows = db.execute("SELECT id, kind, body, sent FROM outbox ORDER BY seq").fetchall()
    return JournalView(
        desired[0] if desired else 0,
        json.loads(desired[1]) if desired else None,
        progress.get("received", 0),
        progress.get("applied", 0),
        [(r[0], r[1], json.loads(r[2]), bool(r[3])) for r in rows],
    )
