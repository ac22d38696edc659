"""Third-party VNFs of an NS (lifecycle and waves call this before they write documents): each
VNF profile of the NSD that is not an Edgewise native function is resolved against the
onboarded, enabled VNF packages of its vnfd_id, its VDUs' images checked, and its params set
from the instantiation's additionalParamsForVnf or an NS update's vnfConfigurableProperties,
checked against the VNFD's inputs (422 naming the field)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services.catalog import NS_USERS, CatalogKind
from edgewise.central.services.errors import InputProblem, Unprocessable
from edgewise.central.store.tables import CatalogItemRow, NsInstanceRow
from edgewise.model.functions import VnfFunction, config_document, read_config
from edgewise.model.problems import DocumentError
from edgewise.model.software import SoftwareConfig
from edgewise.tosca import Nsd
from edgewise.tosca.software import SoftwareTemplate

WHERE_NSD = "nsdId"  # NSD-level refusals: the message names the VNF profile, VNFD and VDU
USERS = NS_USERS  # a package's summary: the NS instances running a VNF added from it
OUTCOME_KEY = "vnfPackages"  # an operation's outcome: the packages to look at when it ends


@dataclass(frozen=True)
class VnfParams:
    """The values a request gives one VNF profile's parameters, and the request field."""

    values: Mapping[str, object]
    where: str


def resolve(  # noqa: PLR0917 - the NSD (row and model) for a tenant, what is asked
    session: Session,
    nsds: NsdModels,
    nsd_row: CatalogItemRow,
    nsd: Nsd,
    tenant_id: str | None,
    given: Mapping[str, VnfParams] | None = None,
    *,
    carried: bool = False,
) -> dict[str, SoftwareConfig]:
    """The config of every third-party VNF of the NSD, by VNF profile (node) name; the packages
    used become IN_USE (linked to the NSD). Unprocessable naming every refusal at once.
    `carried`: `given` are the values another version ran with, kept where still declared."""
    given = given or {}
    problems: list[InputProblem] = []
    profiles = {p.node: p for p in nsd.vnf_profiles}
    for node, asked in given.items():
        profile = profiles.get(node)
        if profile is None:
            problems.append(InputProblem(f"{asked.where}.vnfProfileId", f"{node!r} is no VNF "
                            "profile of the NSD; its VNFs are " + ", ".join(profiles)))  # fmt: skip
        elif profile.function is not None:
            problems.append(
                InputProblem(
                    f"{asked.where}.vnfProfileId",
                    f"{node!r} is an "
                    f"Edgewise native VNF ({profile.type_name}): it takes no parameters; "
                    "its configuration is in the NSD (change it by an NS update)",
                )
            )
    configs: dict[str, SoftwareConfig] = {}
    used: list[CatalogItemRow] = []
    for profile in nsd.vnf_profiles:
        if profile.function is not None:
            continue
        row, why = package_of(session, profile.vnfd_id, tenant_id)
        if row is None:
            problems.append(InputProblem(WHERE_NSD, f"VNF {profile.node}: {why}"))
            continue
        reading = nsds.software(row)
        refusals = reading.refusals()
        if refusals or reading.template is None:
            problems += [
                InputProblem(
                    WHERE_NSD,
                    f"VNF {profile.node} (VNFD {profile.vnfd_id}, VNF package {row.id}): {why}",
                )
                for why in refusals
            ]
            continue  # fmt: skip
        asked = given.get(profile.node, VnfParams({}, f"additionalParamsForVnf[{profile.node}]"))
        config = configure(reading.template, asked, problems, carried=carried)
        if config is not None:
            configs[profile.node] = config
            used.append(row)
    if problems:
        raise Unprocessable("the NS's third-party VNFs cannot be instantiated", problems)
    _in_use(nsd_row, used)
    return configs


def configure(
    template: SoftwareTemplate,
    asked: VnfParams,
    problems: list[InputProblem],
    *,
    carried: bool = False,
) -> SoftwareConfig | None:
    """The VNF's config with the params asked (checked against the VNFD's inputs), or None
    with the problems added, each naming `asked.where`.additionalParams.<input>."""
    if carried:  # the params another version ran with: those still declared, as they were
        declared = {i.name for i in template.inputs}
        kept = {k: str(v) for k, v in asked.values.items() if k in declared}
        params, wrong = template.params({}, kept)
        problems += [InputProblem(asked.where, f"the new version's input {key}: {why}")
                     for key, why in wrong]  # fmt: skip
    else:
        params, wrong = template.params(asked.values)
        problems += [InputProblem(f"{asked.where}.additionalParams.{k}", why) for k, why in wrong]
    if wrong:
        return None
    try:
        return template.config(params)
    except DocumentError as exc:
        problems += [InputProblem(f"{asked.where}.additionalParams", str(p)) for p in exc.problems]
        return None


