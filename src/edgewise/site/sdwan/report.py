"""What a site tells the central about its WAN links (pure): the status body's `links`, one entry
per desired link with its state, since when, its probe figures and what each application class
sent out of it, in the form the central reads (docs/sdwan.md, "What sites report").

The driver's WAN counters hold the pieces: `probes` (link health's verdicts and figures, once
probing judged the link), `health` (the steering's view: the carrier's before the probes'
first verdict) and `classes` (packets and bytes per steering key per link)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from edgewise.model.links import WanLink
from edgewise.site.sdwan.decide import DEFAULT

STATES: Final = ("up", "degraded", "down")
UNCLASSIFIED: Final = "unclassified"  # what no policy takes (the steering key @default)
FIGURES: Final = ("latency_ms", "loss_percent", "jitter_ms")


def class_of(key: str) -> str:
    """The class a steering key counts: `voice` and `voice@tenant` are voice."""
    return UNCLASSIFIED if key == DEFAULT else key.split("@", 1)[0]


def links_report(links: Sequence[WanLink], counters: Mapping[str, Any]) -> list[dict[str, Any]]:
    probes: Mapping[str, Any] = counters.get("probes") or {}
    health: Mapping[str, Any] = counters.get("health") or {}
    classes: Mapping[str, Mapping[str, Mapping[str, int]]] = counters.get("classes") or {}
    found = []
    for link in links:
        probed = probes.get(link.name) or {}
        steered = health.get(link.name) or {}
        state = probed.get("state") if probed.get("state") in STATES else steered.get("state")
        entry: dict[str, Any] = {"name": link.name, "state": state if state in STATES else "down"}
        if probed.get("since"):
            entry["since"] = probed["since"]
        for key in FIGURES:
            value = probed.get(key)
            if isinstance(value, int | float) and value >= 0:
                entry[key] = round(float(value), 3)
        sent: dict[str, dict[str, int]] = {}
        for key, by_link in classes.items():
            counted = by_link.get(link.name)
            if counted:
                total = sent.setdefault(class_of(key), {"packets": 0, "bytes": 0})
                total["packets"] += int(counted.get("packets", 0))
                total["bytes"] += int(counted.get("bytes", 0))
        if sent:
            entry["classes"] = sent
        found.append(entry)
    return found


def states_of(report: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    """Each link's state: what, changed, makes a new status worth sending."""
    return tuple((str(entry["name"]), str(entry["state"])) for entry in report)
