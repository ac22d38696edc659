"""The sites' desired-state documents: the only writer of revisions on the central.

Every write bumps the site's revision and is announced on commit (the channel wakes the site's
parked long-poll; other replicas hear it through the store). What is written is the contract's
canonical form (edgewise.model): a raw document is read through the contract first (422 naming
each bad field), an NS's service entry is made from typed values. The other services of a
site's document pass through untouched (they were written canonical).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, ensure_writable, sees
from edgewise.central.services.announce import revision_written
from edgewise.central.services.errors import (
    Conflict,
    Forbidden,
    InputProblem,
    Invalid,
    NotFound,
    Unprocessable,
)
from edgewise.central.store.bulk import chunks, table_of
from edgewise.central.store.tables import DesiredStateRow, NsInstanceRow, SiteRow, utcnow
from edgewise.model.desired import DesiredState, DocumentError
from edgewise.model.fields import merge_patch
from edgewise.model.functions import VnfFunction, config_document, read_config
from edgewise.model.software import SoftwareConfig
from edgewise.tosca import Nsd
from edgewise.tosca.siteservice import UNASSIGNED, NotDeployable, service_from_nsd

Document = dict[str, Any]
Entry = dict[str, Any]  # one `services[]` entry of a document
SDWAN_SECTIONS = ("links", "steering", "overlays", "policy_rules")  # orchestrator.sdwan's


@dataclass(frozen=True)
class DesiredDocument:
    site_id: str
    revision: int
    document: Document


def canonical(document: object) -> Document:
    """The canonical form of a valid desired-state document, else Unprocessable naming every
    problem (the field and the reason) as the contract's reader found it."""
    try:
        return DesiredState.from_document(0, document).to_document()
    except DocumentError as exc:
        raise Unprocessable(
            "the desired-state document is not valid",
            [InputProblem(p.where, p.message) for p in exc.problems],
        ) from exc


def get_desired(session: Session, site_id: str) -> DesiredDocument:
    row = session.get(DesiredStateRow, site_id)
    if row is None:
        return DesiredDocument(site_id, 0, {"services": []})
    return DesiredDocument(site_id, row.revision, row.document)


def get_documents(session: Session, site_ids: Sequence[str]) -> dict[str, DesiredDocument]:
    """Each site's current desired state (revision 0 and no service when it has none yet)."""
    found = {site_id: DesiredDocument(site_id, 0, {"services": []}) for site_id in site_ids}
    for chunk in chunks(list(site_ids)):
        query = select(DesiredStateRow.site_id, DesiredStateRow.revision, DesiredStateRow.document)
        for site_id, revision, document in session.execute(
            query.where(DesiredStateRow.site_id.in_(chunk))
        ):
            found[site_id] = DesiredDocument(site_id, revision, document)
    return found


def set_desired(
    session: Session, principal: Principal, site_ids: Sequence[str], document: object
) -> list[DesiredDocument]:
    """Writes `document` as each site's new desired state (revision + 1 each), in bulk: an
    operator's raw write, beside the orchestrator's.

    Only operators write raw documents, and a raw write never touches an NS's services: the
    document may not carry an entry under an NS instance's id (422 naming it), and each site
    keeps the NS entries its current document holds, and its SD-WAN sections (links, steering,
    overlays, policy rules) unless the document carries them. Who may touch the sites is
    settled before the document is looked at; one missing or foreign site refuses the whole
    write.
    """
    if not principal.is_admin:
        raise Forbidden(
            "only operators write a site's desired state directly; a tenant's services change "
            "through the NS lifecycle (nslcm/v2)"
        )
    targets = list(dict.fromkeys(site_ids))
    for chunk in chunks(targets):
        found = {row.id: row for row in session.execute(
            select(SiteRow.id, SiteRow.tenant_id).where(SiteRow.id.in_(chunk))
        )}  # fmt: skip
        for site_id in chunk:
            row = found.get(site_id)
            if row is None or not sees(principal, row):
                raise NotFound(f"site {site_id} does not exist")
            ensure_writable(principal, row, what="site")
    written = canonical(document)
    incoming: list[Entry] = written["services"]
    claimed = _ns_ids(session, [e["id"] for e in incoming])
    if claimed:
        raise Unprocessable(
            "a raw desired-state write cannot carry an NS instance's services",
            [
                InputProblem(
                    f"services[{index}].id",
                    f"{e['id']!r} is NS instance {e['id']}'s service: only the orchestrator "
                    "writes it (nslcm/v2 lifecycle operations)",
                )
                for index, e in enumerate(incoming)
                if e["id"] in claimed
            ],
        )
    current = get_documents(session, targets)
    held = {e["id"] for d in current.values() for e in d.document.get("services", [])}
    owned = _ns_ids(session, list(held))
    kept = [k for k in SDWAN_SECTIONS if k not in written]  # composed by orchestrator.sdwan
    if not owned and not any(k in d.document for d in current.values() for k in kept):
        return write_revisions(session, targets, written)  # one document, one UPDATE per chunk
    documents = {
        site_id: written
        | {"services": incoming + [e for e in d.document["services"] if e["id"] in owned]}
        | {k: d.document[k] for k in kept if k in d.document}
        for site_id, d in current.items()
    }
    revisions = write_documents(session, current, documents)
    return [DesiredDocument(s, revisions[s], documents[s]) for s in targets]


