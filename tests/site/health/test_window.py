"""Probe figures over the sliding window: loss over the full window, latency and jitter over the
recent answers (jitter: mean |difference| of consecutive RTTs)."""

from __future__ import annotations

import pytest

from edgewise.site.health.window import ProbeWindow

MS = 0.001


@pytest.mark.parametrize(
    ("outcomes", "size", "recent", "loss", "latency", "jitter", "full"),
    [
        ([], 10, 3, None, None, None, False),
        ([None], 10, 3, 100.0, None, None, False),
        ([10 * MS], 10, 3, 0.0, 10.0, None, False),
        ([10 * MS, 20 * MS, None, 10 * MS], 10, 3, 25.0, 40 / 3, 10.0, False),
        # the loss window slides: the oldest (a miss) leaves it
        ([None] + [10 * MS] * 10, 10, 3, 0.0, 10.0, 0.0, True),
        ([10 * MS] * 9 + [None], 10, 3, 10.0, 10.0, 0.0, True),
        # latency and jitter only over the last `recent` answers
        ([100 * MS, 300 * MS, 10 * MS, 20 * MS, 30 * MS], 10, 3, 0.0, 20.0, 10.0, False),
        ([10 * MS, 30 * MS, 10 * MS, 30 * MS], 10, 4, 0.0, 20.0, 20.0, False),
    ],
)
def test_figures(
    outcomes: list[float | None],
    size: int,
    recent: int,
    loss: float | None,
    latency: float | None,
    jitter: float | None,
    full: bool,
) -> None:
    window = ProbeWindow(size, recent)
    for outcome in outcomes:
        window.add(outcome)
    figures = window.figures()
    assert figures.loss_pct == (None if loss is None else pytest.approx(loss))
    assert figures.latency_ms == (None if latency is None else pytest.approx(latency))
    assert figures.jitter_ms == (None if jitter is None else pytest.approx(jitter))
    assert figures.window_full is full
    assert figures.probes == min(len(outcomes), size)


def test_clear_starts_afresh() -> None:
    window = ProbeWindow(10, 3)
    for _ in range(10):
        window.add(None)
    window.clear()
    window.add(5 * MS)
    figures = window.figures()
    assert (figures.loss_pct, figures.probes) == (0.0, 1)
    assert figures.latency_ms == pytest.approx(5.0)


def test_loss_counts_stay_exact_over_a_long_slide() -> None:
    window = ProbeWindow(10, 2)
    for i in range(1000):
        window.add(None if i % 4 == 0 else MS)
    assert window.figures().loss_pct == pytest.approx(
        100 * sum(i % 4 == 0 for i in range(990, 1000)) / 10
    )
