"""Third-party VNFs at the site (model.software.SoftwareConfig): rendered from the package's
files and the VNF's facts, confined with bubblewrap, limited with cgroups, supervised.

render.py (pure) makes files, argv and environment; confine.py (pure) the bubblewrap command
line; health.py (pure) judges each program; supervisor.py does the I/O (files.py, spawn.py,
cgroups.py, packages.py, probes.py, state.py); glue.py is what the driver calls.
"""

from edgewise.site.drivers.linux.software.values import Deployment, SoftwareStatus

__all__ = ["Deployment", "SoftwareStatus"]