def _ns_ids(session: Session, ids: Sequence[str]) -> set[str]:
    """Those of `ids` that are NS instances' ids."""
    found: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(ids))):
        found.update(
            session.scalars(select(NsInstanceRow.id).where(NsInstanceRow.id.in_(chunk))).all()
        )
    return found


def write_revisions(
    session: Session, site_ids: Sequence[str], document: Document
) -> list[DesiredDocument]:
    """Bumps each site's revision to the same (canonical) document with one UPDATE (and one
    INSERT for first revisions) per chunk; the commit hook then wakes the sites' long-polls."""
    now = utcnow()
    revisions: dict[str, int] = {}
    for chunk in chunks(site_ids):
        bumped = session.execute(
            update(DesiredStateRow)
            .where(DesiredStateRow.site_id.in_(chunk))
            .values(revision=DesiredStateRow.revision + 1, document=document, updated_at=now)
            .returning(DesiredStateRow.site_id, DesiredStateRow.revision)
            .execution_options(synchronize_session=False)
        )
        revisions.update(bumped.all())
        first = [site_id for site_id in chunk if site_id not in revisions]
        if first:
            session.connection().execute(
                insert(table_of(DesiredStateRow)),
                [
                    {"site_id": s, "revision": 1, "document": document, "updated_at": now}
                    for s in first
                ],
            )
            revisions.update(dict.fromkeys(first, 1))
    written = []
    for site_id in site_ids:
        revision_written(session, site_id, revisions[site_id], document)
        written.append(DesiredDocument(site_id, revisions[site_id], document))
    return written


def write_revision(session: Session, site_id: str, document: Document) -> DesiredDocument:
    (written,) = write_revisions(session, [site_id], canonical(document))
    return written


def write_documents(
    session: Session,
    current: Mapping[str, DesiredDocument],
    documents: Mapping[str, Document],
) -> dict[str, int]:
    """Writes a different next document to each site, in bulk: one executemany UPDATE (and one
    INSERT for first revisions). `current` is what the caller read in this transaction; a site
    whose revision moved meanwhile (another replica wrote it) refuses the whole write."""
    now = utcnow()
    revisions = {site_id: current[site_id].revision + 1 for site_id in documents}
    existing = [s for s in documents if current[s].revision > 0]
    first = [s for s in documents if current[s].revision == 0]
    connection = session.connection()
    if existing:
        table = table_of(DesiredStateRow)
        statement = (
            update(table)
            .where(table.c.site_id == bindparam("sid"), table.c.revision == bindparam("old"))
            .values(revision=bindparam("new"), document=bindparam("doc"), updated_at=now)
        )
        rows = [
            {"sid": s, "old": current[s].revision, "new": revisions[s], "doc": documents[s]}
            for s in existing
        ]
        changed = connection.execute(statement, rows).rowcount
        if changed != len(rows):
            raise Conflict(
                "another change to these sites' desired state was written at the same time; "
                "try again"
            )
    if first:
        connection.execute(
            insert(table_of(DesiredStateRow)),
            [{"site_id": s, "revision": 1, "document": documents[s], "updated_at": now}
             for s in first],
        )  # fmt: skip
    for site_id, document in documents.items():
        revision_written(session, site_id, revisions[site_id], document)
    return revisions


