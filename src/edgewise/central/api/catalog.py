"""SOL005 catalog resources: NSD management (`nsd/v1`) and VNF package management (`vnfpkgm/v1`).

Both share one life cycle in `services.catalog`; this module only shapes the two
SOL005 representations (NsdInfo, VnfPkgInfo) and their paths, and mounts each API's
subscriptions (`api.subscriptions`); the VNF package's own routes are in `api.vnf_packages`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from edgewise.central.api.deps import CallerDep, PageDep, SessionDep, SettingsDep, TypesDep
from edgewise.central.api.etags import IfMatch, etag, require_match
from edgewise.central.api.listing import sol013_listing
from edgewise.central.api.problems import problem
from edgewise.central.api.subscriptions import (
    NsdmSubscriptionRequest,
    PkgmSubscriptionRequest,
    SubscriptionRequest,
    SubscriptionResource,
    subscription_router,
)
from edgewise.central.services import catalog, catalog_content
from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.catalog_content import Content
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.services.views import CatalogItem, NsdDescription, VnfdDescription
from edgewise.tosca import Limits, TypeCache

UPLOAD_LIMITS = Limits()


class OperationalState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class CreateRequest(BaseModel):
    """CreateNsdInfoRequest / CreateVnfPkgInfoRequest."""

    model_config = ConfigDict(extra="forbid")
    userDefinedData: dict[str, Any] = Field(default_factory=dict)
    tenantId: str | None = Field(
        default=None, description="Edgewise: the owning tenant (admins only; none = shared)"
    )


class CatalogModifications(BaseModel):
    """NsdInfoModifications / VnfPkgInfoModifications: the state and user data to change."""

    model_config = ConfigDict(extra="forbid")

    def changes(self) -> tuple[str | None, dict[str, Any] | None]:
        raise NotImplementedError


class NsdInfoModifications(CatalogModifications):
    nsdOperationalState: OperationalState | None = None
    userDefinedData: dict[str, Any] | None = None

    def changes(self) -> tuple[str | None, dict[str, Any] | None]:
        return self.nsdOperationalState, self.userDefinedData


class VnfPkgInfoModifications(CatalogModifications):
    operationalState: OperationalState | None = None
    userDefinedData: dict[str, Any] | None = None

    def changes(self) -> tuple[str | None, dict[str, Any] | None]:
        return self.operationalState, self.userDefinedData


NSD_FIELDS = {
    "id", "nsdId", "nsdName", "nsdVersion", "nsdDesigner", "nsdInvariantId", "vnfPkgIds",
    "pnfdInfoIds", "nestedNsdInfoIds", "nsdOnboardingState", "onboardingFailureDetails",
    "nsdOperationalState", "nsdUsageState", "userDefinedData", "_links", "tenantId",
    "onboardingWarnings",
}  # fmt: skip
VNF_FIELDS = {
    "id", "vnfdId", "vnfProvider", "vnfProductName", "vnfSoftwareVersion", "vnfdVersion",
    "checksum", "softwareImages", "additionalArtifacts", "onboardingState",
    "operationalState", "usageState", "userDefinedData", "_links", "tenantId",
    "onboardingWarnings",
}  # fmt: skip
NSD_DEFAULT_EXCLUDED = ("userDefinedData", "onboardingFailureDetails", "onboardingWarnings")
VNF_DEFAULT_EXCLUDED = (
    "softwareImages", "additionalArtifacts", "userDefinedData", "checksum", "onboardingWarnings",
)  # fmt: skip


def _with_warnings(info: dict[str, Any], item: CatalogItem) -> dict[str, Any]:
    """Edgewise's `onboardingWarnings`: the tolerated deviations the content onboarded with."""
    if item.warnings:
        info["onboardingWarnings"] = [
            {"where": w.where, "code": w.code, "message": w.message} for w in item.warnings
        ]
    return info


