"""The main job: `edgewise demo` runs end to end and prints the catalog and the sites."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_runs_and_prints_catalog_and_sites() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edgewise", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, COLUMNS="200"),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for needle in (
        "Catalog",
        "Sites",
        "paris-cpe-1",
        "frankfurt-pop",
        "ONBOARDED",
        "demo complete",
    ):
        assert needle in out, needle
