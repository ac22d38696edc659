"""What the catalog hands out of an onboarded item (the API's content routes call it): the content
as uploaded or a YAML descriptor wrapped in a CSAR, a package's VNFD alone, one artifact."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import (
    YAML_TYPE,
    ZIP_TYPE,
    CatalogKind,
    get_item,
    raise_not_found,
)
from edgewise.central.services.errors import Conflict
from edgewise.central.store.tables import CatalogItemRow


@dataclass(frozen=True)
class Content:
    data: bytes
    media_type: str
    filename: str


class NotAcceptableContent(Conflict):
    """The content exists but not in a format the caller accepts (HTTP 406)."""

    code = "not-acceptable"


def content(
    session: Session,
    principal: Principal,
    kind: CatalogKind,
    item_id: str,
    *,
    accept: str,
) -> Content:
    """The onboarded content in a format `accept` allows (zip, or YAML for one-file content)."""
    row, data = _onboarded(session, principal, kind, item_id)
    wants_zip = _accepts(accept, ZIP_TYPE)
    wants_yaml = _accepts(accept, YAML_TYPE)
    if row.content_type == YAML_TYPE and wants_yaml:
        return Content(data, YAML_TYPE, "descriptor.yaml")
    if row.content_type == ZIP_TYPE and wants_zip:
        return Content(data, ZIP_TYPE, "package.zip")
    if row.content_type == YAML_TYPE and wants_zip:
        return Content(_wrap_in_csar(data), ZIP_TYPE, "package.zip")
    raise NotAcceptableContent(
        "this content is a zip package; ask for it with 'Accept: application/zip'"
        if row.content_type == ZIP_TYPE
        else "this content is YAML; accept 'text/plain' or 'application/zip'"
    )


def descriptor_document(
    session: Session, principal: Principal, kind: CatalogKind, item_id: str, *, accept: str
) -> Content:
    """The descriptor alone (a VNF package's VNFD): the entry YAML, or its Definitions as a zip."""
    row, data = _onboarded(session, principal, kind, item_id)
    entry = str(row.summary.get("entryDefinitions", ""))
    files = [str(f) for f in row.summary.get("files", [])]
    if _accepts(accept, YAML_TYPE) and len(files) == 1:
        return Content(_read_member(data, entry), YAML_TYPE, entry.rsplit("/", 1)[-1])
    if _accepts(accept, ZIP_TYPE):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for name in files:
                out.writestr(name, _read_member(data, name))
        return Content(buffer.getvalue(), ZIP_TYPE, "vnfd.zip")
    raise NotAcceptableContent(
        "this descriptor spans several files; ask for it with 'Accept: application/zip'"
    )


def artifact(
    session: Session, principal: Principal, kind: CatalogKind, item_id: str, path: str
) -> Content:
    """One file of an onboarded package, by its path inside the package."""
    row, data = _onboarded(session, principal, kind, item_id)
    if row.content_type != ZIP_TYPE:
        raise_not_found(kind, item_id, f"artifact {path!r}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = archive.read(path)
    except KeyError:
        raise_not_found(kind, item_id, f"artifact {path!r}")
    return Content(member, "application/octet-stream", path.rsplit("/", 1)[-1])


def _onboarded(
    session: Session, principal: Principal, kind: CatalogKind, item_id: str
) -> tuple[CatalogItemRow, bytes]:
    """The item (if `principal` sees it) and its content; Conflict before it is onboarded."""
    row = get_item(session, principal, kind, item_id)
    if row.onboarding_state != "ONBOARDED" or row.content is None:
        raise Conflict(f"{kind.label} {item_id} is {row.onboarding_state}; it has no content yet")
    return row, row.content


def _accepts(accept: str, media_type: str) -> bool:
    kinds = [part.split(";")[0].strip().lower() for part in (accept or "*/*").split(",")]
    major = media_type.split("/", maxsplit=1)[0]
    return any(k in (media_type, "*/*", f"{major}/*") for k in kinds)


def _read_member(data: bytes, name: str) -> bytes:
    if data[:4] != b"PK\x03\x04":
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def _wrap_in_csar(yaml_text: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(
            "TOSCA-Metadata/TOSCA.meta",
            "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: Edgewise\n"
            "Entry-Definitions: Definitions/descriptor.yaml\n",
        )
        out.writestr("Definitions/descriptor.yaml", yaml_text)
    return buffer.getvalue()
