"""Failed token attempts are limited per client address (429 with Retry-After), in bounded
memory, and logged without the token."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edgewise.central.config import CentralSettings
from edgewise.central.services.attempts import FailedAttempts
from tests.central.api.conftest import running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_failing_too_often_is_told_to_wait_even_with_a_good_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    clock = Clock()
    with running(CentralSettings(data_dir=tmp_path, database_url=url)) as central:
        central.client.app.state.runtime.attempts = FailedAttempts(  # type: ignore[attr-defined]
            burst=5, window=10.0, clock=clock
        )
        guesses = [f"ew_guess{i:04d}secret" for i in range(20)]
        with caplog.at_level(logging.WARNING):
            answers = [
                central.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {g}"})
                for g in guesses
            ]
        assert [a.status_code for a in answers[:5]] == [401] * 5
        assert {a.status_code for a in answers[5:]} == {429}  # before: 401 for ever
        assert answers[5].headers["Retry-After"] == "2"  # one failure forgiven per 2 s
        assert "too many failed token attempts" in answers[5].json()["detail"]
        good = central.client.get("/api/v1/whoami", headers=central.admin.headers)
        assert good.status_code == 429
        failures = [r.getMessage() for r in caplog.records if "failed token attempt" in r.msg]
        assert len(failures) == 5
        assert not any(g in m for g in guesses for m in failures)
        clock.now += 2.0
        assert (
            central.client.get("/api/v1/whoami", headers=central.admin.headers).json()["role"]
            == "admin"
        )
        assert central.client.get("/api/v1/whoami").status_code == 401  # no header: no guess
        assert central.client.get("/api/v1/whoami", headers=central.admin.headers).status_code == (
            200
        )


@pytest.mark.parametrize(
    ("failures", "elapsed", "wait"),
    [
        (0, 0.0, None),
        (9, 0.0, None),
        (10, 0.0, 6),  # 10 per 60 s: one forgiven every 6 s
        (10, 5.0, 1),
        (10, 6.0, None),
        (30, 0.0, 6),  # failing while refused does not dig deeper
    ],
)
def test_the_bucket_refills_at_burst_per_window(
    failures: int, elapsed: float, wait: int | None
) -> None:
    clock = Clock()
    attempts = FailedAttempts(burst=10, window=60.0, clock=clock)
    for _ in range(failures):
        attempts.failed("192.0.2.1")
    clock.now += elapsed
    assert attempts.retry_after("192.0.2.1") == wait
    assert attempts.retry_after("192.0.2.2") is None


def test_the_table_keeps_at_most_capacity_addresses() -> None:
    attempts = FailedAttempts(burst=1, window=60.0, capacity=100, clock=Clock())
    for i in range(1000):
        attempts.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(attempts) == 100
    assert attempts.retry_after("10.0.3.231") is not None  # the latest are kept
    assert attempts.retry_after("10.0.0.0") is None
