"""The site controller's permission to install third-party VNFs' Debian packages: off by default,
on by --allow-package-install or EDGEWISE_SITE_INSTALL_PACKAGES, a wrong value refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.site.__main__ import RunOptions, may_install_packages, parser
from edgewise.site.errors import PermanentError


def options(*flags: str) -> RunOptions:
    args = vars(parser().parse_args(["run", "--data-dir", "d", *flags]))
    args.pop("command")
    return RunOptions(**args)


def test_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGEWISE_SITE_INSTALL_PACKAGES", raising=False)
    assert options().data_dir == Path("d")
    assert not may_install_packages(options())
    assert may_install_packages(options("--allow-package-install"))
    monkeypatch.setenv("EDGEWISE_SITE_INSTALL_PACKAGES", "yes")
    assert may_install_packages(options())
    monkeypatch.setenv("EDGEWISE_SITE_INSTALL_PACKAGES", "0")
    assert not may_install_packages(options())


def test_a_value_that_says_neither_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEWISE_SITE_INSTALL_PACKAGES", "maybe")
    with pytest.raises(PermanentError, match="EDGEWISE_SITE_INSTALL_PACKAGES='maybe'"):
        may_install_packages(options())


def test_the_cli_passes_the_permission_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from edgewise.cli import site_controller

    seen: list[RunOptions] = []

    def build(options: RunOptions) -> None:
        seen.append(options)
        raise PermanentError("stop here")

    monkeypatch.setattr(site_controller, "build_controller", build)
    runner = CliRunner()
    for flags, wanted in (([], False), (["--allow-package-install"], True)):
        result = runner.invoke(site_controller.app, ["run", "--data-dir", "d", *flags])
        assert "stop here" in str(result.exception)  # the CLI's error, as the CLI says it
        assert seen[-1].allow_package_install is wanted
