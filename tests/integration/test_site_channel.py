"""End to end over real processes: a central, site controllers (sim driver), the mTLS channel.

Enrollment with a token, desired state pushed by the API and applied, a controller killed
with SIGKILL and restarted (it resumes from its journal), revocation.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.integration.harness import DOCUMENT, Central, edgewise, start_controller, stop, wait_for


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
