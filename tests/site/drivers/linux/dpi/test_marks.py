"""The conntrack-mark bits DPI owns: the application id and the done bit, never steering's."""

from __future__ import annotations

import pytest

from edgewise.model.applications import CATALOGUE, CUSTOM_IDS
from edgewise.site.drivers.linux.dpi import marks


def test_the_bits_are_disjoint_from_steering_s() -> None:
    assert marks.DPI_MASK & marks.STEERING_MASK == 0
    assert marks.DPI_MASK == 0x01FF0000


@pytest.mark.parametrize("app_id", [0, 1, 14, 148, 255])
def test_a_verdict_mark_carries_the_id_and_the_done_bit(app_id: int) -> None:
    mark = marks.verdict_mark(app_id)
    assert mark & marks.DONE_BIT
    assert marks.app_of(mark) == app_id
    assert mark & ~marks.DPI_MASK == 0


def test_a_mark_without_the_done_bit_means_not_decided_yet() -> None:
    assert marks.app_of(0) is None
    assert marks.app_of(0x000E1234) is None


def test_merging_keeps_every_other_bit() -> None:
    old = 0xFE00_0000 | 0x0042_0000 | 0x0000_ABCD
    new = marks.merged(old, 7)
    assert new == 0xFE00_0000 | marks.DONE_BIT | 0x0007_0000 | 0x0000_ABCD


def test_every_application_id_fits() -> None:
    for app_id in [a.app_id for a in CATALOGUE] + list(CUSTOM_IDS):
        assert marks.app_of(marks.verdict_mark(app_id)) == app_id
    with pytest.raises(ValueError, match="does not fit"):
        marks.verdict_mark(256)
