"""What each suite is run with: robot variables (the central's address and token, the callback
server, the ids of the fixtures), the ids particular suites and tests need instead (a test
that expects 409 acts on a resource in the conflicting state), the suites' request templates
filled in for Edgewise, and the files the suites upload. Pure: fixtures in, plans out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.fixtures import Fixtures

NSLCM = "NSLifecycleManagement-API"
NSD = "NSDManagement-API"
VNF = "VNFPackageManagement-API"
APIS = (NSLCM, NSD, VNF)
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
    suite_overrides: Overrides = field(default_factory=dict)  # suite (file stem) -> variables
    test_overrides: dict[str, Overrides] = field(default_factory=dict)  # suite -> test -> vars
    templates: dict[str, Fill] = field(default_factory=dict)  # jsons/NAME -> fill-in
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content

    def overrides_document(self) -> dict[str, Any]:
        """What the robot pre-run modifier reads (JSON)."""
        return {
            "suites": self.suite_overrides,
            "tests": self.test_overrides,
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
        # the NSD keywords append no port to callback_uri; the others do
        "callback_uri": "http://127.0.0.1" + (f":{endpoints.callback_port}" if api == NSD else ""),
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


def nslcm_plan(f: Fixtures, endpoints: Endpoints) -> SuitePlan:
    up = {"nsInstanceId": f.ns_instantiated}
    failing = [{"nsInstanceId": ns, "nsLcmOpOccId": op} for ns, op in f.failed_temp]
    missing = {"nsLcmOpOccId": f.missing}

    def instantiate(document: Any) -> Any:
        request = document if isinstance(document, dict) else {}
        params = dict(request.get("additionalParamsForNs") or {}) | {"sites": [f.site_ok]}
        return request | {"nsFlavourId": f.nsd_flavour, "additionalParamsForNs": params}

    return SuitePlan(
        NSLCM,
        common_variables(NSLCM, endpoints)
        | {
            "nsInstanceId": f.ns_not_instantiated,
            "ConflictNsInstanceId": f.ns_instantiated,
            "nsLcmOpOccId": f.op_completed,
            "subscriptionId": f.subscription("nslcm"),
        },
        suite_overrides={
            "InstantiateNSTask": up,
            "InstanciateNSTaskWorkflow": {"nsInstanceId": f.ns_to_instantiate},
            **dict.fromkeys(
                ("HealNSTask", "HealNSTaskWorkflow", "ScaleNSTask", "UpdateNSTask"), up
            ),
            "UpdateNSTaskWorkflow": up,
            # the suite's own value names PM attributes; these are the resources' own
            "NSInstances": {"fields": "_links"},
            "NSLCMOccurences": {"fields": "operationParams"},
            "Subscriptions": {"fields": "filter"},
        },
        test_overrides={
            "CancelOperationTask": {"POST Cancel operation task Not Found": missing},
            "FailOperationTask": {
                "POST Fail operation task": failing[0],
                "POST Fail operation task Not Found": missing,
            },
            "RetryOperationTask": {"Post Retry operation task Not Found": missing},
            "RollbackOperationTask": {"POST Rollback operation task": failing[1]},
            "ContinueOperationTask": {"POST Continue operation task": failing[2]},
        },
        templates={
            # the suite ships the request's schema in place of a request
            "CreateNsRequest.json": lambda _: {
                "nsdId": f.nsd_plain,
                "nsName": "conformance-created",
                "nsDescription": "created by the conformance suite",
            },
            "InstantiateNsRequest.json": instantiate,
        },
    )


def nsd_plan(f: Fixtures, endpoints: Endpoints, nsd_zip: bytes, nsd_yaml: bytes) -> SuitePlan:
    return SuitePlan(
        NSD,
        common_variables(NSD, endpoints)
        | {
            "nsdInfoId": f.nsd_plain,
            "nsdInfoIdPlain": f.nsd_plain,
            "nsdInfoIdZip": f.nsd_zip,
            "disabledNsdInfoId": f.nsd_deletable,
            "notOnboardedNsdInfoId": f.nsd_created,
            "onboardingStateNsdInfoId": f.nsd_created,
            "createdNsdInfoId": f.nsd_created,
            "creatingNsdInfoId": f.nsd_plain,
            "modifiedNsdInfoId": f.nsd_plain,
            "NSD_NAME": f"nsdName={f.nsd_plain_name}",
            # what the suite's field-selector checks look at (its own value names _links)
            "fields": "userDefinedData",
            "subscriptionId": f.subscription("nsd"),
        },
        suite_overrides={"IndividualNSDescriptor": {"nsdInfoId": f.nsd_disabled}},
        test_overrides={
            # the suite deletes its subscription before other suites list theirs: a spare one
            "IndividualSubscription": {
                "DELETE Individual NSD Management Subscription": {
                    "subscriptionId": f.spare_subscription("nsd")
                }
            },
            "NSDContent": {
                "Upload NSD Content as Zip file in asynchronous mode": {
                    "nsdInfoIdZip": f.nsd_upload_zip
                },
                "Upload NSD Content as plain text file in asynchronous mode": {
                    "nsdInfoIdPlain": f.nsd_upload_plain
                },
            },
        },
        files={"files/nsdContent.zip": nsd_zip, "files/nsdContent.yaml": nsd_yaml},
    )


def vnf_plan(f: Fixtures, endpoints: Endpoints, vnf_package: bytes) -> SuitePlan:
    return SuitePlan(
        VNF,
        common_variables(VNF, endpoints)
        | dict.fromkeys(
            (
                "vnfPackageId",
                "vnfPkgId",
                "vnfPkgZipVNFD",
                "vnfPkgPlainVNFD",
                "vnfPackageOctetStreamId",
                "vnfPkgViaUriId",
                "creatingVnfPackageId",
                "creatingVnfPkgViaUriId",
                "instantiatedVnfPackageId",
            ),
            f.pkg,
        )
        | {
            "onboardingStateVnfPkgId": f.pkg_created,
            "newVnfPackageId": f.pkg_upload,
            "disabledVnfPackageId": f.pkg_deletable,
            "artifactPath": f.pkg_artifact,
            "POS_FILTER": f"vnfdId={f.pkg_vnfd_id}&vnfProvider={f.pkg_provider}",
            "subscriptionId": f.subscription("vnfpkgm"),
        },
        test_overrides={
            "IndividualVNFPackage": {
                "Enable Individual VNF Package": {"vnfPackageId": f.pkg_disabled}
            },
            "IndividualSubscription": {
                "DELETE Individual VNF Package Subscription": {
                    "subscriptionId": f.spare_subscription("vnfpkgm")
                }
            },
        },
        templates={
            "UploadVnfPkgFromUriRequest.json": lambda document: (
                (document if isinstance(document, dict) else {})
                | {"addressInformation": endpoints.package_url}
            )
        },
        files={"files/vnfPackage.zip": vnf_package},
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
