"""NS updates that change an NS's chain (SOL005 INSTANTIATE_VNF and REMOVE_VNF; lifecycle.update
calls this): a VNF package's VNF joins the chain on every site of the NS, checked as an
instantiation checks it, or VNFs leave it; one new revision per site and one operation, whose
sites' previous entries are what a rollback gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents, software
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.occurrences import start
from edgewise.central.orchestrator.placing import candidates
from edgewise.central.orchestrator.states import OpType
from edgewise.central.services.access import Principal
from edgewise.central.services.errors import InputProblem, Unprocessable
from edgewise.central.store.tables import CatalogItemRow, NsInstanceRow, NsLcmOpOccRow
from edgewise.model.desired import MAX_CHAIN, MAX_VNFS
from edgewise.model.functions import VnfFunction, config_document
from edgewise.model.names import NAME
from edgewise.model.problems import Problems


@dataclass(frozen=True)
class Position:
    """Where a new VNF goes: before (or after) the VNF of that name in the chain."""

    name: str
    after: bool = False


@dataclass(frozen=True)
class NewVnf:
    """One VNF to instantiate into the NS (SOL005 InstantiateVnfData), and its request field."""

    vnfd_id: str
    flavour_id: str
    name: str | None  # vnfInstanceName: its name (and VNF instance id) in the NS
    params: Mapping[str, object]  # additionalParams: the VNFD's inputs
    position: Position | None  # None: the WAN end of the chain
    where: str


@dataclass(frozen=True)
class ChainEdit:
    add: tuple[NewVnf, ...] = ()
    remove: tuple[tuple[str, str], ...] = ()  # (VNF name, request field)


def change_chain(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns: NsInstanceRow,
    edit: ChainEdit,
    *,
    params: dict[str, Any],
    timeout: timedelta,
) -> NsLcmOpOccRow:
    """Every site of the NS gets its entry with the VNFs of `edit` removed and added (in the
    order given); Unprocessable naming every field that cannot be honoured, nothing written.
    The packages of added VNFs are IN_USE by the NS; those of the VNFs it adds or removes are
    looked at again when the operation ends (software.release_unused)."""
    running = documents.running_entries(session, ns.id, ns.site_ids)
    current = next(iter(running.values()))
    problems: list[InputProblem] = []
    vnfs, order, removed = _without(current, edit.remove, problems)
    packages: list[CatalogItemRow] = []
    for new in edit.add:
        added = _instantiated(session, nsds, ns, new, {v["name"] for v in vnfs}, problems)
        index = _index(order, new, problems)
        if added is not None and index is not None:
            vnfs.append(added[0])
            order.insert(index, added[0]["name"])
            packages.append(added[1])
    if not problems:
        problems += _fits(session, principal, ns, vnfs, order, edit)
    if problems:
        raise Unprocessable("the NS's chain cannot be changed as asked", problems)
    template = current | {"vnfs": vnfs, "chain": order}
    entries: dict[str, dict[str, Any] | None] = {
        site: template | {"tenant": found.get("tenant")} for site, found in running.items()
    }
    targets, previous = documents.rewrite(session, ns.id, entries)
    for package in packages:
        software.add_user(package, ns.id)
    looked_at = {p.id for p in packages} | {
        row.id
        for vnf in removed
        if vnf["function"] == VnfFunction.SOFTWARE.value
        and (row := software.package_of(session, str(vnf["config"].get("vnfd_id", "")),
                                        ns.tenant_id, enabled=False)[0]) is not None
    }  # fmt: skip
    op = start(session, ns, OpType.UPDATE, params=params, targets=targets, previous=previous,
               timeout=timeout)  # fmt: skip
    op.outcome = {software.OUTCOME_KEY: sorted(looked_at)} if looked_at else None
    session.flush()
    return op


def _without(
    entry: Mapping[str, Any], remove: tuple[tuple[str, str], ...], problems: list[InputProblem]
) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
    """The entry's VNFs and chain without those named; and the VNFs removed."""
    vnfs: list[dict[str, Any]] = list(entry.get("vnfs", []))
    names = [v["name"] for v in vnfs]
    gone = {name for name, _ in remove}
    for name, where in remove:
        if name not in names:
            problems.append(InputProblem(where, f"{name!r} is no VNF instance of the NS; its "
                                         "VNF instances are " + ", ".join(names)))  # fmt: skip
    if remove and gone >= set(names):
        problems.append(InputProblem("removeVnfInstanceId", "would remove every VNF of the NS: "
                                     "an NS runs at least one (terminate it instead)"))  # fmt: skip
    kept = [v for v in vnfs if v["name"] not in gone]
    order = [n for n in entry.get("chain", []) if n not in gone]
    return kept, order, [v for v in vnfs if v["name"] in gone]


