"""The status body's `links`: each desired link's state, figures and per-class counters, in the
form the central's intake reads (checked against it)."""

from __future__ import annotations

from typing import Any

from edgewise.central.services.link_reports import status_problems
from edgewise.model.desired import DesiredState
from edgewise.site.sdwan.report import links_report

LINKS: list[dict[str, Any]] = [
    {"name": "mpls", "kind": "mpls", "interface": "mpls0", "gateway": "198.51.100.1"},
    {"name": "inet", "kind": "internet", "interface": "inet0", "gateway": "203.0.113.1"},
    {"name": "lte", "kind": "lte", "interface": "lte0", "gateway": "100.64.0.1"},
]
COUNTERS: dict[str, Any] = {
    "probes": {
        "mpls": {"state": "down", "since": "2026-12-07T17:00:00+00:00", "reason": "4 missed",
                 "carrier": True, "sent": 9, "lost": 4},
        "inet": {"state": "up", "since": "2026-12-07T16:59:00+00:00", "latency_ms": 12.3456,
                 "loss_percent": 0.5, "jitter_ms": 1.2},
        "lte": {"state": "unknown"},
    },
    "health": {"lte": {"state": "up"}},
    "classes": {
        "voice": {"mpls": {"packets": 10, "bytes": 1000}, "inet": {"packets": 5, "bytes": 500}},
        "voice@acme": {"inet": {"packets": 1, "bytes": 100}},
        "@default": {"inet": {"packets": 7, "bytes": 700}, "lte": {"packets": 0, "bytes": 0}},
    },
}  # fmt: skip


def test_each_link_reports_its_state_figures_and_classes() -> None:
    links = DesiredState.from_document(1, {"services": [], "links": LINKS}).links
    report = links_report(links, COUNTERS)
    assert report == [
        {"name": "mpls", "state": "down", "since": "2026-12-07T17:00:00+00:00",
         "classes": {"voice": {"packets": 10, "bytes": 1000}}},
        {"name": "inet", "state": "up", "since": "2026-12-07T16:59:00+00:00",
         "latency_ms": 12.346, "loss_percent": 0.5, "jitter_ms": 1.2,
         "classes": {"voice": {"packets": 6, "bytes": 600},
                     "unclassified": {"packets": 7, "bytes": 700}}},
        {"name": "lte", "state": "up", "classes": {"unclassified": {"packets": 0, "bytes": 0}}},
    ]  # fmt: skip
    assert list(status_problems({"links": report}, "body")) == []


def test_a_link_nothing_is_known_of_yet_is_down() -> None:
    links = DesiredState.from_document(1, {"services": [], "links": LINKS[:1]}).links
    assert links_report(links, {}) == [{"name": "mpls", "state": "down"}]
