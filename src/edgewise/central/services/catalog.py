"""The catalog: NS descriptors and VNF packages, from creation through onboarding to deletion.

Both kinds share one life cycle (SOL005): CREATED -> (content uploaded and valid) ->
ONBOARDED and ENABLED; content is immutable once onboarded; DISABLED and NOT_IN_USE
before deletion. Validation is Edgewise's own SOL001 loader: tolerated deviations onboard and
are kept as the item's warnings, unless onboarding is strict. Onboarding (done or failed),
enabling, disabling and deletion notify the subscribers (`catalog_events`) in the same
transaction. The API gets views (`view`, `read_item`); the orchestrator reads rows (`get_item`);
`catalog_content` hands out what was onboarded.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from enum import StrEnum
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services import catalog_events
from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    scoped,
)
from edgewise.central.services.catalog_events import CatalogNotifications
from edgewise.central.services.errors import (
    Conflict,
    InputProblem,
    Invalid,
    NotFound,
    ServiceError,
)
from edgewise.central.services.tenants import get_tenant
from edgewise.central.services.views import (
    Artifact,
    CatalogItem,
    DescriptorWarning,
    NsdDescription,
    VnfdDescription,
)
from edgewise.central.store.tables import CatalogItemRow
from edgewise.tosca import Limits, LoadResult, Nsd, Problem, TypeCache, Vnfd, load_bytes
from edgewise.tosca.package import ZipSource
from edgewise.tosca.software import derive

ZIP_TYPE = "application/zip"
YAML_TYPE = "text/plain"


class CatalogKind(StrEnum):
    NSD = "nsd"
    VNF_PACKAGE = "vnfpkg"

    @property
    def label(self) -> str:
        return "NS descriptor" if self is CatalogKind.NSD else "VNF package"

    @property
    def notifications(self) -> CatalogNotifications:
        return catalog_events.NSD if self is CatalogKind.NSD else catalog_events.VNF_PACKAGE

    def describe(self, summary: dict[str, Any]) -> NsdDescription | VnfdDescription:
        """What the onboarded descriptor of this kind declares."""
        if self is CatalogKind.NSD:
            return NsdDescription.of(summary)
        return VnfdDescription.of(summary)


def view(row: CatalogItemRow) -> CatalogItem:
    """What the API shows of an item, made in the transaction that read or changed it."""
    onboarded = row.onboarding_state == catalog_events.ONBOARDED
    return CatalogItem(
        id=row.id,
        tenant_id=row.tenant_id,
        onboarding_state=row.onboarding_state,
        operational_state=row.operational_state,
        usage_state=row.usage_state,
        user_defined_data=dict(row.user_defined_data),
        failure=row.failure,
        descriptor=CatalogKind(row.kind).describe(row.summary) if onboarded else None,
        checksum=row.checksum,
        artifacts=tuple(Artifact(a["path"], a["sha256"]) for a in row.summary.get("artifacts", [])),
        warnings=tuple(DescriptorWarning.of(w) for w in row.summary.get("warnings", [])),
    )


def create_item(
    session: Session,
    principal: Principal,
    kind: CatalogKind,
    user_defined_data: dict[str, Any],
    *,
    tenant_id: str | None = None,
) -> CatalogItem:
    """A new, empty catalog resource (state CREATED). Admins create shared ones by default."""
    owner = owner_for_new(principal, tenant_id, shared_allowed=True)
    if owner is not None:
        get_tenant(session, principal, owner)
    row = CatalogItemRow(kind=kind.value, tenant_id=owner, user_defined_data=user_defined_data)
    session.add(row)
    session.flush()
    return view(row)


def list_items(session: Session, principal: Principal, kind: CatalogKind) -> list[CatalogItem]:
    query = scoped(select(CatalogItemRow), principal, CatalogItemRow, shared_rows=True)
    query = query.where(CatalogItemRow.kind == kind.value)
    return [view(row) for row in session.scalars(query.order_by(CatalogItemRow.id))]


def get_item(
    session: Session, principal: Principal, kind: CatalogKind, item_id: str
) -> CatalogItemRow:
    """The item's row if `principal` sees it (for the orchestrator); the API reads `read_item`."""
    row = get_visible(
        session, CatalogItemRow, item_id, principal, what=kind.label, shared_rows=True
    )
    if row.kind != kind.value:
        raise_not_found(kind, item_id)
    return row


