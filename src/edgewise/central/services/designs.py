"""The service designer's use cases: a design checked by the catalog's own SOL001 loader
(`check`), published as an NSD through the catalog's onboarding (`publish`), and an onboarded
NSD read back as a design to make its next version from (`designs_reading`).

A design is kept by the browser until it is published: nothing here stores a draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.services import catalog
from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.designs_nsd import (
    Design,
    PackageFunction,
    check_design,
    field_of,
    nsd_document,
    nsd_yaml,
)
from edgewise.central.services.designs_palette import package_choices
from edgewise.central.services.errors import Conflict, InputProblem, Invalid, NotFound
from edgewise.central.services.views import CatalogItem, NsdDescription
from edgewise.tosca import Limits, TypeCache, load_bytes

FILE = "descriptor.yaml"
LIMITS = Limits()


@dataclass(frozen=True)
class DesignProblem:
    """One problem of a design: where in the NSD (file, line, column, path) when the loader
    found it, the design's field it is about, and what is wrong."""

    message: str
    field: str = ""
    file: str = ""
    line: int = 0
    column: int = 0
    path: str = ""
    severity: str = "error"

    @property
    def where(self) -> str:
        if not self.file:
            return self.field
        place = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{place} {self.path}".strip()


@dataclass(frozen=True)
class Checked:
    """A design's NSD (empty when the design cannot make one) and every problem found."""

    yaml: str
    problems: tuple[DesignProblem, ...]

    @property
    def valid(self) -> bool:
        return bool(self.yaml) and not any(p.severity == "error" for p in self.problems)

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "yaml": self.yaml,
            "problems": [
                {
                    "where": p.where, "field": p.field, "file": p.file, "line": p.line,
                    "column": p.column, "path": p.path, "message": p.message,
                    "severity": p.severity,
                }
                for p in self.problems
            ],
        }  # fmt: skip


def check_with(
    design: Design, packages: dict[str, PackageFunction], types: TypeCache, *, strict: bool
) -> Checked:
    """The NSD the design makes, loaded by the loader the catalog onboards with."""
    unfit = check_design(design, packages)
    if unfit:
        return Checked("", tuple(DesignProblem(p.message, field=p.where) for p in unfit))
    text = nsd_yaml(nsd_document(design, packages))
    loaded = load_bytes(text.encode(), FILE, LIMITS, types, strict=strict)
    problems = tuple(
        DesignProblem(
            p.message, field_of(p.path, design), p.file, p.line, p.column, p.path, p.severity
        )
        for p in loaded.problems
    )
    return Checked(text, problems)


def check(
    session: Session, principal: Principal, design: Design, types: TypeCache, *, strict: bool
) -> Checked:
    wanted = frozenset(f.type for f in design.functions if f.source == "package")
    found = package_choices(session, principal, types, wanted) if wanted else ()
    packages = {p.vnfd_id: p for p in found}
    return check_with(design, packages, types, strict=strict)


def publish(
    session: Session, principal: Principal, design: Design, types: TypeCache, *, strict: bool
) -> CatalogItem:
    """The design onboarded (and so enabled) as a new NSD of the catalog.

    Started from an onboarded NSD (`based_on`), it is that descriptor's next version: the same
    invariant id and owner, a version no NSD of that invariant id has yet, a descriptor id of
    its own. Anything wrong raises (Invalid with every problem, Conflict) and the caller's
    transaction, rolled back, keeps nothing.
    """
    owner: str | None = None
    if design.based_on is not None:
        base = catalog.read_item(session, principal, CatalogKind.NSD, design.based_on)
        if not isinstance(base.descriptor, NsdDescription):
            raise Conflict(
                f"NS descriptor {design.based_on} is {base.onboarding_state}; only an onboarded "
                "one has versions to follow"
            )
        owner = base.tenant_id
        if design.invariant_id != base.descriptor.invariant_id:
            raise Conflict(
                f"a new version of NS descriptor {design.based_on} keeps its invariant id "
                f"{base.descriptor.invariant_id!r}, not {design.invariant_id!r}"
            )
    _ensure_new_version(session, principal, design)
    checked = check(session, principal, design, types, strict=strict)
    if not checked.valid:
        raise Invalid(
            "the design is not a valid NSD; nothing was published",
            [InputProblem(p.where, p.message) for p in checked.problems if p.severity == "error"],
        )
    user_data = {"designedIn": "edgewise-portal"} | (
        {"previousVersion": design.based_on} if design.based_on else {}
    )
    item = catalog.create_item(session, principal, CatalogKind.NSD, user_data, tenant_id=owner)
    try:
        return catalog.upload_content(
            session, principal, CatalogKind.NSD, item.id, checked.yaml.encode(),
            media_type=catalog.YAML_TYPE, limits=LIMITS, types=types, strict=strict,
        )  # fmt: skip
    except catalog.OnboardingFailed as failed:
        raise failed.cause from None  # the caller's rollback takes the new item away again


def _ensure_new_version(session: Session, principal: Principal, design: Design) -> None:
    for item in catalog.list_items(session, principal, CatalogKind.NSD):
        described = item.descriptor
        if (
            isinstance(described, NsdDescription)
            and described.invariant_id == design.invariant_id
            and described.version == design.version
        ):
            raise Conflict(
                f"version {design.version!r} of {design.invariant_id!r} is already in the "
                f"catalog (NS descriptor {item.id}); give the design a new version"
            )


def read_nsd(session: Session, principal: Principal, nsd_id: str) -> CatalogItem:
    """The onboarded NSD a new version starts from (NotFound when the caller cannot see it)."""
    item = catalog.read_item(session, principal, CatalogKind.NSD, nsd_id)
    if not isinstance(item.descriptor, NsdDescription):
        raise NotFound(f"NS descriptor {nsd_id} is not onboarded; there is no design to start from")
    return item


@dataclass(frozen=True)
class NsdVersion:
    """An onboarded NSD a design can start from: one version of its invariant id."""

    item_id: str
    name: str
    version: str
    invariant_id: str
    designer: str
    operational_state: str


def catalog_nsds(
    session: Session, principal: Principal, *, text: str, offset: int, limit: int
) -> tuple[list[NsdVersion], int]:
    """A page of the onboarded NSDs `principal` sees whose name or invariant id holds `text`
    (any case), by invariant id then version; and how many there are in all."""
    wanted = text.strip().lower()
    found = [
        NsdVersion(
            item.id,
            described.name,
            described.version,
            described.invariant_id,
            described.designer,
            item.operational_state,
        )
        for item in catalog.list_items(session, principal, CatalogKind.NSD)
        if isinstance(described := item.descriptor, NsdDescription)
        and (wanted in described.name.lower() or wanted in described.invariant_id.lower())
    ]
    found.sort(key=lambda n: (n.invariant_id, n.version, n.item_id))
    return found[offset : offset + limit], len(found)
