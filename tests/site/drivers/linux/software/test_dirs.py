"""A VNF's directories are traversable by every user whatever the controller's umask: programs
that switch to their own user (FRR, Squid, HAProxy, dnsmasq) reach `${root}` and `${run}`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise.model.fields import read
from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.software.files import write_files
from edgewise.site.drivers.linux.software.render import RenderedFile
from edgewise.site.drivers.linux.software.supervisor import SoftwareSupervisor

CONFIG = {"vnfd_id": "v", "vnfd_version": "1", "provider": "tests", "product": "p",
          "programs": [{"name": "p", "command": ["/bin/true"]}]}  # fmt: skip


@pytest.fixture
def strict_umask() -> Iterator[None]:
    before = os.umask(0o077)  # a controller started by a careful operator
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_vnf_s_directories_are_0755_under_a_strict_umask(
    tmp_path: Path, strict_umask: None
) -> None:
    base = tmp_path / "edgewise" / "s1" / "software"  # as /var/lib/edgewise/<prefix>/software
    supervisor = SoftwareSupervisor(base, None)
    supervisor.prepare("ew-0001-frr", read(SoftwareConfig, CONFIG), "digest")
    dirs = supervisor.dirs("ew-0001-frr")
    made = (base.parent.parent, base.parent, base, dirs.base, dirs.root, dirs.run)
    assert [mode(p) for p in made] == [0o755] * 6
    assert mode(dirs.log) == 0o700  # the programs' output is the site's

    write_files(dirs.root, [RenderedFile("etc/frr/bgpd.conf", b"!\n", 0o644)])
    assert mode(dirs.root / "etc") == mode(dirs.root / "etc/frr") == 0o755
