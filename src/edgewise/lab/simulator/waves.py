"""What a simulated change is and what became of it: the change written to every site, and a
wave's record of when each site received it, reported it and had the report acknowledged, or
where it was stuck. Pure values; `simulation` fills them in, `report` shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def change_document(step: int) -> dict[str, Any]:
    """The change the simulator makes: a vCPE service whose firewall rule changes each step."""
    return {
        "services": [
            {
                "id": "vcpe",
                "name": "vcpe",
                "tenant": "sim",
                "vnfs": [
                    {
                        "name": "fw",
                        "function": "firewall",
                        "config": {
                            "default_action": "drop",
                            "rules": [{"protocol": "tcp", "port": 1000 + step}],
                        },
                    },
                    {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
                ],
                "chain": ["fw", "nat"],
            }
        ]
    }


@dataclass(frozen=True)
class Stuck:
    """Where a site was when its wave's time bound ran out (times: s from the change)."""

    phase: str
    last_poll: float | None
    last_error: str | None
    last_error_at: float | None


NEVER_POLLED = "never polled"
PARKED = "never woke: its poll parked before the change was not answered"
REPOLLED = "never woke: polled again after the change, not answered yet"
NOT_SENT = "woke, its status report not sent"
NOT_ACKNOWLEDGED = "status report sent, not acknowledged"


@dataclass
class Wave:
    """One change written to every site, and when each site received it, sent its status
    report of it and had that report acknowledged (s from the change); `stuck` holds the sites
    whose report was not acknowledged when the wave was last followed."""

    revision: int
    started: float
    written: float = 0.0
    received: dict[str, float] = field(default_factory=dict)
    reporting: dict[str, float] = field(default_factory=dict)
    done: dict[str, float] = field(default_factory=dict)
    finished: float = 0.0
    stuck: dict[str, Stuck] = field(default_factory=dict)


def stuck_at(
    wave: Wave, site_id: str, last_poll: float | None, last_error: tuple[str, float] | None
) -> Stuck:
    """The phase a site whose report of `wave` is not acknowledged is in (absolute monotonic
    times in, times relative to the change out)."""
    if site_id in wave.reporting:
        phase = NOT_ACKNOWLEDGED
    elif site_id in wave.received:
        phase = NOT_SENT
    elif last_poll is None:
        phase = NEVER_POLLED
    elif last_poll <= wave.started:
        phase = PARKED
    else:
        phase = REPOLLED
    return Stuck(
        phase,
        None if last_poll is None else last_poll - wave.started,
        None if last_error is None else last_error[0],
        None if last_error is None else last_error[1] - wave.started,
    )
