"""A site's desired state: the versioned document of the southbound channel, typed and frozen.

The central writes it (every write read back through here first), the site controller's journal
stores it, `DesiredState.from_document` parses it once at the site and `site.reconcile.plan`
and the drivers read the typed values. The document form is `to_document()`; its sections are
declared in this package with `fields.prop`, so a new property is one declaration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from edgewise.model.fields import Broken, Record, Section, prop, read_into, unique, write
from edgewise.model.functions import (
    CONFIGS,
    FunctionConfig,
    VnfFunction,
    config_document,
    function_of,
)
from edgewise.model.kinds import Choice, Integer, ListOf, Text
from edgewise.model.links import MAX_LINKS, WanLink
from edgewise.model.names import IDENT, NAME
from edgewise.model.overlay import MAX_OVERLAYS, Overlay
from edgewise.model.problems import (
    INVALID,
    DocumentError,
    Invalid,
    Json,
    Path,
    Problem,
    Problems,
    shown,
)
from edgewise.model.rtpolicy import MAX_POLICY_RULES, PolicyRule, rule_problems
from edgewise.model.steering import Steering

MAX_CHAIN: Final = 8  # VNFs wired in one chain (a site gives each service 8 transit links)
MAX_VNFS: Final = 16
MAX_SERVICES: Final = 1024
# Instances of one VNF in parallel (elastic VNFs, docs/elastic-vnfs.md): each is a namespace with
# two veths, and the neighbours' spreader holds an instance's number in 4 bits of the ct mark.
MAX_INSTANCES: Final = 8
INSTANCES: Final = Integer(1, MAX_INSTANCES, "an instance count")
FUNCTION: Final = Choice(tuple(f.value for f in VnfFunction))

__all__ = ["DesiredState", "DocumentError", "Problem", "ServiceSpec", "VnfFunction", "VnfSpec"]


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: equal values give equal text (hence equal digests)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)  # fmt: skip


def config_digest(config: FunctionConfig) -> str:
    """SHA-256 of the canonical JSON of a config: what tells a config change apart."""
    return hashlib.sha256(canonical_json(config_document(config)).encode()).hexdigest()


def scaled_digest(digest: str, instances: int) -> str:
    """A config's digest with the instance count folded in (one instance: the digest itself),
    so a VNF scaled out or in differs from the data plane as a config change does."""
    if instances == 1 or not digest:
        return digest
    return hashlib.sha256(f"{digest}x{instances}".encode()).hexdigest()


@dataclass(frozen=True)
class VnfSpec:
    """One VNF of a service: its name (unique in the service), its function and typed config,
    and how many instances of it run in parallel (1 unless scaled out; left out of the document
    then, so documents without elastic VNFs are unchanged)."""

    name: str
    function: VnfFunction
    config: FunctionConfig
    instances: int = 1

    def __post_init__(self) -> None:
        if function_of(self.config) is not self.function:
            raise TypeError(f"a {self.function.value} VNF with a {type(self.config).__name__}")
        if not 1 <= self.instances <= MAX_INSTANCES:
            raise ValueError(f"{self.instances} instances: from 1 to {MAX_INSTANCES}")

    def config_digest(self) -> str:
        """The digest the data plane is compared by: the config's, and the instance count."""
        return scaled_digest(self.ruleset_digest(), self.instances)

    def ruleset_digest(self) -> str:
        """The config's digest alone: what each instance's ruleset (or program) is built from."""
        return config_digest(self.config)

    def to_document(self) -> dict[str, Json]:
        document: dict[str, Json] = {"name": self.name, "function": self.function.value,
                                     "config": config_document(self.config)}  # fmt: skip
        if self.instances != 1:
            document["instances"] = self.instances
        return document


