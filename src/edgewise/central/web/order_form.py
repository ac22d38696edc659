"""The order form of an NSD (self-service, under /ui/order): its fields generated from the NSD's
third-party VNFs' inputs (what an instantiation accepts as additionalParamsForVnf), the values
a browser posts read back into the instantiate request's shape, and checked by the very
functions the orchestrator runs on that request, so a problem names the field the API names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.orchestrator import software
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services import catalog, sites
from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.errors import InputProblem
from edgewise.tosca import Nsd
from edgewise.tosca.vnfparams import Input

NAME_FIELD, SITE_FIELD = "nsName", "additionalParamsForNs.sites"
NAME_MAX = 255  # CreateNsRequest.nsName
VALUE_MAX = 4096  # one input's value, as the API bounds it
SITES_SHOWN = 100  # own sites offered in one form (the API's page size at most)


@dataclass(frozen=True)
class Field:
    """One generated field: the input it sets, its HTML name, and the API's path to it."""

    profile: str
    spec: Input
    index: int  # the profile's entry in additionalParamsForVnf

    @property
    def name(self) -> str:
        return f"p.{self.profile}.{self.spec.name}"

    @property
    def where(self) -> str:
        return f"additionalParamsForVnf[{self.index}].additionalParams.{self.spec.name}"

    @property
    def choices(self) -> tuple[str, ...]:
        for operator, argument in self.spec.constraints:
            if operator == "valid_values" and isinstance(argument, list):
                return tuple(str(a) for a in argument)
        return ()

    def bound(self, operator_names: tuple[str, ...]) -> str:
        """The first constraint of `operator_names` (e.g. the minimum) as an HTML attribute."""
        for operator, argument in self.spec.constraints:
            if operator in operator_names and isinstance(argument, int | float):
                return str(argument)
            if operator == "in_range" and isinstance(argument, list) and len(argument) == 2:
                return str(argument[0] if "greater_or_equal" in operator_names else argument[1])
        return ""

    @property
    def minimum(self) -> str:
        return self.bound(("greater_or_equal", "greater_than"))

    @property
    def maximum(self) -> str:
        return self.bound(("less_or_equal", "less_than"))


@dataclass(frozen=True)
class OrderForm:
    """What the order page shows: the NSD, its fields, the caller's sites, the NSD's problems
    (a package missing or disabled: then nothing can be ordered)."""

    nsd_info_id: str
    nsd: Nsd
    fields: tuple[Field, ...]
    sites: tuple[tuple[str, str], ...]  # (id, name)
    refusals: tuple[str, ...] = ()
    profiles: tuple[str, ...] = field(default=())  # the software profiles, in request order


def order_form(
    session: Session, principal: Principal, nsds: NsdModels, nsd_info_id: str
) -> OrderForm:
    """The NSD's form for `principal` (NotFound if it cannot see the NSD)."""
    row = catalog.get_item(session, principal, CatalogKind.NSD, nsd_info_id)
    nsd = nsds.load(row)
    fields: list[Field] = []
    refusals: list[str] = []
    profiles: list[str] = []
    for profile in nsd.vnf_profiles:
        if profile.function is not None:
            continue
        package, why = software.package_of(session, profile.vnfd_id, principal.tenant_id)
        reading = nsds.software(package) if package is not None else None
        if reading is None or reading.template is None:
            refusals.append(f"VNF {profile.node}: {why or 'its package gives no software'}")
            continue
        index = len(profiles)
        profiles.append(profile.node)
        fields += [Field(profile.node, spec, index) for spec in reading.template.inputs]
    own = sites.list_sites(session, principal, marker=None, limit=SITES_SHOWN)
    return OrderForm(
        nsd_info_id, nsd, tuple(fields), tuple((s.id, s.name) for s in own.items),
        tuple(refusals), tuple(profiles),
    )  # fmt: skip


def read_values(form: OrderForm, posted: Mapping[str, str]) -> dict[str, Any]:
    """The instantiate request (plus nsName) a posted form means: a number field's text as a
    number when it is one (else the text, which the check then refuses, as the API would), a
    checkbox as true/false, an empty optional field left out (its default applies)."""
    params: dict[str, dict[str, object]] = {p: {} for p in form.profiles}
    for item in form.fields:
        raw = posted.get(item.name, "")[:VALUE_MAX]
        value: object
        if item.spec.type == "boolean":
            value = raw in {"true", "on", "1"}
        elif raw == "":
            continue
        elif item.spec.type in {"integer", "float"}:
            value = _number(raw, item.spec.type)
        else:
            value = raw
        params[item.profile][item.spec.name] = value
    site = posted.get(SITE_FIELD, "")[:100]
    return {
        "nsName": posted.get(NAME_FIELD, "").strip()[: NAME_MAX + 1],
        "nsFlavourId": form.nsd.flavour_id,
        "additionalParamsForNs": {"sites": [site] if site else []},
        "additionalParamsForVnf": [
            {"vnfProfileId": p, "additionalParams": params[p]} for p in form.profiles
        ],
    }


def _number(raw: str, kind: str) -> object:
    try:
        return int(raw) if kind == "integer" else float(raw)
    except ValueError:
        return raw


def check(session: Session, principal: Principal, nsds: NsdModels, form: OrderForm,
          request: Mapping[str, Any]) -> list[InputProblem]:  # fmt: skip
    """Every problem of the request, as the API names them: the name, the site (one of the
    caller's own), each VNF's inputs (the orchestrator's own check of additionalParamsForVnf)."""
    problems: list[InputProblem] = []
    name = str(request.get("nsName", ""))
    if not name:
        problems.append(InputProblem(NAME_FIELD, "missing: a name for the new NS instance"))
    elif len(name) > NAME_MAX:
        problems.append(InputProblem(NAME_FIELD, f"longer than {NAME_MAX} characters"))
    chosen = request["additionalParamsForNs"]["sites"]
    if not chosen:
        problems.append(InputProblem(SITE_FIELD, "missing: the site to run the service on"))
    elif chosen[0] not in {site_id for site_id, _ in form.sites}:
        problems.append(InputProblem(SITE_FIELD, f"{chosen[0]!r} is not one of your sites"))
    for index, entry in enumerate(request["additionalParamsForVnf"]):
        package, why = software.package_of(session, _vnfd_of(form, entry["vnfProfileId"]),
                                           principal.tenant_id)  # fmt: skip
        template = nsds.software(package).template if package is not None else None
        if template is None:
            problems.append(InputProblem("nsdId", why))
            continue
        asked = software.VnfParams(entry["additionalParams"], f"additionalParamsForVnf[{index}]")
        software.configure(template, asked, problems)
    return problems


def _vnfd_of(form: OrderForm, node: str) -> str:
    return next(p.vnfd_id for p in form.nsd.vnf_profiles if p.node == node)


def field_of(form: OrderForm, where: str) -> str:
    """The HTML name of the field a problem's path names ('' when no single field)."""
    if where in {NAME_FIELD, SITE_FIELD}:
        return where
    return next((f.name for f in form.fields if f.where == where), "")
