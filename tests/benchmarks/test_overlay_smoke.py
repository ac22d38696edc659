"""Smoke run of the overlay throughput benchmark (root, namespaces, wireguard-go, iperf3): it
prints a line per round and the summary, and leaves nothing behind. A measurement, not a timed
test: the 0.9 goal is printed, not asserted (a shared machine in a 1 s run is too noisy)."""

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
def test_overlay_throughput_prints_each_round_and_the_summary_and_cleans_up() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rounds", "2", "--seconds", "1", "--omit", "0",
         "--timeout", "90"],
        capture_output=True, text=True, timeout=150, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    tunnel = r"[\d.]+ Gbit/s, [\d.]+ CPU s/GB, [\d.]+ switches/MB"
    for number in (1, 2):  # every path measured in every round, the round's ratio
        line = (rf"^round {number}: bare veth [\d.]+ Gbit/s; wireguard-go by hand {tunnel}; "
                rf"Edgewise overlay {tunnel}; overlay / hand [\d.]+$")  # fmt: skip
        assert re.search(line, done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^bare veth: [\d.]+ Gbit/s \(medians of 2 runs", done.stdout, re.MULTILINE)
    for path in ("wireguard-go by hand", "Edgewise overlay"):
        costs = r"[\d.]+ CPU s per GB and [\d.]+ context switches per MB in wireguard-go"
        assert re.search(rf"^{path}: [\d.]+ Gbit/s, {costs}", done.stdout, re.MULTILINE)
    over = r"[\d.]+ \([\d.]+\.\.[\d.]+ over 2 rounds\)$"
    for summary in (
        rf"^overlay vs hand wireguard-go: median ratio {over}",
        r"^goal: overlay >= 0\.9 x hand wireguard-go: (met|NOT met)$",
        rf"^overlay vs hand wireguard-go, CPU per GB \(hand / overlay\): median {over}",
        rf"^overlay vs bare veth: median ratio {over}",
    ):
        assert re.search(summary, done.stdout, re.MULTILINE), done.stdout
    prefix = re.search(r"lab prefix: (o[0-9a-f]{4})", done.stderr)
    assert prefix, done.stderr
    assert [n for n in ip("netns", "list").split() if n.startswith(f"{prefix[1]}-")] == []
    assert not list(Path("/var/run/wireguard").glob(f"{prefix[1]}*.sock"))


@pytest.mark.slow
@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_overlay_throughput_as_a_site_with_the_session_control_and_cleans_up() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rounds", "1", "--seconds", "1", "--omit", "0",
         "--timeout", "60", "--site", "--session-control"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"^site: both namespaces a site's WAN side", done.stdout, re.MULTILINE)
    ratio = (
        r"^overlay vs hand wireguard-go: median ratio [\d.]+ \([\d.]+\.\.[\d.]+ over 1 rounds\)$"
    )
    assert re.search(ratio, done.stdout, re.MULTILINE), done.stdout
    control = r"^wireguard-go by hand, own session: [\d.]+ Gbit/s, [\d.]+ CPU s per GB"
    assert re.search(control, done.stdout, re.MULTILINE), done.stdout
    own = r"^own session vs hand wireguard-go: median ratio [\d.]+ \("
    assert re.search(own, done.stdout, re.MULTILINE), done.stdout
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