@dataclass(frozen=True)
class VnfKind:
    """A VNF entry: its config is read by the config type of its function."""

    def read(self, value: object, path: Path, out: Problems) -> VnfSpec | Invalid:
        if not isinstance(value, dict):
            return out.add(path, f"{shown(value)} is not an object", "type")
        before = len(out)
        for key in value:
            if key not in ("name", "function", "config", "instances"):
                out.add((*path, str(key)), "not a property of a VNF; it has config, function, "
                        "instances, name", "unknown")  # fmt: skip
        name = NAME.read(value.get("name"), (*path, "name"), out)
        function = FUNCTION.read(value.get("function"), (*path, "function"), out)
        config: FunctionConfig | Invalid = INVALID
        if isinstance(function, str):
            cls = CONFIGS[VnfFunction(function)]
            raw = value.get("config")
            config = read_into(cls, {} if raw is None else raw, (*path, "config"), out)
        raw_count = value.get("instances", 1)
        instances = INSTANCES.read(raw_count, (*path, "instances"), out)
        if len(out) > before or isinstance(name, Invalid) or isinstance(config, Invalid):
            return INVALID
        assert isinstance(function, str)
        assert isinstance(instances, int)
        return VnfSpec(name, VnfFunction(function), config, instances)

    def write(self, value: VnfSpec) -> Json:
        return value.to_document()

    def describe(self) -> str:
        return "a VNF: an object with name, function and config"


@dataclass(frozen=True)
class ServiceSpec(Section):
    """A network service at this site: VNFs and the chain that wires them LAN side to WAN side."""

    id: str = prop(IDENT, required=True)
    name: str = prop(Text(256), required=True)
    tenant: str = prop(IDENT, required=True)
    vnfs: tuple[VnfSpec, ...] = prop(ListOf(VnfKind(), MAX_VNFS), factory=tuple)
    chain: tuple[str, ...] = prop(ListOf(NAME, MAX_CHAIN), factory=tuple)

    def problems(self) -> Iterator[Broken]:
        yield from unique(self.vnfs, lambda v: v.name, "vnfs")
        names = {v.name for v in self.vnfs}
        seen: set[str] = set()
        for index, name in enumerate(self.chain):
            if name not in names:
                yield Broken(("chain", index), f"{name!r} names no VNF of this service")
            elif name in seen:
                yield Broken(("chain", index), f"{name!r} appears twice in the chain")
            seen.add(name)
        for index, vnf in enumerate(self.vnfs):
            if vnf.instances > 1:
                why = self._unscalable(vnf.name)
                if why:
                    yield Broken(("vnfs", index, "instances"), f"{vnf.name!r} {why}")

    def _unscalable(self, name: str) -> str:
        """Why VNF `name` may not run as several instances ("" when it may): its neighbours in
        the chain spread flows over the instances, so both must be VNFs of this service (the LAN
        gateway and the WAN side are shared by every service), single, and not classifiers (the
        classifier owns its namespace's conntrack mark, which the spreader writes)."""
        spec = self.vnf(name)
        if spec is not None and spec.function is VnfFunction.SOFTWARE:
            return ("is a third-party VNF: its package does not say whether its programs may "
                    "run side by side")  # fmt: skip
        if name not in self.chain:
            return "is not in the chain: only a chained VNF runs as several instances"
        at = self.chain.index(name)
        if at == 0 or at == len(self.chain) - 1:
            return ("is first or last in the chain: a VNF runs as several instances only with "
                    "a VNF of the service on each side")  # fmt: skip
        for neighbour in (self.chain[at - 1], self.chain[at + 1]):
            vnf = self.vnf(neighbour)
            if vnf is not None and vnf.instances > 1:
                return f"is next to {neighbour!r}, which runs as several instances too"
            if vnf is not None and vnf.function is VnfFunction.CLASSIFIER:
                return f"is next to {neighbour!r}, a classifier (it owns the conntrack mark)"
        return ""

    def vnf(self, name: str) -> VnfSpec | None:
        return next((v for v in self.vnfs if v.name == name), None)

    def vnfs_in_chain_order(self) -> tuple[VnfSpec, ...]:
        """The chain's VNFs LAN side first, then VNFs outside the chain in document order."""
        by_name = {v.name: v for v in self.vnfs}
        in_chain = tuple(by_name[name] for name in self.chain if name in by_name)
        return in_chain + tuple(v for v in self.vnfs if v.name not in self.chain)

    def to_document(self) -> dict[str, Json]:
        return write(self)


