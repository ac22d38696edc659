"""Judging a program (pure): states, back-off, grace, restart policy."""

from __future__ import annotations

import pytest

from edgewise.site.drivers.linux.software.health import (
    Judgement,
    backoff_s,
    failures_after,
    judge,
    worst,
)
from edgewise.site.drivers.linux.software.render import ProgramRun, ReadyRun

PROBED = ProgramRun("d", ("d",), "always", ReadyRun("udp", port=53, grace_s=10))
NOW = 1000.0


@pytest.mark.parametrize(
    ("program", "alive", "ready", "started", "exited", "code", "failures", "want"),
    [
        (PROBED, True, True, 990.0, None, None, 0, Judgement("ready")),
        (PROBED, True, False, 995.0, None, None, 0,
         Judgement("starting", "not ready yet (5 s of 10 s)")),
        (PROBED, True, False, 980.0, None, None, 0,
         Judgement("unready", "udp 53 not ready 10 s after start", restart_due=True)),
        (PROBED, False, None, 900.0, 999.0, -9, 3,
         Judgement("failed", "exited with -9; restart in 3 s (back-off 4 s after 3 failures)")),
        (PROBED, False, None, 900.0, 990.0, 1, 3,
         Judgement("failed", "exited with 1; restarting", restart_due=True)),
        (ProgramRun("d", ("d",), "on-failure"), False, None, 900.0, 990.0, 0, 1,
         Judgement("stopped", "exited with 0; restart policy on-failure")),
        (ProgramRun("d", ("d",), "never"), False, None, 900.0, 990.0, None, 1,
         Judgement("failed", "exited with an unknown status; restart policy never")),
        (ProgramRun("d", ("d",), "never", PROBED.ready), True, False, 900.0, None, None, 0,
         Judgement("unready", "udp 53 not ready 10 s after start")),
    ],
)  # fmt: skip
def test_judge(
    program: ProgramRun,
    alive: bool,
    ready: bool | None,
    started: float,
    exited: float | None,
    code: int | None,
    failures: int,
    want: Judgement,
) -> None:
    got = judge(program, alive=alive, ready=ready, started_at=started, exited_at=exited,
                exit_code=code, failures=failures, now=NOW)  # fmt: skip
    assert got == want


def test_a_program_that_stops_answering_is_unready_then_restarted() -> None:
    common = {"alive": True, "ready": False, "started_at": 100.0, "exited_at": None,
              "exit_code": None, "failures": 0, "now": NOW}  # fmt: skip
    assert judge(PROBED, **common, ready_seen_at=996.0) == Judgement(  # type: ignore[arg-type]
        "unready", "udp 53 stopped answering 4 s ago"
    )
    assert judge(PROBED, **common, ready_seen_at=980.0) == Judgement(  # type: ignore[arg-type]
        "unready", "udp 53 not ready 10 s after it last answered", restart_due=True
    )


def test_backoff_doubles_up_to_its_cap_and_a_long_run_forgives() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 7, 8, 50)] == [1, 2, 4, 60, 60, 60]
    assert failures_after(5, ran_s=3) == 6
    assert failures_after(5, ran_s=120) == 1
    assert worst(["ready", "unready", "starting"]) == "unready"
