"""The link state machine, by tables of events on a fake clock: down on misses in a row or on
carrier loss at once, degraded on figures, hysteresis and the failback hold on the way back."""

from __future__ import annotations

import pytest

from edgewise.site.health import LinkState, Thresholds
from edgewise.site.health.states import LinkStateMachine
from edgewise.site.health.window import Figures

UP, DEGRADED, DOWN = LinkState.UP, LinkState.DEGRADED, LinkState.DOWN
RULES = Thresholds(
    loss_pct=5, latency_ms=100, jitter_ms=20, recover_ratio=0.5, down_after=3, up_after=2,
    failback_hold=5, window=20, latency_window=5,
)  # fmt: skip
CLEAN = Figures(loss_pct=0.0, latency_ms=10.0, jitter_ms=1.0, probes=20, window_full=True)
LOSSY = Figures(loss_pct=10.0, latency_ms=10.0, jitter_ms=1.0, probes=20, window_full=True)
LOSSY_FILLING = Figures(loss_pct=10.0, latency_ms=10.0, jitter_ms=1.0, probes=9, window_full=False)
SLOW = Figures(loss_pct=0.0, latency_ms=120.0, jitter_ms=1.0, probes=20, window_full=True)
BAND = Figures(loss_pct=4.0, latency_ms=60.0, jitter_ms=1.0, probes=20, window_full=True)  # between
JITTERY = Figures(loss_pct=0.0, latency_ms=10.0, jitter_ms=25.0, probes=20, window_full=True)

# (time, event, figures): event "ok" / "miss" (a probe resolved), "cut" / "mend" (carrier)
Event = tuple[float, str, Figures]
START: list[Event] = [(0.0, "ok", CLEAN), (0.1, "ok", CLEAN)]  # up after up_after answers


