"""Data-plane drivers of the site controller: one `Driver` protocol, a simulator, later Linux."""

from edgewise.site.drivers.base import Driver, WatchesDrift
from edgewise.site.drivers.sim import SimDriver

__all__ = ["Driver", "SimDriver", "WatchesDrift"]
