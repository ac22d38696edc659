"""`edgewise simulate` end to end: its own central, real controllers in worker processes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from edgewise.lab.central import free_port, local_central

FINAL = re.compile(r"^converged 20/20 sites in [\d.]+ s \(p50 [\d.]+ s, p99 [\d.]+ s\)$")
FINAL_3 = re.compile(r"^converged 3/3 sites in ")


@pytest.mark.slow
@pytest.mark.parametrize("workers", [None, "2"])
def test_simulate_converges_and_ends_with_the_figures(workers: str | None) -> None:
    extra = ["--workers", workers] if workers else []
    done = subprocess.run(
        [sys.executable, "-m", "edgewise", "simulate", "--sites", "20", "--timeout", "60", *extra],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert FINAL.match(lines[-1]), lines[-5:]
    assert any(line.startswith("received by 20/20 sites in ") for line in lines)


@pytest.mark.slow
def test_simulate_against_a_central_removes_what_it_created(tmp_path: Path) -> None:
    with local_central(tmp_path, free_port()) as url:
        token = (tmp_path / "admin.token").read_text().strip()
        done = subprocess.run(
            [sys.executable, "-m", "edgewise", "simulate", "--sites", "3", "--timeout", "60",
             "--central", url, "--token", token],
            capture_output=True,
            text=True,
            timeout=150,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "removed the simulation's tenant and its 3 sites" in done.stdout
        assert FINAL_3.match(done.stdout.splitlines()[-1])
        headers = {"Authorization": f"Bearer {token}"}
        for collection in ("tenants", "sites"):
            left = httpx.get(f"{url}api/v1/{collection}", headers=headers, timeout=10)
            assert left.json() == [], collection
