"""The kinds of value of the desired-state document: each reads one JSON value into its typed
form (adding a problem with its path when it cannot), writes it back, and says in words what it
accepts. Records of them are declared in fields.py."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar, cast

from edgewise.model.problems import INVALID, Invalid, Json, Path, Problems, shown
from edgewise.model.units import UNITS, parse_scalar

T = TypeVar("T")


class Kind(Protocol[T]):
    """One type of value in the document."""

    def read(self, value: object, path: Path, out: Problems) -> T | Invalid: ...

    def write(self, value: T) -> Json: ...

    def describe(self) -> str:
        """What it accepts, as the end of "expected ...": `an integer from 1 to 65535`."""
        ...


def refuse(value: object, path: Path, out: Problems, kind: Kind[Any]) -> Invalid:
    return out.add(path, f"{shown(value)} is not {kind.describe()}", _code(value, kind))


def _code(value: object, kind: Kind[Any]) -> str:
    wants_text = isinstance(kind, Text | Choice | Prefix | Address | Interface | Scalar)
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
class Interface:
    """An IPv4 address with its prefix length (`198.51.100.2/30`): an interface's address."""

    def read(self, value: object, path: Path, out: Problems) -> ipaddress.IPv4Interface | Invalid:
        if not isinstance(value, str) or "/" not in value:
            return refuse(value, path, out, self)
        try:
            parsed = ipaddress.ip_interface(value.strip())
        except ValueError:
            return refuse(value, path, out, self)
        if not isinstance(parsed, ipaddress.IPv4Interface):
            return out.add(path, f"{shown(value)} is IPv6: sites route IPv4 only today")
        ends = (parsed.network.network_address, parsed.network.broadcast_address)
        if parsed.network.prefixlen < 31 and parsed.ip in ends:
            return out.add(path, f"{shown(value)} is the network's own or broadcast address")
        return parsed

    def write(self, value: ipaddress.IPv4Interface) -> Json:
        return str(value)

    def describe(self) -> str:
        return "an IPv4 address with its prefix length (e.g. 198.51.100.2/30)"


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


PORT: Final = Integer(1, 65535, "a port number")