def run(events: list[Event]) -> list[tuple[float, LinkState]]:
    machine = LinkStateMachine("mpls", RULES)
    seen: list[tuple[float, LinkState]] = []
    for at, event, figures in events:
        if event in ("cut", "mend"):
            change = machine.carrier_changed(event == "mend", at)
        else:
            change = machine.outcome(event == "ok", figures, at)
        if change is not None:
            assert (change.link, change.at, change.old) == (
                "mpls",
                at,
                seen[-1][1] if seen else DOWN,
            )
            seen.append((at, change.new))
    return seen


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param([(0.0, "ok", CLEAN)], [], id="starts down until up_after answers"),
        pytest.param(START, [(0.1, UP)], id="first up needs no hold"),
        pytest.param(
            [*START, (1, "miss", CLEAN), (1.1, "miss", CLEAN), (1.2, "miss", CLEAN)],
            [(0.1, UP), (1.2, DOWN)],
            id="down after 3 misses in a row",
        ),
        pytest.param(
            [
                *START,
                (1, "miss", CLEAN),
                (1.1, "miss", CLEAN),
                (1.2, "ok", CLEAN),
                (1.3, "miss", CLEAN),
                (1.4, "miss", CLEAN),
            ],
            [(0.1, UP)],
            id="an answer resets the count of misses",
        ),
        pytest.param(
            [*START, (1, "cut", CLEAN)], [(0.1, UP), (1, DOWN)], id="carrier loss at once"
        ),
        pytest.param(
            [
                *START,
                (1, "cut", CLEAN),
                (1.5, "mend", CLEAN),
                (1.6, "ok", CLEAN),
                (1.7, "ok", CLEAN),
                (5.9, "ok", CLEAN),
                (6.0, "ok", CLEAN),
            ],
            [(0.1, UP), (1, DOWN), (6.0, UP)],
            id="carrier back: up only after the hold",
        ),
        pytest.param(
            [*START, (1, "cut", CLEAN), (6, "ok", CLEAN), (7, "ok", CLEAN)],
            [(0.1, UP), (1, DOWN)],
            id="answers without carrier do not bring it back",
        ),
        pytest.param(
            [
                *START,
                (1, "miss", CLEAN),
                (1.1, "miss", CLEAN),
                (1.2, "miss", CLEAN),
                (2, "ok", CLEAN),
                (5, "ok", CLEAN),
                (5.1, "miss", CLEAN),
                (5.2, "ok", CLEAN),
                (6.0, "ok", CLEAN),
                (6.3, "ok", CLEAN),
            ],
            [(0.1, UP), (1.2, DOWN), (6.3, UP)],
            id="an isolated miss during the hold resets the answers, not the hold",
        ),
        pytest.param(
            [
                *START,
                (1, "miss", CLEAN),
                (1.1, "miss", CLEAN),
                (1.2, "miss", CLEAN),
                (2, "ok", CLEAN),
                (3, "ok", CLEAN),
                (4, "miss", CLEAN),
                (4.1, "miss", CLEAN),
                (4.2, "miss", CLEAN),
                (5, "ok", CLEAN),
                (6.5, "ok", CLEAN),
                (9.0, "ok", CLEAN),
                (9.3, "ok", CLEAN),
            ],
            [(0.1, UP), (1.2, DOWN), (9.3, UP)],
            id="misses in a row again restart the hold",
        ),
        pytest.param([*START, (1, "ok", LOSSY)], [(0.1, UP), (1, DEGRADED)], id="degraded on loss"),
        pytest.param(
            [*START, (1, "ok", LOSSY_FILLING)], [(0.1, UP)], id="loss judged on a full window"
        ),
        pytest.param([*START, (1, "ok", SLOW)], [(0.1, UP), (1, DEGRADED)], id="on latency"),
        pytest.param([*START, (1, "ok", JITTERY)], [(0.1, UP), (1, DEGRADED)], id="on jitter"),
        pytest.param(
            [*START, (1, "ok", LOSSY), (2, "ok", BAND), (9, "ok", BAND), (20, "ok", BAND)],
            [(0.1, UP), (1, DEGRADED)],
            id="hysteresis: within the threshold but above the recovery level stays degraded",
        ),
        pytest.param(
            [*START, (1, "ok", LOSSY), (2, "ok", CLEAN), (5.9, "ok", CLEAN), (6.0, "ok", CLEAN)],
            [(0.1, UP), (1, DEGRADED), (6.0, UP)],
            id="back up once clean for the hold since the last breach",
        ),
        pytest.param(
            [
                *START,
                (1, "ok", LOSSY),
                (2, "ok", CLEAN),
                (4, "ok", BAND),
                (7.0, "ok", CLEAN),
                (8.9, "ok", CLEAN),
                (9.0, "ok", CLEAN),
            ],
            [(0.1, UP), (1, DEGRADED), (9.0, UP)],
            id="a figure back in the band restarts the hold",
        ),
        pytest.param(
            [
                *START,
                (1, "ok", SLOW),
                (1.1, "miss", SLOW),
                (1.2, "miss", SLOW),
                (1.3, "miss", SLOW),
            ],
            [(0.1, UP), (1, DEGRADED), (1.3, DOWN)],
            id="degraded to down on misses",
        ),
        pytest.param(
            [*START, (1, "cut", CLEAN), (1.1, "mend", CLEAN), (6.2, "ok", SLOW), (6.3, "ok", SLOW)],
            [(0.1, UP), (1, DOWN), (6.3, DEGRADED)],
            id="comes back degraded when a figure is still above its threshold",
        ),
    ],
)
def test_transitions(events: list[Event], expected: list[tuple[float, LinkState]]) -> None:
    assert run(events) == expected


def test_a_transition_says_why() -> None:
    machine = LinkStateMachine("lte", RULES)
    for at in (0.0, 0.1):
        machine.outcome(True, CLEAN, at)
    change = machine.outcome(True, SLOW, 1.0)
    assert change is not None
    assert change.reason == "latency 120.0 ms > 100 ms"
    for at in (2.0, 2.1):
        machine.outcome(False, SLOW, at)
    change = machine.outcome(False, SLOW, 2.2)
    assert change is not None
    assert change.reason == "3 probes missed in a row"
