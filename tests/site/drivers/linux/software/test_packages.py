"""Debian packages of a third-party VNF: what is missing, and installing only when allowed."""

from __future__ import annotations

import pytest

from edgewise.model.software import DebianPackage
from edgewise.site.drivers.linux.software.errors import MissingPackages
from edgewise.site.drivers.linux.software.packages import ensure, installed_version, missing

INSTALLED = {"dnsmasq-base": "2.90-4", "frr": "8.4.4-1"}


def test_missing_names_absent_packages_and_other_versions() -> None:
    wanted = [DebianPackage("dnsmasq-base"), DebianPackage("frr", "9.0-1"),
              DebianPackage("strongswan", "any")]  # fmt: skip
    assert missing(wanted, INSTALLED.get) == ["frr (=9.0-1 wanted, 8.4.4-1 installed)",
                                              "strongswan"]  # fmt: skip


def test_a_site_that_may_not_install_says_which_and_how_to_allow() -> None:
    with pytest.raises(MissingPackages, match=r"^missing Debian packages: squid \(the site may "
                       r"not install packages: start the site controller with "
                       r"--allow-package-install"):  # fmt: skip
        ensure([DebianPackage("squid")], may_install=False, query=INSTALLED.get)


def test_a_site_that_may_install_installs_what_is_missing() -> None:
    have = dict(INSTALLED)
    asked: list[list[str]] = []

    def install(names: list[str]) -> None:
        asked.append(names)
        have.update(dict.fromkeys(names, "1.0"))

    ensure([DebianPackage("frr"), DebianPackage("squid")], may_install=True, query=have.get,
           install=install)  # fmt: skip
    assert asked == [["squid"]]


def test_an_install_that_does_not_bring_the_package_is_reported() -> None:
    with pytest.raises(MissingPackages, match="after apt-get install: squid"):
        ensure([DebianPackage("squid")], may_install=True, query=INSTALLED.get,
               install=lambda _names: None)  # fmt: skip


def test_dpkg_is_asked_for_real() -> None:
    assert installed_version("dpkg")
    assert installed_version("edgewise-no-such-package") is None
