"""The linux data plane of the site controller: VNFs as namespaces, chains as veth links."""

from edgewise.site.drivers.linux.driver import LanAttachment, LinuxDriver
from edgewise.site.drivers.linux.layout import SiteNetwork

__all__ = ["LanAttachment", "LinuxDriver", "SiteNetwork"]
