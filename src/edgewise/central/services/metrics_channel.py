"""The southbound channel's in-process counters (polls, report items, enrollments, shed
requests), kept by the channel server and exposed on the API's `GET /metrics` registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass
class ChannelCounters:
    """Counts since this process started (Prometheus' `rate()` copes with restarts)."""

    polls: dict[str, int] = field(default_factory=lambda: {"document": 0, "unchanged": 0})
    report_items: dict[str, int] = field(default_factory=lambda: {"new": 0, "duplicate": 0})
    handshakes: dict[str, int] = field(default_factory=lambda: {"completed": 0, "refused": 0})
    enrollments: int = 0
    refused: dict[str, int] = field(default_factory=lambda: {"unauthenticated": 0, "forbidden": 0})
    shed: dict[str, int] = field(default_factory=lambda: {"busy": 0, "store": 0})

    def polled(self, *, changed: bool) -> None:
        self.polls["document" if changed else "unchanged"] += 1

    def reported(self, accepted: int, duplicates: int) -> None:
        """A batch taken in: `accepted` items, of which `duplicates` were counted before."""
        self.report_items["new"] += accepted - duplicates
        self.report_items["duplicate"] += duplicates

    def handshook(self, outcome: str) -> None:
        """The TLS layer's word on a handshake that ended: `completed` or `refused`."""
        self.handshakes[outcome] += 1


class ChannelCollector(Collector):
    """Reads a `ChannelCounters` on every scrape."""

    def __init__(self, counters: ChannelCounters) -> None:
        self._counters = counters

    def collect(self) -> Iterator[Metric]:
        counters = self._counters
        polls = CounterMetricFamily(
            "edgewise_channel_polls",
            "Desired-state long-polls answered, by outcome (a document, or unchanged: 204)",
            labels=("outcome",),
        )
        for outcome, count in counters.polls.items():
            polls.add_metric((outcome,), count)
        items = CounterMetricFamily(
            "edgewise_channel_report_items",
            "Report items taken in from sites: new, or a duplicate of one already counted",
            labels=("outcome",),
        )
        for outcome, count in counters.report_items.items():
            items.add_metric((outcome,), count)
        shed = CounterMetricFamily(
            "edgewise_channel_shed",
            "Channel requests answered 503 (busy: report intake full; store: unavailable)",
            labels=("reason",),
        )
        for reason, count in counters.shed.items():
            shed.add_metric((reason,), count)
        handshakes = CounterMetricFamily(
            "edgewise_channel_tls_handshakes",
            "TLS handshakes on the channel's listener: completed, or refused (a certificate of "
            "another CA, an expired one)",
            labels=("outcome",),
        )
        for outcome, count in counters.handshakes.items():
            handshakes.add_metric((outcome,), count)
        refused = CounterMetricFamily(
            "edgewise_channel_refused",
            "Channel calls refused for their credentials: unauthenticated (no client "
            "certificate), forbidden (naming no site, or a revoked one)",
            labels=("reason",),
        )
        for reason, count in counters.refused.items():
            refused.add_metric((reason,), count)
        yield from (polls, items, shed, handshakes, refused)
        yield CounterMetricFamily(
            "edgewise_channel_enrollments",
            "Sites enrolled (one-time token redeemed, certificate issued)",
            value=counters.enrollments,
        )
