"""Checks responses against ETSI's own SOL005 JSON schemas (shared/conformance), when present."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import pytest

from tests.conftest import SHARED

SCHEMAS = SHARED / "conformance" / "etsi-sol005"
NSD_NOTIFICATION_SCHEMAS = (
    "NsdmSubscription", "NsdmSubscriptions", "NsdOnboardingNotification",
    "NsdOnboardingFailureNotification", "NsdChangeNotification", "NsdDeletionNotification",
)  # fmt: skip
PKG_NOTIFICATION_SCHEMAS = (
    "PkgmSubscription", "PkgmSubscriptions", "VnfPackageOnboardingNotification",
    "VnfPackageChangeNotification",
)  # fmt: skip
FILES = {
    "NsdInfo": "NSDManagement-API/schemas/NsdInfo.schema.json",
    "NsdInfos": "NSDManagement-API/schemas/NsdInfos.schema.json",
    "NsdInfoModification": "NSDManagement-API/schemas/NsdInfoModification.schema.json",
    "ProblemDetails": "NSDManagement-API/schemas/ProblemDetails.schema.json",
    "VnfPkgInfo": "VNFPackageManagement-API/schemas/vnfPkgInfo.schema.json",
    "VnfPkgInfos": "VNFPackageManagement-API/schemas/vnfPkgsInfo.schema.json",
    "VnfPkgInfoModification": "VNFPackageManagement-API/schemas/VnfPkgInfoModification.schema.json",
    "NsInstance": "NSLifecycleManagement-API/schemas/NsInstance.schema.json",
    "NsLcmOpOcc": "NSLifecycleManagement-API/schemas/NsLcmOpOcc.schema.json",
    "NsLcmOperationOccurrenceNotification": (
        "NSLifecycleManagement-API/schemas/NsLcmOperationOccurrenceNotification.schema.json"
    ),
    "NsIdentifierCreationNotification": (
        "NSLifecycleManagement-API/schemas/NsIdentifierCreationNotification.schema.json"
    ),
    **{name: f"NSDManagement-API/schemas/{name}.schema.json" for name in NSD_NOTIFICATION_SCHEMAS},
    **{
        name: f"VNFPackageManagement-API/schemas/{name}.schema.json"
        for name in PKG_NOTIFICATION_SCHEMAS
    },
}


@cache
def schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / FILES[name]
    if not path.is_file():
        pytest.skip(f"ETSI schema {path} is not available")
    # one of ETSI's files is not UTF-8 (a stray byte in a description)
    loaded: dict[str, Any] = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    return loaded


def assert_schema(name: str, document: Any) -> None:
    jsonschema.validate(document, schema(name))
