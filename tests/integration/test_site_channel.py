"""End to end over real processes: a central, site controllers (sim driver), the mTLS channel.

Enrollment with a token, desired state pushed by the API and applied, a controller killed
with SIGKILL and restarted (it resumes from its journal), revocation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgewise.cli.demo import free_port, local_central

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


@dataclass
class Central:
    api: httpx.Client
    southbound: str
    ca_file: Path
    tenant_id: str

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


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def edgewise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgewise", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_controller(data_dir: Path) -> subprocess.Popen[bytes]:
    with (data_dir / "controller.log").open("ab") as log:
        return subprocess.Popen(
        [
            sys.executable, "-m", "edgewise", "site-controller", "run", "--data-dir", str(data_dir),
            "--driver", "sim", "--sim-latency", "0.01", "--reconcile-interval", "0.5",
            "--first-poll-max-delay", "0.2",
        ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    data_dir = tmp_path_factory.mktemp("central")
    with local_central(data_dir, free_port(), env={"EDGEWISE_POLL_HOLD": "1,2"}) as url:
        token = (data_dir / "admin.token").read_text().strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            info = api.get("api/v1/central").json()
            ca_file = data_dir / "ca-for-sites.pem"
            ca_file.write_text(info["caCertificate"])
            tenant = api.post("api/v1/tenants", json={"name": "acme"}).json()
            yield Central(api, info["southboundUrl"], ca_file, tenant["id"])


def enroll(central: Central, name: str, data_dir: Path) -> str:
    site_id, token = central.new_site(name)
    result = edgewise(
        "site-controller", "enroll", "--central", central.southbound, "--token", token,
        "--data-dir", str(data_dir), "--ca-file", str(central.ca_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert site_id in result.stdout
    again = edgewise(
        "site-controller", "enroll", "--central", central.southbound, "--token", token,
        "--data-dir", str(data_dir / "again"), "--ca-file", str(central.ca_file),
    )  # fmt: skip
    assert again.returncode != 0
    assert "already used" in again.stderr
    return site_id


def test_enroll_apply_kill_restart_and_revoke(central: Central, tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    site_id = enroll(central, "branch-1", site_dir)
    written = central.api.put(f"api/v1/sites/{site_id}/desired-state", json=DOCUMENT)
    assert written.status_code == 200, written.text
    assert written.json()["revision"] == 1

    controller = start_controller(site_dir)
    try:
        wait_for(lambda: central.status(site_id)["inSync"], 20, "the site to apply revision 1")

        # SIGKILL, then change the desired state while the controller is down.
        os.kill(controller.pid, signal.SIGKILL)
        controller.wait()
        changed = {"services": [{**DOCUMENT["services"][0], "chain": ["nat", "fw"]}]}
        assert (
            central.api.put(f"api/v1/sites/{site_id}/desired-state", json=changed).status_code
            == 200
        )
        assert not central.status(site_id)["inSync"]

        controller = start_controller(site_dir)
        wait_for(
            lambda: (
                central.status(site_id)["appliedRevision"] == 2
                and central.status(site_id)["inSync"]
            ),
            20,
            "the restarted site to apply revision 2",
        )
        summary = central.api.get("api/v1/site-status").json()
        assert summary["enrolled"] >= 1

        # Revocation: the central refuses the site's next call at once.
        assert central.api.post(f"api/v1/sites/{site_id}/revoke").status_code == 200
        assert central.api.get(f"api/v1/sites/{site_id}").json()["enrollment"]["state"] == "revoked"
        wait_for(
            lambda: "revoked" in (site_dir / "controller.log").read_text(),
            10,
            "the controller to be refused",
        )
    finally:
        stop(controller)
