"""`site-controller enroll` and `run` as processes against the test central; one-line errors."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgewise.cli.errors import CliError
from edgewise.cli.site_controller import app
from tests.site.central import running_central
from tests.site.fakes import eventually

# What `edgewise.cli.main.main` does with a CliError, for a sub-app run on its own.
MAIN = (
    "import sys\n"
    "from edgewise.cli.errors import CliError\n"
    "from edgewise.cli.site_controller import app\n"
    "try:\n"
    "    app(sys.argv[1:], standalone_mode=False)\n"
    "except CliError as exc:\n"
    "    print('error:', exc.message, file=sys.stderr)\n"
    "    sys.exit(exc.exit_code)\n"
)


async def site_controller(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", MAIN, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def test_run_without_enrollment_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, CliError)
    assert "holds no enrolled site" in result.exception.message


@pytest.mark.anyio
async def test_enroll_then_run_until_terminated(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    async with running_central(tmp_path) as central:
        central.tokens.add("tok")
        (tmp_path / "ca.pem").write_bytes(central.ca.pem)
        common = ["--central", central.url, "--data-dir", str(data_dir)]
        refused = await site_controller(
            "enroll", *common, "--token", "bad", "--ca-file", str(tmp_path / "ca.pem")
        )
        _, err = await refused.communicate()
        assert refused.returncode == 1
        assert err.decode().strip().startswith("error: enrollment failed:")
        assert "401" in err.decode()

        enrolled = await site_controller(
            "enroll", *common, "--token", "tok", "--ca-file", str(tmp_path / "ca.pem")
        )
        out, _ = await enrolled.communicate()
        assert enrolled.returncode == 0
        assert out.decode().startswith("enrolled as site ")

        central.publish({"services": []})
        running = await site_controller(
            "run", "--data-dir", str(data_dir), "--reconcile-interval", "0.2", "--seed", "1",
            "--first-poll-max-delay", "0",
        )  # fmt: skip
        try:
            await eventually(
                lambda: any(r["kind"] == "status" for r in central.reports.values()), within=20
            )
        finally:
            running.send_signal(signal.SIGTERM)
            await asyncio.wait_for(running.communicate(), 10)
        assert running.returncode == 0
