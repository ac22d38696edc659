"""The fake kernel's `kernel.Nftables`: JSON batches applied to a state.Space's tables.

A batch is one transaction (all or nothing). The commands the driver sends are known: add a
table, chain, rule, named counter or map, add or delete map elements, delete a table;
anything else fails, so that a new kind of command is added here (and checked against the real
kernel) before the driver relies on it.
`list_table` answers as libnftables does, in the parts the driver reads back: rules with their
comment and a counter `{"packets": 0, "bytes": 0}` where the batch said `{"counter": null}`,
named counters with theirs.
"""

from __future__ import annotations

import copy
from typing import Any

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.fakekernel.netlink import Refusals
from edgewise.site.drivers.linux.fakekernel.state import Space, Table

Json = dict[str, Any]


class BatchError(Exception):
    """A command of a batch that the kernel would refuse."""


class FakeNftables:
    """An nftables context inside one fake namespace."""

    def __init__(self, space: Space, refusals: Refusals) -> None:
        self.space = space
        self.where = space.name
        self._refusals = refusals

    def run(self, commands: list[Json]) -> Json:
        self._refusals.check("nftables", self.where)
        tables = copy.deepcopy(self.space.tables)
        try:
            for command in commands:
                apply(tables, command)
        except BatchError as exc:
            raise DataPlaneError(f"nftables in {self.where}: {exc}", code="nftables") from exc
        except (KeyError, TypeError, AttributeError) as exc:
            message = f"nftables in {self.where}: malformed command ({exc!r})"
            raise DataPlaneError(message, code="nftables") from exc
        self.space.tables = tables
        self.space.transactions.append(copy.deepcopy(commands))
        return {}

    def list_table(self, family: str, name: str) -> list[Json] | None:
        self._refusals.check("nftables", self.where)
        table = self.space.tables.get((family, name))
        if table is None:
            return None
        head = {"table": {"family": family, "name": name, "handle": table.handle}}
        items = [head, *({"chain": c} for c in table.chains)]
        items += [{"counter": c} for c in table.counters]
        items += [{"map": m} for m in table.maps]
        return copy.deepcopy(items + [{"rule": r} for r in table.rules])


def apply(tables: dict[tuple[str, str], Table], command: Json) -> None:
    """Applies one command of a batch to `tables`."""
    if len(command) != 1:
        raise BatchError(f"not one command: {sorted(command)}")
    ((verb, body),) = command.items()
    if not isinstance(body, dict) or len(body) != 1:
        raise BatchError(f"{verb}: not one object")
    ((kind, spec),) = body.items()
    if verb == "add" and kind == "table":
        key = (spec["family"], spec["name"])
        if key not in tables:
            tables[key] = Table(spec["family"], spec["name"], next_handle(tables))
    elif verb == "delete" and kind == "table":
        if tables.pop((spec["family"], spec["name"]), None) is None:
            raise BatchError(f"delete table {spec['name']}: No such file or directory")
    elif verb == "add" and kind == "chain":
        table = owner(tables, spec)
        if not any(c["name"] == spec["name"] for c in table.chains):
            table.chains.append(dict(spec, handle=len(table.chains) + 1))
    elif verb == "flush" and kind == "chain":
        table = owner(tables, spec)
        if not any(c["name"] == spec["name"] for c in table.chains):
            raise BatchError(f"chain {spec['name']}: No such file or directory")
        table.rules = [r for r in table.rules if r["chain"] != spec["name"]]
    elif verb == "add" and kind == "counter":
        table = owner(tables, spec)
        if not any(c["name"] == spec["name"] for c in table.counters):
            table.counters.append(dict(spec, packets=0, bytes=0))
    elif verb == "add" and kind == "rule":
        add_rule(owner(tables, spec), spec)
    elif verb == "add" and kind == "map":
        table = owner(tables, spec)
        for element in spec.get("elem", []):
            if isinstance(element[1], str) and element[1].startswith("@"):
                raise BatchError(f"{element[1]}: No such file or directory")  # a set reference
        if not any(m["name"] == spec["name"] for m in table.maps):
            table.maps.append(copy.deepcopy(spec))
    elif verb in ("add", "delete") and kind == "element":
        change_elements(owner(tables, spec), spec, add=verb == "add")
    else:
        raise BatchError(f"the fake kernel does not know `{verb} {kind}`")


def owner(tables: dict[tuple[str, str], Table], spec: Json) -> Table:
    table = tables.get((spec["family"], spec["table"]))
    if table is None:
        raise BatchError(f"table {spec['table']}: No such file or directory")
    return table


def add_rule(table: Table, spec: Json) -> None:
    if not any(c["name"] == spec["chain"] for c in table.chains):
        raise BatchError(f"chain {spec['chain']}: No such file or directory")
    expr = []
    for item in spec["expr"]:
        counter = item.get("counter", False) if isinstance(item, dict) else False
        if counter is None:
            expr.append({"counter": {"packets": 0, "bytes": 0}})
            continue
        if isinstance(counter, str) and not any(c["name"] == counter for c in table.counters):
            raise BatchError(f"counter {counter}: No such file or directory")
        expr.append(copy.deepcopy(item))
    rule = dict(spec, expr=expr, handle=len(table.rules) + len(table.chains) + 1)
    table.rules.append(rule)


def change_elements(table: Table, spec: Json, *, add: bool) -> None:
    """Adds (a key already there: "File exists") or deletes (a key missing: "No such file")
    elements of a map."""
    found = next((m for m in table.maps if m["name"] == spec["name"]), None)
    if found is None:
        raise BatchError(f"map {spec['name']}: No such file or directory")
    elements = found.setdefault("elem", [])
    keys = [repr(e[0]) for e in elements]
    for item in spec["elem"]:
        key = repr(item[0] if add else item)
        if add and key in keys:
            raise BatchError(f"element {key}: File exists")
        if not add and key not in keys:
            raise BatchError(f"element {key}: No such file or directory")
        if add:
            elements.append(copy.deepcopy(item))
            keys.append(key)
        else:
            index = keys.index(key)
            del elements[index], keys[index]


def next_handle(tables: dict[tuple[str, str], Table]) -> int:
    return max((t.handle for t in tables.values()), default=0) + 1
