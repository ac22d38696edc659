"""One conformance run, as `run.sh` starts it: checks the suite and its libraries, starts the
callback server, a central with a fresh store and two simulated sites, makes the environment
(alarms, counters, PM jobs and thresholds too) and every suite's and test's own resources
(derived from the copy's `.robot` files), runs robot once per API in a working copy of the
suite, merges the results, prints the totals and stops everything it started. Failing tests
are the result; only a set-up failure makes the exit status non-zero."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from conformance.api import Api
from conformance.callback import CallbackServer
from conformance.declared import read_api
from conformance.errors import SetupError
from conformance.fixtures import FixtureBuilder
from conformance.plan import (
    API_NAMES,
    APIS,
    NSD,
    NSFM,
    NSLCM,
    NSPM,
    PACKAGE_PATH,
    VNF,
    Endpoints,
    nsd_plan,
    nsfm_plan,
    nslcm_plan,
    nspm_plan,
    vnf_plan,
)
from conformance.processes import Processes
from conformance.provision import provision
from conformance.results import Totals
from conformance.robotrun import java_shim, merge, run_suite
from conformance.workspace import check_libraries, check_suite, prepare

# Small pages, so that the suites' paged-response tests see a Link to a next page.
PAGE_SIZE = "1"
OUR_FILES = ("output.xml", "log.html", "report.html", "failures.txt", "versions.txt", "logs", *APIS)


@dataclass(frozen=True)
class Options:
    suite: Path
    output: Path
    project_python: Path
    samples: Path
    keep: bool

    @classmethod
    def parse(cls, argv: list[str] | None) -> Options:
        parser = argparse.ArgumentParser(prog="conformance/run.sh", description=__doc__)
        parser.add_argument("--suite", type=Path, required=True)
        parser.add_argument("--output", type=Path, required=True)
        parser.add_argument("--project-python", type=Path, required=True)
        parser.add_argument("--samples", type=Path, required=True)
        parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
        args = parser.parse_args(argv)
        return cls(
            Path(args.suite), Path(args.output), Path(args.project_python), Path(args.samples),
            keep=bool(args.keep),
        )  # fmt: skip


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    options = Options.parse(argv)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="edgewise-conformance-"))
    processes = Processes(options.project_python, work)
    callback = CallbackServer()
    serving = None
    try:
        check_suite(options.suite)
        check_libraries(options.suite)
        _clean(options.output)
        serving = callback.start()
        result = _run(options, work, processes, callback)
    except SetupError as exc:
        say(f"conformance set-up failed: {exc}")
        return 1
    except KeyboardInterrupt:
        say("conformance run interrupted; everything it started is stopped")
        return 130
    finally:
        processes.stop_all()
        if serving is not None:
            callback.shutdown()
            serving.join(timeout=5)
        callback.server_close()
        _keep_logs(work, options.output)
        if options.keep:
            say(f"temporary directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"robot output: {options.output} (log.html, report.html, output.xml, failures.txt)")
    say(f"run time: {time.monotonic() - started:.0f} s")
    say(result.line())
    return 0


def _run(options: Options, work: Path, processes: Processes, callback: CallbackServer) -> Totals:
    say("starting a central (fresh SQLite store) and two simulated sites ...")
    url, _ = processes.start_central(work / "central", {"EDGEWISE_PAGE_SIZE": PAGE_SIZE})
    token = (work / "central" / "admin.token").read_text().strip()
    store = f"sqlite:///{(work / 'central' / 'edgewise.db').resolve()}"
    builder = FixtureBuilder(Api(url, token), processes, options.samples, store)
    env = builder.environment(work / "sites")
    alarms = builder.alarm_environment(env)
    measured = builder.pm_environment(env)  # its jobs report while the rest is made
    content = builder.content()
    callback.state.serve_file(PACKAGE_PATH, content.vnf_package_by_uri, "application/zip")
    endpoints = Endpoints(int(url.rsplit(":", 1)[1]), token, callback.port)
    given = {
        directory: provision(
            read_api(options.suite / directory),
            API_NAMES[directory],
            lambda needs: builder.provide(env, needs, endpoints.callback_url),
        )
        for directory in APIS
    }
    made = sum(g.made for g in given.values())
    say(f"central at {url}, callback server at http://127.0.0.1:{callback.port}, "
        f"{made} resources made for the suites and tests that act on them")  # fmt: skip
    plans = [
        nslcm_plan(env, endpoints, given[NSLCM]),
        nsd_plan(env, endpoints, given[NSD], content.nsd_zip, content.nsd_yaml),
        vnf_plan(env, endpoints, given[VNF], content.vnf_package),
        nsfm_plan(endpoints, given[NSFM], alarms),
        nspm_plan(endpoints, given[NSPM], measured),
    ]
    shim = java_shim(work / "bin")
    outputs = []
    for plan in plans:
        copy = prepare(options.suite, work / "suites", plan, endpoints.callback_url)
        out = options.output / plan.directory
        say(f"{plan.directory}: {run_suite(plan, copy, out, shim).line()}")
        outputs.append(out / "output.xml")
    return merge(outputs, options.output)


def _clean(output: Path) -> None:
    """Removes what an earlier run wrote to `output`, and only that."""
    output.mkdir(parents=True, exist_ok=True)
    for name in OUR_FILES:
        target = output / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _keep_logs(work: Path, output: Path) -> None:
    """The central's and the sites' logs, next to robot's output."""
    with contextlib.suppress(OSError):
        logs = output / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for log in sorted(work.glob("*.log")):
            shutil.copy2(log, logs / log.name)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
