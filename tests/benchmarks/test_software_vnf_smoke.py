"""Smoke run of the third-party VNF benchmark (root, namespaces, the real FRR and dnsmasq): two
instantiations timed, memory read, one short iperf3 run of each path, everything removed.

A measurement, not a timed test: nothing here asserts a duration.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgewise.lab.demo import sitelab, software
from tests.benchmarks.test_dataplane_smoke import BENCHMARKS

NEEDED = {"bwrap": "bubblewrap", "dnsmasq": "dnsmasq-base", "iperf3": "iperf3"}
MISSING = [f"{tool} ({package})" for tool, package in NEEDED.items() if not shutil.which(tool)]
if not Path("/usr/lib/frr/zebra").exists():
    MISSING.append("/usr/lib/frr/zebra (frr)")
REASON = sitelab.unavailable() or (f"needs {', '.join(MISSING)}" if MISSING else None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]
MIB = r"[\d.]+ MiB"


def test_software_vnf_prints_its_figures_and_leaves_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "software_vnf.py"), "--runs", "2", "--rounds", "1",
         "--seconds", "1", "--timeout", "150"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert re.search(
        r"instantiate → operation COMPLETED \(the site applied the chain, 2 runs\): "
        r"p50 [\d.]+ s, p99 [\d.]+ s",
        out,
    ), out
    assert re.search(
        r"instantiate → third-party VNFs ready \(firewall → FRR → dnsmasq, 2 runs, site "
        r"reconcile every 1 s\): p50 [\d.]+ s, p99 [\d.]+ s, max [\d.]+ s",
        out,
    ), out
    for vnf, programs in (("FRR", "2 programs"), ("dnsmasq", "1 program")):
        line = rf"memory per VNF instance, {vnf} \({programs}\): RSS {MIB}, PSS {MIB}, cgroup {MIB}"
        assert re.search(line, out), out
    assert re.search(
        r"throughput, 1 TCP stream: firewall → FRR [\d.]+ Gbit/s, bare veth [\d.]+ Gbit/s, "
        r"ratio [\d.]+ \(median of 1 interleaved runs of 1 s\)",
        out,
    ), out
    assert "left behind: nothing" in out
    prefix = re.search(r"lab prefix: (e[0-9a-f]{5})", done.stderr)
    assert prefix, done.stderr
    assert not list(Path("/run/netns").glob(f"{prefix[1]}-*"))  # its lab is gone
    assert not (software.SOFTWARE_BASE / prefix[1]).exists()  # the VNFs' files
    assert not [p for root in software.CGROUPS for p in root.glob(f"{prefix[1]}-*")]
