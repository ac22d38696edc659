"""The site controller's slim entry (`python -m edgewise.site`), which controller_idle measures:
it imports none of the command line's or the central's stacks, and fails in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("typer", "rich", "click", "httpx", "fastapi", "starlette", "uvicorn", "sqlalchemy",
         "alembic", "pydantic", "yaml", "cryptography", "pyroute2", "edgewise.cli",
         "edgewise.central", "edgewise.tosca")  # fmt: skip


def python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_slim_entry_imports_no_cli_central_or_crypto_stack() -> None:
    probe = "import sys, edgewise.site.__main__; print('\\n'.join(sys.modules))"
    done = python("-c", probe)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "aiohttp" in loaded
    assert sorted(m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY)) == []


def test_the_linux_driver_adds_only_netlink_and_nftables() -> None:
    """The real data plane reads the typed desired state: no TOSCA loader, no YAML, no central."""
    probe = (
        "import sys, edgewise.site.__main__, edgewise.site.drivers.linux; "
        "print('\\n'.join(sys.modules))"
    )
    done = python("-c", probe)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "pyroute2" in loaded
    assert "edgewise.site.drivers.linux.driver" in loaded
    heavy = [m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]
    assert sorted(m for m in heavy if m.split(".")[0] != "pyroute2") == []


def test_an_unenrolled_site_is_one_line_and_status_1(tmp_path: Path) -> None:
    done = python("-m", "edgewise.site", "run", "--data-dir", str(tmp_path / "site"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'site'} holds no enrolled site: run `site-controller enroll` first"
    ]


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    done = python("-m", "edgewise.site", "run", "--data-dir", str(tmp_path),
                  "--sim-failure-rate", "2")  # fmt: skip
    assert done.returncode == 2
    assert "--sim-failure-rate" in done.stderr
