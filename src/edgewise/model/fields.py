"""The one reader and writer of the desired-state document: typed values in, JSON out, problems
tagged with their path.

A section of the document is a frozen dataclass whose fields are declared with `prop(kind)`;
a kind (`Text`, `Choice`, `Integer`, `Prefix`, `Rate`, `ListOf`, `Record` ...) reads one JSON
value into its typed form, writes it back, and says in words what it accepts. `read(cls, value)`
turns a document fragment into a `cls` or raises `DocumentError` with every problem found;
`write(record)` gives the canonical document form (fields in declaration order, `None` left
out), so reading what was written gives the same value back. The TOSCA loader, the central's
updates and the site controller all read through here: what one accepts, all accept.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, NamedTuple, Protocol, TypeVar, cast

from edgewise.model.units import UNITS, parse_scalar

T = TypeVar("T")
R = TypeVar("R", bound="Section")
Segment = int | str
Path = tuple[Segment, ...]
Json = Any  # a plain JSON value: dict, list, str, int, float, bool or None
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def render_path(path: Path) -> str:
    """`services[0].vnfs[1].config.rules[2].port`; a key that is not a plain name is quoted
    (`env["A B"]`); the empty path is the document itself."""
    text = "".join(
        f"[{s}]" if isinstance(s, int) else f".{s}" if _PLAIN_KEY.fullmatch(s) else f"[{s!r}]"
        for s in path
    ).lstrip(".")
    return text or "(document)"


@dataclass(frozen=True)
class Problem:
    """What is wrong with a value, and where: `path` from the document (or fragment) root.

    `code` is stable: `missing`, `type` (not the JSON type wanted), `value` (the right type, a
    refused value), `unknown` (a key the contract does not have), `limit` (too many, too long).
    """

    path: Path
    message: str
    code: str = "value"

    @property
    def where(self) -> str:
        return render_path(self.path)

    def under(self, prefix: Path) -> Problem:
        return Problem((*prefix, *self.path), self.message, self.code)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class DocumentError(ValueError):
    """A document (or a fragment of one) the contract refuses; `problems` lists every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def under(self, prefix: Path) -> DocumentError:
        return DocumentError(p.under(prefix) for p in self.problems)


class Problems:
    """Collects problems while a document is read."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, path: Path, message: str, code: str = "value") -> Invalid:
        self.found.append(Problem(path, message, code))
        return INVALID

    def __len__(self) -> int:
        return len(self.found)


class Invalid:
    """What a kind reads from a value it refused (after adding the problem)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = Invalid()


class Kind(Protocol[T]):
    """One type of value in the document."""

    def read(self, value: object, path: Path, out: Problems) -> T | Invalid: ...

    def write(self, value: T) -> Json: ...

    def describe(self) -> str:
        """What it accepts, as the end of "expected ...": `an integer from 1 to 65535`."""
        ...


