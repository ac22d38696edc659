"""ETSI's own SOL005 conformance suites, run by conformance/run.sh against a fresh central: no
test that passes today may fail tomorrow (each API's count of passing tests is a floor), and
the runner reaches the same results on another copy of the suite — its tests renamed and in
another order, and a lifecycle test that deletes the NS instance it is given run before the
suites whose set-up checks theirs exists (tests/conformance/suite_copies.py).

The failures left are listed, by cause, in conformance/README.md; raise a floor when a fix
makes more tests pass. Both copies run at once (two centrals on loopback), about a minute.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conformance.plan import APIS
from conformance.results import outcomes

from tests.conformance.suite_copies import (
    DELETING_SUITE,
    DELETING_TEST,
    NSLCM,
    modified_copy,
    original_name,
)
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[2]
SUITE = SHARED / "conformance" / "etsi-sol005"
FLOORS = {
    "NSLifecycleManagement-API": 36, "NSDManagement-API": 21, "VNFPackageManagement-API": 28,
    "NSFaultManagement-API": 10, "NSPerformanceManagement-API": 10,
}  # fmt: skip
RUN_TIMEOUT = 600


def start(suite: Path, output: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", str(REPO / "conformance" / "run.sh"), "--output", str(output), str(suite)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finish(run: subprocess.Popen[str]) -> str:
    try:
        out, _ = run.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        raise
    assert run.returncode == 0, out[-3000:]
    return out


@pytest.mark.slow
def test_the_suites_pass_as_before_on_this_copy_and_on_another(tmp_path: Path) -> None:
    if not SUITE.is_dir():
        pytest.skip(f"the ETSI suite is not at {SUITE}")
    other = modified_copy(SUITE, tmp_path / "another-copy", APIS)
    runs = [start(SUITE, tmp_path / "this"), start(other, tmp_path / "other")]
    try:
        this_out, _ = finish(runs[0]), finish(runs[1])
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=10)
    counts = {
        api: int(passed)
        for api, passed in re.findall(r"^(\S+-API): (\d+) passed", this_out, re.MULTILINE)
    }
    failures = (tmp_path / "this" / "failures.txt").read_text()
    for api, floor in FLOORS.items():
        assert counts.get(api, 0) >= floor, (
            f"{api}: {counts.get(api)} passed, at least {floor} did before\n{failures}"
        )

    this = outcomes(tmp_path / "this" / "output.xml")
    that = {
        original_name(name): status
        for name, status in outcomes(tmp_path / "other" / "output.xml").items()
    }
    deleting = f"ETSI SOL005.{NSLCM}.{Path(DELETING_SUITE).stem}.{DELETING_TEST}"
    assert that.pop(deleting) == "PASS", (tmp_path / "other" / "failures.txt").read_text()
    differing = {
        name: (this.get(name), status) for name, status in that.items() if this.get(name) != status
    }
    assert not differing, f"outcomes on the other copy differ (this, other): {differing}"
