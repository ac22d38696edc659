"""The working copy robot runs in: each API's directory of the ETSI suite copied into the run's
temporary directory (the suite itself is never written to), its request templates filled in
for Edgewise, every callback URI in them pointed at the loopback callback server, and the files
the suites upload written where they look for them. Also checks, before anything starts, that
the suite is there and that every library it imports is installed."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

from conformance.errors import SetupError
from conformance.plan import APIS, SuitePlan, loopback_only

_LIBRARY = re.compile(r"^Library\s+(?P<name>[A-Za-z_][\w.]*)", re.MULTILINE)
ROBOT_STANDARD = {
    "BuiltIn", "Collections", "DateTime", "Dialogs", "OperatingSystem", "Process", "Screenshot",
    "String", "Telnet", "XML",
}  # fmt: skip


def check_suite(suite: Path) -> None:
    missing = [api for api in APIS if not (suite / api).is_dir()]
    if missing:
        raise SetupError(f"{suite} is not the ETSI SOL005 suite: no {', '.join(missing)}")


def imported_libraries(suite: Path) -> set[str]:
    """Every library a robot file of the APIs run imports (by name, as written)."""
    names: set[str] = set()
    for api in APIS:
        for robot_file in sorted((suite / api).glob("*.robot")):
            names |= {m["name"] for m in _LIBRARY.finditer(robot_file.read_text(errors="replace"))}
    return names


def check_libraries(suite: Path) -> None:
    absent = sorted(
        name
        for name in imported_libraries(suite) - ROBOT_STANDARD
        if importlib.util.find_spec(name.split(".")[0]) is None
    )
    if absent:
        raise SetupError(
            f"the suite imports {', '.join(absent)}, not installed in the conformance venv "
            "(add the package to requirements/conformance.in and run ./run lock)"
        )


def prepare(suite: Path, work: Path, plan: SuitePlan, callback_url: str) -> Path:
    """Copies the API's directory to `work` and applies the plan; returns the copy."""
    copy = work / plan.directory
    shutil.copytree(suite / plan.directory, copy)
    for template in sorted((copy / "jsons").glob("*.json")):
        try:
            document = json.loads(template.read_text())
        except ValueError:
            continue  # not JSON: the suite uses it as it is
        fill = plan.templates.get(template.name)
        if fill is not None:
            document = fill(document)
        template.write_text(json.dumps(loopback_only(document, callback_url), indent=2) + "\n")
    for relative, data in plan.files.items():
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (work / f"{plan.directory}.overrides.json").write_text(
        json.dumps(plan.overrides_document(), indent=2)
    )
    return copy
