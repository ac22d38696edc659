"""Runs robot on one API's working copy and rebot over the APIs' outputs, each as a child
process of the suites' venv interpreter, bounded in time; reads the totals back."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from conformance.errors import SetupError
from conformance.plan import EXCLUDED_TAGS, SuitePlan
from conformance.results import Totals, totals, write_failures

ROBOT_TIMEOUT = 600.0
REBOT_TIMEOUT = 120.0
ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = "conformance.overrides.Overrides"
ROBOT_ERROR = 252  # robot's exit status for invalid data or options, and above
PACKAGES = (
    "robotframework", "RESTinstance", "robotframework-jsonlibrary",
    "robotframework-jsonschemalibrary", "robotframework-dependencylibrary",
    "robotframework-mockserver",
)  # fmt: skip


def java_shim(directory: Path) -> Path:
    """A `java` that does nothing, first on robot's PATH: the suites start a MockServer jar
    they do not ship; the callback server stands in for it, so that start must not fail."""
    directory.mkdir(parents=True, exist_ok=True)
    java = directory / "java"
    java.write_text("#!/bin/sh\n# conformance run: the callback server stands in for MockServer\n")
    java.chmod(0o755)
    return directory


def run_suite(plan: SuitePlan, copy: Path, out: Path, shim: Path) -> Totals:
    """Robot over the API's copy (run from it: the suites read jsons/ and schemas/ relative to
    the working directory); its output.xml and console go to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    overrides = copy.parent / f"{plan.directory}.overrides.json"
    command = [
        sys.executable, "-m", "robot", "--outputdir", str(out), "--output", "output.xml",
        "--log", "NONE", "--report", "NONE", "--console", "dotted", "--name", plan.directory,
        "--pythonpath", str(ROOT), "--prerunmodifier", f"{OVERRIDES}:{overrides}",
    ]  # fmt: skip
    for tag in EXCLUDED_TAGS:
        command += ["--exclude", tag]
    for name, value in plan.variables.items():
        command += ["--variable", f"{name}:{value}"]
    env = dict(os.environ, PATH=f"{shim}{os.pathsep}{os.environ.get('PATH', '')}")
    with (out / "console.txt").open("wb") as console:
        try:
            done = subprocess.run(  # noqa: S603 - our interpreter running robot on the copy
                [*command, str(copy)],
                cwd=copy,
                env=env,
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=ROBOT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SetupError(f"robot on {plan.directory} ran past {ROBOT_TIMEOUT:.0f} s") from exc
    if done.returncode >= ROBOT_ERROR or not (out / "output.xml").is_file():
        raise SetupError(f"robot could not run {plan.directory}; see {out / 'console.txt'}")
    return totals(out / "output.xml")


def merge(outputs: list[Path], output: Path) -> Totals:
    """One output.xml, log.html and report.html over the APIs, failures.txt, versions.txt."""
    merged = output / "output.xml"
    command = [
        sys.executable, "-m", "robot.rebot", "--name", "ETSI SOL005", "--outputdir", str(output),
        "--output", "output.xml", "--log", "log.html", "--report", "report.html",
        *[str(o) for o in outputs],
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - our interpreter running rebot on our outputs
            command,
            capture_output=True,
            timeout=REBOT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise SetupError(f"rebot ran past {REBOT_TIMEOUT:.0f} s") from exc
    if done.returncode >= ROBOT_ERROR or not merged.is_file():
        raise SetupError(f"rebot could not merge the outputs: {done.stderr.decode()[-300:]}")
    write_failures(merged, output / "failures.txt")
    versions = [f"{p}=={_version(p)}" for p in PACKAGES] + [f"python=={sys.version.split()[0]}"]
    (output / "versions.txt").write_text("\n".join(versions) + "\n")
    return totals(merged)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"
