"""The DPI engine without I/O: queued packets in, verdicts out. Each flow's packets go to nDPI
until it names the application or the packet bound is reached; the verdict carries the mark
(marks.py) that keeps the answer in the flow's conntrack mark. program.py does the I/O.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from edgewise.model.applications import UNKNOWN_ID, Application, Applications
from edgewise.site.drivers.linux.dpi import marks
from edgewise.site.drivers.linux.dpi.flows import FlowTable
from edgewise.site.drivers.linux.dpi.ndpi import Detection, Flow
from edgewise.site.drivers.linux.dpi.nfqmsg import (
    FlowKey,
    QueuedPacket,
    Server,
    destination,
    opens_connection,
    packet_key,
)

log = logging.getLogger(__name__)
GIVE_UP_AFTER: Final = 10  # packets of a flow (both directions); docs/dpi.md says why
UNKNOWN_NAME: Final = "unknown"
# Masters whose "application" nDPI takes from a name they carry: a DNS query for youtube.com is
# (DNS, YouTube) to nDPI, and dns to steering, not youtube.
NAMED_BY_MASTER: Final = frozenset({"DNS", "MDNS", "LLMNR"})


class Engine(Protocol):
    """What the classifier needs of nDPI (ndpi.Detector)."""

    def new_flow(self) -> Flow: ...

    def process(self, flow: Flow, packet: bytes, time_ms: int) -> Detection: ...

    def give_up(self, flow: Flow) -> Detection: ...

    def name(self, protocol_id: int) -> str: ...


@dataclass(frozen=True)
class Verdict:
    """What to do with one packet: accept it, and when `mark` is set give it that packet mark
    (its DPI bits then go into the flow's conntrack mark: hooks.py); the flow was decided as
    `application` after `packets` packets; `server` is where its first packet went, given when
    the flow was identified (for the application cache)."""

    mark: int | None = None
    application: str | None = None
    packets: int = 0
    app_id: int = UNKNOWN_ID
    server: Server | None = None


@dataclass
class Tracked:
    """A flow under inspection: nDPI's state and where its first packet went."""

    flow: Flow
    server: Server | None

    def close(self) -> None:
        self.flow.close()


@dataclass
class Counters:
    """What the classifier has done since it started (the status file shows them)."""

    packets: int = 0
    classified: Counter[str] = field(default_factory=Counter)  # application name -> flows
    given_up: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)  # nDPI names the catalogue lacks
    decided_after: dict[str, Counter[int]] = field(default_factory=dict)  # app -> packets -> flows
    late_packets: int = 0  # queued before their flow's verdict reached the kernel

    def snapshot(self) -> dict[str, Any]:
        return {
            "packets": self.packets,
            "flows_classified": dict(sorted(self.classified.items())),
            "flows_given_up": self.given_up,
            "ndpi_unmapped": dict(sorted(self.unmapped.items())),
            "packets_to_decide": {
                app: {str(n): flows for n, flows in sorted(counts.items())}
                for app, counts in sorted(self.decided_after.items())
            },
            "late_packets": self.late_packets,
        }


class Classifier:
    """Decides each queued packet. One per queue; not thread safe."""

    def __init__(
        self,
        engine: Engine,
        applications: Applications,
        clock: Callable[[], float],
        *,
        give_up_after: int = GIVE_UP_AFTER,
        max_flows: int = 16384,
        idle: float = 30.0,
    ) -> None:
        if give_up_after < 1:
            raise ValueError("give up after at least one packet")
        self.engine = engine
        self.clock = clock
        self.give_up_after = give_up_after
        self._by_ndpi = applications.ndpi_index()
        self.flows: FlowTable[FlowKey, Tracked] = FlowTable(Tracked.close, limit=max_flows,
                                                             idle=idle)  # fmt: skip
        self.counters = Counters()

    def packet(self, queued: QueuedPacket) -> Verdict:
        self.counters.packets += 1
        key = packet_key(queued.payload)
        if key is None:
            return Verdict()
        now = self.clock()
        if opens_connection(queued.payload):
            self.flows.forget(key)  # a new connection on the 5-tuple of one that ended
        if self.flows.decided_recently(key):
            self.counters.late_packets += 1
            return Verdict()
        entry = self.flows.touch(key, now, lambda: self._track(queued.payload))
        found = self.engine.process(entry.state.flow, queued.payload, int(now * 1000))
        if found.known:
            return self._decide(key, found, queued, entry.packets, gave_up=False)
        if entry.packets >= self.give_up_after:
            last = self.engine.give_up(entry.state.flow)
            return self._decide(key, last, queued, entry.packets, gave_up=True)
        return Verdict()

    def _track(self, payload: bytes) -> Tracked:
        return Tracked(self.engine.new_flow(), destination(payload))

    def _decide(
        self, key: FlowKey, found: Detection, queued: QueuedPacket, packets: int, *, gave_up: bool
    ) -> Verdict:
        state = self.flows.decide(key, self.clock())
        server = None
        if state is not None:
            server = state.server
            state.close()
        app = self.application_of(found)
        name = app.name if app else UNKNOWN_NAME
        ndpi = f"{self.engine.name(found.master)}/{self.engine.name(found.app)}"
        if gave_up:
            self.counters.given_up += 1
        else:
            self.counters.decided_after.setdefault(name, Counter())[packets] += 1
        if found.known and app is None:
            self.counters.unmapped[self.engine.name(found.app or found.master)] += 1
        self.counters.classified[name] += 1
        log.debug(
            "flow %s %s:%d > %s:%d: %s (nDPI %s) after %d packets%s",
            key.proto, key.src, key.sport, key.dst, key.dport, name, ndpi, packets,
            ", gave up" if gave_up else "",
        )  # fmt: skip
        app_id = app.app_id if app else UNKNOWN_ID
        mark = marks.merged(queued.mark, app_id)
        known = None if gave_up or app_id == UNKNOWN_ID else server
        return Verdict(mark, name, packets, app_id, known)

    def application_of(self, found: Detection) -> Application | None:
        """The catalogue's application for nDPI's answer: the application protocol first
        (YouTube over TLS is youtube), else the master protocol; a name lookup (DNS) is the
        lookup whatever name it asks for."""
        order = (found.app, found.master)
        if self.engine.name(found.master) in NAMED_BY_MASTER:
            order = (found.master, found.app)
        for protocol in order:
            if protocol:
                app = self._by_ndpi.get(self.engine.name(protocol))
                if app is not None:
                    return app
        return None

    def expire(self) -> int:
        return self.flows.expire(self.clock())

    def close(self) -> None:
        self.flows.clear()
