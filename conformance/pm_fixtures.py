"""The NS performance management resources a conformance run needs, made through `nspm/v1`:
an INSTANTIATED NS instance's counters (written as the central's site channel records a site's
counters report, `counters_store.py`: the simulated sites count nothing), PM jobs over it,
thresholds on it, and the reports the central's own tracker writes for those jobs (awaited: the
shortest collection period is 10 s, so a report is ready about 10 s after its job is made)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Final

from conformance.api import Api
from conformance.errors import SetupError
from conformance.needs import MISSING, OWNER, Kind, Need
from conformance.processes import Processes

PM_KINDS: Final = (Kind.PM_JOB, Kind.REPORT, Kind.THRESHOLD)
JOBS: Final = "nspm/v1/pm_jobs"
THRESHOLDS: Final = "nspm/v1/thresholds"
METRIC: Final = "PacketCount"  # what the counters written here count
PERIOD: Final = 10  # s: the shortest collection (and reporting) period Edgewise takes
COUNTED: Final = {"packets": 1200, "bytes": 96_000}
NOT_REACHED: Final = 1_000_000.0  # packets: the thresholds made here are never crossed
REPORT_TIMEOUT: Final = 60.0
STORE_TIMEOUT: Final = 60.0


@dataclass(frozen=True)
class PmEnvironment:
    """What the PM suites' filters and templates name: the measured NS instance, and the jobs
    and thresholds every test may list (two of each: one more than a page of the run's)."""

    ns: str
    jobs: tuple[str, ...]
    thresholds: tuple[str, ...]


class PmBuilder:
    def __init__(self, api: Api, processes: Processes, store_url: str) -> None:
        self.api = api
        self.processes = processes
        self.store_url = store_url
        self._reporting: set[str] = set()  # jobs a report of which is awaited

    def environment(self, site: str, ns: str, vnf: str) -> PmEnvironment:
        """Counters of `vnf` of `ns` on `site`, then two jobs (each to report) and two
        thresholds over `ns`."""
        body = {"services": {ns: {vnf: {"rules": {"rule-0": dict(COUNTED)}}}}}
        self.processes.run_module("conformance.counters_store", [self.store_url, site],
                                  json.dumps(body), STORE_TIMEOUT)  # fmt: skip
        jobs = (self._job(ns), self._job(ns))
        self._reporting.update(jobs)
        return PmEnvironment(ns, jobs, (self._threshold(ns), self._threshold(ns)))

    def provide(self, ns: str, needs: list[Need]) -> dict[int, tuple[str, str]]:
        """A fresh PM job, threshold or report (with its own job) over `ns` for each PM need:
        (its id, a report's job) by the need's index in `needs`; waits until every report is
        ready."""
        made: dict[int, tuple[str, str]] = {}
        reporting: dict[int, str] = {}
        for index, need in enumerate(needs):
            if need.kind not in PM_KINDS or need.state in (MISSING, OWNER):
                continue
            if need.kind == Kind.THRESHOLD:
                made[index] = (self._threshold(ns), "")
            elif need.kind == Kind.PM_JOB:
                made[index] = (self._job(ns), "")
            else:
                reporting[index] = self._job(ns)
        self._reporting.update(reporting.values())
        reports = self._await_reports()
        made |= {index: (reports[job], job) for index, job in reporting.items()}
        return made

    def _job(self, ns: str) -> str:
        criteria = {"performanceMetric": [METRIC], "collectionPeriod": PERIOD,
                    "reportingPeriod": PERIOD}  # fmt: skip
        made = self.api.ok("POST", JOBS, {"objectInstanceIds": [ns], "criteria": criteria})
        return str(made["id"])

    def _threshold(self, ns: str) -> str:
        details = {"thresholdValue": NOT_REACHED, "hysteresis": 0}
        criteria = {"performanceMetric": METRIC, "thresholdType": "SIMPLE",
                    "simpleThresholdDetails": details}  # fmt: skip
        made = self.api.ok("POST", THRESHOLDS, {"objectInstanceId": ns, "criteria": criteria})
        return str(made["id"])

    def _await_reports(self) -> dict[str, str]:
        """A report of every job made to report (the tracker writes the first a collection
        period after the job was made), by job; a SetupError past the deadline."""
        deadline = time.monotonic() + REPORT_TIMEOUT
        found: dict[str, str] = {}
        while True:
            for job in sorted(self._reporting - found.keys()):
                reports: list[Any] = self.api.ok("GET", f"{JOBS}/{job}").get("reports") or []
                if reports:  # the newest: the last a job keeps as it writes more
                    found[job] = str(reports[-1]["href"]).rsplit("/", 1)[-1]
            if found.keys() >= self._reporting:
                return found
            if time.monotonic() > deadline:
                waiting = sorted(self._reporting - found.keys())
                raise SetupError(f"PM jobs reported nothing within {REPORT_TIMEOUT:.0f} s: "
                                 f"{waiting} (see the central's log)")  # fmt: skip
            time.sleep(0.5)
