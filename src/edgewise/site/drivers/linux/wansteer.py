"""Steering at run time: the steering table loaded, link health in, the decision applied.

`WanSteerer` holds its own nftables context and netlink socket in the WAN namespace (made in
the worker thread), so that a link's carrier loss, heard by the carrier watch's thread
(wancarrier.py), moves traffic without waiting for the worker: under its lock it decides again
(site.sdwan.decide) and applies what moved — the `route` map's elements in ONE transaction,
then the main table's default route (for traffic the WAN namespace sends itself). Health comes
from the carrier (netlink) and from the probes (`set_probed`, called by wanhealth.py from the
prober's thread); real-time policy's steer rules override a class's link (`override`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any

from edgewise.model.steering import Steering
from edgewise.site.drivers.linux.kernel import Conntrack, Netlink, Nftables
from edgewise.site.drivers.linux.steering import (
    BUCKET_MASK,
    PINNED,
    elements_batch,
    read_elements,
    route_elements,
    steering_batch,
)
from edgewise.site.drivers.linux.wanmarks import CLASS_MASK, KEY_MASK, PROTO_WAN, policy_mark
from edgewise.site.drivers.linux.wanplan import DEFAULT_ROUTE, LinkPlan
from edgewise.site.rtpolicy.override import overridden
from edgewise.site.sdwan.decide import DEFAULT, Decision, decide, policy_key
from edgewise.site.sdwan.health import DOWN, UP, LinkHealth, LinkState


@dataclass
class Loaded:
    """What the steering table was last built from."""

    steering: Steering
    plans: dict[str, LinkPlan]  # by link name, in the site's order
    oifs: dict[str, int]  # interface index by link name
    digest: str


@dataclass
class Applied:
    """Figures of the decisions applied (reported with the counters)."""

    moves: int = 0
    last_us: float | None = None  # how long the last decision took to apply
    history: list[float] = field(default_factory=list)  # µs, last 32


class WanSteerer:
    def __init__(
        self,
        nft: Nftables,
        nl: Netlink,
        conntrack: Conntrack,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._nft = nft
        self._nl = nl
        self._conntrack = conntrack
        self._clock = clock
        self._lock = threading.Lock()
        self.loaded: Loaded | None = None
        self.carrier: dict[str, bool] = {}
        self.probed: dict[str, LinkHealth] = {}
        self.decision: Decision | None = None
        self.elements: dict[int, int] = {}
        self.applied = Applied()
        self.overrides: dict[str, str] = {}  # class -> link, while a steer rule holds it

    def health(self) -> dict[str, LinkHealth]:
        """Carrier first (no carrier: down, whatever the probes say), then the probes."""
        links = self.loaded.plans if self.loaded is not None else {}
        found = {}
        for name, plan in links.items():
            if not self.carrier.get(name, False) or plan.gateway is None:
                found[name] = DOWN
            else:
                found[name] = self.probed.get(name, UP)
        return found

    def load(self, loaded: Loaded, sources: Mapping[str, Sequence[IPv4Network]]) -> None:
        """Builds the whole steering table (one transaction) with the decision for now. The
        carrier is read here, under the lock: start the carrier watch first, and no change is
        missed."""
        with self._lock:
            self.loaded = loaded
            self.carrier = {}
            for name, plan in loaded.plans.items():
                link = self._nl.link(plan.link.interface)
                self.carrier[name] = link is not None and link.up and link.carrier
            self.probed = {k: v for k, v in self.probed.items() if k in loaded.plans}
            decision = self._decide(fresh=self.decision is None)
            elements = route_elements(loaded.steering, loaded.plans, decision)
            self._nft.run(steering_batch(loaded.steering, loaded.plans, sources, elements,
                                         loaded.digest))  # fmt: skip
            self.elements = elements
            self.decision = decision
            self._set_default_route(decision)

    def unload(self) -> None:
        with self._lock:
            self.loaded = None
            self.decision = None
            self.elements = {}
            for route in self._nl.routes(PROTO_WAN):
                if route.destination == DEFAULT_ROUTE:
                    self._nl.delete_route(route)

    def set_carrier(self, link: str, carrier: bool) -> bool:
        """A link's carrier changed (netlink); True when traffic moved."""
        with self._lock:
            if self.carrier.get(link) == carrier:
                return False
            self.carrier[link] = carrier
            return self._redecide()

    def set_probed(self, link: str, health: LinkHealth) -> bool:
        """What the probes measure of a link (state, latency, loss, jitter)."""
        with self._lock:
            self.probed[link] = health
            return self._redecide()

    def override(self, classes: Mapping[str, str]) -> bool:
        """Real-time policy's steer rules: each class on its link while the link is usable
        (site.rtpolicy.override); True when traffic moved."""
        with self._lock:
            if dict(classes) == self.overrides:
                return False
            self.overrides = dict(classes)
            return self._redecide()

    def tick(self) -> bool:
        """Decides again (a failback's hold time may have passed)."""
        with self._lock:
            return self._redecide()

    def due(self) -> float | None:
        with self._lock:
            if self.decision is None or self.loaded is None:
                return None
            return self.decision.due(self.loaded.steering.hold_s)

    def interface_links(self) -> dict[str, str]:
        """Link names by interface name (for the carrier watch)."""
        with self._lock:
            plans = self.loaded.plans if self.loaded is not None else {}
            return {plan.link.interface: name for name, plan in plans.items()}

    def drifted(self, items: Sequence[dict[str, Any]]) -> bool:
        """Whether the listed table's `route` elements are not the ones last applied."""
        with self._lock:
            return read_elements(items) != self.elements

    def _decide(self, *, fresh: bool = False) -> Decision:
        assert self.loaded is not None
        previous = None if fresh else self.decision
        names = list(self.loaded.plans)
        health, now = self.health(), self._clock()
        decision = decide(self.loaded.steering, names, health, previous, now)
        return overridden(decision, self.loaded.steering, self.overrides, health, now)

    def _redecide(self) -> bool:
        if self.loaded is None:
            return False
        decision = self._decide()
        moved = self.decision is None or decision.routes != self.decision.routes
        if not moved:
            self.decision = decision
            return False
        started = time.perf_counter()
        elements = route_elements(self.loaded.steering, self.loaded.plans, decision)
        batch = elements_batch(self.elements, elements)
        if batch:
            self._nft.run(batch)
        self.elements = elements
        previous = self.decision
        self.decision = decision
        if previous is None or decision.links(DEFAULT) != previous.links(DEFAULT):
            self._set_default_route(decision)
        for mark, mask in self._moved_flows(previous, decision):
            self._conntrack.delete_marked(mark, mask)
        took = (time.perf_counter() - started) * 1e6
        self.applied.moves += 1
        self.applied.last_us = took
        self.applied.history = [*self.applied.history[-31:], took]
        return True

    def _moved_flows(self, previous: Decision | None, decision: Decision) -> list[tuple[int, int]]:
        """(mark, mask) of the conntrack entries of each key whose links changed: their flows
        start afresh on the new link (its source NAT) at their next packet."""
        if previous is None or self.loaded is None:
            return []
        found = []
        if previous.links(DEFAULT) != decision.links(DEFAULT):
            found += [(0, KEY_MASK), (PINNED, PINNED | BUCKET_MASK)]  # and flows named late
        for index, policy in enumerate(self.loaded.steering.policies):
            key = policy_key(policy)
            if previous.links(key) != decision.links(key):
                found.append((policy_mark(index), CLASS_MASK))
        return found

    def _set_default_route(self, decision: Decision) -> None:
        """The main table's default route out of the default traffic's link (none: removed)."""
        assert self.loaded is not None
        links = decision.links(DEFAULT)
        plan = self.loaded.plans.get(links[0]) if links else None
        if plan is None or plan.gateway is None:
            for route in self._nl.routes(PROTO_WAN):
                if route.destination == DEFAULT_ROUTE:
                    self._nl.delete_route(route)
            return
        oif = self.loaded.oifs.get(plan.link.name)
        self._nl.replace_route(DEFAULT_ROUTE, PROTO_WAN, gateway=plan.gateway, oif=oif)

    def report(self) -> dict[str, Any]:
        """The links' health and the decision now, for the site's counters."""
        with self._lock:
            health = self.health()
            routes = self.decision.routes if self.decision is not None else {}
            return {
                "health": {name: _health_json(h) for name, h in health.items()},
                "routes": {key: list(route.links) for key, route in routes.items()},
                "moves": self.applied.moves,
                "last_move_us": self.applied.last_us,
            }


def _health_json(health: LinkHealth) -> dict[str, Any]:
    found: dict[str, Any] = {"state": health.state.value}
    if health.state is not LinkState.DOWN:
        for key in ("latency_ms", "loss_percent", "jitter_ms"):
            value = getattr(health, key)
            if value is not None:
                found[key] = value
    return found