def read_item(
    session: Session, principal: Principal, kind: CatalogKind, item_id: str
) -> CatalogItem:
    return view(get_item(session, principal, kind, item_id))


def upload_content(
    session: Session,
    principal: Principal,
    kind: CatalogKind,
    item_id: str,
    data: bytes,
    *,
    media_type: str,
    limits: Limits,
    types: TypeCache,
    strict: bool = False,
) -> CatalogItem:
    """Validates `data` (type files parsed before come from `types`) and onboards it; `strict`
    refuses the deviations the loader otherwise tolerates with a warning.

    Refused (not found, not CREATED), it changes nothing. Content that does not onboard leaves
    the item CREATED with the failure recorded and notified, and raises OnboardingFailed: the
    caller commits that before it reports the failure.
    """
    row = get_item(session, principal, kind, item_id)
    ensure_writable(principal, row, what=kind.label)
    if row.onboarding_state != "CREATED":
        raise Conflict(
            f"{kind.label} {item_id} is {row.onboarding_state}; content can be uploaded only "
            "once, while it is CREATED (onboarded content is immutable: create a new one)"
        )
    try:
        _onboard(
            session, principal, kind, row, data,
            media_type=media_type, limits=limits, types=types, strict=strict,
        )  # fmt: skip
    except (Invalid, Conflict) as error:
        row.failure = _failure(error)
        kind.notifications.onboarding_failed(session, row)
        session.flush()
        raise OnboardingFailed(error) from error
    kind.notifications.onboarded(session, row)
    session.flush()
    return view(row)


def _onboard(
    session: Session,
    principal: Principal,
    kind: CatalogKind,
    row: CatalogItemRow,
    data: bytes,
    *,
    media_type: str,
    limits: Limits,
    types: TypeCache,
    strict: bool,
) -> None:
    is_zip = data[:4] == b"PK\x03\x04"
    declared = media_type.split(";", maxsplit=1)[0].strip().lower()
    if declared == ZIP_TYPE and not is_zip:
        raise Invalid(
            "the content is not what its Content-Type says",
            [InputProblem("Content-Type", "application/zip was declared but the body is no zip")],
        )
    if kind is CatalogKind.VNF_PACKAGE and not is_zip:
        raise Invalid(
            "a VNF package must be a SOL004 CSAR zip file",
            [
                InputProblem(
                    "body", "the content is not a zip archive (use Content-Type application/zip)"
                )
            ],
        )
    name = "package.zip" if is_zip else "descriptor.yaml"
    result = load_bytes(data, name, limits, types, strict=strict)
    problems = _problems(result)
    descriptor = result.descriptor
    if not problems and descriptor is not None and descriptor.kind != _expected(kind):
        other = CatalogKind.VNF_PACKAGE if kind is CatalogKind.NSD else CatalogKind.NSD
        problems = [
            InputProblem(
                "body",
                f"this is a {descriptor.kind.upper()}, not a {_expected(kind).upper()}: "
                f"upload it as a {other.label}",
            )
        ]
    if not problems and isinstance(descriptor, Vnfd) and is_zip:
        problems = _software_problems(data, result, limits)
    if problems or descriptor is None:
        raise Invalid(f"the {kind.label} content is not valid; nothing was onboarded", problems)
    summary = _summary(descriptor, result) | {
        "artifacts": _artifacts(data) if is_zip else [],
        "warnings": _warnings(result),
    }
    _ensure_unique_descriptor(session, row, str(summary["descriptorId"]))
    row.summary = summary
    row.descriptor_id = str(summary["descriptorId"])
    row.content = data
    row.content_type = ZIP_TYPE if is_zip else YAML_TYPE
    row.checksum = hashlib.sha256(data).hexdigest()
    row.failure = None
    row.onboarding_state = "ONBOARDED"
    row.operational_state = "ENABLED"
    if kind is CatalogKind.NSD:
        _link_vnf_packages(session, principal, row)


