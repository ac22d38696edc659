"""A wave's record: where a site whose report was not acknowledged in time had got to."""

from __future__ import annotations

from edgewise.lab.simulator.waves import (
    NEVER_POLLED,
    NOT_ACKNOWLEDGED,
    NOT_SENT,
    PARKED,
    REPOLLED,
    Wave,
    stuck_at,
)


def test_a_site_not_recorded_is_placed_in_the_phase_it_reached() -> None:
    wave = Wave(2, started=100.0, received={"woke": 1.0, "sent": 1.0}, reporting={"sent": 1.5})
    assert stuck_at(wave, "sent", 99.0, None).phase == NOT_ACKNOWLEDGED
    assert stuck_at(wave, "woke", 99.0, None).phase == NOT_SENT
    assert stuck_at(wave, "silent", None, None).phase == NEVER_POLLED
    parked = stuck_at(wave, "parked", 60.0, ("poll timeout TimeoutError", 130.0))
    assert (parked.phase, parked.last_poll) == (PARKED, -40.0)
    assert (parked.last_error, parked.last_error_at) == ("poll timeout TimeoutError", 30.0)
    assert stuck_at(wave, "again", 101.0, None).phase == REPOLLED
