"""The resources the suites act on, created through the central's API before robot runs: NSDs
and VNF packages in each onboarding and operational state the tests name, two sites with
simulated data planes (one that applies every change, one that fails every change), and NS
instances that are NOT_INSTANTIATED, INSTANTIATED, or whose instantiation is FAILED_TEMP."""

from __future__ import annotations

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
from conformance.processes import Processes

NSD = "nsd/v1/ns_descriptors"
VNF = "vnfpkgm/v1/vnf_packages"
NS = "nslcm/v1/ns_instances"
OPS = "nslcm/v1/ns_lcm_op_occs"
SUBSCRIBING_APIS = ("nslcm", "nsd", "vnfpkgm")
SETTLE_TIMEOUT = 90.0


@dataclass(frozen=True)
class Fixtures:
    """Ids of what was created, by the role each plays in the suites."""

    nsd_plain: str  # ONBOARDED from YAML, ENABLED, IN_USE
    nsd_plain_name: str
    nsd_zip: str  # ONBOARDED from a CSAR zip, ENABLED
    nsd_disabled: str  # ONBOARDED, DISABLED
    nsd_deletable: str  # ONBOARDED, DISABLED, NOT_IN_USE: a test deletes it
    nsd_created: str  # CREATED: no content
    nsd_upload_zip: str  # CREATED: a test uploads files/nsdContent.zip
    nsd_upload_plain: str  # CREATED: a test uploads files/nsdContent.yaml
    nsd_flavour: str
    pkg: str  # ONBOARDED, ENABLED
    pkg_vnfd_id: str
    pkg_provider: str
    pkg_artifact: str  # a file path inside the package
    pkg_disabled: str  # ONBOARDED, DISABLED
    pkg_deletable: str  # ONBOARDED, DISABLED, NOT_IN_USE: a test deletes it
    pkg_created: str  # CREATED: no content
    pkg_upload: str  # CREATED: a test uploads files/vnfPackage.zip
    site_ok: str
    site_failing: str
    ns_not_instantiated: str
    ns_instantiated: str
    ns_to_instantiate: str  # NOT_INSTANTIATED: the instantiate workflow instantiates it
    op_completed: str  # the completed instantiation of ns_instantiated
    failed_temp: tuple[tuple[str, str], ...]  # (NS instance, its FAILED_TEMP operation)
    subscriptions: dict[str, str]  # API name (nslcm, nsd, vnfpkgm) -> a subscription's id
    spare_subscriptions: dict[str, str]  # ... -> another one, for the tests that delete one
    missing: str  # an id that names nothing

    def subscription(self, api: str) -> str:
        """The id of a subscription of `api`; the missing id where the API has none."""
        return self.subscriptions.get(api, self.missing)

    def spare_subscription(self, api: str) -> str:
        """A subscription of `api` that a deleting test may take (the others still read theirs)."""
        return self.spare_subscriptions.get(api, self.missing)


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
    def __init__(self, api: Api, processes: Processes, samples: Path) -> None:
        self.api = api
        self.processes = processes
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

    def build(self, site_dir: Path, callback_url: str) -> Fixtures:
        plain = self.nsd("plain")
        nsd_plain = self._onboard(NSD, "nsd_content", plain.yaml, "text/plain")
        nsd_zip = self._onboard(NSD, "nsd_content", self.nsd("zip").csar(), "application/zip")
        nsd_disabled = self._onboard(NSD, "nsd_content", self.nsd("disabled").yaml, "text/plain")
        nsd_deletable = self._onboard(NSD, "nsd_content", self.nsd("deletable").yaml, "text/plain")
        for item in (nsd_disabled, nsd_deletable):
            self.api.ok("PATCH", f"{NSD}/{item}", {"nsdOperationalState": "DISABLED"})
        package = self.package("onboarded")
        pkg = self._onboard(VNF, "package_content", package.zip, "application/zip")
        pkg_disabled = self._onboard(
            VNF, "package_content", self.package("disabled").zip, "application/zip"
        )
        pkg_deletable = self._onboard(
            VNF, "package_content", self.package("deletable").zip, "application/zip"
        )
        for item in (pkg_disabled, pkg_deletable):
            self.api.ok("PATCH", f"{VNF}/{item}", {"operationalState": "DISABLED"})
        tenant = str(self.api.ok("POST", "api/v1/tenants", {"name": "conformance"})["id"])
        site_ok = self._site(tenant, "conformance-ok", site_dir / "site-ok", failure_rate=0.0)
        site_failing = self._site(
            tenant, "conformance-failing", site_dir / "site-failing", failure_rate=1.0
        )
        ns = {role: self._ns(tenant, nsd_plain, role) for role in ("idle", "up", "to-instantiate")}
        failing = [self._ns(tenant, nsd_plain, f"failing-{i}") for i in range(3)]
        op_completed = self._instantiate(ns["up"], site_ok)
        failed_ops = [self._instantiate(item, site_failing) for item in failing]
        self._await_operations(
            {op_completed: "COMPLETED"} | dict.fromkeys(failed_ops, "FAILED_TEMP")
        )
        return Fixtures(
            nsd_plain=nsd_plain,
            nsd_plain_name=plain.name,
            nsd_zip=nsd_zip,
            nsd_disabled=nsd_disabled,
            nsd_deletable=nsd_deletable,
            nsd_created=self._create(NSD),
            nsd_upload_zip=self._create(NSD),
            nsd_upload_plain=self._create(NSD),
            nsd_flavour="default",
            pkg=pkg,
            pkg_vnfd_id=package.descriptor_id,
            pkg_provider=package.provider,
            pkg_artifact=package.entry,
            pkg_disabled=pkg_disabled,
            pkg_deletable=pkg_deletable,
            pkg_created=self._create(VNF),
            pkg_upload=self._create(VNF),
            site_ok=site_ok,
            site_failing=site_failing,
            ns_not_instantiated=ns["idle"],
            ns_instantiated=ns["up"],
            ns_to_instantiate=ns["to-instantiate"],
            op_completed=op_completed,
            failed_temp=tuple(zip(failing, failed_ops, strict=True)),
            subscriptions={
                api: found
                for api in SUBSCRIBING_APIS
                if (found := self._subscribe(api, callback_url)) is not None
            },
            spare_subscriptions={
                api: found
                for api in SUBSCRIBING_APIS
                if (found := self._subscribe(api, callback_url, spare=True)) is not None
            },
            missing=str(uuid.uuid4()),
        )

    def _create(self, collection: str) -> str:
        created = self.api.ok("POST", collection, {"userDefinedData": {"by": "conformance"}})
        return str(created["id"])

    def _onboard(self, collection: str, content: str, data: bytes, media_type: str) -> str:
        item = self._create(collection)
        self.api.ok("PUT", f"{collection}/{item}/{content}", content=data, content_type=media_type)
        return item

    def _site(self, tenant: str, name: str, data_dir: Path, *, failure_rate: float) -> str:
        spec = {"name": name, "kind": "on-premise", "slotsPerNode": 20, "tenantId": tenant}
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

    def _subscribe(self, api: str, callback_url: str, *, spare: bool = False) -> str | None:
        """A subscription of `api` to the callback server, where the API has subscriptions (a
        spare one has a callback of its own: the same callback and filter would be a repeat)."""
        uri = f"{callback_url}?spare=1" if spare else callback_url
        answer = self.api.send("POST", f"{api}/v1/subscriptions", {"callbackUri": uri})
        if answer.status in (404, 405):
            return None
        if answer.status != 201 or not isinstance(answer.body, dict):
            raise SetupError(f"POST {api}/v1/subscriptions answered {answer.status}: {answer.body}")
        return str(answer.body["id"])

    def _ns(self, tenant: str, nsd_info_id: str, role: str) -> str:
        body = {
            "nsdId": nsd_info_id,
            "nsName": f"conformance-{role}",
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