@dataclass(frozen=True)
class SiteSections(Section):
    """The document's sections: the services, and the site-level WAN links, steering,
    overlays and real-time policy rules (left out of the document when the site has none); an
    unknown section is refused, not carried along. Every link a steering policy, an overlay or
    a policy rule names is one of `links`; every class a policy rule names is one of
    steering's."""

    services: tuple[ServiceSpec, ...] = prop(
        ListOf(Record(ServiceSpec), MAX_SERVICES), required=True
    )
    links: tuple[WanLink, ...] | None = prop(ListOf(Record(WanLink), MAX_LINKS))
    steering: Steering | None = prop(Record(Steering))
    overlays: tuple[Overlay, ...] | None = prop(ListOf(Record(Overlay), MAX_OVERLAYS))
    policy_rules: tuple[PolicyRule, ...] | None = prop(ListOf(Record(PolicyRule), MAX_POLICY_RULES))

    def problems(self) -> Iterator[Broken]:
        yield from unique(self.services, lambda s: s.id, "services")
        links = self.links or ()
        yield from unique(links, lambda link: link.name, "links")
        yield from unique(links, lambda link: link.interface, "links")
        yield from unique(self.overlays or (), lambda o: o.tenant, "overlays")
        names = {link.name for link in links}
        named: list[tuple[Path, str]] = []
        if self.steering is not None:
            named += [(("steering", *path), name) for path, name in self.steering.link_names()]
        for index, overlay in enumerate(self.overlays or ()):
            named += [(("overlays", index, *path), name) for path, name in overlay.link_names()]
        for path, name in named:
            if name not in names:
                yield Broken(path, f"{name!r} names no link of links")
        classes = {c.name for c in self.steering.classes} if self.steering is not None else set()
        yield from rule_problems(self.policy_rules or (), names, classes)


@dataclass(frozen=True)
class DesiredState:
    """Revision N of a site's desired state."""

    revision: int
    services: tuple[ServiceSpec, ...] = ()
    links: tuple[WanLink, ...] = ()
    steering: Steering = field(default_factory=Steering)
    overlays: tuple[Overlay, ...] = ()
    policy_rules: tuple[PolicyRule, ...] = ()

    def service(self, service_id: str) -> ServiceSpec | None:
        return next((s for s in self.services if s.id == service_id), None)

    def link(self, name: str) -> WanLink | None:
        return next((link for link in self.links if link.name == name), None)

    def to_document(self) -> dict[str, Json]:
        return write(self.sections())

    def sections(self) -> SiteSections:
        steering = None if self.steering == Steering() else self.steering
        return SiteSections(self.services, self.links or None, steering, self.overlays or None,
                            self.policy_rules or None)  # fmt: skip

    @classmethod
    def from_document(cls, revision: object, document: object) -> DesiredState:
        """Reads a channel document; raises DocumentError listing every problem found."""
        out = Problems()
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
            out.add(("revision",), f"{shown(revision)} is not a non-negative integer")
        sections = read_into(SiteSections, document, (), out)
        if out.found or isinstance(sections, Invalid):
            raise DocumentError(out.found)
        assert isinstance(revision, int)
        return cls.of(revision, sections)

    @classmethod
    def of(cls, revision: int, sections: SiteSections) -> DesiredState:
        return cls(revision, sections.services, sections.links or (),
                   sections.steering or Steering(), sections.overlays or (),
                   sections.policy_rules or ())  # fmt: skip
