"""How each program of a third-party VNF is doing (pure): starting, ready, unready, failed or
stopped, why, and whether its restart is due (capped exponential back-off per restart policy).

A program that died waits `backoff_s(failures)` from when it was found dead: 1 s, 2 s, 4 s ...
at most BACKOFF_CAP_S; a run of STABLE_S or more forgives earlier failures. One not ready
`grace_s` after it started, or after it was last seen ready, is unready, and restarted (unless
its policy is `never`).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgewise.site.drivers.linux.software.render import ProgramRun

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0
STABLE_S = 60.0
STATES = ("ready", "starting", "stopped", "unready", "failed")  # worst last


def backoff_s(failures: int) -> float:
    """How long a program that failed `failures` times in a row waits before its restart."""
    return float(min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, min(failures - 1, 30))))


def failures_after(failures: int, ran_s: float) -> int:
    """The count of failures in a row once a program that ran `ran_s` seconds has died."""
    return 1 if ran_s >= STABLE_S else failures + 1


@dataclass(frozen=True)
class Judgement:
    state: str
    reason: str = ""
    restart_due: bool = False


def judge(
    program: ProgramRun,
    *,
    alive: bool,
    ready: bool | None,
    started_at: float,
    exited_at: float | None,
    exit_code: int | None,
    failures: int,
    now: float,
    ready_seen_at: float | None = None,
) -> Judgement:
    """One program's state; `ready` None when it has no probe (or is not alive);
    `ready_seen_at`: when its probe last passed (None: not since it started)."""
    if alive:
        probe = program.ready
        if probe is None or ready:
            return Judgement("ready")
        what = f"{probe.kind} {probe.port}" if probe.port is not None else "its command"
        waited = now - (started_at if ready_seen_at is None else ready_seen_at)
        if waited < probe.grace_s:
            if ready_seen_at is None:
                return Judgement("starting", f"not ready yet ({waited:.0f} s of {probe.grace_s} s)")
            return Judgement("unready", f"{what} stopped answering {waited:.0f} s ago")
        since = "after start" if ready_seen_at is None else "after it last answered"
        return Judgement("unready", f"{what} not ready {probe.grace_s} s {since}",
                         restart_due=program.restart != "never")  # fmt: skip
    shown = "an unknown status" if exit_code is None else str(exit_code)
    wanted = program.restart == "always" or (program.restart == "on-failure" and exit_code != 0)
    if not wanted:
        state = "stopped" if exit_code == 0 else "failed"
        return Judgement(state, f"exited with {shown}; restart policy {program.restart}")
    delay = backoff_s(failures)
    left = (exited_at if exited_at is not None else now) + delay - now
    if left > 0:
        return Judgement("failed", f"exited with {shown}; restart in {left:.0f} s (back-off "
                         f"{delay:.0f} s after {failures} failures)")  # fmt: skip
    return Judgement("failed", f"exited with {shown}; restarting", restart_due=True)


def worst(states: list[str]) -> str:
    return max(states, key=STATES.index) if states else "starting"
