"""WAN link health, pure: probe figures over a sliding window, the link state machine, and when
the next probe goes. No I/O: the prober (site/drivers/linux/probing.py) feeds it times and
outcomes; everything here is tested on a fake clock."""

from edgewise.site.health.errors import HealthSettingsError
from edgewise.site.health.monitor import LinkMonitor, ProbeCounts
from edgewise.site.health.settings import LinkHealthSettings, ProbeSettings, Thresholds
from edgewise.site.health.states import LinkState, Transition
from edgewise.site.health.window import Figures

__all__ = [
    "Figures",
    "HealthSettingsError",
    "LinkHealthSettings",
    "LinkMonitor",
    "LinkState",
    "ProbeCounts",
    "ProbeSettings",
    "Thresholds",
    "Transition",
]