def package_of(
    session: Session, vnfd_id: str, tenant_id: str | None, *, enabled: bool = True
) -> tuple[CatalogItemRow | None, str]:
    """The onboarded VNF package of `vnfd_id` the tenant may use (its own before a shared
    one), or None and why not."""
    rows = session.scalars(
        select(CatalogItemRow).where(
            CatalogItemRow.kind == CatalogKind.VNF_PACKAGE.value,
            CatalogItemRow.descriptor_id == vnfd_id,
            CatalogItemRow.onboarding_state == "ONBOARDED",
            or_(CatalogItemRow.tenant_id.is_(None), CatalogItemRow.tenant_id == tenant_id),
        )
    ).all()
    if not rows:
        return None, (f"VNFD {vnfd_id!r} is in no onboarded VNF package (vnfpkgm/v1) the NS's "
                      "owner may use: onboard the package that declares it")  # fmt: skip
    row = min(rows, key=lambda r: r.tenant_id is None)
    if enabled and row.operational_state != "ENABLED":
        return None, (f"VNF package {row.id} (VNFD {vnfd_id!r}) is {row.operational_state}: "
                      "enable it to instantiate its VNF")  # fmt: skip
    return row, ""


def _in_use(nsd_row: CatalogItemRow, packages: list[CatalogItemRow]) -> None:
    """The packages an NS instantiated from the NSD uses stay IN_USE while the NSD is kept."""
    linked = [str(p) for p in nsd_row.summary.get("vnfPkgIds", [])]
    added = [p.id for p in packages if p.id not in linked]
    if added:
        nsd_row.summary = nsd_row.summary | {"vnfPkgIds": linked + added}
    for package in packages:
        package.usage_state = "IN_USE"


def set_params(  # noqa: PLR0917 - a VNF's config for a tenant, the values and their field
    session: Session,
    nsds: NsdModels,
    tenant_id: str | None,
    config: Mapping[str, Any],
    values: Mapping[str, object],
    where: str,
) -> tuple[dict[str, Any] | None, list[InputProblem]]:
    """A running software VNF's config with its params changed by `values` (an NS update's
    vnfConfigurableProperties: null gives an input its default again), checked against its
    package's inputs; or None and the problems, each naming `where`.<input>."""
    vnfd_id = str(config.get("vnfd_id", ""))
    row, why = package_of(session, vnfd_id, tenant_id, enabled=False)
    template = nsds.software(row).template if row is not None else None
    if template is None:
        return None, [InputProblem(where, why or f"VNFD {vnfd_id!r} gives no software")]
    current = config.get("params", {})
    params, wrong = template.params(values, current if isinstance(current, dict) else {})
    if wrong:
        return None, [InputProblem(f"{where}.{key}", message) for key, message in wrong]
    try:
        changed = read_config(VnfFunction.SOFTWARE, dict(config) | {"params": params})
    except DocumentError as exc:
        return None, [InputProblem(where, str(p)) for p in exc.problems]
    return config_document(changed), []


# VNFs added to running NSs (orchestrator.chain): a package is IN_USE while an NSD links it or
# an NS instance runs a VNF added from it (the NS's id in the package's summary, USERS)


def add_user(package: CatalogItemRow, ns_id: str) -> None:
    """The NS runs a VNF added from the package: the package is IN_USE."""
    users = [str(u) for u in package.summary.get(USERS, [])]
    if ns_id not in users:
        package.summary = package.summary | {USERS: [*users, ns_id]}
    package.usage_state = "IN_USE"


def packages_used_by(session: Session, ns_ids: Iterable[str]) -> dict[str, list[str]]:
    """The packages each NS instance runs VNFs added from, by NS id (only those that do)."""
    wanted = set(ns_ids)
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(CatalogItemRow.id, CatalogItemRow.summary).where(
            CatalogItemRow.kind == CatalogKind.VNF_PACKAGE.value
        )
    )
    for package_id, summary in rows:
        for ns_id in wanted.intersection(str(u) for u in (summary or {}).get(USERS, [])):
            found.setdefault(ns_id, []).append(package_id)
    return found


def release_unused(
    session: Session, ns: NsInstanceRow, package_ids: Sequence[str], site_ids: Sequence[str]
) -> None:
    """After an operation of the NS ended (or was given up): each package of `package_ids`
    whose VNF the NS no longer runs at any of `site_ids` stops counting the NS among its
    users, and is NOT_IN_USE when no NSD links it and no other NS runs a VNF added from it."""
    current = documents.get_documents(session, list(dict.fromkeys(site_ids)))
    running = {
        str(vnf.get("config", {}).get("vnfd_id", ""))
        for held in current.values()
        if (entry := documents.entry(held.document, ns.id)) is not None
        for vnf in entry.get("vnfs", [])
        if vnf.get("function") == VnfFunction.SOFTWARE.value
    }
    for package_id in package_ids:
        package = session.get(CatalogItemRow, package_id)
        if package is None or package.descriptor_id in running:
            continue
        users = [str(u) for u in package.summary.get(USERS, []) if u != ns.id]
        package.summary = package.summary | {USERS: users}
        if not users and not _linked(session, package.id):
            package.usage_state = "NOT_IN_USE"


def _linked(session: Session, package_id: str) -> bool:
    """Whether an NSD links the package (its VNFD is one the NSD references)."""
    summaries = session.scalars(
        select(CatalogItemRow.summary).where(CatalogItemRow.kind == CatalogKind.NSD.value)
    )
    return any(package_id in (summary.get("vnfPkgIds") or []) for summary in summaries)
