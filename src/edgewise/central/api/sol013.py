"""SOL013 query conventions over a list of representations: attribute filters, field selectors.

Filters come in both SOL013 spellings: `filter=(eq,nsdName,vCPE);(neq,nsdUsageState,IN_USE)`
and the plain `nsdName=vCPE`. Attribute paths use `/` for nesting; in the plain spelling, the
members of the attributes a resource names `nested` may also be named with a dot, as SOL005's
tables name them (`filter.notificationTypes=...`, see `dotted`). An unknown attribute or
operator is a 400, never an empty result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from typing import Any

from edgewise.central.services.errors import InputProblem, Invalid

RESERVED = {
    "filter",
    "all_fields",
    "fields",
    "exclude_fields",
    "exclude_default",
    "nextpage_opaque_marker",
    "limit",
}
_TERM = re.compile(r"^\((?P<op>[a-z]+),(?P<attr>[^,()]+)(?P<values>(,[^()]*)*)\)$")


def _compare(op: str, parameter: str) -> Callable[[Any, list[str]], bool]:
    def as_text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def number_cmp(value: Any, wanted: str, test: Callable[[Any, Any], bool]) -> bool:
        try:
            return test(float(value), float(wanted))
        except (TypeError, ValueError):
            return test(as_text(value), wanted)

    table: dict[str, Callable[[Any, list[str]], bool]] = {
        "eq": lambda v, w: as_text(v) in w,
        "neq": lambda v, w: as_text(v) not in w,
        "cont": lambda v, w: any(x in as_text(v) for x in w),
        "ncont": lambda v, w: not any(x in as_text(v) for x in w),
        "gt": lambda v, w: number_cmp(v, w[0], lambda a, b: a > b),
        "gte": lambda v, w: number_cmp(v, w[0], lambda a, b: a >= b),
        "lt": lambda v, w: number_cmp(v, w[0], lambda a, b: a < b),
        "lte": lambda v, w: number_cmp(v, w[0], lambda a, b: a <= b),
    }
    if op not in table:
        raise Invalid(
            "unknown filter operator",
            [InputProblem(parameter, f"operator {op!r} is not one of {', '.join(table)}")],
        )
    return table[op]


def _values_at(document: Any, path: Sequence[str]) -> list[Any]:
    """All values at `path`, descending into lists (SOL013: any element may match)."""
    current = [document]
    for part in path:
        following: list[Any] = []
        for item in current:
            if isinstance(item, Mapping) and part in item:
                value = item[part]
                following.extend(value if isinstance(value, list) else [value])
        current = following
    return current


def parse_filters(
    query: Iterable[tuple[str, str]], known: set[str]
) -> list[tuple[Callable[[Any, list[str]], bool], list[str], list[str], bool]]:
    """(comparison, path, values, negative) for every filter term in the query string; Invalid,
    naming the query parameter, for a term that is malformed or names an unknown attribute."""
    terms: list[tuple[str, str, str, list[str]]] = []  # (parameter, op, attribute, values)
    for name, value in query:
        if name == "filter":
            for term in filter(None, value.split(";")):
                match = _TERM.match(term.strip())
                if not match:
                    raise Invalid(
                        "malformed filter",
                        [
                            InputProblem(
                                "filter", f"{term!r} is not of the form (op,attribute,value...)"
                            )
                        ],
                    )
                values = [v for v in match["values"].split(",") if v != ""]
                terms.append(("filter", match["op"], match["attr"], values))
        elif name not in RESERVED:
            attr, _, op = name.partition(".")
            terms.append((name, op or "eq", attr, [v for v in value.split(",") if v != ""]))
    parsed = []
    for parameter, op, attr, values in terms:
        path = attr.split("/")
        if path[0] not in known:
            raise Invalid(
                "unknown attribute in filter",
                [InputProblem(parameter, f"{path[0]!r} is not an attribute of this resource")],
            )
        compare = _compare(op, parameter)
        wanted = "one value" if op in ORDERING else "at least one value"
        if not values or (op in ORDERING and len(values) != 1):
            raise Invalid(
                "malformed filter",
                [InputProblem(parameter, f"({op},{attr}) needs {wanted} to compare with")],
            )
        parsed.append((compare, path, values, op in ("neq", "ncont")))
    return parsed


ORDERING = frozenset({"gt", "gte", "lt", "lte"})
OPERATORS = frozenset({"eq", "neq", "cont", "ncont"}) | ORDERING


def dotted(query: Iterable[tuple[str, str]], nested: frozenset[str]) -> list[tuple[str, str]]:
    """The query with SOL005's dotted names of the members of `nested` attributes
    (`rootCauseFaultyResource.faultyResourceType=NETWORK`) in SOL013's spelling
    (`rootCauseFaultyResource/faultyResourceType`); a last part that is an operator stays one,
    and so does a name of any other attribute (`nsdName.eqq` is an unknown operator)."""
    spelled = []
    for name, value in query:
        head, _, rest = name.partition(".")
        parts = rest.split(".")
        if head in nested and rest and not (len(parts) == 1 and rest in OPERATORS):
            operator = [parts.pop()] if len(parts) > 1 and parts[-1] in OPERATORS else []
            spelled.append((".".join(["/".join([head, *parts]), *operator]), value))
        else:
            spelled.append((name, value))
    return spelled


def apply_filters(
    documents: list[dict[str, Any]], query: Iterable[tuple[str, str]], known: set[str]
) -> list[dict[str, Any]]:
    filters = parse_filters(query, known)

    def keep(document: dict[str, Any]) -> bool:
        for compare, path, values, negative in filters:
            found = _values_at(document, path)
            hit = (
                all(compare(v, values) for v in found)
                if negative
                else any(compare(v, values) for v in found)
            )
            if not hit:
                return False
        return True

    return [d for d in documents if keep(d)]


def select_fields(
    documents: list[dict[str, Any]],
    params: Mapping[str, str],
    *,
    default_excluded: Sequence[str],
    known: set[str],
) -> list[dict[str, Any]]:
    """Applies all_fields / fields / exclude_fields / exclude_default (SOL013 5.3)."""
    chosen = [
        k for k in ("all_fields", "fields", "exclude_fields", "exclude_default") if k in params
    ]
    if len(chosen) > 1 and not (set(chosen) == {"fields", "exclude_default"}):
        raise Invalid(
            "conflicting attribute selectors",
            [
                InputProblem(
                    ",".join(chosen),
                    "use only one of all_fields, fields, exclude_fields, exclude_default",
                )
            ],
        )
    if "all_fields" in params:
        return documents
    excluded: list[list[str]] = []
    included: list[list[str]] = []
    if "exclude_fields" in params:
        excluded = _paths("exclude_fields", params["exclude_fields"], known)
    elif "fields" in params:
        included = _paths("fields", params["fields"], known)
    if "exclude_fields" not in params:
        excluded = [[name] for name in default_excluded if [name] not in included]
    result = []
    for document in documents:
        copy = deepcopy(document)
        for path in excluded:
            _drop(copy, path)
        result.append(copy)
    return result


def _paths(parameter: str, text: str, known: set[str]) -> list[list[str]]:
    paths = [p.split("/") for p in filter(None, text.split(","))]
    for path in paths:
        if path[0] not in known:
            raise Invalid(
                "unknown attribute in selector",
                [InputProblem(parameter, f"{path[0]!r} is not an attribute of this resource")],
            )
    return paths


def _drop(document: Any, path: list[str]) -> None:
    if not isinstance(document, dict) or path[0] not in document:
        return
    if len(path) == 1:
        del document[path[0]]
        return
    child = document[path[0]]
    for item in child if isinstance(child, list) else [child]:
        _drop(item, path[1:])
