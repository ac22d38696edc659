"""What each API's suites are run with: robot variables (the central's address and token, the
callback server, what the environment's NSD and VNF package are called, what its alarms and PM
jobs are about), each suite's and test's own resources (`provision.py`), the suites' request
templates filled in for Edgewise, and the files the suites upload. Pure: environment and
provisioned ids in, plans out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.fixtures import AlarmEnvironment, Environment
from conformance.pm_fixtures import PmEnvironment
from conformance.provision import Provisioned

NSLCM = "NSLifecycleManagement-API"
NSD = "NSDManagement-API"
VNF = "VNFPackageManagement-API"
NSFM = "NSFaultManagement-API"
NSPM = "NSPerformanceManagement-API"
APIS = (NSLCM, NSD, VNF, NSFM, NSPM)
API_NAMES = {NSLCM: "nslcm", NSD: "nsd", VNF: "vnfpkgm", NSFM: "nsfm", NSPM: "nspm"}  # in paths
CALLBACK_PATH = "/endpoint"
PACKAGE_PATH = "/packages/conformance-vnf-package.zip"
# The suites offer both answers to a duplicated subscription; Edgewise takes the default one
# (303 See Other to the existing subscription), so the other variant's tests are not run.
EXCLUDED_TAGS = ("duplicated-subs",)
# Each test's time limit: the suites poll for notifications for up to 2 minutes, hard-coded.
TEST_TIMEOUT = "30 seconds"

Fill = Callable[[Any], Any]
Overrides = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Endpoints:
    central_port: int
    token: str
    callback_port: int

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.callback_port}{CALLBACK_PATH}"

    @property
    def package_url(self) -> str:
        return f"http://127.0.0.1:{self.callback_port}{PACKAGE_PATH}"


@dataclass(frozen=True)
class SuitePlan:
    """How one API's directory of robot files is run."""

    directory: str
    variables: dict[str, str]
    suite_variables: Overrides = field(default_factory=dict)  # suite (file stem) -> variables
    test_overrides: dict[str, Overrides] = field(default_factory=dict)  # suite -> test -> vars
    test_steps: dict[str, dict[str, list[list[str]]]] = field(default_factory=dict)
    templates: dict[str, Fill] = field(default_factory=dict)  # jsons/NAME -> fill-in
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content

    def overrides_document(self) -> dict[str, Any]:
        """What the robot pre-run modifier reads (JSON)."""
        return {
            "suites": self.suite_variables,
            "tests": self.test_overrides,
            "steps": self.test_steps,
            "test_timeout": TEST_TIMEOUT,
        }


def common_variables(api: str, endpoints: Endpoints) -> dict[str, str]:
    """Where the central and the callback server are, and short polls (a local central)."""
    host = {"NFVO_HOST": "127.0.0.1", "NFVO_PORT": str(endpoints.central_port)}
    return host | {
        "NFVO_SCHEMA": "http",
        "VNFM_HOST": "127.0.0.1",
        "VNFM_PORT": str(endpoints.central_port),
        "VNFM_SCHEMA": "http",
        "apiRoot": "",
        "AUTHORIZATION": f"Bearer {endpoints.token}",
        "AUTH_USAGE": "1",
        # the NSD and NS PM subscription keywords append no port to callback_uri; the others do
        "callback_uri": "http://127.0.0.1"
        + (f":{endpoints.callback_port}" if api in (NSD, NSPM) else ""),
        "callback_port": str(endpoints.callback_port),
        "callback_endpoint": CALLBACK_PATH,
        "callback_endpoint_fwd": f"{CALLBACK_PATH}/check",
        "callback_endpoint_error": f"{CALLBACK_PATH}_404",
        "callbackUri": endpoints.callback_url,
        "filter_ok": f"callbackUri={endpoints.callback_url}",
        "NFVO_DUPLICATION": "0",
        "sleep_interval": "1s",
        "total_polling_time": "10 s",
        "polling_interval": "1 s",
        "retry": "3x",
        "interval": "1 s",
    }


