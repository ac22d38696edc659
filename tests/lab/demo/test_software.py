"""The demo's and the benchmark's third-party VNFs: the mixed-chain NSDs are valid and name the
sample packages' VNFDs, the parameters they instantiate with are what those packages accept, and
what a run cut short leaves (programs in the VNFs' cgroups, their files) is removed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from edgewise.lab import samples
from edgewise.lab.demo import software
from edgewise.lab.errors import LabError
from edgewise.tosca import load_path
from edgewise.tosca.software import read_package
from tests.samples.test_onboarding import zipped

PACKAGES = {"router": "frr", "dns": "dnsmasq"}


@pytest.mark.parametrize(
    ("nsd", "vnfs"),
    [(samples.MIXED_NSD, {"router", "dns"}), (samples.FIREWALL_FRR_NSD, {"router"})],
)
def test_the_lab_s_nsds_reference_the_sample_packages(nsd: str, vnfs: set[str]) -> None:
    loaded = load_path(samples.path(nsd))
    assert loaded.ok, [str(p) for p in loaded.problems]
    text = samples.path(nsd).read_text()
    for vnf in vnfs:
        package = samples.third_party(PACKAGES[vnf])
        reading = read_package(zipped(package))
        assert reading.template is not None
        assert f"descriptor_id: {reading.vnfd_id}" in text, vnf


@pytest.mark.parametrize("dns", [True, False])
def test_the_parameters_are_what_the_packages_accept(dns: bool) -> None:
    given = {entry["vnfProfileId"]: entry["additionalParams"]
             for entry in software.vnf_params(dns=dns)}  # fmt: skip
    assert set(given) == ({"router", "dns"} if dns else {"router"})
    for vnf, params in given.items():
        reading = read_package(zipped(samples.third_party(PACKAGES[vnf])))
        assert reading.template is not None
        assert reading.refusals() == []
        _, wrong = reading.template.params(params)
        assert wrong == [], (vnf, wrong)


def test_a_missing_sample_package_is_named() -> None:
    with pytest.raises(LabError, match=r"'nope' is not at .*samples/nope"):
        samples.third_party("nope")


MEMORY = Path("/sys/fs/cgroup/memory/edgewise")


@pytest.mark.skipif(
    os.geteuid() != 0 or not MEMORY.parent.is_dir(), reason="needs root and cgroup v1 memory"
)
def test_what_a_run_cut_short_leaves_is_removed() -> None:
    prefix = f"t{os.getpid() % 0xFFFFF:05x}"
    program = MEMORY / f"{prefix}-0000-dns" / "dnsmasq"
    program.mkdir(parents=True)
    files = software.SOFTWARE_BASE / prefix / "software" / f"{prefix}-0000-dns"
    files.mkdir(parents=True)
    sleeper = subprocess.Popen(["sleep", "60"])  # stands for a VNF program
    try:
        (program / "cgroup.procs").write_text(str(sleeper.pid))
        found = software.remove_leftovers(prefix)
        assert sleeper.wait(timeout=5) == -9
        assert f"pid {sleeper.pid}" in found
        assert f"{prefix}-0000-dns" in found
        assert not program.parent.exists()
        assert not (software.SOFTWARE_BASE / prefix).exists()
    finally:
        sleeper.kill()
        sleeper.wait()
        for _ in range(20):
            if not program.parent.exists():
                break
            for path in (program, program.parent):
                if path.exists():
                    try:
                        path.rmdir()
                    except OSError:
                        time.sleep(0.05)
        assert software.remove_leftovers(prefix) == []
