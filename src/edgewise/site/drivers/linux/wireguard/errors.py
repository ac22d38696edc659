"""The overlay engine's errors (WireGuard devices at the site), by what should happen next.

SiteError (edgewise.site.errors)
 +-- PermanentError
 |    +-- OverlayConfigError    a device's configuration cannot be built (fix the document)
 |    +-- OverlayUnavailable    no wireguard-go and no kernel WireGuard, or no root, here
 +-- TemporaryError
      +-- DataPlaneError        (linux driver) a netlink call failed: retry
      +-- OverlayError          wireguard-go died or did not answer on its socket: retry
"""

from __future__ import annotations

from edgewise.site.errors import PermanentError, TemporaryError


class OverlayConfigError(PermanentError):
    code = "overlay-config"


class OverlayUnavailable(PermanentError):
    code = "overlay-unavailable"


class OverlayError(TemporaryError):
    code = "overlay"
