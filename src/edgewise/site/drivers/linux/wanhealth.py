"""Link health wired into the WAN side (linux driver): each link of the links section becomes
link health's settings (its mark and table from wanmarks), one prober runs for the site's links
(started, restarted when they change, stopped), and what it finds goes on at once.

From the prober's thread: each state change and each new figure go to the steerer
(`WanSteerer.set_probed`: it holds its own lock, as for the carrier watch's thread), so a class
moves without waiting for the event loop; each state change also becomes a `LinkEvent` for the
controller (`listener`, which hands it to the event loop). Before a link's first verdict (up
after `up_after` answers) nothing is fed: the steerer goes by the carrier; a link that answers
nothing is fed `down` once `down_after` probes are missed in a row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from edgewise.model.links import WanLink
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.probing import LinkHealth as Probed
from edgewise.site.drivers.linux.probing import LinkProber, Measured, Report
from edgewise.site.drivers.linux.wanplan import LinkPlan
from edgewise.site.health import (
    HealthSettingsError,
    LinkHealthSettings,
    LinkState,
    ProbeSettings,
    Thresholds,
    Transition,
)
from edgewise.site.health.events import LinkEvent
from edgewise.site.sdwan.health import LinkHealth
from edgewise.site.sdwan.health import LinkState as SteeredState

log = logging.getLogger(__name__)
NOT_JUDGED = "unknown"  # a link's state before its first verdict, in events and reports
Steer = Callable[[str, LinkHealth], object]
Listener = Callable[[LinkEvent], None]


class Prober(Protocol):
    """What the glue needs of a prober (probing.LinkProber; tests may give a fake)."""

    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def snapshot(self) -> Mapping[str, Probed]: ...


ProberFactory = Callable[[str, Sequence[LinkHealthSettings], Report, Measured], Prober]


def real_prober(
    namespace: str, links: Sequence[LinkHealthSettings], report: Report, measured: Measured
) -> LinkProber:
    return LinkProber(namespace, links, report, measured=measured)


def health_settings(plan: LinkPlan) -> LinkHealthSettings | None:
    """Link health's settings of a built link; None when it has nowhere to probe (no target
    and no gateway known: it has no route either, and steering counts it down)."""
    link = plan.link
    targets = link.probe.targets or (() if plan.gateway is None else (plan.gateway,))
    if not targets:
        return None
    return LinkHealthSettings(
        link.name, link.interface, plan.mark, plan.table, probe_settings(link, targets),
        thresholds(link),
    )  # fmt: skip


def probe_settings(link: WanLink, targets: Sequence[Any]) -> ProbeSettings:
    probe = link.probe
    return ProbeSettings(
        tuple(targets), "udp" if probe.protocol == "udp" else "icmp", probe.port or 7,
        probe.interval_ms / 1000, probe.fast_interval_ms / 1000,
    )  # fmt: skip


def thresholds(link: WanLink) -> Thresholds:
    probe = link.probe
    return Thresholds(
        loss_pct=probe.loss_percent, latency_ms=probe.latency_ms, jitter_ms=probe.jitter_ms,
        down_after=probe.down_after, up_after=probe.up_after, failback_hold=probe.hold_s,
    )  # fmt: skip


def steered(probed: Probed) -> LinkHealth:
    """What steering is told of a probed link: its state, latency and jitter over the recent
    answers, and loss over the loss window once it is full (before, none: a few early misses
    say nothing of a few per cent)."""
    figures = probed.figures
    loss = figures.loss_pct if figures.window_full else None
    return LinkHealth(
        SteeredState(probed.state.value), _round(figures.latency_ms), _round(loss),
        _round(figures.jitter_ms),
    )  # fmt: skip


def figures_json(probed: Probed) -> dict[str, Any]:
    figures, counts = probed.figures, probed.counts
    return {
        "latency_ms": _round(figures.latency_ms), "loss_percent": _round(figures.loss_pct),
        "jitter_ms": _round(figures.jitter_ms), "loss_window": figures.probes,
        "sent": counts.sent, "answered": counts.answered, "lost": counts.lost,
        "late": counts.late,
    }  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _wall(at: float) -> str:
    """A monotonic time as a wall-clock ISO 8601 string."""
    return datetime.fromtimestamp(time.time() - (time.monotonic() - at), UTC).isoformat()


class WanHealth:
    """The prober of one WAN namespace and what it told; `sync` and `stop` from the worker."""

    def __init__(self, namespace: str, probers: ProberFactory | None) -> None:
        self.namespace = namespace
        self._probers = probers
        self._lock = threading.Lock()
        self._prober: Prober | None = None
        self._wanted: list[LinkHealthSettings] = []
        self._running: list[LinkHealthSettings] = []
        self._steer: Steer | None = None
        self.listener: Listener | None = None
        self.notes: list[str] = []
        self._trouble: str | None = None
        self._judged: set[str] = set()
        self._fed: dict[str, LinkHealth] = {}
        self._since: dict[str, tuple[str, str]] = {}  # link -> (since, reason)

    def sync(self, plans: Sequence[LinkPlan], steer: Steer | None) -> None:
        """Probes exactly the links of `plans` (restarting the prober when they changed)."""
        self.want(plans, steer)
        self.ensure()

    def want(self, plans: Sequence[LinkPlan], steer: Steer | None) -> None:
        """The links to probe from now on (`ensure` starts probing them)."""
        wanted, notes = [], []
        for plan in plans:
            try:
                settings = health_settings(plan)
            except HealthSettingsError as exc:
                notes.append(f"link {plan.link.name}: not probed: {exc.message}")
                continue
            if settings is None:
                notes.append(f"link {plan.link.name}: not probed: no probe target and no "
                             "gateway known (steering counts it down)")  # fmt: skip
            else:
                wanted.append(settings)
        self.notes, self._wanted, self._steer = notes, wanted, steer

    @property
    def wanted(self) -> list[LinkHealthSettings]:
        """The links to probe, with their settings."""
        return list(self._wanted)

    def ensure(self) -> None:
        """Starts the prober the links want if it is not running (a restart after a change or
        a failure); a prober that cannot start is a note, tried again at the next call."""
        if self._running == self._wanted and (self._prober is None or self._prober.running):
            return
        self.stop()
        if not self._wanted or self._probers is None:
            return
        prober = self._probers(self.namespace, list(self._wanted), self._report, self._measured)
        now = _wall(time.monotonic())
        with self._lock:
            self._since = {s.name: (now, "probing started") for s in self._wanted}
        self._prober, self._running = prober, list(self._wanted)  # before its thread reports
        try:
            prober.start()
        except DataPlaneError as exc:
            self._prober, self._running = None, []
            self._trouble = f"link health: the prober did not start: {exc.message}"
            log.warning("%s", self._trouble)
            return
        self._trouble = None

    def stop(self) -> None:
        prober, self._prober, self._running = self._prober, None, []
        if prober is not None:
            prober.stop()
        with self._lock:
            self._judged.clear()
            self._fed.clear()

    def report(self) -> dict[str, Any]:
        """Per probed link: its state, since when and why, its figures and probe counts."""
        prober = self._prober
        snapshot = prober.snapshot() if prober is not None else {}
        found: dict[str, Any] = {}
        with self._lock:
            for name, probed in snapshot.items():
                since, reason = self._since.get(name, ("", ""))
                state = probed.state.value if name in self._judged else NOT_JUDGED
                found[name] = {"state": state, "since": since, "reason": reason,
                               "carrier": probed.carrier, **figures_json(probed)}  # fmt: skip
        return found

    def all_notes(self) -> list[str]:
        return [*self.notes, *([self._trouble] if self._trouble else [])]

    # the prober's thread

    def _report(self, change: Transition) -> None:
        prober = self._prober
        probed = prober.snapshot().get(change.link) if prober is not None else None
        with self._lock:
            old = change.old.value if change.link in self._judged else NOT_JUDGED
            self._judged.add(change.link)
            self._since[change.link] = (_wall(change.at), change.reason)
        event = LinkEvent(change.link, old, change.new.value, change.reason, _wall(change.at),
                          figures_json(probed) if probed is not None else {})  # fmt: skip
        if probed is not None:
            self._feed(probed)
        listener = self.listener
        if listener is not None:
            listener(event)

    def _measured(self, probed: Probed) -> None:
        name = probed.name
        settings = next((s for s in self._running if s.name == name), None)
        with self._lock:
            judged = name in self._judged
        if not judged and settings is not None and probed.misses >= settings.thresholds.down_after:
            self._report(Transition(name, LinkState.DOWN, LinkState.DOWN,
                                    f"{probed.misses} probes missed in a row since probing "
                                    "started", time.monotonic()))  # fmt: skip
            return
        if judged:
            self._feed(probed)

    def _feed(self, probed: Probed) -> None:
        health = steered(probed)
        steer = self._steer
        with self._lock:
            if self._fed.get(probed.name) == health:
                return
            self._fed[probed.name] = health
        if steer is not None:
            steer(probed.name, health)
