"""The parts of a SOL005 UpdateNsRequest that change an NS's chain (api.lcm_requests reads the
rest): `instantiateVnfData` (INSTANTIATE_VNF) and `removeVnfInstanceId` (REMOVE_VNF), checked
for shape here (400 naming the field); the orchestrator checks them against the NS (422)."""

from __future__ import annotations

from typing import Any

from edgewise.central.orchestrator.chain import NewVnf, Position
from edgewise.central.services.errors import InputProblem, Invalid


def new_vnfs(items: list[Any]) -> tuple[NewVnf, ...]:
    """The VNFs of `instantiateVnfData` (SOL005 InstantiateVnfData, and Edgewise's
    `chainPosition`: {before: VNF} or {after: VNF}; none: the WAN end of the chain)."""
    if not items:
        raise Invalid("nothing to update", [InputProblem("instantiateVnfData", "empty: give "
                      "the VNFs to instantiate (vnfdId, vnfFlavourId, ...)")])  # fmt: skip
    problems: list[InputProblem] = []
    found: list[NewVnf] = []
    for index, item in enumerate(items):
        where = f"instantiateVnfData[{index}]"
        if not isinstance(item, dict):
            problems.append(InputProblem(where, "expected an object (InstantiateVnfData)"))
            continue
        before = len(problems)
        vnfd_id, flavour = item.get("vnfdId"), item.get("vnfFlavourId")
        name, params = item.get("vnfInstanceName"), item.get("additionalParams", {})
        for key, value in (("vnfdId", vnfd_id), ("vnfFlavourId", flavour)):
            if not isinstance(value, str) or not value:
                problems.append(InputProblem(f"{where}.{key}", "missing: required (a string)"))
        if name is not None and not isinstance(name, str):
            problems.append(InputProblem(f"{where}.vnfInstanceName", "expected a string"))
        if not isinstance(params, dict):
            problems.append(InputProblem(f"{where}.additionalParams",
                                         "expected an object of the VNFD's inputs"))  # fmt: skip
        problems += [
            InputProblem(f"{where}.{key}", "not supported: an Edgewise site wires a VNF's two "
                         "connection points into the NS's chain itself")
            for key in ("extVirtualLinks", "extManagedVirtualLinks") if item.get(key)
        ]  # fmt: skip
        position = _position(item.get("chainPosition"), f"{where}.chainPosition", problems)
        if len(problems) == before:
            assert isinstance(vnfd_id, str)
            assert isinstance(flavour, str)
            found.append(NewVnf(vnfd_id, flavour, name or None, dict(params), position, where))
    if problems:
        raise Invalid("the VNFs to instantiate are not valid", problems)
    return tuple(found)


def _position(value: object, where: str, problems: list[InputProblem]) -> Position | None:
    if value is None:
        return None
    keys = sorted(value) if isinstance(value, dict) else []
    if keys not in (["before"], ["after"]) or not isinstance(value, dict):
        why = "expected {before: a VNF's name} or {after: a VNF's name}; none: the WAN end"
        problems.append(InputProblem(where, why))
        return None
    (side,) = keys
    name = value[side]
    if not isinstance(name, str) or not name:
        problems.append(InputProblem(f"{where}.{side}", "expected a VNF's name"))
        return None
    return Position(name, after=side == "after")


def removed_vnfs(items: list[Any]) -> tuple[tuple[str, str], ...]:
    """The VNF names of `removeVnfInstanceId`, each with its field."""
    if not items:
        raise Invalid("nothing to update", [InputProblem("removeVnfInstanceId", "empty: give "
                      "the ids of the VNF instances to remove (vnfInstance[].id)")])  # fmt: skip
    problems = []
    found: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"removeVnfInstanceId[{index}]"
        if not isinstance(item, str) or not item:
            problems.append(InputProblem(where, "expected a VNF instance id (a VNF's name)"))
        elif item in found:
            problems.append(InputProblem(where, f"{item!r} is named by {found[item]} already"))
        else:
            found[item] = where
    if problems:
        raise Invalid("the VNFs to remove are not valid", problems)
    return tuple(found.items())
