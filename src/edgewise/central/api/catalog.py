"""SOL005 catalog resources: NSD management (`nsd/v1`) and VNF package management (`vnfpkgm/v1`).

Both share one life cycle in `services.catalog`; this module only shapes the two
SOL005 representations (NsdInfo, VnfPkgInfo) and their paths.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from edgewise.central.api.deps import CallerDep, PageDep, SessionDep
from edgewise.central.api.listing import page_in_memory, page_response
from edgewise.central.api.sol013 import apply_filters, select_fields
from edgewise.central.services import catalog
from edgewise.central.services.catalog import CatalogKind, Content
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.store.tables import CatalogItemRow
from edgewise.tosca import Limits

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


class NsdInfoModifications(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nsdOperationalState: OperationalState | None = None
    userDefinedData: dict[str, Any] | None = None


class VnfPkgInfoModifications(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operationalState: OperationalState | None = None
    userDefinedData: dict[str, Any] | None = None


NSD_FIELDS = {
    "id", "nsdId", "nsdName", "nsdVersion", "nsdDesigner", "nsdInvariantId", "vnfPkgIds",
    "pnfdInfoIds", "nestedNsdInfoIds", "nsdOnboardingState", "onboardingFailureDetails",
    "nsdOperationalState", "nsdUsageState", "userDefinedData", "_links", "tenantId",
}  # fmt: skip
VNF_FIELDS = {
    "id", "vnfdId", "vnfProvider", "vnfProductName", "vnfSoftwareVersion", "vnfdVersion",
    "checksum", "softwareImages", "additionalArtifacts", "onboardingState",
    "operationalState", "usageState", "userDefinedData", "_links", "tenantId",
}  # fmt: skip
NSD_DEFAULT_EXCLUDED = ("userDefinedData", "onboardingFailureDetails")
VNF_DEFAULT_EXCLUDED = ("softwareImages", "additionalArtifacts", "userDefinedData", "checksum")


def nsd_info(row: CatalogItemRow, base: str) -> dict[str, Any]:
    href = f"{base}nsd/v1/ns_descriptors/{row.id}"
    summary = row.summary
    info: dict[str, Any] = {
        "id": row.id,
        "nsdOnboardingState": row.onboarding_state,
        "nsdOperationalState": row.operational_state,
        "nsdUsageState": row.usage_state,
        "userDefinedData": row.user_defined_data,
        "tenantId": row.tenant_id,
        "_links": {"self": {"href": href}, "nsd_content": {"href": f"{href}/nsd_content"}},
    }
    if row.onboarding_state == "ONBOARDED":
        info |= {
            "nsdId": summary["descriptorId"],
            "nsdName": summary.get("nsdName") or summary["descriptorId"],
            "nsdVersion": summary.get("nsdVersion") or "",
            "nsdDesigner": summary.get("nsdDesigner") or "",
            "nsdInvariantId": summary.get("nsdInvariantId") or summary["descriptorId"],
            "vnfPkgIds": summary.get("vnfPkgIds", []),
            "pnfdInfoIds": [],
            "nestedNsdInfoIds": [],
        }
    return info


def vnf_pkg_info(row: CatalogItemRow, base: str) -> dict[str, Any]:
    href = f"{base}vnfpkgm/v1/vnf_packages/{row.id}"
    summary = row.summary
    info: dict[str, Any] = {
        "id": row.id,
        "onboardingState": row.onboarding_state,
        "operationalState": row.operational_state,
        "usageState": row.usage_state,
        "userDefinedData": row.user_defined_data,
        "tenantId": row.tenant_id,
        "softwareImages": [],
        "additionalArtifacts": [],
        "_links": {
            "self": {"href": href},
            "vnfd": {"href": f"{href}/vnfd"},
            "packageContent": {"href": f"{href}/package_content"},
        },
    }
    if row.onboarding_state == "ONBOARDED":
        info |= {
            "vnfdId": summary["descriptorId"],
            "vnfProvider": summary.get("vnfProvider") or "",
            "vnfProductName": summary.get("vnfProductName") or "",
            "vnfSoftwareVersion": summary.get("vnfSoftwareVersion") or "",
            "vnfdVersion": summary.get("vnfdVersion") or "",
            "checksum": {"algorithm": "SHA-256", "hash": row.checksum},
            "additionalArtifacts": [
                {
                    "artifactPath": artifact["path"],
                    "checksum": {"algorithm": "SHA-256", "hash": artifact["sha256"]},
                    "metadata": {},
                }
                for artifact in summary.get("artifacts", [])
            ],
        }
    return info


def _content_response(content: Content) -> Response:
    return Response(
        content.data,
        media_type=content.media_type,
        headers={"Content-Disposition": f'attachment; filename="{content.filename}"'},
    )


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


def _listing(
    request: Request,
    documents: list[dict[str, Any]],
    page: Any,
    known: set[str],
    default_excluded: tuple[str, ...],
) -> JSONResponse:
    params = request.query_params
    documents = apply_filters(documents, params.multi_items(), known)
    documents = select_fields(documents, params, default_excluded=default_excluded, known=known)
    chunk, marker = page_in_memory(documents, page.marker, page.limit)
    return page_response(request, chunk, marker)


nsd_router = APIRouter(prefix="/nsd/v1", tags=["NSD management (SOL005)"])
vnf_router = APIRouter(prefix="/vnfpkgm/v1", tags=["VNF package management (SOL005)"])
NSD = CatalogKind.NSD
PKG = CatalogKind.VNF_PACKAGE


@nsd_router.get("/ns_descriptors", operation_id="listNsDescriptors")
def list_ns_descriptors(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    documents = [nsd_info(r, base) for r in catalog.list_items(session, caller, NSD)]
    return _listing(request, documents, page, NSD_FIELDS, NSD_DEFAULT_EXCLUDED)


@nsd_router.post("/ns_descriptors", status_code=201, operation_id="createNsDescriptor")
def create_ns_descriptor(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    body: Annotated[CreateRequest, Body()] = CreateRequest(),
) -> JSONResponse:
    row = catalog.create_item(session, caller, NSD, body.userDefinedData, tenant_id=body.tenantId)
    info = nsd_info(row, str(request.base_url))
    return JSONResponse(info, status_code=201, headers={"Location": info["_links"]["self"]["href"]})


@nsd_router.get("/ns_descriptors/{nsdInfoId}", operation_id="readNsDescriptor")
def read_ns_descriptor(
    nsdInfoId: str,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    return nsd_info(catalog.get_item(session, caller, NSD, nsdInfoId), str(request.base_url))


@nsd_router.patch("/ns_descriptors/{nsdInfoId}", operation_id="modifyNsDescriptor")
def modify_ns_descriptor(
    nsdInfoId: str,
    body: NsdInfoModifications,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    catalog.modify_item(
        session,
        caller,
        NSD,
        nsdInfoId,
        operational_state=body.nsdOperationalState,
        user_defined_data=body.userDefinedData,
    )
    return body.model_dump(exclude_none=True)


@nsd_router.delete(
    "/ns_descriptors/{nsdInfoId}", status_code=204, operation_id="deleteNsDescriptor"
)
def delete_ns_descriptor(nsdInfoId: str, session: SessionDep, caller: CallerDep) -> Response:
    catalog.delete_item(session, caller, NSD, nsdInfoId)
    return Response(status_code=204)


@nsd_router.put(
    "/ns_descriptors/{nsdInfoId}/nsd_content", status_code=204, operation_id="uploadNsdContent"
)
async def upload_nsd_content(
    nsdInfoId: str,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    content_type: Annotated[str, Header()] = "text/plain",
) -> Response:
    data = await _read_upload(request)
    catalog.upload_content(
        session, caller, NSD, nsdInfoId, data, media_type=content_type, limits=UPLOAD_LIMITS
    )
    return Response(status_code=204)


@nsd_router.get("/ns_descriptors/{nsdInfoId}/nsd_content", operation_id="fetchNsdContent")
def fetch_nsd_content(
    nsdInfoId: str,
    session: SessionDep,
    caller: CallerDep,
    accept: Annotated[str, Header()] = "*/*",
) -> Response:
    return _content_response(catalog.content(session, caller, NSD, nsdInfoId, accept=accept))


@vnf_router.get("/vnf_packages", operation_id="listVnfPackages")
def list_vnf_packages(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    documents = [vnf_pkg_info(r, base) for r in catalog.list_items(session, caller, PKG)]
    return _listing(request, documents, page, VNF_FIELDS, VNF_DEFAULT_EXCLUDED)


@vnf_router.post("/vnf_packages", status_code=201, operation_id="createVnfPackage")
def create_vnf_package(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    body: Annotated[CreateRequest, Body()] = CreateRequest(),
) -> JSONResponse:
    row = catalog.create_item(session, caller, PKG, body.userDefinedData, tenant_id=body.tenantId)
    info = vnf_pkg_info(row, str(request.base_url))
    return JSONResponse(info, status_code=201, headers={"Location": info["_links"]["self"]["href"]})


@vnf_router.get("/vnf_packages/{vnfPkgId}", operation_id="readVnfPackage")
def read_vnf_package(
    vnfPkgId: str,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    return vnf_pkg_info(catalog.get_item(session, caller, PKG, vnfPkgId), str(request.base_url))


@vnf_router.patch("/vnf_packages/{vnfPkgId}", operation_id="modifyVnfPackage")
def modify_vnf_package(
    vnfPkgId: str,
    body: VnfPkgInfoModifications,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    catalog.modify_item(
        session,
        caller,
        PKG,
        vnfPkgId,
        operational_state=body.operationalState,
        user_defined_data=body.userDefinedData,
    )
    return body.model_dump(exclude_none=True)


@vnf_router.delete("/vnf_packages/{vnfPkgId}", status_code=204, operation_id="deleteVnfPackage")
def delete_vnf_package(vnfPkgId: str, session: SessionDep, caller: CallerDep) -> Response:
    catalog.delete_item(session, caller, PKG, vnfPkgId)
    return Response(status_code=204)


@vnf_router.put(
    "/vnf_packages/{vnfPkgId}/package_content", status_code=204, operation_id="uploadVnfPackage"
)
async def upload_vnf_package_content(
    vnfPkgId: str,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    content_type: Annotated[str, Header()] = "application/zip",
) -> Response:
    data = await _read_upload(request)
    catalog.upload_content(
        session, caller, PKG, vnfPkgId, data, media_type=content_type, limits=UPLOAD_LIMITS
    )
    return Response(status_code=204)


@vnf_router.get("/vnf_packages/{vnfPkgId}/package_content", operation_id="fetchVnfPackage")
def fetch_vnf_package_content(
    vnfPkgId: str,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    return _content_response(
        catalog.content(session, caller, PKG, vnfPkgId, accept=catalog.ZIP_TYPE)
    )


@vnf_router.get("/vnf_packages/{vnfPkgId}/vnfd", operation_id="fetchVnfd")
def fetch_vnfd(
    vnfPkgId: str,
    session: SessionDep,
    caller: CallerDep,
    accept: Annotated[str, Header()] = "*/*",
) -> Response:
    return _content_response(
        catalog.descriptor_document(session, caller, PKG, vnfPkgId, accept=accept)
    )


@vnf_router.get(
    "/vnf_packages/{vnfPkgId}/artifacts/{artifactPath:path}", operation_id="fetchArtifact"
)
def fetch_artifact(
    vnfPkgId: str,
    artifactPath: str,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    return _content_response(catalog.artifact(session, caller, PKG, vnfPkgId, artifactPath))
