"""cgroups v1 limits (over a directory laid out as the controllers are) and the rendered files'
writing and restoring."""

from __future__ import annotations

from pathlib import Path

from edgewise.site.drivers.linux.software.cgroups import CgroupsV1
from edgewise.site.drivers.linux.software.files import restore, write_files
from edgewise.site.drivers.linux.software.render import RenderedFile


def controllers(root: Path) -> CgroupsV1:
    for controller in ("cpu", "memory"):
        (root / controller).mkdir(parents=True)
        (root / controller / "cgroup.procs").write_text("")
    return CgroupsV1(root)


def test_limits_are_a_quota_per_period_and_a_memory_limit(tmp_path: Path) -> None:
    cgroups = controllers(tmp_path)
    procs = cgroups.make("ew-0001-dns", "dnsmasq", cpu_millis=250, memory_mib=64)
    assert procs == [tmp_path / "cpu/edgewise/ew-0001-dns/dnsmasq/cgroup.procs",
                     tmp_path / "memory/edgewise/ew-0001-dns/dnsmasq/cgroup.procs"]  # fmt: skip
    assert cgroups.limits("ew-0001-dns", "dnsmasq") == {
        "cpu_quota_us": 25_000, "cpu_period_us": 100_000, "memory_limit_bytes": 64 << 20
    }  # fmt: skip
    only_cpu = cgroups.make("ew-0001-dns", "helper", cpu_millis=1500, memory_mib=None)
    assert len(only_cpu) == 2
    assert cgroups.limits("ew-0001-dns", "helper") == {
        "cpu_quota_us": 150_000, "cpu_period_us": 100_000, "memory_limit_bytes": -1
    }  # fmt: skip
    assert cgroups.make("ew-0001-dns", "free", cpu_millis=None, memory_mib=None) == []


def test_a_host_without_the_v1_controllers_runs_unlimited_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "unified").mkdir()
    cgroups = CgroupsV1(tmp_path)
    assert cgroups.missing() == f"no cgroup v1 cpu controller at {tmp_path / 'cpu'}"
    assert cgroups.make("ew-0001-dns", "dnsmasq", cpu_millis=250, memory_mib=64) == []
    assert cgroups.limits("ew-0001-dns", "dnsmasq") is None


def test_files_are_written_with_their_modes_and_the_previous_ones_come_back(
    tmp_path: Path,
) -> None:
    write_files(tmp_path, [RenderedFile("etc/x/a.conf", b"one\n", 0o640),
                           RenderedFile("etc/x/old", b"old\n", 0o644)])  # fmt: skip
    before = write_files(tmp_path, [RenderedFile("etc/x/a.conf", b"two\n", 0o600),
                                    RenderedFile("bin/reload", b"#!/bin/sh\n", 0o755)],
                         old=["etc/x/a.conf", "etc/x/old"])  # fmt: skip
    assert (tmp_path / "etc/x/a.conf").read_text() == "two\n"
    assert (tmp_path / "etc/x/a.conf").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "bin/reload").stat().st_mode & 0o777 == 0o755
    assert not (tmp_path / "etc/x/old").exists()
    restore(tmp_path, before)
    assert (tmp_path / "etc/x/a.conf").read_text() == "one\n"
    assert (tmp_path / "etc/x/a.conf").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "etc/x/old").read_text() == "old\n"
    assert not (tmp_path / "bin/reload").exists()
    assert sorted(p.name for p in (tmp_path / "etc/x").iterdir()) == ["a.conf", "old"]
