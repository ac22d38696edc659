"""What the commands call before they name a thing to the API: a name, an id or an unambiguous
id prefix becomes the thing's id, through the API's list routes. Not found: exit 1; more than
one match: exit 2 (a usage error), with the candidates listed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgewise.cli.client import CentralClient
from edgewise.cli.errors import CliError

FULL_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SHOWN_CANDIDATES = 10


@dataclass(frozen=True)
class Kind:
    """A kind of thing the CLI names: where the API lists it, the fields that name one, and
    (when the list route has one) the query parameter that filters it by name."""

    noun: str
    collections: tuple[str, ...]
    names: tuple[str, ...] = ("name",)
    name_param: str | None = None
    describe: Callable[[dict[str, Any]], str] | None = None


def _catalog_item(item: dict[str, Any]) -> str:
    if "nsdId" in item:
        return f"NSD {item.get('nsdName')} {item.get('nsdId')} version {item.get('nsdVersion')}"
    return (
        f"VNF {item.get('vnfProductName')} {item.get('vnfdId')} version {item.get('vnfdVersion')}"
    )


TENANT = Kind("tenant", ("api/v1/tenants",))
USER = Kind("user", ("api/v1/users",))
TOKEN = Kind("token", ("api/v1/tokens",))
SITE = Kind("site", ("api/v1/sites",), name_param="name")
SITE_GROUP = Kind("site group", ("api/v1/site-groups",))
ROLLOUT = Kind("rollout", ("api/v1/rollouts",))
NS = Kind("NS instance", ("nslcm/v1/ns_instances",), names=("nsInstanceName",))
OPERATION = Kind("operation", ("nslcm/v1/ns_lcm_op_occs",), names=())
NSD = Kind("NSD", ("nsd/v1/ns_descriptors",), ("nsdName", "nsdId"), describe=_catalog_item)
CATALOG = Kind(
    "NSD or VNF package",
    ("nsd/v1/ns_descriptors", "vnfpkgm/v1/vnf_packages"),
    ("nsdName", "nsdId", "vnfProductName", "vnfdId"),
    describe=_catalog_item,
)


def resolve(client: CentralClient, kind: Kind, ref: str) -> str:
    """The id of the one `kind` whose id, name or id prefix is `ref` (in that order)."""
    if FULL_ID.match(ref):
        return ref
    if kind.name_param is not None:
        named = list(client.list_all(kind.collections[0], {kind.name_param: ref}))
        if named:
            return _one(kind, ref, named, "named")
    items = [item for collection in kind.collections for item in client.list_all(collection)]
    for how, found in (
        ("id", [i for i in items if i["id"] == ref]),
        ("named", [i for i in items if any(i.get(field) == ref for field in kind.names)]),
        ("prefix", [i for i in items if i["id"].startswith(ref)]),
    ):
        if found:
            return _one(kind, ref, found, how)
    what = "name, id or id prefix" if kind.names else "id or id prefix"
    raise CliError(f"{kind.noun} {ref!r} does not exist (no {kind.noun} has that {what})")


def resolve_all(client: CentralClient, kind: Kind, refs: list[str] | None) -> list[str]:
    return [resolve(client, kind, ref) for ref in refs or []]


def _one(kind: Kind, ref: str, found: list[dict[str, Any]], how: str) -> str:
    if len(found) == 1:
        return str(found[0]["id"])
    shown = "; ".join(_candidate(kind, item) for item in found[:SHOWN_CANDIDATES])
    more = f" (+{len(found) - SHOWN_CANDIDATES} more)" if len(found) > SHOWN_CANDIDATES else ""
    many = f"{len(found)} {kind.noun}s"
    said = f"{many} are named {ref!r}" if how == "named" else f"{ref!r} begins {many}' ids"
    raise CliError(f"{said}: {shown}{more}; give the id instead", exit_code=2)


def _candidate(kind: Kind, item: dict[str, Any]) -> str:
    if kind.describe is not None:
        return f"{item['id']} ({kind.describe(item)})"
    name = next((str(item[f]) for f in kind.names if item.get(f)), "")
    tenant = item.get("tenantId")
    where = f", tenant {tenant}" if tenant else ""
    return f"{item['id']} ({name}{where})" if name else str(item["id"])
