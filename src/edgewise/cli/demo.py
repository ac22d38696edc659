"""`edgewise demo`: the main job on one machine — a central on SQLite, the sample catalog, sites."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import typer

from edgewise.cli.client import CentralClient
from edgewise.cli.errors import CliError
from edgewise.cli.output import console

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_central(
    data_dir: Path,
    port: int,
    *,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Runs `edgewise server` as a child process on loopback ports until the block ends.

    The southbound listener takes any free port; `GET /api/v1/central` tells which.
    """
    url = f"http://127.0.0.1:{port}/"
    child_env = dict(os.environ, EDGEWISE_DATA_DIR=str(data_dir))
    child_env.pop("EDGEWISE_DATABASE_URL", None)
    child_env.update(env or {})
    log = (data_dir / "central.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "edgewise", "server", "--port", str(port), "--southbound-port", "0"],
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise CliError(f"the central exited at start-up; see {data_dir / 'central.log'}")
            try:
                if httpx.get(f"{url}health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise CliError(f"the central did not answer within {timeout:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run_demo(
    keep: Annotated[bool, typer.Option(help="keep the demo's data directory afterwards")] = False,
) -> None:
    """Starts a central, onboards the sample descriptors, adds two sites and prints them."""
    if not SAMPLES.is_dir():
        raise CliError(f"the sample descriptors are missing ({SAMPLES})")
    data_dir = Path(tempfile.mkdtemp(prefix="edgewise-demo-"))
    try:
        console.print("starting the central manager (embedded SQLite store) ...")
        with local_central(data_dir, free_port()) as url:
            _populate(url, (data_dir / "admin.token").read_text().strip(), data_dir)
        console.print("[green]demo complete[/green]: central stopped")
    finally:
        if keep:
            console.print(f"demo data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _populate(url: str, token: str, data_dir: Path) -> None:
    """Drives the central through the CLI itself, as an operator would."""
    from edgewise.cli.main import app as cli_app

    def cli(*args: str) -> None:
        cli_app([f"--central={url}", f"--token={token}", *args], standalone_mode=False)

    console.print(f"[bold]central manager[/bold] up at {url} (store: {data_dir}/edgewise.db)")
    client = CentralClient(url, token)
    try:
        tenant = client.post_json(
            "api/v1/tenants", {"name": "acme", "description": "demo customer"}
        )
    finally:
        client.close()
    console.print(f"tenant [bold]acme[/bold] created ({tenant['id']})")
    samples = sorted(p for p in SAMPLES.iterdir() if not p.name.startswith("."))
    packages = [str(p) for p in samples if p.is_dir()]
    templates = [str(p) for p in samples if p.suffix in (".yaml", ".yml")]
    cli("catalog", "onboard", *packages, *templates)
    cli("site", "add", "paris-cpe-1", "--kind", "on-premise", "--label", "region=eu-west",
        "--label", "environment=production", "--tenant", tenant["id"])  # fmt: skip
    cli("site", "add", "frankfurt-pop", "--kind", "cloud", "--compute-nodes", "3",
        "--label", "region=eu-central", "--label", "environment=production",
        "--tenant", tenant["id"])  # fmt: skip
    console.rule("the catalog")
    cli("catalog", "list")
    console.rule("the sites")
    cli("site", "list")
