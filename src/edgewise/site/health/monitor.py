"""One WAN link's health (pure): the prober asks what to send and when, and tells what came back.

The prober's loop, for each link: `send(now)` when `due(now)`; `answered(...)` for each echo
read (with the time the kernel received it); then `expire(now)` (misses are judged only after
every waiting answer was read, so a busy prober does not turn its own delay into loss);
`carrier(up, now)` from the netlink watch. Each returns the state change it caused, if any.
Misses while down do not enter the window (an outage is not a loss figure of a working link):
the window starts afresh when the link goes down.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from ipaddress import IPv4Address

from edgewise.site.health.rtt import RttEstimator
from edgewise.site.health.schedule import ProbeScheduler
from edgewise.site.health.settings import LinkHealthSettings
from edgewise.site.health.states import LinkState, LinkStateMachine, Transition
from edgewise.site.health.window import Figures, ProbeWindow

SEQUENCES = 1 << 16
EXPIRED_KEPT = 64


@dataclass(frozen=True)
class Probe:
    """A probe to send: its sequence number (16 bits) and target."""

    sequence: int
    target: IPv4Address
    sent_at: float
    deadline: float


@dataclass(frozen=True)
class ProbeCounts:
    """Counts of one link since it was first probed."""

    sent: int
    answered: int
    lost: int
    late: int  # answered after their timeout (counted as lost too)


class LinkMonitor:
    def __init__(self, settings: LinkHealthSettings) -> None:
        self.settings = settings
        probe, thresholds = settings.probe, settings.thresholds
        self.window = ProbeWindow(thresholds.window, thresholds.latency_window)
        self.rtt = RttEstimator(probe.timeout_min, probe.timeout_max)
        self.scheduler = ProbeScheduler(
            probe.healthy_interval, probe.fast_interval, probe.max_per_second
        )
        self.machine = LinkStateMachine(settings.name, thresholds)
        self._outstanding: dict[int, Probe] = {}
        self._expired: OrderedDict[int, Probe] = OrderedDict()  # recent misses, for late echoes
        self._next_sequence = 0
        self._sent = self._answered = self._lost = self._late = 0

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def state(self) -> LinkState:
        return self.machine.state

    def figures(self) -> Figures:
        return self.window.figures()

    def counts(self) -> ProbeCounts:
        return ProbeCounts(self._sent, self._answered, self._lost, self._late)

    def next_wakeup(self) -> float:
        """When something is next due: a probe to send or a probe's timeout."""
        deadlines = [p.deadline for p in self._outstanding.values()]
        return min([self.scheduler.next_send(), *deadlines])

    def due(self, now: float) -> bool:
        return self.scheduler.due(now)

    def send(self, now: float) -> Probe:
        """The probe to send now (the caller sends it at once)."""
        self.scheduler.sent(now)
        targets = self.settings.probe.targets
        sequence = self._next_sequence
        self._next_sequence = (sequence + 1) % SEQUENCES
        target = targets[self._sent % len(targets)]
        probe = Probe(sequence, target, now, now + self.rtt.timeout)
        self._expired.pop(sequence, None)  # 65,536 probes ago: long lost
        self._outstanding[sequence] = probe
        self._sent += 1
        return probe

    def answered(self, sequence: int, received_at: float, now: float) -> Transition | None:
        """An echo of probe `sequence` was received at `received_at` (when the kernel got it)."""
        probe = self._outstanding.pop(sequence, None)
        if probe is None:
            expired = self._expired.pop(sequence, None)
            if expired is not None:  # after its timeout: not an answer, but the timeout learns
                self.rtt.add(max(0.0, received_at - expired.sent_at))
                self._late += 1
            return None
        rtt = max(0.0, received_at - probe.sent_at)
        self.rtt.add(rtt)
        if received_at > probe.deadline:
            self._late += 1
            return self._miss(now)
        self._answered += 1
        self.window.add(rtt)
        return self._resolved(answered=True, now=now)

    def send_failed(self, sequence: int, now: float) -> Transition | None:
        """The kernel refused to send probe `sequence` (no route: `unreachable`): a miss now."""
        if self._outstanding.pop(sequence, None) is None:
            return None
        return self._miss(now)

    def expire(self, now: float) -> list[Transition]:
        """Misses for the probes whose timeout has passed."""
        found = []
        for sequence in [s for s, p in self._outstanding.items() if p.deadline <= now]:
            self._expired[sequence] = self._outstanding.pop(sequence)
            while len(self._expired) > EXPIRED_KEPT:
                self._expired.popitem(last=False)
            change = self._miss(now)
            if change is not None:
                found.append(change)
        return found

    def carrier(self, up: bool, now: float) -> Transition | None:
        change = self.machine.carrier_changed(up, now)
        if change is not None:
            self._went(change)
        return change

    def _miss(self, now: float) -> Transition | None:
        self._lost += 1
        if self.machine.state is not LinkState.DOWN:
            self.window.add(None)
        return self._resolved(answered=False, now=now)

    def _resolved(self, *, answered: bool, now: float) -> Transition | None:
        change = self.machine.outcome(answered, self.window.figures(), now)
        if change is not None:
            self._went(change)
        machine = self.machine
        self.scheduler.fast = machine.state is not LinkState.DOWN and machine.misses > 0
        return change

    def _went(self, change: Transition) -> None:
        if change.new is LinkState.DOWN:
            self.window.clear()
            self.scheduler.fast = False
