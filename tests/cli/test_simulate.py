"""`edgewise simulate` end to end: its own central, real controllers in worker processes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

FINAL = re.compile(r"^converged 20/20 sites in [\d.]+ s \(p50 [\d.]+ s, p99 [\d.]+ s\)$")


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