def _failure(error: Invalid | Conflict) -> dict[str, Any]:
    """An onboarding failure as SOL005 reports it (ProblemDetails), with every problem found."""
    failure: dict[str, Any] = {
        "title": "onboarding failed",
        "status": 409 if isinstance(error, Conflict) else 400,
        "detail": error.detail,
    }
    if isinstance(error, Invalid) and error.problems:
        failure["problems"] = [{"where": p.where, "message": p.message} for p in error.problems]
    return failure


def modify_item(
    session: Session,
    principal: Principal,
    kind: CatalogKind,
    item_id: str,
    *,
    operational_state: str | None,
    user_defined_data: dict[str, Any] | None,
) -> CatalogItem:
    """Enables/disables an onboarded item and merges user-defined data (null removes a key)."""
    row = get_item(session, principal, kind, item_id)
    ensure_writable(principal, row, what=kind.label)
    if operational_state is not None:
        if row.onboarding_state != "ONBOARDED":
            raise Conflict(
                f"{kind.label} {item_id} is {row.onboarding_state}; only an onboarded one "
                "can be enabled or disabled"
            )
        if row.operational_state == operational_state:
            raise Conflict(f"{kind.label} {item_id} is already {operational_state}")
        row.operational_state = operational_state
        kind.notifications.state_changed(session, row)
    if user_defined_data is not None:
        merged = dict(row.user_defined_data)
        for key, value in user_defined_data.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        row.user_defined_data = merged
    session.flush()
    return view(row)


def delete_item(session: Session, principal: Principal, kind: CatalogKind, item_id: str) -> None:
    row = get_item(session, principal, kind, item_id)
    ensure_writable(principal, row, what=kind.label)
    if row.onboarding_state == "ONBOARDED" and row.operational_state != "DISABLED":
        raise Conflict(f"{kind.label} {item_id} is ENABLED; disable it before deleting it")
    if row.usage_state != "NOT_IN_USE":
        raise Conflict(f"{kind.label} {item_id} is IN_USE and cannot be deleted")
    linked = row.summary.get("vnfPkgIds", []) if kind is CatalogKind.NSD else []
    kind.notifications.deleted(session, row)
    session.delete(row)
    session.flush()
    for package_id in linked:
        _refresh_usage(session, package_id)


class OnboardingFailed(ServiceError):
    """Content was taken for onboarding and failed it (`cause`). The item stays CREATED with the
    failure recorded (SOL005 onboardingFailureDetails) and notified in the caller's transaction,
    which the caller commits before it reports `cause`."""

    code = "onboarding-failed"

    def __init__(self, cause: Invalid | Conflict) -> None:
        super().__init__(cause.detail)
        self.cause = cause


def raise_not_found(kind: CatalogKind, item_id: str, what: str = "") -> NoReturn:
    suffix = f" has no {what}" if what else " does not exist"
    raise NotFound(f"{kind.label} {item_id}{suffix}")


def _expected(kind: CatalogKind) -> str:
    return "nsd" if kind is CatalogKind.NSD else "vnfd"


def _problems(result: LoadResult) -> list[InputProblem]:
    return [InputProblem(_where(p), p.message) for p in result.errors]


def _software_problems(data: bytes, result: LoadResult, limits: Limits) -> list[InputProblem]:
    """A third-party VNF written for Edgewise is checked as a site would run it (its files,
    checksums, templates, commands, connection points); the images it names are checked
    at instantiation (docs/vnf-packages.md)."""
    reading = derive(ZipSource(data, limits), result)
    return [InputProblem(_where(p), p.message) for p in reading.problems if p.severity == "error"]


