"""Self-service firewall rules (/ui/ns/{id}/firewall): the rules of the caller's own NS's
firewall VNF, one change at a time, previewed (rules before and after, the desired config diff,
checked by the NS update's own configure step) and applied on confirm by the same NS update
(MODIFY_VNF_INFORMATION) the API runs; then the operation's progress."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from edgewise.central.api.deps import NsdsDep, SessionDep
from edgewise.central.orchestrator import documents, instances, lifecycle
from edgewise.central.services.access import Principal
from edgewise.central.services.errors import InputProblem, Invalid, NotFound
from edgewise.central.services.web_sessions import WebCaller
from edgewise.central.web import firewall_edits as edits
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.selfservice_progress import progress_page
from edgewise.central.web.templating import redirect, render

router = APIRouter(include_in_schema=False)  # included by selfservice.router (prefix /ui)
NsId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
WHERE = "modifyVnfInfoData[0]"  # the request field the update's problems are named under
RULES_JSON_MAX = 256_000  # characters of the confirmed rule list (512 rules at most)


@dataclass(frozen=True)
class Firewall:
    """The NS's firewall as its sites' desired state holds it (the first site's entry)."""

    ns_id: str
    ns_name: str
    vnf: str  # the firewall VNF's name in the NS
    entry: dict[str, Any]  # the NS's service entry
    config: dict[str, Any]  # the firewall's config document
    sites: int  # how many sites run the NS (the change reaches each)

    @property
    def rules(self) -> list[edits.Rule]:
        return [dict(r) for r in self.config.get("rules", [])]

    @property
    def fingerprint(self) -> str:
        """What the preview was made from (a change applied meanwhile makes it stale)."""
        text = json.dumps(self.config, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def configured(self, rules: list[edits.Rule]) -> dict[str, Any]:
        """The firewall's config with `rules`, through the update's own configure step:
        Unprocessable naming every bad field as the API does."""
        entry = documents.configure_entry(self.entry, {self.vnf: {"rules": rules}},
                                          {self.vnf: WHERE})  # fmt: skip
        found: dict[str, Any] = next(v for v in entry["vnfs"] if v["name"] == self.vnf)["config"]
        return found


def firewall_of(session: Session, principal: Principal, ns_id: str) -> Firewall:
    """The caller's NS's firewall (NotFound for another tenant's NS, or one with none)."""
    row = instances.get_row(session, principal, ns_id)
    running = documents.running_entries(session, row.id, row.site_ids)
    entry = next(iter(running.values()))
    vnf = next((v for v in entry.get("vnfs", []) if v.get("function") == "firewall"), None)
    if vnf is None:
        raise NotFound(f"NS instance {row.name} runs no firewall VNF")
    return Firewall(row.id, row.name, vnf["name"], entry, dict(vnf.get("config", {})), len(running))


@router.get("/ns/{ns_id}/firewall", response_class=HTMLResponse)
def firewall_page(
    request: Request,
    ns_id: NsId,
    session: SessionDep,
    caller: PortalDep,
    edit: Annotated[int | None, Query(ge=1, le=512)] = None,
) -> HTMLResponse:
    wall = firewall_of(session, caller.principal, ns_id)
    editing = edit - 1 if edit is not None and edit <= len(wall.rules) else None
    shown = wall.rules[editing] if editing is not None else {}
    return _rules_page(request, caller, wall, editing, _as_form(shown), [])


@router.post("/ns/{ns_id}/firewall/preview", response_class=HTMLResponse)
async def firewall_preview(
    request: Request, ns_id: NsId, session: SessionDep, caller: WriterDep
) -> HTMLResponse:
    posted = await _posted(request)
    wall = firewall_of(session, caller.principal, ns_id)
    edit = _edit_of(posted, len(wall.rules))
    editing = edit.index if edit.kind is edits.EditKind.EDIT else None
    try:
        after = edits.apply_edit(wall.rules, edit)
        config = wall.configured(after)
    except edits.EditRefused as refused:
        problems = [InputProblem("index", str(refused))]
        return _rules_page(request, caller, wall, editing, posted, problems, status_code=422)
    except Invalid as refused:
        return _rules_page(request, caller, wall, editing, posted, list(refused.problems),
                           status_code=422, changed=edit.index)  # fmt: skip
    return render(
        request, "selfservice/firewall_preview.html", caller, section="ns",
        title=f"Preview: firewall of {wall.ns_name}", wall=wall, before=wall.rules,
        after=config.get("rules", []), sentence=edits.describe(edit, wall.rules),
        diff=edits.config_diff(wall.config, config, wall.vnf), rule_text=edits.rule_text,
        rules_json=json.dumps(config.get("rules", [])),
    )  # fmt: skip


@router.post("/ns/{ns_id}/firewall/apply", response_model=None)
async def firewall_apply(
    request: Request, ns_id: NsId, session: SessionDep, caller: WriterDep, nsds: NsdsDep
) -> Response:
    """The previewed rule list, by MODIFY_VNF_INFORMATION; refused when the rules changed
    since the preview (the preview would not say what happens)."""
    posted = await _posted(request)
    wall = firewall_of(session, caller.principal, ns_id)
    if posted.get("fingerprint") != wall.fingerprint:
        return redirect(f"/ui/ns/{ns_id}/firewall",
                        notice="The rules changed since your preview: nothing was applied; "
                        "make the change again.")  # fmt: skip
    rules = _rules_of(posted.get("rules", ""))
    body = {"updateType": "MODIFY_VNF_INFORMATION", "modifyVnfInfoData": [
        {"vnfInstanceId": wall.vnf, "vnfConfigurableProperties": {"rules": rules}}]}  # fmt: skip
    change = lifecycle.Change({wall.vnf: {"rules": rules}}, config_paths={wall.vnf: WHERE})
    op = lifecycle.update(session, caller.principal, nsds, ns_id, change=change, params=body)
    return redirect(f"/ui/ns/{ns_id}/firewall/operations/{op.id}",
                    notice="Firewall change applied: the sites are updating.")  # fmt: skip


@router.get("/ns/{ns_id}/firewall/operations/{op_id}", response_class=HTMLResponse)
def firewall_progress(
    request: Request, ns_id: NsId, op_id: NsId, session: SessionDep, caller: PortalDep
) -> HTMLResponse:
    return progress_page(
        request,
        session,
        caller,
        op_id,
        section="ns",
        back=(f"/ui/ns/{ns_id}/firewall", "Back to the firewall rules"),
    )


def _rules_page(  # noqa: PLR0917 - the page, what the form holds and its problems
    request: Request,
    caller: WebCaller,
    wall: Firewall,
    editing: int | None,
    posted: dict[str, str],
    problems: list[InputProblem],
    *,
    status_code: int = 200,
    changed: int | None = None,
) -> HTMLResponse:
    prefix = f"{WHERE}.vnfConfigurableProperties.rules[{changed}]."
    errors: dict[str, InputProblem] = {}
    general: list[InputProblem] = []
    for problem in problems:
        key = problem.where.removeprefix(prefix).split(".")[0].split("[")[0]
        if problem.where.startswith(prefix) and key in edits.RULE_FIELDS and key not in errors:
            errors[key] = problem
        else:
            general.append(problem)
    return render(
        request, "selfservice/firewall.html", caller, status_code=status_code, section="ns",
        title=f"Firewall rules of {wall.ns_name}", wall=wall, rules=wall.rules,
        rule_text=edits.rule_text, editing=editing, posted=posted, errors=errors,
        general=general,
    )  # fmt: skip


def _edit_of(posted: dict[str, str], count: int) -> edits.Edit:
    try:
        kind = edits.EditKind(posted.get("kind", ""))
        index = int(posted.get("index", "")) - 1
    except ValueError:
        raise Invalid("the change is not one the page offers",
                      [InputProblem("kind", "add, edit, remove, up or down, and a rule number")]
                      ) from None  # fmt: skip
    if kind is edits.EditKind.ADD:
        index = min(max(index, 0), count)
    changes_rule = kind in {edits.EditKind.ADD, edits.EditKind.EDIT}
    rule = edits.rule_from_form(posted) if changes_rule else None
    return edits.Edit(kind, index, rule)


def _rules_of(text: str) -> list[edits.Rule]:
    try:
        rules = json.loads(text[:RULES_JSON_MAX])
    except ValueError:
        rules = None
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise Invalid("the confirmed change is damaged; preview it again",
                      [InputProblem("rules", "not a list of rules")])  # fmt: skip
    return rules


def _as_form(rule: edits.Rule) -> dict[str, str]:
    shown = {k: v for k, v in rule.items() if k in edits.RULE_FIELDS}
    span = shown.get("port_range")
    if isinstance(span, list) and len(span) == 2:
        shown["port_range"] = f"{span[0]}-{span[1]}"
    return {k: str(v) for k, v in shown.items()}


async def _posted(request: Request) -> dict[str, str]:
    got = await request.form(max_files=0, max_fields=50)
    return {key: value for key, value in got.items() if isinstance(value, str)}