def nslcm_plan(env: Environment, endpoints: Endpoints, given: Provisioned) -> SuitePlan:
    def instantiate(document: Any) -> Any:
        request = document if isinstance(document, dict) else {}
        params = dict(request.get("additionalParamsForNs") or {}) | {"sites": [env.site_ok]}
        return request | {"nsFlavourId": env.nsd_flavour, "additionalParamsForNs": params}

    return SuitePlan(
        NSLCM,
        common_variables(NSLCM, endpoints),
        given.suites,
        given.tests,
        given.steps,
        templates={
            # the suite ships the request's schema in place of a request
            "CreateNsRequest.json": lambda _: {
                "nsdId": env.nsd,
                "nsName": "conformance-created",
                "nsDescription": "created by the conformance suite",
            },
            "InstantiateNsRequest.json": instantiate,
        },
    )


def nsd_plan(
    env: Environment, endpoints: Endpoints, given: Provisioned, nsd_zip: bytes, nsd_yaml: bytes
) -> SuitePlan:
    return SuitePlan(
        NSD,
        common_variables(NSD, endpoints) | {"NSD_NAME": f"nsdName={env.nsd_name}"},
        given.suites,
        given.tests,
        given.steps,
        files={"files/nsdContent.zip": nsd_zip, "files/nsdContent.yaml": nsd_yaml},
    )


def vnf_plan(
    env: Environment, endpoints: Endpoints, given: Provisioned, vnf_package: bytes
) -> SuitePlan:
    return SuitePlan(
        VNF,
        common_variables(VNF, endpoints)
        | {
            "artifactPath": env.pkg_artifact,
            "POS_FILTER": f"vnfdId={env.pkg_vnfd_id}&vnfProvider={env.pkg_provider}",
        },
        given.suites,
        given.tests,
        given.steps,
        templates={
            "UploadVnfPkgFromUriRequest.json": lambda document: (
                (document if isinstance(document, dict) else {})
                | {"addressInformation": endpoints.package_url}
            )
        },
        files={"files/vnfPackage.zip": vnf_package},
    )


def nsfm_plan(endpoints: Endpoints, given: Provisioned, alarms: AlarmEnvironment) -> SuitePlan:
    """The alarms' filters name what the environment's alarms are about: its NS instance (by
    `managedObjectId`, an attribute of Alarm: the suite's default `nsInstanceId` is none), its
    VNF, the root cause's type, severity and event type, the VNF alarm's probable cause."""
    return SuitePlan(
        NSFM,
        common_variables(NSFM, endpoints)
        | {
            "alarm_filter": "managedObjectId",
            "nsInstanceId": alarms.ns,
            "faultyVnfInstanceId": alarms.vnf,
            "faultyResourceType": "COMPUTE",
            "eventType": "COMMUNICATIONS_ALARM",
            "perceivedSeverity": "CRITICAL",
            "PerceivedSeverity": "CRITICAL",
            "probableCause": "vnfDown",
        },
        given.suites,
        given.tests,
        given.steps,
    )


def nspm_plan(endpoints: Endpoints, given: Provisioned, pm: PmEnvironment) -> SuitePlan:
    """The filters and the request templates name the measured NS instance where the suite
    has a fixed id; the rest of the templates is sent as the suite wrote it (both criteria
    empty, `objectInstanceIds` on a threshold: see conformance/README.md)."""

    def measured(document: Any) -> Any:
        """The document with the object ids it names (as a list or one) the measured NS's."""
        request = document if isinstance(document, dict) else {}
        return request | {
            key: [pm.ns] if isinstance(value, list) else pm.ns
            for key, value in request.items()
            if key in ("objectInstanceIds", "objectInstanceId")
        }

    return SuitePlan(
        NSPM,
        common_variables(NSPM, endpoints)
        | {
            "POS_FILTER": f"objectInstanceIds={pm.ns}",
            "FILTER_OK_Threshold": f"objectInstanceId={pm.ns}",
        },
        given.suites,
        given.tests,
        given.steps,
        templates={
            "CreatePmJobRequest.json": measured,
            "CreateThresholdRequest.json": measured,
        },
    )


def loopback_only(document: Any, url: str) -> Any:
    """The document with every `callbackUri` pointed at the callback server, so that nothing
    the suites subscribe ever sends a notification off this machine."""
    if isinstance(document, Mapping):
        return {
            k: url if k == "callbackUri" and isinstance(v, str) else loopback_only(v, url)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [loopback_only(item, url) for item in document]
    return document
