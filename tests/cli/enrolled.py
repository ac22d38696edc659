"""Sites that are there for the CLI tests: added through the CLI, then enrolled through the real
channel (`edgewise site-controller enroll` with the printed token and CA fingerprint), so the
central counts them online (for 2 minutes from enrollment) and places NS instances on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgewise", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, COLUMNS="200", **env),
        check=False,
    )


def add_enrolled_site(env: dict[str, str], data_dir: Path, name: str, *options: str) -> str:
    """`edgewise site add NAME OPTIONS...`, then its enrollment; the site's id."""
    added = run("--json", "site", "add", name, *options, env=env)
    assert added.returncode == 0, added.stderr
    site: dict[str, Any] = json.loads(added.stdout)
    central = run("--json", "central", env=env)
    assert central.returncode == 0, central.stderr
    token = site["enrollmentToken"]
    enrolled = run(
        "site-controller", "enroll",
        "--central", json.loads(central.stdout)["southboundUrl"],
        "--token", token["token"],
        "--ca-fingerprint", token["caFingerprint"],
        "--data-dir", str(data_dir / name),
        env=env,
    )  # fmt: skip
    assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
    return str(site["id"])