def write_sections(session: Session, sections: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Each site's document with its SD-WAN sections (links, steering, overlays, policy rules)
    replaced by `sections[site]` (an empty or missing section is left out), services untouched; only
    the documents that change get a revision, in bulk. The caller composed the sections from
    typed values of the contract (`orchestrator.sdwan`). Returns the new revisions."""
    current = get_documents(session, list(sections))
    documents: dict[str, Document] = {}
    for site_id, new in sections.items():
        document = current[site_id].document
        kept = {k: v for k, v in document.items() if k not in SDWAN_SECTIONS}
        merged = kept | {k: v for k, v in new.items() if k in SDWAN_SECTIONS and v}
        if merged != document:
            documents[site_id] = merged
    return write_documents(session, current, documents) if documents else {}


def reissue(
    session: Session, site_ids: Sequence[str], *, heal: str | None = None
) -> tuple[dict[str, int], dict[str, Document]]:
    """Each site's current document again, under its next revision (the site re-checks all of
    it against its data plane); with `heal`, that NS's third-party VNFs have their heal count
    moved on (their sites restart them). Returns the new revisions and the documents before."""
    current = get_documents(session, site_ids)
    before = {site_id: current[site_id].document for site_id in site_ids}
    documents = {s: healed(d, heal) if heal else d for s, d in before.items()}
    return write_documents(session, current, documents), before


def healed(document: Document, ns_id: str) -> Document:
    """The document with the heal count of each third-party VNF of the NS's entry one up."""

    def vnf_healed(vnf: dict[str, Any]) -> dict[str, Any]:
        if vnf.get("function") != VnfFunction.SOFTWARE.value:
            return vnf
        config = vnf.get("config", {})
        return vnf | {"config": config | {"heal": int(config.get("heal", 0)) + 1}}

    services = [
        e | {"vnfs": [vnf_healed(v) for v in e.get("vnfs", [])]} if e.get("id") == ns_id else e
        for e in document.get("services", [])
    ]
    return document | {"services": services}


def fast_forward(session: Session, site_id: str, above: int) -> DesiredDocument:
    """Re-issues the site's current document with a revision above `above` (a site that holds
    a revision this store never wrote: a central restored from a backup)."""
    current = get_desired(session, site_id)
    row = session.get(DesiredStateRow, site_id, with_for_update=True)
    if row is None:
        row = DesiredStateRow(site_id=site_id, revision=above + 1, document=current.document)
        session.add(row)
    elif row.revision <= above:
        row.revision = above + 1
        row.updated_at = utcnow()
    session.flush()
    revision_written(session, site_id, row.revision, row.document)
    return DesiredDocument(site_id, row.revision, row.document)


# An NS's entry in its sites' documents


def entry(document: Document, ns_id: str) -> Entry | None:
    """The NS's service entry in a site's document, if it has one."""
    return next((e for e in document.get("services", []) if e.get("id") == ns_id), None)


def running_entries(session: Session, ns_id: str, site_ids: Sequence[str]) -> dict[str, Entry]:
    """The NS's service entry at each of `site_ids` whose desired state holds it; Conflict when
    none does (there is nothing to change or copy)."""
    current = get_documents(session, site_ids)
    running = {site: found for site in site_ids if (found := entry(current[site].document, ns_id))}
    if not running:
        raise Conflict(f"NS instance {ns_id} runs on no site; instantiate it again instead")
    return running


def sites_holding(session: Session, ns_id: str, site_ids: Iterable[str]) -> list[str]:
    """Those of `site_ids` whose desired state holds the NS."""
    candidates = list(dict.fromkeys(site_ids))
    documents = get_documents(session, candidates)
    return [s for s in candidates if entry(documents[s].document, ns_id) is not None]


