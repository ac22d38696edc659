"""The alarm engine's thresholds (what makes a fault an alarm, and when the periodic sweep looks):
read from the environment by `central.config` and handed to the report intake and the sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

LAST_SEEN_SLACK_S = 5.0  # the channel writes "heard from" marks this often (presence.LastSeen)


@dataclass(frozen=True)
class AlarmPolicy:
    """`offline_holds`: a site is offline after this many of the longest poll hold without a
    poll (plus the marks' slack); `flap_restarts` restarts of one VNF within `flap_window_s`
    make it flapping; `drift_repairs` repairs of a site's data plane within `drift_window_s`
    are drift repaired repeatedly; client certificates expiring within `certificate_days`;
    the sweep handles at most `sweep_batch` alarms of each kind per pass."""

    offline_holds: float = 2.0
    flap_restarts: int = 3
    flap_window_s: float = 600.0
    drift_repairs: int = 5
    drift_window_s: float = 600.0
    certificate_days: int = 14
    sweep_batch: int = 2000

    def __post_init__(self) -> None:
        checks = {
            "EDGEWISE_ALARM_OFFLINE_HOLDS": self.offline_holds > 0,
            "EDGEWISE_ALARM_FLAP_RESTARTS": self.flap_restarts >= 1,
            "EDGEWISE_ALARM_FLAP_WINDOW": self.flap_window_s > 0,
            "EDGEWISE_ALARM_DRIFT_REPAIRS": self.drift_repairs >= 1,
            "EDGEWISE_ALARM_DRIFT_WINDOW": self.drift_window_s > 0,
            "EDGEWISE_ALARM_CERTIFICATE_DAYS": self.certificate_days >= 0,
            "EDGEWISE_ALARM_SWEEP_BATCH": self.sweep_batch >= 1,
        }
        wrong = [name for name, fine in checks.items() if not fine]
        if wrong:
            raise ValueError(f"{', '.join(wrong)}: must be positive (counts at least 1)")

    def offline_after(self, longest_hold_s: float) -> timedelta:
        """No poll for this long: the site is offline."""
        return timedelta(seconds=self.offline_holds * longest_hold_s + LAST_SEEN_SLACK_S)
