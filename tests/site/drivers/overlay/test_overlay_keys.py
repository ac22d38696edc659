"""The site's overlay keys (no root): one per tenant, made on first need under the run
directory (0600), reported; rotation on the tenant's schedule with a fake clock: the next key
prepared and reported once the key is older than `key_rotation_h`, the file of the key each link
is told to use, the switch once every link uses the next key, the old key gone after; keys of
tenants gone removed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.overlaykeys import RotationStep, TenantKeys, rotation_step
from tests.site.drivers.overlay.docs import a_public_key

HOUR = 3600.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("age_h", "period_h", "prepared", "carried", "step"),
    [
        (1, 168, False, None, RotationStep.NONE),  # young key
        (168, 168, False, None, RotationStep.PREPARE),  # due: make the next one
        (5000, 0, False, None, RotationStep.NONE),  # 0: never
        (170, 168, True, None, RotationStep.NONE),  # prepared, the links not all moved yet
        (170, 168, True, "old", RotationStep.NONE),  # the central names another key
        (170, 168, True, "next", RotationStep.SWITCH),  # every link uses it: it is the key
    ],
)
def test_rotation_step(
    age_h: float, period_h: int, prepared: bool, carried: str | None, step: RotationStep
) -> None:
    assert rotation_step(age_h * HOUR, period_h, "next" if prepared else None, carried) == step


def test_keys_are_made_reported_rotated_and_forgotten(tmp_path: Path) -> None:
    directory = tmp_path / "run" / "overlay-keys"
    clock = Clock(1_000_000.0)
    keys = TenantKeys(directory, clock)
    first = keys.ensure("t1")
    assert keys.ensure("t1") == first  # made once
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(keys.file("t1").stat().st_mode) == 0o600
    assert keys.report(["t1"]) == {"t1": {"public_key": first}}
    os.utime(keys.file("t1"), (clock.now, clock.now))  # made "now" on the fake clock
    clock.now += 167 * HOUR
    assert keys.rotate("t1", 168, None) is RotationStep.NONE
    clock.now += 1 * HOUR
    assert keys.rotate("t1", 168, None) is RotationStep.PREPARE
    following = keys.next_public("t1")
    assert following is not None
    assert following != first
    assert keys.report(["t1"]) == {"t1": {"public_key": first, "next_public_key": following}}
    assert keys.rotate("t1", 168, None) is RotationStep.NONE  # prepared once: the same next
    assert keys.next_public("t1") == following
    assert keys.file_for("t1", None) == keys.file_for("t1", first) == keys.file("t1")
    assert keys.file_for("t1", following) == directory / "t1.key.next"
    assert keys.holds("t1", first)
    assert keys.holds("t1", following)
    assert not keys.holds("t1", a_public_key())
    assert not keys.holds("t9", first)
    assert keys.rotate("t1", 168, first) is RotationStep.NONE  # the links still use the old
    assert keys.rotate("t1", 168, following, promote=False) is RotationStep.SWITCH  # (said)
    assert keys.next_public("t1") == following
    assert keys.rotate("t1", 168, following) is RotationStep.SWITCH
    assert keys.report(["t1"]) == {"t1": {"public_key": following}}  # the old key is gone
    assert sorted(p.name for p in directory.iterdir()) == ["t1.key"]
    assert keys.file_for("t1", following) == keys.file("t1")
    keys.ensure("t2")
    assert keys.tenants() == ["t1", "t2"]
    assert keys.forget({"t2"}) == ["t1"]
    assert keys.tenants() == ["t2"]
