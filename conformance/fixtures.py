"""The resources the suites act on, created through the central's API before robot runs: the
environment every test reads (an NSD and a VNF package, two sites with simulated data planes,
one that applies every change and one that fails every change; for fault and performance
management, an NS instance with alarms on it and counters of it), and one fresh resource per
need `needs.py` derived (NSDs and VNF packages CREATED, ONBOARDED or DISABLED; NS instances
NOT_INSTANTIATED or INSTANTIATED; operations COMPLETED or FAILED_TEMP; subscriptions; alarms
UNACKNOWLEDGED or ACKNOWLEDGED; PM jobs, thresholds and reports, `pm_fixtures.py`). Alarms are
written to the store as the alarm engine writes them (`alarm_store.py`: SOL005 has no route
that raises one) and acknowledged through the API."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.api import Api
from conformance.descriptors import (
    NSD_SAMPLE,
    VNF_SAMPLE,
    Nsd,
    VnfPackage,
    nsd_variant,
    read_tree,
    vnf_variant,
)
from conformance.errors import SetupError
from conformance.needs import MISSING, OWNER, Kind, Need
from conformance.pm_fixtures import PM_KINDS, PmBuilder, PmEnvironment
from conformance.processes import Processes

ALARMS = "nsfm/v1/alarms"
STORE_TIMEOUT = 60.0

NSD = "nsd/v1/ns_descriptors"
VNF = "vnfpkgm/v1/vnf_packages"
NS = "nslcm/v1/ns_instances"
OPS = "nslcm/v1/ns_lcm_op_occs"
SETTLE_TIMEOUT = 90.0
SLOTS_PER_NODE = 500  # every test's NS instances fit on one site


@dataclass(frozen=True)
class Environment:
    """What every test may read but none acts on: the NSD that NS instances (and the suite's
    create request) are made from, a VNF package whose attributes the filters name, a tenant and
    two sites (one applies every change, one fails every change)."""

    nsd: str  # ONBOARDED from YAML, ENABLED, IN_USE
    nsd_name: str
    nsd_flavour: str
    pkg: str  # ONBOARDED, ENABLED
    pkg_vnfd_id: str
    pkg_provider: str
    pkg_artifact: str  # a file path inside every package made here
    tenant: str
    site_ok: str
    site_failing: str


@dataclass(frozen=True)
class AlarmEnvironment:
    """What the fault management suites filter alarms by: an INSTANTIATED NS instance whose VNF
    is down (a MAJOR processing error), correlated to its site being offline (a CRITICAL
    communications alarm, the root cause)."""

    ns: str
    vnf: str
    root: str  # SITE_OFFLINE
    vnf_down: str  # VNF_DOWN, correlated to the root


@dataclass(frozen=True)
class Made:
    """A resource made for a need: its id and, for NS LCM, its NS instance and operation."""

    id: str
    ns: str = ""
    operation: str = ""
    etag: str = ""  # NSDs and VNF packages: the ETag they answer with once made
    job: str = ""  # a performance report: its PM job


@dataclass(frozen=True)
class Content:
    """Files the suites upload, with descriptor ids not yet onboarded."""

    nsd_zip: bytes
    nsd_yaml: bytes
    vnf_package: bytes
    vnf_package_by_uri: bytes


def _new_id(role: str) -> str:
    return f"conformance-{role}-{uuid.uuid4().hex[:8]}"


class FixtureBuilder:
    def __init__(self, api: Api, processes: Processes, samples: Path, store_url: str) -> None:
        self.api = api
        self.processes = processes
        self.store_url = store_url
        self._watched: tuple[str, str] | None = None  # (NS instance, its VNF) alarms and PM
        self.pm = PmBuilder(api, processes, store_url)
        nsd_path = samples / NSD_SAMPLE
        if not nsd_path.is_file():
            raise SetupError(f"the sample NSD is missing ({nsd_path})")
        self.nsd_template = nsd_path.read_text()
        self.vnf_files = read_tree(samples / VNF_SAMPLE)

    def nsd(self, role: str) -> Nsd:
        return nsd_variant(self.nsd_template, _new_id(role), f"conformance-{role}")

    def package(self, role: str) -> VnfPackage:
        return vnf_variant(self.vnf_files, _new_id(role))

    def content(self) -> Content:
        return Content(
            self.nsd("uploaded-zip").csar(),
            self.nsd("uploaded-plain").yaml,
            self.package("uploaded").zip,
            self.package("uploaded-by-uri").zip,
        )

    def environment(self, site_dir: Path) -> Environment:
        plain = self.nsd("environment")
        nsd = self._onboard(NSD, "nsd_content", plain.yaml, "text/plain")
        package = self.package("environment")
        pkg = self._onboard(VNF, "package_content", package.zip, "application/zip")
        tenant = str(self.api.ok("POST", "api/v1/tenants", {"name": "conformance"})["id"])
        site_ok = self._site(tenant, "conformance-ok", site_dir / "site-ok", failure_rate=0.0)
        site_failing = self._site(
            tenant, "conformance-failing", site_dir / "site-failing", failure_rate=1.0
        )
        return Environment(
            nsd=nsd,
            nsd_name=plain.name,
            nsd_flavour="default",
            pkg=pkg,
            pkg_vnfd_id=package.descriptor_id,
            pkg_provider=package.provider,
            pkg_artifact=package.entry,
            tenant=tenant,
            site_ok=site_ok,
            site_failing=site_failing,
        )

    def provide(self, env: Environment, needs: list[Need], callback_url: str) -> list[Made]:
        """A fresh resource for each need, in the need's state, in the needs' order; waits
        until every NS LCM operation made for them has settled."""
        made: list[Made] = []
        settling: dict[str, str] = {}  # operation occurrence -> the state it must reach
        for index, need in enumerate(needs):
            item = self._make(env, need, f"{callback_url}?for={index}")
            made.append(item)
            if need.kind in (Kind.NS, Kind.OP) and item.operation:
                settling[item.operation] = (
                    "FAILED_TEMP" if need.state == "FAILED_TEMP" else "COMPLETED"
                )
        self._await_operations(settling)
        alarms = [i for i, n in enumerate(needs) if n.kind == Kind.ALARM and n.state != MISSING]
        if alarms:
            ns, vnf = self._watched_ns(env)
            ids = self._store_alarms([
                {"kind": "VNF_DOWN", "tenant": env.tenant, "site": env.site_ok, "ns": ns,
                 "vnf": vnf, "component": f"need-{index}"}
                for index in alarms
            ])  # fmt: skip
            for index, alarm_id in zip(alarms, ids, strict=True):
                if needs[index].state == "ACKNOWLEDGED":
                    self._acknowledge(alarm_id)
                made[index] = Made(alarm_id, ns=ns)
        if any(n.kind in PM_KINDS for n in needs):
            ns, _ = self._watched_ns(env)
            for index, (pm_id, job) in self.pm.provide(ns, needs).items():
                made[index] = Made(pm_id, job=job)
        return made

    def alarm_environment(self, env: Environment) -> AlarmEnvironment:
        """The alarms the fault management suites' filters find (see AlarmEnvironment)."""
        ns, vnf = self._watched_ns(env)
        root, vnf_down = self._store_alarms([
            {"kind": "SITE_OFFLINE", "tenant": env.tenant, "site": env.site_ok},
            {"kind": "VNF_DOWN", "tenant": env.tenant, "site": env.site_ok, "ns": ns,
             "vnf": vnf, "root": 0},
        ])  # fmt: skip
        return AlarmEnvironment(ns, vnf, root, vnf_down)

    def pm_environment(self, env: Environment) -> PmEnvironment:
        """The counters, PM jobs and thresholds the performance management suites find (see
        PmEnvironment), over the NS instance the alarms are about."""
        ns, vnf = self._watched_ns(env)
        return self.pm.environment(env.site_ok, ns, vnf)

    def _watched_ns(self, env: Environment) -> tuple[str, str]:
        """An NS instance INSTANTIATED on the site that applies every change, and its first
        VNF instance: what the alarms, counters and PM jobs made here are about."""
        if self._watched is None:
            ns = self._ns(env.tenant, env.nsd, "watched")
            self._await_operations({self._instantiate(ns, env.site_ok): "COMPLETED"})
            vnfs = self.api.ok("GET", f"{NS}/{ns}").get("vnfInstance") or []
            if not vnfs:
                raise SetupError(f"NS instance {ns} has no VNF instance to watch")
            self._watched = (ns, str(vnfs[0]["id"]))
        return self._watched

    def _store_alarms(self, alarms: list[dict[str, Any]]) -> list[str]:
        written = self.processes.run_module(
            "conformance.alarm_store", [self.store_url], json.dumps(alarms), STORE_TIMEOUT
        )
        ids = json.loads(written)
        if not isinstance(ids, list) or len(ids) != len(alarms):
            raise SetupError(f"conformance.alarm_store wrote {written!r} for {len(alarms)} alarms")
        return [str(alarm_id) for alarm_id in ids]

    def _acknowledge(self, alarm_id: str) -> None:
        self.api.ok(
            "PATCH", f"{ALARMS}/{alarm_id}", {"ackState": "ACKNOWLEDGED"},
            content_type="application/merge-patch+json",
        )  # fmt: skip

    def _make(self, env: Environment, need: Need, callback_url: str) -> Made:
        if need.state in (MISSING, OWNER) or need.kind in (Kind.ALARM, *PM_KINDS):
            return Made(str(uuid.uuid4()))  # alarms, PM: made once every operation settled
        if need.kind == Kind.SUB:
            return Made(self._subscribe(need.api, callback_url) or str(uuid.uuid4()))
        if need.kind in (Kind.NSD, Kind.PKG):
            item = self._catalog_item(need)
            read = self.api.send("GET", f"{NSD if need.kind == Kind.NSD else VNF}/{item}")
            return Made(item, etag=read.headers.get("ETag", ""))
        ns = self._ns(env.tenant, env.nsd, need.state.lower())
        if need.kind == Kind.NS and need.state == "NOT_INSTANTIATED":
            return Made(ns)
        site = env.site_failing if need.state == "FAILED_TEMP" else env.site_ok
        operation = self._instantiate(ns, site)
        return Made(operation if need.kind == Kind.OP else ns, ns=ns, operation=operation)

    def _catalog_item(self, need: Need) -> str:
        collection = NSD if need.kind == Kind.NSD else VNF
        if need.state == "CREATED":
            return self._create(collection)
        role = need.state.lower()
        if need.kind == Kind.NSD:
            nsd = self.nsd(role)
            data, media_type = (
                (nsd.csar(), "application/zip") if need.zip else (nsd.yaml, "text/plain")
            )
            item = self._onboard(NSD, "nsd_content", data, media_type)
            state = {"nsdOperationalState": "DISABLED"}
        else:
            item = self._onboard(VNF, "package_content", self.package(role).zip, "application/zip")
            state = {"operationalState": "DISABLED"}
        if need.state == "DISABLED":
            self.api.ok("PATCH", f"{collection}/{item}", state)
        return item

    def _create(self, collection: str) -> str:
        created = self.api.ok("POST", collection, {"userDefinedData": {"by": "conformance"}})
        return str(created["id"])

    def _onboard(self, collection: str, content: str, data: bytes, media_type: str) -> str:
        item = self._create(collection)
        self.api.ok("PUT", f"{collection}/{item}/{content}", content=data, content_type=media_type)
        return item

    def _site(self, tenant: str, name: str, data_dir: Path, *, failure_rate: float) -> str:
        spec = {
            "name": name,
            "kind": "on-premise",
            "slotsPerNode": SLOTS_PER_NODE,
            "tenantId": tenant,
        }
        made = self.api.ok("POST", "api/v1/sites", spec)
        central = self.api.ok("GET", "api/v1/central")
        self.processes.run(
            [
                "site-controller",
                "enroll",
                f"--central={central['southboundUrl']}",
                f"--token={made['enrollmentToken']['token']}",
                f"--data-dir={data_dir}",
                f"--ca-fingerprint={central['caFingerprint']}",
            ],
            timeout=60,
        )
        self.processes.start(
            name,
            [
                "site-controller",
                "run",
                f"--data-dir={data_dir}",
                "--driver=sim",
                f"--sim-failure-rate={failure_rate}",
                "--seed=1",
                "--reconcile-interval=1",
                "--first-poll-max-delay=0",
            ],
        )
        return str(made["id"])

    def _subscribe(self, api: str, callback_url: str) -> str | None:
        """A subscription of `api` to the callback server, where the API has subscriptions
        (each with a callback of its own: the same callback and filter would be a repeat)."""
        answer = self.api.send("POST", f"{api}/v1/subscriptions", {"callbackUri": callback_url})
        if answer.status in (404, 405):
            return None
        if answer.status != 201 or not isinstance(answer.body, dict):
            raise SetupError(f"POST {api}/v1/subscriptions answered {answer.status}: {answer.body}")
        return str(answer.body["id"])

    def _ns(self, tenant: str, nsd_info_id: str, role: str) -> str:
        body = {
            "nsdId": nsd_info_id,
            "nsName": _new_id(role),
            "nsDescription": role,
            "tenantId": tenant,
        }
        return str(self.api.ok("POST", NS, body)["id"])

    def _instantiate(self, ns_id: str, site_id: str) -> str:
        body = {"nsFlavourId": "default", "additionalParamsForNs": {"sites": [site_id]}}
        answer = self.api.send("POST", f"{NS}/{ns_id}/instantiate", body)
        location = answer.headers.get("Location") or answer.headers.get("location") or ""
        if answer.status != 202 or "/ns_lcm_op_occs/" not in location:
            raise SetupError(f"instantiating NS {ns_id} answered {answer.status}: {answer.body}")
        return location.rsplit("/", 1)[-1]

    def _await_operations(self, wanted: dict[str, str]) -> None:
        """Waits until every operation is in its wanted state (or the deadline passes)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            states = {op: self._state(op) for op in wanted}
            if states == wanted:
                return
            if time.monotonic() > deadline:
                wrong = {op: s for op, s in states.items() if s != wanted[op]}
                raise SetupError(
                    f"NS LCM operations did not settle within {SETTLE_TIMEOUT:.0f} s: {wrong}"
                )
            time.sleep(0.5)

    def _state(self, op: str) -> Any:
        return self.api.ok("GET", f"{OPS}/{op}")["operationState"]
