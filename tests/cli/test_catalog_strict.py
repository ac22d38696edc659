"""`catalog validate` and `catalog onboard` print the warnings of tolerated deviations, with
their position; `--strict` refuses them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise.lab.central import free_port, local_central
from edgewise.tosca.deviations import MISSING_DESCRIPTION
from tests.cli.test_cli import edgewise

VNFD = Path(__file__).resolve().parents[1] / "tosca" / "data" / "firewall-vnfd-v261.yaml"
GROUP = (
    "  groups:\n"
    "    engines_apart:\n"
    "      type: tosca.groups.nfv.PlacementGroup\n"
    "      members: [engine]\n\n"
)


@pytest.fixture
def deviant(tmp_path: Path) -> tuple[Path, int]:
    """A VNFD whose PlacementGroup has no description, and the line of that group's type."""
    text = VNFD.read_text().replace("  policies:\n", GROUP + "  policies:\n")
    path = tmp_path / "deviant-vnfd.yaml"
    path.write_text(text)
    return path, text[: text.index("      type: tosca.groups.nfv.PlacementGroup")].count("\n") + 1


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("central")
    with local_central(data_dir, free_port()) as url:
        token = (data_dir / "admin.token").read_text().strip()
        yield {"EDGEWISE_CENTRAL": url, "EDGEWISE_TOKEN": token}


def test_validate_prints_the_warning_and_strict_refuses(deviant: tuple[Path, int]) -> None:
    path, line = deviant
    where = f"deviant-vnfd.yaml:{line}:7: topology_template.groups.engines_apart"
    tolerant = edgewise("catalog", "validate", str(path))
    assert tolerant.returncode == 0, tolerant.stdout + tolerant.stderr
    lines = tolerant.stdout.strip().splitlines()
    assert lines[0].endswith("; 1 warning(s))")
    assert lines[1].strip().startswith(f"{where}.properties.description: warning: required")
    assert lines[-1] == "1 valid, 0 invalid"
    strict = edgewise("catalog", "validate", "--strict", str(path))
    assert strict.returncode == 1
    lines = strict.stdout.strip().splitlines()
    assert lines[-1] == "0 valid, 1 invalid"
    assert any(where in line and "warning:" not in line for line in lines)


def test_onboard_prints_the_warning_and_strict_onboards_nothing(
    central: dict[str, str], deviant: tuple[Path, int]
) -> None:
    path, line = deviant
    before = json.loads(edgewise("--json", "catalog", "list", env=central).stdout)
    refused = edgewise("catalog", "onboard", "--strict", str(path), env=central)
    assert refused.returncode == 1
    assert "nothing onboarded" in refused.stderr
    assert json.loads(edgewise("--json", "catalog", "list", env=central).stdout) == before
    done = edgewise("--json", "catalog", "onboard", str(path), env=central)
    assert done.returncode == 0, done.stderr
    assert f"deviant-vnfd.yaml:{line}:7:" in done.stderr
    assert "warning:" in done.stderr
    [item] = json.loads(done.stdout)
    shown = json.loads(edgewise("--json", "catalog", "show", item["id"], env=central).stdout)
    [warning] = shown["onboardingWarnings"]
    assert warning["code"] == MISSING_DESCRIPTION.code
    assert warning["where"].startswith(f"Definitions/deviant-vnfd.yaml:{line}:7 ")