def _instantiated(  # noqa: PLR0917 - the NS's context, the VNF, what it may not be named
    session: Session,
    nsds: NsdModels,
    ns: NsInstanceRow,
    new: NewVnf,
    names: set[str],
    problems: list[InputProblem],
) -> tuple[dict[str, Any], CatalogItemRow] | None:
    """The new VNF's entry (function software) and its package, as instantiation checks it:
    an onboarded, enabled package the NS's owner may use, images a site runs, a flavour of
    the VNFD, a free name, params against the VNFD's inputs."""
    before = len(problems)
    name = new.name or new.vnfd_id
    at = f"{new.where}.vnfInstanceName"
    out = Problems()
    NAME.read(name, (), out)
    if out.found:
        why = out.found[0].message
        problems.append(InputProblem(at, f"{name!r}: {why}" if new.name else
                                     f"missing, and the vnfdId is no VNF name ({why}): name "
                                     "the VNF"))  # fmt: skip
    elif name in names:
        problems.append(InputProblem(at, f"{name!r} is a VNF of the NS already" if new.name else
                                     f"missing, and the NS has a VNF named {name!r} (the "
                                     "vnfdId) already: name the new one"))  # fmt: skip
    names.add(name)
    row, why = software.package_of(session, new.vnfd_id, ns.tenant_id)
    if row is None:
        problems.append(InputProblem(f"{new.where}.vnfdId", why))
        return None
    reading = nsds.software(row)
    refusals = reading.refusals()
    if refusals or reading.template is None:
        problems += [InputProblem(f"{new.where}.vnfdId", f"VNF package {row.id}: {why}")
                     for why in refusals]  # fmt: skip
        return None
    flavours = [f.flavour_id for f in nsds.vnfd(row).flavours]
    if new.flavour_id not in flavours:
        problems.append(InputProblem(f"{new.where}.vnfFlavourId", f"{new.flavour_id!r} is no "
                                     f"flavour of VNFD {new.vnfd_id!r}; it has "
                                     + ", ".join(map(repr, flavours))))  # fmt: skip
    config = software.configure(
        reading.template, software.VnfParams(new.params, new.where), problems
    )
    if config is None or len(problems) > before:
        return None
    vnf = {"name": name, "function": VnfFunction.SOFTWARE.value,
           "config": config_document(config)}  # fmt: skip
    return vnf, row


def _index(order: list[str], new: NewVnf, problems: list[InputProblem]) -> int | None:
    """Where in the chain (LAN side first) the new VNF goes."""
    if new.position is None:
        return len(order)  # the WAN end
    side = "after" if new.position.after else "before"
    if new.position.name not in order:
        problems.append(InputProblem(f"{new.where}.chainPosition.{side}",
                                     f"{new.position.name!r} is not in the NS's chain; it is "
                                     + " -> ".join(order)))  # fmt: skip
        return None
    return order.index(new.position.name) + (1 if new.position.after else 0)


def _fits(  # noqa: PLR0917 - the NS for a caller, its VNFs and chain after the edit
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    vnfs: list[dict[str, Any]],
    order: list[str],
    edit: ChainEdit,
) -> list[InputProblem]:
    """The new chain within what a site wires, and on every site of the NS within its slots."""
    if not edit.add:
        return []
    problems = []
    if len(order) > MAX_CHAIN or len(vnfs) > MAX_VNFS:
        why = (f"the NS would have {len(vnfs)} VNFs, {len(order)} in its chain: a site wires "
               f"at most {MAX_CHAIN} in a chain, {MAX_VNFS} in a service")  # fmt: skip
        problems.append(InputProblem("instantiateVnfData", why))
    problems += [
        InputProblem("instantiateVnfData", f"site {c.name}: {c.free} of {c.slots} VNF slots "
                     f"free; the NS would need {len(vnfs)}")
        for c in candidates(session, principal, ns.id, ns.site_ids)
        if c.free < len(vnfs)
    ]  # fmt: skip
    return problems
