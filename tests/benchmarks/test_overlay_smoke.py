"""Smoke run of the overlay throughput benchmark (root, namespaces, wireguard-go, iperf3): it
prints one line per figure and leaves nothing behind. A measurement, not a timed test: the
0.9 goal is printed, not asserted (a shared machine in a 1 s run is too noisy for that)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.drivers.netlab import ip
from tests.site.drivers.wireguard.overlab import overlay_reason

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "overlay_throughput.py"
REASON = overlay_reason() or (None if shutil.which("iperf3") else "iperf3 is not installed")


@pytest.mark.slow
@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_overlay_throughput_prints_each_figure_and_cleans_up() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rounds", "1", "--seconds", "1", "--omit", "0",
         "--timeout", "60"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for path in ("bare veth", "wireguard-go by hand", "Edgewise overlay"):
        assert re.search(rf"^{path}: [\d.]+ Gbit/s \(median of 1 runs", done.stdout, re.MULTILINE)
    versus_hand = r"^Edgewise overlay / wireguard-go by hand: [\d.]+ \([\d.]+-[\d.]+; goal >= 0\.9"
    assert re.search(versus_hand + r": (met|NOT met)\)$", done.stdout, re.MULTILINE)
    for path in ("wireguard-go by hand", "Edgewise overlay"):
        assert re.search(
            rf"^{path}: [\d.]+ CPU s per GB in wireguard-go", done.stdout, re.MULTILINE
        )
    assert re.search(
        r"^Edgewise overlay efficiency / wireguard-go by hand .*: [\d.]+ \(",
        done.stdout,
        re.MULTILINE,
    )
    ratio = r"^Edgewise overlay / bare veth: [\d.]+ \([\d.]+-[\d.]+\)$"
    assert re.search(ratio, done.stdout, re.MULTILINE)
    prefix = re.search(r"lab prefix: (o[0-9a-f]{4})", done.stderr)
    assert prefix, done.stderr
    assert [n for n in ip("netns", "list").split() if n.startswith(f"{prefix[1]}-")] == []
    assert not list(Path("/var/run/wireguard").glob(f"{prefix[1]}*.sock"))


def test_bad_arguments_exit_2_saying_which() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rounds", "0"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--rounds must be 1 or more" in done.stderr
