"""The linux driver's errors: netlink, nftables and namespace failures become these on entry.

SiteError (edgewise.site.errors)
 +-- PermanentError
 |    +-- DataPlaneUnavailable  no root, no network namespaces, no libnftables on this host
 |    +-- VnfConfigError        a VNF's config cannot be turned into rules (fix the document)
 +-- TemporaryError
      +-- DataPlaneError        a kernel call failed (netlink, nftables, namespace): retry
"""

from __future__ import annotations

from edgewise.site.errors import PermanentError, TemporaryError


class DataPlaneUnavailable(PermanentError):
    code = "data-plane-unavailable"


class VnfConfigError(PermanentError):
    code = "vnf-config"


class DataPlaneError(TemporaryError):
    code = "data-plane"