def nsd_info(item: CatalogItem, base: str) -> dict[str, Any]:
    href = f"{base}nsd/v1/ns_descriptors/{item.id}"
    info: dict[str, Any] = {
        "id": item.id,
        "nsdOnboardingState": item.onboarding_state,
        "nsdOperationalState": item.operational_state,
        "nsdUsageState": item.usage_state,
        "userDefinedData": item.user_defined_data,
        "tenantId": item.tenant_id,
        "_links": {"self": {"href": href}, "nsd_content": {"href": f"{href}/nsd_content"}},
    }
    if isinstance(item.descriptor, NsdDescription):
        info |= item.descriptor.attributes() | {"pnfdInfoIds": [], "nestedNsdInfoIds": []}
    elif item.failure is not None:
        info["onboardingFailureDetails"] = item.failure
    return _with_warnings(info, item)


def vnf_pkg_info(item: CatalogItem, base: str) -> dict[str, Any]:
    href = f"{base}vnfpkgm/v1/vnf_packages/{item.id}"
    info: dict[str, Any] = {
        "id": item.id,
        "onboardingState": item.onboarding_state,
        "operationalState": item.operational_state,
        "usageState": item.usage_state,
        "userDefinedData": item.user_defined_data,
        "tenantId": item.tenant_id,
        "softwareImages": [],
        "additionalArtifacts": [],
        "_links": {
            "self": {"href": href},
            "vnfd": {"href": f"{href}/vnfd"},
            "packageContent": {"href": f"{href}/package_content"},
        },
    }
    if isinstance(item.descriptor, VnfdDescription):
        info |= item.descriptor.attributes() | {
            "checksum": {"algorithm": "SHA-256", "hash": item.checksum},
            "additionalArtifacts": [
                {
                    "artifactPath": artifact.path,
                    "checksum": {"algorithm": "SHA-256", "hash": artifact.sha256},
                    "metadata": {},
                }
                for artifact in item.artifacts
            ],
        }
    return _with_warnings(info, item)


RangeHeader = Annotated[str | None, Header(alias="Range", description="bytes=first-last")]


def content_response(content: Content, byte_range: str | None = None) -> Response:
    """The content, or one byte range of it (206; 416 when it lies past the end). Several
    ranges or another unit get the whole content, as RFC 9110 allows."""
    headers = {
        "Content-Disposition": f'attachment; filename="{content.filename}"',
        "Accept-Ranges": "bytes",
    }
    size = len(content.data)
    span = _byte_range(byte_range, size) if byte_range else None
    if span == "unsatisfiable":
        return problem(
            416,
            f"the range {byte_range} lies outside the {size} bytes of the content",
            headers={"Content-Range": f"bytes */{size}"},
        )
    if isinstance(span, tuple):
        first, last = span
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return Response(
            content.data[first : last + 1],
            status_code=206,
            media_type=content.media_type,
            headers=headers,
        )
    return Response(content.data, media_type=content.media_type, headers=headers)