def _warnings(result: LoadResult) -> list[dict[str, str]]:
    """The tolerated deviations of onboarded content, kept with it (JSON, in the summary)."""
    return [
        {"where": _where(p), "code": p.code, "message": p.message}
        for p in result.problems
        if p.severity == "warning"
    ]


def _where(problem: Problem) -> str:
    where = f"{problem.file}:{problem.line}:{problem.column}"
    return where + (f" {problem.path}" if problem.path else "")


def _summary(descriptor: Vnfd | Nsd, result: LoadResult) -> dict[str, Any]:
    common: dict[str, Any] = {
        "descriptorId": descriptor.descriptor_id,
        "nodeCount": descriptor.node_count,
        "policyCount": descriptor.policy_count,
        "chainCount": descriptor.chain_count,
        "files": list(result.files),
        "entryDefinitions": result.files[0] if result.files else "",
    }
    if isinstance(descriptor, Nsd):
        return common | {
            "nsdName": descriptor.name,
            "nsdVersion": descriptor.version,
            "nsdDesigner": descriptor.designer,
            "nsdInvariantId": descriptor.invariant_id,
            "vnfdIds": list(descriptor.vnfd_ids),
            "vnfPkgIds": [],
        }
    return common | {
        "vnfProvider": descriptor.provider,
        "vnfProductName": descriptor.product_name,
        "vnfSoftwareVersion": descriptor.software_version,
        "vnfdVersion": descriptor.descriptor_version,
    }


def _artifacts(data: bytes) -> list[dict[str, str]]:
    """Path and SHA-256 of every file of a package (already checked safe by the loader)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            {"path": info.filename, "sha256": hashlib.sha256(archive.read(info)).hexdigest()}
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("TOSCA-Metadata/")
        ]


def _ensure_unique_descriptor(session: Session, row: CatalogItemRow, descriptor_id: str) -> None:
    """One onboarded item per descriptor id in an owner's catalog (and in the shared one)."""
    clash = session.scalar(
        select(CatalogItemRow.id).where(
            CatalogItemRow.kind == row.kind,
            CatalogItemRow.descriptor_id == descriptor_id,
            CatalogItemRow.onboarding_state == "ONBOARDED",
            (CatalogItemRow.tenant_id == row.tenant_id)
            if row.tenant_id is not None
            else CatalogItemRow.tenant_id.is_(None),
        )
    )
    if clash:
        raise Conflict(
            f"descriptor {descriptor_id!r} is already onboarded as {clash}; "
            "give the new version its own descriptor id"
        )


def _link_vnf_packages(session: Session, principal: Principal, nsd: CatalogItemRow) -> None:
    """Links an NSD to the onboarded VNF packages of the VNFDs it uses; they become IN_USE."""
    wanted = [str(v) for v in nsd.summary.get("vnfdIds", [])]
    if not wanted:
        return
    query = scoped(select(CatalogItemRow), principal, CatalogItemRow, shared_rows=True).where(
        CatalogItemRow.kind == CatalogKind.VNF_PACKAGE.value,
        CatalogItemRow.onboarding_state == "ONBOARDED",
        CatalogItemRow.descriptor_id.in_(wanted),
    )
    packages = list(session.scalars(query))
    nsd.summary = nsd.summary | {"vnfPkgIds": [p.id for p in packages]}
    for package in packages:
        package.usage_state = "IN_USE"


NS_USERS = "nsInstanceIds"  # a package's summary: the NS instances running a VNF added from it


def _refresh_usage(session: Session, package_id: str) -> None:
    package = session.get(CatalogItemRow, package_id)
    if package is None:
        return
    users = session.scalars(
        select(CatalogItemRow.summary).where(CatalogItemRow.kind == CatalogKind.NSD.value)
    )
    in_use = any(package_id in (summary.get("vnfPkgIds") or []) for summary in users)
    in_use = in_use or bool(package.summary.get(NS_USERS))  # an NS runs a VNF added from it
    package.usage_state = "IN_USE" if in_use else "NOT_IN_USE"