def shown(value: object) -> str:
    """A value as a problem quotes it: JSON-like and short."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return repr(value)


def refuse(value: object, path: Path, out: Problems, kind: Kind[Any]) -> Invalid:
    return out.add(path, f"{shown(value)} is not {kind.describe()}", _code(value, kind))


def _code(value: object, kind: Kind[Any]) -> str:
    wants_text = isinstance(kind, Text | Choice | Prefix | Address | Scalar)
    if wants_text and not isinstance(value, str):
        return "type"
    if isinstance(kind, Integer) and (isinstance(value, bool) or not isinstance(value, int)):
        return "type"
    return "value"


@dataclass(frozen=True)
class Text:
    """A string of at most max_length characters (not blank unless `blank`), optionally
    matching `pattern`."""

    max_length: int = 256
    pattern: str | None = None
    what: str = "a non-empty string"
    blank: bool = False

    def read(self, value: object, path: Path, out: Problems) -> str | Invalid:
        if not isinstance(value, str) or not (self.blank or value.strip()):
            return refuse(value, path, out, self)
        if len(value) > self.max_length:
            return out.add(path, f"{len(value)} characters: at most {self.max_length}", "limit")
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return refuse(value, path, out, self)
        return value

    def write(self, value: str) -> Json:
        return value

    def describe(self) -> str:
        return self.what


@dataclass(frozen=True)
class Choice:
    """One of a few words."""

    options: tuple[str, ...]

    def read(self, value: object, path: Path, out: Problems) -> str | Invalid:
        if isinstance(value, str) and value in self.options:
            return value
        return refuse(value, path, out, self)

    def write(self, value: str) -> Json:
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(self.options)


@dataclass(frozen=True)
class Integer:
    """An integer from low to high (JSON numbers with a fraction are refused)."""

    low: int
    high: int
    what: str = "an integer"

    def read(self, value: object, path: Path, out: Problems) -> int | Invalid:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        ):
            return value
        return refuse(value, path, out, self)

    def write(self, value: int) -> Json:
        return value

    def describe(self) -> str:
        return f"{self.what} from {self.low} to {self.high}"


@dataclass(frozen=True)
class Boolean:
    def read(self, value: object, path: Path, out: Problems) -> bool | Invalid:
        if isinstance(value, bool):
            return value
        return out.add(path, f"{shown(value)} is not {self.describe()}", "type")

    def write(self, value: bool) -> Json:
        return value

    def describe(self) -> str:
        return "true or false"


IP = TypeVar("IP", ipaddress.IPv4Network, ipaddress.IPv4Address)


def read_ipv4(
    value: object, path: Path, out: Problems, kind: Kind[IP], parse: Callable[[str], object]
) -> IP | Invalid:
    """An IPv4 value parsed from a string; an IPv6 one is named as such."""
    if not isinstance(value, str):
        return refuse(value, path, out, kind)
    try:
        parsed = parse(value.strip())
    except ValueError:
        return refuse(value, path, out, kind)
    if not isinstance(parsed, ipaddress.IPv4Network | ipaddress.IPv4Address):
        return out.add(path, f"{shown(value)} is IPv6: sites route IPv4 only today")
    return cast("IP", parsed)


@dataclass(frozen=True)
class Prefix:
    """An IPv4 prefix (`192.0.2.0/24`; host bits are cleared; an address is a /32)."""

    def read(self, value: object, path: Path, out: Problems) -> ipaddress.IPv4Network | Invalid:
        return read_ipv4(value, path, out, self, lambda t: ipaddress.ip_network(t, strict=False))

    def write(self, value: ipaddress.IPv4Network) -> Json:
        return str(value)

    def describe(self) -> str:
        return "an IPv4 address or prefix (e.g. 192.0.2.0/24)"


@dataclass(frozen=True)
class Address:
    """An IPv4 address (`192.0.2.1`)."""

    def read(self, value: object, path: Path, out: Problems) -> ipaddress.IPv4Address | Invalid:
        return read_ipv4(value, path, out, self, ipaddress.ip_address)

    def write(self, value: ipaddress.IPv4Address) -> Json:
        return str(value)

    def describe(self) -> str:
        return "an IPv4 address (e.g. 192.0.2.1)"


@dataclass(frozen=True)
class Scalar:
    """A TOSCA scalar-unit string (`10 Mbps`, `64 KiB`), held as an integer in the base unit
    (bits per second, bytes), written back as `<integer> <base unit>`."""

    kind: str  # scalar-unit.bitrate or scalar-unit.size
    low: int = 1
    high: int = 2**63 - 1

    def read(self, value: object, path: Path, out: Problems) -> int | Invalid:
        amount = parse_scalar(self.kind, value)
        if amount is None or not math.isfinite(amount):
            return refuse(value, path, out, self)
        if not self.low <= amount <= self.high:
            return out.add(
                path,
                f"{shown(value)} is outside {self.low} to {self.high} {self.base}",
            )
        return int(amount)

    def write(self, value: int) -> Json:
        return f"{value} {self.base}"

    @property
    def base(self) -> str:
        return "bps" if self.kind == "scalar-unit.bitrate" else "B"

    def describe(self) -> str:
        example = "10 Mbps" if self.kind == "scalar-unit.bitrate" else "64 KiB"
        units = ", ".join(UNITS[self.kind])
        return f"a {self.kind.rsplit('.', 1)[-1]} with a unit, e.g. '{example}' (units: {units})"


@dataclass(frozen=True)
class PortRange:
    """`[low, high]`, two port numbers, low <= high."""

    def read(self, value: object, path: Path, out: Problems) -> tuple[int, int] | Invalid:
        if isinstance(value, list | tuple) and len(value) == 2:
            before = len(out)
            low, high = (PORT.read(v, (*path, i), out) for i, v in enumerate(value))
            if isinstance(low, int) and isinstance(high, int) and low <= high:
                return low, high
            if len(out) > before:
                return INVALID
        return refuse(value, path, out, self)

    def write(self, value: tuple[int, int]) -> Json:
        return list(value)

    def describe(self) -> str:
        return "a port range [low, high] with 1 <= low <= high <= 65535"


@dataclass(frozen=True)
class ListOf(Generic[T]):
    """An array of at most max_items items of one kind, read into a tuple."""

    item: Kind[T]
    max_items: int

    def read(self, value: object, path: Path, out: Problems) -> tuple[T, ...] | Invalid:
        if not isinstance(value, list | tuple):
            return out.add(path, f"{shown(value)} is not {self.describe()}", "type")
        if len(value) > self.max_items:
            return out.add(path, f"{len(value)} items: at most {self.max_items}", "limit")
        items = [self.item.read(v, (*path, i), out) for i, v in enumerate(value)]
        if any(isinstance(i, Invalid) for i in items):
            return INVALID
        return tuple(cast("list[T]", items))

    def write(self, value: tuple[T, ...]) -> Json:
        return [self.item.write(v) for v in value]

    def describe(self) -> str:
        return f"an array of at most {self.max_items} items, each {self.item.describe()}"


@dataclass(frozen=True)
class MapOf(Generic[T]):
    """An object of at most max_items entries (keys by `key`), read into sorted pairs."""

    key: Text
    item: Kind[T]
    max_items: int

    def read(self, value: object, path: Path, out: Problems) -> tuple[tuple[str, T], ...] | Invalid:
        if not isinstance(value, Mapping):
            return out.add(path, f"{shown(value)} is not {self.describe()}", "type")
        if len(value) > self.max_items:
            return out.add(path, f"{len(value)} entries: at most {self.max_items}", "limit")
        before = len(out)
        pairs = []
        for key, item in value.items():
            name = self.key.read(key, (*path, str(key)), out)
            read = self.item.read(item, (*path, str(key)), out)
            if isinstance(name, str) and not isinstance(read, Invalid):
                pairs.append((name, read))
        if len(out) > before:
            return INVALID
        return tuple(sorted(pairs, key=lambda pair: pair[0]))

    def write(self, value: tuple[tuple[str, T], ...]) -> Json:
        return {k: self.item.write(v) for k, v in value}

    def describe(self) -> str:
        return f"an object of at most {self.max_items} entries"


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


def specs(cls: type[Any]) -> Iterator[FieldSpec]:
    for f in dataclasses.fields(cls):
        if "kind" not in f.metadata:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        yield FieldSpec(f.name, f.metadata["key"] or f.name, f.metadata["kind"],
                        f.metadata["required"], default)  # fmt: skip


def read_into(cls: type[R], value: object, path: Path, out: Problems) -> R | Invalid:
    """`cls` from a JSON object: every problem of every field, then the record's own rules."""
    if not isinstance(value, Mapping):
        return out.add(path, f"{shown(value)} is not an object", "type")
    fields = list(specs(cls))
    known = {spec.key for spec in fields}
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


PORT: Final = Integer(1, 65535, "a port number")
