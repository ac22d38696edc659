"""A site's desired state: the versioned document of the southbound channel, validated and frozen.

The central writes it, the site controller's journal stores it and `site.reconcile.plan` reads it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

FROZEN_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
SERVICE_KEYS: Final = ("id", "name", "tenant", "vnfs", "chain")


class VnfFunction(StrEnum):
    """What a VNF does on the data plane."""

    ROUTER = "router"
    FIREWALL = "firewall"
    NAT = "nat"
    RATE_LIMITER = "rate-limiter"
    CLASSIFIER = "classifier"
    PROCESS = "process"


FUNCTION_VALUES: Final = frozenset(f.value for f in VnfFunction)
FUNCTIONS: Final = ", ".join(repr(f.value) for f in VnfFunction)


class DocumentError(ValueError):
    """The document is not a valid desired state; `problems` lists every problem with its path."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def freeze(value: Any) -> Any:
    """A deeply immutable copy of a JSON value: objects become read-only mappings, arrays tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The plain JSON value (dicts and lists) of a frozen one."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: equal values give equal text (hence equal digests)."""
    return json.dumps(
        thaw(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True)
class VnfSpec:
    """One VNF of a service: its name (unique in the service), its function and its config."""

    name: str
    function: VnfFunction
    config: Mapping[str, Any] = field(default_factory=lambda: FROZEN_EMPTY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", freeze(self.config))

    def config_digest(self) -> str:
        """SHA-256 of the canonical JSON of the config: what tells a config change apart."""
        return hashlib.sha256(canonical_json(self.config).encode()).hexdigest()

    def to_document(self) -> dict[str, Any]:
        return {"name": self.name, "function": self.function.value, "config": thaw(self.config)}


@dataclass(frozen=True)
class ServiceSpec:
    """A network service at this site: VNFs and the chain that wires them LAN side to WAN side."""

    id: str
    name: str
    tenant: str
    vnfs: tuple[VnfSpec, ...] = ()
    chain: tuple[str, ...] = ()

    def vnf(self, name: str) -> VnfSpec | None:
        return next((v for v in self.vnfs if v.name == name), None)

    def vnfs_in_chain_order(self) -> tuple[VnfSpec, ...]:
        """The chain's VNFs LAN side first, then VNFs outside the chain in document order."""
        by_name = {v.name: v for v in self.vnfs}
        in_chain = tuple(by_name[name] for name in self.chain if name in by_name)
        return in_chain + tuple(v for v in self.vnfs if v.name not in self.chain)

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tenant": self.tenant,
            "vnfs": [v.to_document() for v in self.vnfs],
            "chain": list(self.chain),
        }


@dataclass(frozen=True)
class DesiredState:
    """Revision N of a site's desired state; `extra` keeps the top-level keys not known here."""

    revision: int
    services: tuple[ServiceSpec, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=lambda: FROZEN_EMPTY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", freeze(self.extra))

    def service(self, service_id: str) -> ServiceSpec | None:
        return next((s for s in self.services if s.id == service_id), None)

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = thaw(self.extra)
        document["services"] = [s.to_document() for s in self.services]
        return document

    @classmethod
    def from_document(cls, revision: object, document: object) -> DesiredState:
        """Validates a channel document; raises DocumentError listing every problem found."""
        problems: list[str] = []
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
            problems.append(f"revision: {revision!r} is not a non-negative integer")
        services: tuple[ServiceSpec, ...] = ()
        extra: dict[str, Any] = {}
        if not isinstance(document, Mapping):
            problems.append(f"document: expected an object, got {type_name(document)}")
        else:
            extra = {str(k): v for k, v in document.items() if k != "services"}
            problems.extend(p for key, v in extra.items() for p in json_problems(v, key))
            if "services" not in document:
                problems.append("services: missing")
            else:
                services = tuple(parse_services(document["services"], problems))
        if problems:
            raise DocumentError(tuple(problems))
        assert isinstance(revision, int)
        return cls(revision, services, extra)


def parse_services(value: object, problems: list[str]) -> Iterator[ServiceSpec]:
    if not isinstance(value, list):
        problems.append(f"services: expected an array, got {type_name(value)}")
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        path = f"services[{index}]"
        service = parse_service(item, path, problems)
        sid = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(sid, str) and sid in seen:
            problems.append(f"{path}.id: {sid!r} repeats services[{seen[sid]}].id")
        elif isinstance(sid, str):
            seen[sid] = index
        if service is not None:
            yield service


def parse_service(item: object, path: str, problems: list[str]) -> ServiceSpec | None:
    if not isinstance(item, Mapping):
        problems.append(f"{path}: expected an object, got {type_name(item)}")
        return None
    before = len(problems)
    service_id = text(item, "id", path, problems)
    name = text(item, "name", path, problems)
    tenant = text(item, "tenant", path, problems)
    raw_vnfs = item.get("vnfs")
    vnfs = tuple(parse_vnfs(raw_vnfs, f"{path}.vnfs", problems))
    named = (
        {v["name"] for v in raw_vnfs if isinstance(v, Mapping) and isinstance(v.get("name"), str)}
        if isinstance(raw_vnfs, list)
        else set()
    )
    chain = parse_chain(item.get("chain", []), f"{path}.chain", named, problems)
    if len(problems) > before:
        return None
    return ServiceSpec(service_id, name, tenant, vnfs, chain)


def parse_vnfs(value: object, path: str, problems: list[str]) -> Iterator[VnfSpec]:
    if not isinstance(value, list):
        problems.append(f"{path}: expected an array, got {type_name(value)}")
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected an object, got {type_name(item)}")
            continue
        before = len(problems)
        name = text(item, "name", where, problems)
        if name and name in seen:
            problems.append(f"{where}.name: {name!r} repeats {path}[{seen[name]}].name")
        elif name:
            seen[name] = index
        raw_function = item.get("function")
        function = None
        if isinstance(raw_function, str) and raw_function in FUNCTION_VALUES:
            function = VnfFunction(raw_function)
        else:
            problems.append(f"{where}.function: {raw_function!r} is not one of {FUNCTIONS}")
        config = item.get("config", {})
        if not isinstance(config, Mapping):
            problems.append(f"{where}.config: expected an object, got {type_name(config)}")
        else:
            problems.extend(json_problems(config, f"{where}.config"))
        if len(problems) == before and function is not None:
            yield VnfSpec(name, function, config)


def parse_chain(value: object, path: str, names: set[str], problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        problems.append(f"{path}: expected an array, got {type_name(value)}")
        return ()
    seen: set[str] = set()
    for index, name in enumerate(value):
        if not isinstance(name, str):
            problems.append(f"{path}[{index}]: expected a string, got {type_name(name)}")
        elif name not in names:
            problems.append(f"{path}[{index}]: {name!r} names no VNF of this service")
        elif name in seen:
            problems.append(f"{path}[{index}]: {name!r} appears twice in the chain")
        else:
            seen.add(name)
    return tuple(v for v in value if isinstance(v, str))


def text(item: Mapping[Any, Any], key: str, path: str, problems: list[str]) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if key not in item else f"{value!r} is not a non-empty string"
        problems.append(f"{path}.{key}: {shown}")
        return ""
    return value


def json_problems(value: object, path: str) -> Iterator[str]:
    """What keeps a value from being plain JSON (object keys strings, finite numbers)."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            yield f"{path}: {value!r} is not a finite number"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                yield f"{path}: key {key!r} is not a string"
            else:
                yield from json_problems(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from json_problems(item, f"{path}[{index}]")
    else:
        yield f"{path}: {type_name(value)} is not a JSON value"


def type_name(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