def _byte_range(value: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) of a single `bytes=` range, "unsatisfiable", or None to send it all."""
    unit, _, spec = value.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text.isdigit() or last_text.isdigit()):
        return None
    if not first_text:  # the last N bytes
        length = int(last_text)
        return (max(0, size - length), size - 1) if length and size else "unsatisfiable"
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text.isdigit() else size - 1
    if first >= size or (last_text.isdigit() and int(last_text) < first):
        return "unsatisfiable"
    return first, last


async def _read_upload(request: Request) -> bytes:
    """The request body, refused as soon as it passes the package size limit."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > UPLOAD_LIMITS.max_package_bytes:
            raise Invalid(
                "the upload is too large",
                [
                    InputProblem(
                        "body",
                        f"more than {UPLOAD_LIMITS.max_package_bytes} bytes; packages are limited "
                        "to that size",
                    )
                ],
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise Invalid(
            "the upload is empty", [InputProblem("body", "send the descriptor or package")]
        )
    return data


def onboard_content(
    session: Session, caller: Principal, kind: CatalogKind, item_id: str, data: bytes,
    *, media_type: str, types: TypeCache, strict: bool,
) -> None:  # fmt: skip
    """Onboards the content; a failure is committed (the item's onboardingFailureDetails, the
    subscribers' notifications) before the caller hears of it."""
    try:
        catalog.upload_content(
            session, caller, kind, item_id, data, media_type=media_type, limits=UPLOAD_LIMITS,
            types=types, strict=strict,
        )  # fmt: skip
    except catalog.OnboardingFailed as failed:
        session.commit()
        raise failed.cause from None


@dataclass(frozen=True)
class CatalogResource:
    """How one SOL005 catalog resource spells the shared life cycle on the wire."""

    kind: CatalogKind
    prefix: str  # "/nsd/v1"
    collection: str  # "ns_descriptors"
    id_param: str  # "nsdInfoId"
    content: str  # "nsd_content"
    name: str  # "NsDescriptor", for operation ids
    content_name: str  # "NsdContent"
    default_upload_type: str
    upload_types: dict[str, Any]  # the upload's request body, by media type (OpenAPI)
    info: Callable[[CatalogItem, str], dict[str, Any]]
    modifications: type[CatalogModifications]
    fields: set[str]
    default_excluded: tuple[str, ...]
    tag: str
    subscription_name: str  # "NsdmSubscription"
    subscription_request: type[SubscriptionRequest]


def catalog_router(resource: CatalogResource) -> APIRouter:
    """The list/create/read/patch/delete/upload/fetch routes of one catalog resource, and its
    API's subscriptions."""
    router = APIRouter(prefix=resource.prefix, tags=[resource.tag])
    kind = resource.kind
    # The path parameter keeps its SOL005 name (nsdInfoId, vnfPkgId) in the URL and OpenAPI.
    item_id_type = Annotated[str, Path(alias=resource.id_param)]
    collection = f"/{resource.collection}"
    item = f"{collection}/{{{resource.id_param}}}"

    def listing(
        request: Request, session: SessionDep, caller: CallerDep, page: PageDep
    ) -> JSONResponse:
        base = str(request.base_url)
        documents = [resource.info(r, base) for r in catalog.list_items(session, caller, kind)]
        return sol013_listing(request, documents, page, resource.fields, resource.default_excluded)

    def create(
        request: Request,
        session: SessionDep,
        caller: CallerDep,
        body: Annotated[CreateRequest, Body()] = CreateRequest(),
    ) -> JSONResponse:
        item = catalog.create_item(
            session, caller, kind, body.userDefinedData, tenant_id=body.tenantId
        )
        info = resource.info(item, str(request.base_url))
        location = info["_links"]["self"]["href"]
        return JSONResponse(info, status_code=201, headers={"Location": location})

    def current_etag(session: Session, caller: Principal, item_id: str) -> str:
        return etag(resource.info(catalog.read_item(session, caller, kind, item_id), ""))

    def read(item_id: str, request: Request, session: SessionDep, caller: CallerDep) -> Response:
        info = resource.info(
            catalog.read_item(session, caller, kind, item_id), str(request.base_url)
        )
        return JSONResponse(info, headers={"ETag": etag(info)})

    def modify(
        item_id: str,
        body: CatalogModifications,
        session: SessionDep,
        caller: CallerDep,
        if_match: IfMatch = None,
    ) -> Response:
        require_match(if_match, current_etag(session, caller, item_id), kind.label)
        state, user_data = body.changes()
        catalog.modify_item(
            session, caller, kind, item_id, operational_state=state, user_defined_data=user_data
        )
        changed = current_etag(session, caller, item_id)
        return JSONResponse(body.model_dump(exclude_none=True), headers={"ETag": changed})

    def delete(
        item_id: str, session: SessionDep, caller: CallerDep, if_match: IfMatch = None
    ) -> Response:
        require_match(if_match, current_etag(session, caller, item_id), kind.label)
        catalog.delete_item(session, caller, kind, item_id)
        return Response(status_code=204)

    async def upload(
        item_id: str,
        request: Request,
        session: SessionDep,
        caller: CallerDep,
        types: TypesDep,
        settings: SettingsDep,
        content_type: Annotated[
            str, Header(include_in_schema=False)  # the request body's media types say it
        ] = resource.default_upload_type,
    ) -> Response:
        data = await _read_upload(request)
        onboard_content(
            session, caller, kind, item_id, data,
            media_type=content_type, types=types, strict=settings.strict_descriptors,
        )  # fmt: skip
        return Response(status_code=204)

    def fetch(
        item_id: str,
        session: SessionDep,
        caller: CallerDep,
        accept: Annotated[str, Header()] = "*/*",
        byte_range: RangeHeader = None,
    ) -> Response:
        found = catalog_content.content(session, caller, kind, item_id, accept=accept)
        return content_response(found, byte_range)

    for route in (read, modify, delete, upload, fetch):
        route.__annotations__["item_id"] = item_id_type
    modify.__annotations__["body"] = resource.modifications
    name = resource.name
    router.add_api_route(collection, listing, methods=["GET"], operation_id=f"list{name}s")
    router.add_api_route(
        collection, create, methods=["POST"], status_code=201, operation_id=f"create{name}"
    )
    # read and modify answer JSON with an ETag header: the same documents as before
    router.add_api_route(
        item, read, methods=["GET"], operation_id=f"read{name}", response_model=dict[str, Any]
    )
    router.add_api_route(
        item, modify, methods=["PATCH"], operation_id=f"modify{name}",
        response_model=dict[str, Any],
    )  # fmt: skip
    router.add_api_route(
        item, delete, methods=["DELETE"], status_code=204, operation_id=f"delete{name}"
    )
    content = f"{item}/{resource.content}"
    router.add_api_route(
        content, upload, methods=["PUT"], status_code=204,
        operation_id=f"upload{resource.content_name}",
        openapi_extra={"requestBody": {"required": True, "content": resource.upload_types}},
    )  # fmt: skip
    router.add_api_route(
        content, fetch, methods=["GET"], operation_id=f"fetch{resource.content_name}"
    )
    subscriptions = SubscriptionResource(
        api=kind.notifications.api,
        name=resource.subscription_name,
        request=resource.subscription_request,
        check_filter=kind.notifications.check_filter,
    )
    router.include_router(subscription_router(subscriptions))
    return router


YAML_BODY = {"schema": {"type": "string", "description": "a TOSCA YAML descriptor"}}
CSAR_BODY = {"schema": {"type": "string", "format": "binary", "description": "a SOL004 CSAR"}}
NSD_RESOURCE = CatalogResource(
    kind=CatalogKind.NSD,
    prefix="/nsd/v1",
    collection="ns_descriptors",
    id_param="nsdInfoId",
    content="nsd_content",
    name="NsDescriptor",
    content_name="NsdContent",
    default_upload_type="text/plain",
    upload_types={"text/plain": YAML_BODY, "application/zip": CSAR_BODY},
    info=nsd_info,
    modifications=NsdInfoModifications,
    fields=NSD_FIELDS,
    default_excluded=NSD_DEFAULT_EXCLUDED,
    tag="NSD management (SOL005)",
    subscription_name="NsdmSubscription",
    subscription_request=NsdmSubscriptionRequest,
)
VNF_RESOURCE = CatalogResource(
    kind=CatalogKind.VNF_PACKAGE,
    prefix="/vnfpkgm/v1",
    collection="vnf_packages",
    id_param="vnfPkgId",
    content="package_content",
    name="VnfPackage",
    content_name="VnfPackage",
    default_upload_type="application/zip",
    upload_types={"application/zip": CSAR_BODY},
    info=vnf_pkg_info,
    modifications=VnfPkgInfoModifications,
    fields=VNF_FIELDS,
    default_excluded=VNF_DEFAULT_EXCLUDED,
    tag="VNF package management (SOL005)",
    subscription_name="PkgmSubscription",
    subscription_request=PkgmSubscriptionRequest,
)
nsd_router = catalog_router(NSD_RESOURCE)
vnf_router = catalog_router(VNF_RESOURCE)
PKG = CatalogKind.VNF_PACKAGE
