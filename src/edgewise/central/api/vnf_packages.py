"""The VNF package routes beyond the shared catalog life cycle (`api.catalog`): the VNFD and the
artifacts of an onboarded package, and onboarding from a URI (fetched under the egress policy,
with no transaction, thread or write slot held while it fetches)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from edgewise.central.api.catalog import (
    PKG,
    UPLOAD_LIMITS,
    RangeHeader,
    content_response,
    onboard_content,
    vnf_router,
)
from edgewise.central.api.deps import CallerDep, SessionDep, SettingsDep, TypesDep
from edgewise.central.api.limits import write_slot
from edgewise.central.services import catalog, catalog_content, outbound
from edgewise.central.services.access import Principal
from edgewise.central.services.egress import EgressPolicy
from edgewise.central.services.errors import InputProblem, Invalid, Unprocessable
from edgewise.tosca import TypeCache

router = vnf_router  # the catalog's VNF package router, with these routes added


@vnf_router.get("/vnf_packages/{vnfPkgId}/vnfd", operation_id="fetchVnfd")
def fetch_vnfd(
    vnfPkgId: str,
    session: SessionDep,
    caller: CallerDep,
    accept: Annotated[str, Header()] = "*/*",
) -> Response:
    return content_response(
        catalog_content.descriptor_document(session, caller, PKG, vnfPkgId, accept=accept)
    )


@vnf_router.get(
    "/vnf_packages/{vnfPkgId}/artifacts/{artifactPath:path}", operation_id="fetchArtifact"
)
def fetch_artifact(
    vnfPkgId: str,
    artifactPath: str,
    session: SessionDep,
    caller: CallerDep,
    byte_range: RangeHeader = None,
) -> Response:
    found = catalog_content.artifact(session, caller, PKG, vnfPkgId, artifactPath)
    return content_response(found, byte_range)


class UploadFromUriRequest(BaseModel):
    """SOL005 UploadVnfPkgFromUriRequest."""

    model_config = ConfigDict(extra="forbid")
    addressInformation: str | None = Field(
        default=None, max_length=2048, description="required; checked after the package is found"
    )
    authType: Literal["BASIC"] | None = None
    userName: str | None = None
    password: str | None = None


@vnf_router.post(
    "/vnf_packages/{vnfPkgId}/package_content/upload_from_uri",
    status_code=202,
    response_class=Response,
    operation_id="uploadVnfPackageFromUri",
)
async def upload_from_uri(
    vnfPkgId: str,
    body: UploadFromUriRequest,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    types: TypesDep,
    settings: SettingsDep,
) -> Response:
    """Fetches the package (http or https, from a public address unless the operator allows a
    network, within the upload size limit and one deadline) and onboards it. While it fetches
    it holds no transaction, worker thread or write slot."""
    await run_in_threadpool(_exists, session, caller, vnfPkgId)  # another tenant's: 404 first
    headers: dict[str, str] = {}
    if body.authType:
        if ":" in (body.userName or ""):
            raise Invalid("the credentials are not valid",
                          [InputProblem("userName", "a BASIC user name has no ':'")])  # fmt: skip
        headers = outbound.basic_headers(body.userName or "", body.password or "")
    fetched = await outbound.fetch(
        body.addressInformation or "", PACKAGE_BY_URI, policy=EgressPolicy(settings.fetch_allowed),
        deadline=settings.fetch_deadline, max_bytes=UPLOAD_LIMITS.max_package_bytes,
        headers=headers,
    )  # fmt: skip
    if fetched.status != 200:
        raise Unprocessable("the package could not be fetched", [
            InputProblem("addressInformation", f"the server answered {fetched.status}, not 200")
        ])  # fmt: skip
    async with write_slot(request):
        await run_in_threadpool(
            _onboard_and_commit, session, caller, fetched.body, vnfPkgId, types,
            settings.strict_descriptors,
        )  # fmt: skip
    return Response(status_code=202)


PACKAGE_BY_URI = outbound.Target("addressInformation", "the package")


def _exists(session: Session, caller: Principal, package_id: str) -> None:
    """404 unless the caller sees the package; ends the read, so no transaction stays open
    while the package is fetched."""
    catalog.read_item(session, caller, PKG, package_id)
    session.rollback()


def _onboard_and_commit(
    session: Session,
    caller: Principal,
    data: bytes,
    package_id: str,
    types: TypeCache,
    strict: bool,
) -> None:
    onboard_content(session, caller, PKG, package_id, data, media_type=catalog.ZIP_TYPE,
                     types=types, strict=strict)  # fmt: skip
    session.commit()  # in the write slot
