"""Node template properties -> the typed config of an Edgewise native function, with positions.

Runs in the model builder after type and constraint checks, on effective values (get_input
replaced by the input's default). The values are read by the desired-state contract's own
reader (`edgewise.model.functions.read_config`), the one the central and the sites use, so a
descriptor onboards exactly when its configs would be accepted at a site; this module only
maps each problem's path back to the YAML node it is about (or to the get_input call that
brought the value in).
"""

from __future__ import annotations

from collections.abc import Mapping

from edgewise.model.fields import specs
from edgewise.model.functions import CONFIGS, TOSCA_TYPES, FunctionConfig, read_config
from edgewise.model.problems import DocumentError, Path, render_path
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.values import function_call
from edgewise.tosca.yamltree import Node

CODES = {"missing": "property.required"}  # every other contract problem is property.value


def locate(written: Mapping[str, Node], where: Path) -> Node | None:
    """The deepest written node along the path; a get_input call stops the walk (its value
    comes from elsewhere), None when the property is not written at all (a type default)."""
    first = where[0] if where else None
    node = written.get(first) if isinstance(first, str) else None
    if node is None:
        return None
    for segment in where[1:]:
        if function_call(node) is not None:
            break
        value = node.value
        child: Node | None = None
        if isinstance(segment, int) and isinstance(value, list) and 0 <= segment < len(value):
            child = value[segment]
        elif isinstance(segment, str) and isinstance(value, dict):
            child = value.get(segment)
        if child is None:
            break
        node = child
    return node


def build_function(
    type_names: tuple[str, ...],
    props: Mapping[str, object],
    *,
    owner: Mark,
    path: str,
    written: Mapping[str, Node],
    log: ProblemLog,
) -> FunctionConfig | None:
    """The config of a native VNF node (None when the node is not native, or after logging
    every problem). `written` holds the property nodes as the template states them and
    `owner` is where the node template starts: together they position each problem."""
    function = next((TOSCA_TYPES[name] for name in type_names if name in TOSCA_TYPES), None)
    if function is None:
        return None
    keys = {spec.key for spec in specs(CONFIGS[function])}
    known = [p.path for p in log.problems if p.path.startswith(path)]
    try:
        return read_config(function, {k: v for k, v in props.items() if k in keys})
    except DocumentError as exc:
        for problem in exc.problems:
            where = f"{path}.properties.{render_path(problem.path)}".replace(".[", "[")
            if any(related(where, other) for other in known):
                continue  # the type checks said it already
            node = locate(written, problem.path)
            mark = owner if node is None else node.mark(owner.file)
            log.add(mark, where, CODES.get(problem.code, "property.value"), problem.message)
        return None


def related(one: str, other: str) -> bool:
    """Whether two property paths are the same, or one lies inside the other."""
    short, long = sorted((one, other), key=len)
    return long == short or long.startswith((short + ".", short + "["))
