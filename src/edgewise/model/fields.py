"""The one reader and writer of the desired-state document: typed values in, JSON out, problems
tagged with their path.

A section of the document is a frozen dataclass (a `Section`) whose fields are declared with
`prop(kind)` (kinds.py); `read(cls, value)` turns a document fragment into a `cls` or raises
`DocumentError` with every problem found; `write(record)` gives the canonical document form
(fields in declaration order, `None` left out), so reading what was written gives the same value
back. The TOSCA loader, the central's updates and the site controller all read through here:
what one accepts, all accept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from edgewise.model.kinds import Kind
from edgewise.model.problems import INVALID, DocumentError, Invalid, Json, Path, Problems, shown

T = TypeVar("T")
R = TypeVar("R", bound="Section")


class Broken(NamedTuple):
    """A rule across fields that a record breaks: where (relative to the record) and why."""

    path: Path
    message: str
    code: str = "value"


class Section:
    """The base of every record of the document (a frozen dataclass declared with `prop`): a
    record whose fields are all well typed may still break a rule across its fields."""

    def problems(self) -> Iterator[Broken]:
        """Each broken rule (none by default)."""
        return iter(())


@dataclass(frozen=True)
class Record(Generic[R]):
    """An object read into the dataclass `cls`, field by field (see `prop`)."""

    cls: type[R]

    def read(self, value: object, path: Path, out: Problems) -> R | Invalid:
        return read_into(self.cls, value, path, out)

    def write(self, value: R) -> Json:
        return write(value)

    def describe(self) -> str:
        return "an object: " + ", ".join(spec.key for spec in specs(self.cls))


@dataclass(frozen=True)
class FieldSpec:
    """A dataclass field as the document has it: its key, its kind, whether it must be given."""

    name: str
    key: str
    kind: Kind[Any]
    required: bool
    default: Any


def prop(
    kind: Kind[Any],
    *,
    default: Any = None,
    required: bool = False,
    key: str | None = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """Declares a document field: its kind, its default (None: left out when written), and the
    document key when it is not the attribute's name."""
    metadata = {"kind": kind, "required": required, "key": key}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    if required:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


SPECS = "__field_specs__"
KEYS = "__field_keys__"


def specs(cls: type[Any]) -> tuple[FieldSpec, ...]:
    """The record's document fields, in declaration order. Derived from the dataclass fields
    once and kept on the class itself (as dataclasses keep theirs): immutable, like the class."""
    found: tuple[FieldSpec, ...] | None = cls.__dict__.get(SPECS)
    if found is None:
        found = tuple(_spec(f) for f in dataclasses.fields(cls) if "kind" in f.metadata)
        setattr(cls, SPECS, found)
    return found


def keys(cls: type[Any]) -> frozenset[str]:
    """The document keys of the record (kept on the class like its specs)."""
    found: frozenset[str] | None = cls.__dict__.get(KEYS)
    if found is None:
        found = frozenset(spec.key for spec in specs(cls))
        setattr(cls, KEYS, found)
    return found


def _spec(f: dataclasses.Field[Any]) -> FieldSpec:
    if f.default is not dataclasses.MISSING:
        default = f.default
    elif f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()  # an empty tuple: immutable, shared safely
    else:
        default = None
    return FieldSpec(f.name, f.metadata["key"] or f.name, f.metadata["kind"],
                     f.metadata["required"], default)  # fmt: skip


def read_into(cls: type[R], value: object, path: Path, out: Problems) -> R | Invalid:
    """`cls` from a JSON object: every problem of every field, then the record's own rules."""
    if not isinstance(value, Mapping):
        return out.add(path, f"{shown(value)} is not an object", "type")
    fields = specs(cls)
    known = keys(cls)
    before = len(out)
    for key in value:
        if key not in known:
            out.add(
                (*path, str(key)),
                "not a property of this object; it has " + ", ".join(sorted(known)),
                "unknown",
            )
    values: dict[str, Any] = {}
    for spec in fields:
        raw = value.get(spec.key)
        if raw is None:
            if spec.required:
                out.add((*path, spec.key), f"missing: expected {spec.kind.describe()}", "missing")
            else:
                values[spec.name] = spec.default
            continue
        values[spec.name] = spec.kind.read(raw, (*path, spec.key), out)
    if len(out) > before:
        return INVALID
    record = cls(**values)
    for broken in record.problems():
        out.add((*path, *broken.path), broken.message, broken.code)
    return INVALID if len(out) > before else record


def write(record: Any) -> dict[str, Json]:
    """The canonical document form of a record: declared order, None left out."""
    document: dict[str, Json] = {}
    for spec in specs(type(record)):
        value = getattr(record, spec.name)
        if value is not None:
            document[spec.key] = spec.kind.write(value)
    return document


def read(cls: type[R], value: object, path: Path = ()) -> R:
    """`cls` read from a document fragment; raises DocumentError naming every problem."""
    out = Problems()
    record = read_into(cls, value, path, out)
    if isinstance(record, Invalid):
        raise DocumentError(out.found)
    return record


def merge_patch(target: Json, patch: Json) -> Json:
    """RFC 7396 JSON Merge Patch: objects merge key by key, null removes a key, anything else
    replaces (SOL005 changes a VNF's configurable properties this way)."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def unique(values: Sequence[T], name: Callable[[T], str], field: str) -> Iterator[Broken]:
    """A problem for each item whose `name` repeats an earlier one's."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        key = name(value)
        if key in seen:
            yield Broken((field, index), f"{key!r} repeats {field}[{seen[key]}]")
        else:
            seen[key] = index
