"""The Debian packages a VNF's programs come from: checked with dpkg-query; the missing ones
installed with apt-get only when the site controller may install packages (off by default).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence

from edgewise.model.software import DebianPackage
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.software.errors import MissingPackages

INSTALL_TIMEOUT_S = 600
HOW_TO_ALLOW = (
    "start the site controller with --allow-package-install or "
    "EDGEWISE_SITE_INSTALL_PACKAGES=1, or install them on the host"
)
Query = Callable[[str], str | None]  # the installed version of a package, None if absent


def installed_version(name: str) -> str | None:
    """What dpkg says is installed of `name` (None: not installed)."""
    try:
        done = subprocess.run(  # noqa: S603 - a package name checked by the model
            ["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Version}", name],  # noqa: S607
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except OSError as exc:
        raise DataPlaneError(f"dpkg-query: {exc}") from exc
    status, _, version = done.stdout.strip().partition(" ")
    if done.returncode != 0 or not status.startswith("ii"):
        return None
    return version.strip()


def missing(packages: Sequence[DebianPackage], query: Query = installed_version) -> list[str]:
    """The packages not installed (or in another version than asked), as `name` or
    `name (=version wanted, other installed)`."""
    found = []
    for package in packages:
        version = query(package.name)
        if version is None:
            found.append(package.name)
        elif package.version not in (None, "any", version):
            found.append(f"{package.name} (={package.version} wanted, {version} installed)")
    return found


def ensure(
    packages: Sequence[DebianPackage],
    *,
    may_install: bool,
    query: Query = installed_version,
    install: Callable[[list[str]], None] | None = None,
) -> None:
    """Returns when every package is there; installs the missing ones if allowed, else raises
    MissingPackages naming them and how to allow installing."""
    absent = missing(packages, query)
    if not absent:
        return
    if not may_install:
        raise MissingPackages(
            f"missing Debian packages: {', '.join(absent)} (the site may not install "
            f"packages: {HOW_TO_ALLOW})"
        )
    wanted = [
        p.name if p.version in (None, "any") else f"{p.name}={p.version}"
        for p in packages
        if any(a == p.name or a.startswith(p.name + " ") for a in absent)
    ]
    (install or apt_install)(wanted)
    still = missing(packages, query)
    if still:
        raise MissingPackages(f"missing Debian packages after apt-get install: {', '.join(still)}")


def apt_install(names: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    argv = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *names]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env,  # noqa: S603
                              timeout=INSTALL_TIMEOUT_S, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataPlaneError(f"apt-get install {' '.join(names)}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise DataPlaneError(f"apt-get install {' '.join(names)} failed: {' / '.join(tail)}")
