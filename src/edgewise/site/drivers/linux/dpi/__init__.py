"""Layer-7 application identification with nDPI for a site's WAN namespace: the first packets of
each new flow go through a netfilter queue to nDPI, and the verdict writes the application's id
into the flow's conntrack mark, so the rest of the flow never leaves the kernel (docs/dpi.md).

Interface for the site controller: start `Options(...).argv()` as a process (one per namespace);
read its counters with `read_status`; the mark bits are in `marks`.
"""

from edgewise.site.drivers.linux.dpi.marks import APP_MASK, DONE_BIT, DPI_MASK, app_of
from edgewise.site.drivers.linux.dpi.program import Options
from edgewise.site.drivers.linux.dpi.status import read_status

__all__ = ["APP_MASK", "DONE_BIT", "DPI_MASK", "Options", "app_of", "read_status"]