def rewrite(
    session: Session, ns_id: str, services: Mapping[str, Entry | None]
) -> tuple[dict[str, int], dict[str, Any]]:
    """Writes each site's next revision with its `services` entry in place of the NS's (None:
    without it), in bulk; returns the new revisions and the entries the sites had before."""
    return rewrite_each(session, {site: (ns_id, found) for site, found in services.items()})


def rewrite_each(
    session: Session, changes: Mapping[str, tuple[str, Entry | None]]
) -> tuple[dict[str, int], dict[str, Any]]:
    """`rewrite` with a different NS at each site: {site: (ns id, its entry or None)}."""
    current = get_documents(session, list(changes))
    documents: dict[str, Document] = {}
    previous: dict[str, Any] = {}
    for site_id, (ns_id, service) in changes.items():
        document = current[site_id].document
        entries = document.get("services", [])
        previous[site_id] = next((e for e in entries if e.get("id") == ns_id), None)
        kept = [e for e in entries if e.get("id") != ns_id]
        documents[site_id] = document | {"services": kept + ([service] if service else [])}
    return write_documents(session, current, documents), previous


def service_entry(
    nsd: Nsd,
    *,
    service_id: str,
    name: str,
    software: Mapping[str, SoftwareConfig] | None = None,
) -> Entry:
    """The service entry of `nsd` for the NS (its `tenant` is each site's, set by the caller),
    with the configs of its third-party VNFs (orchestrator.software); Invalid naming every VNF
    of the NSD a site cannot run."""
    try:
        service = service_from_nsd(nsd, service_id=service_id, name=name, tenant=UNASSIGNED,
                                   software=software)  # fmt: skip
    except NotDeployable as exc:
        raise Invalid(
            f"NSD {nsd.descriptor_id} cannot run on a site",
            [InputProblem("nsdId", problem) for problem in exc.problems],
        ) from exc
    return service.to_document()


# a third-party VNF's config with its params set: (config, values, request field) ->
# (the new config, or None and the problems)
ParamsSetter = Callable[
    [Mapping[str, Any], Mapping[str, Any], str], tuple[dict[str, Any] | None, list[InputProblem]]
]


def configure_entry(
    service: Entry,
    configs: Mapping[str, Mapping[str, Any]],
    where: Mapping[str, str],
    set_params: ParamsSetter | None = None,
) -> Entry:
    """The service entry with each named VNF's config merge-patched (RFC 7396) with its new
    properties and read through the contract: Unprocessable naming every bad field, under the
    request field `where[name]` that changed the VNF. A third-party VNF's properties are its
    parameters, set by `set_params` (checked against its package's inputs)."""
    names = {v["name"] for v in service.get("vnfs", [])}
    unknown = sorted(set(configs) - names)
    if unknown:
        raise Unprocessable(
            "the update names VNFs the NS does not have",
            [
                InputProblem(where.get(name, name), f"{name!r}: the NS's VNFs are "
                             + ", ".join(sorted(names)))
                for name in unknown
            ],
        )  # fmt: skip
    vnfs = []
    problems: list[InputProblem] = []
    for vnf in service.get("vnfs", []):
        name = vnf["name"]
        if name not in configs:
            vnfs.append(vnf)
            continue
        at = f"{where.get(name, name)}.vnfConfigurableProperties"
        if vnf["function"] == VnfFunction.SOFTWARE.value and set_params is not None:
            changed, wrong = set_params(vnf.get("config", {}), configs[name], at)
            problems += wrong
            if changed is not None:
                vnfs.append(vnf | {"config": changed})
            continue
        patched = merge_patch(vnf.get("config", {}), configs[name])
        try:
            config = read_config(VnfFunction(vnf["function"]), patched)
        except DocumentError as exc:
            problems += [InputProblem(f"{at}.{p.where}", p.message) for p in exc.problems]
            continue
        vnfs.append(vnf | {"config": config_document(config)})
    if problems:
        raise Unprocessable("the new VNF configuration is not valid", problems)
    return service | {"vnfs": vnfs}
