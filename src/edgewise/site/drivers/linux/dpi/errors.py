"""The DPI classifier's errors, raised where a foreign failure enters (ctypes, netlink, iptables).

SiteError (edgewise.site.errors)
 +-- PermanentError
 |    +-- DpiUnavailable    no nDPI library, no iptables-nft, no root or namespace: install/fix
 |    +-- DpiConfigError    a custom application nDPI refuses (fix the applications given)
 +-- TemporaryError
      +-- QueueError        the netfilter queue or a hook rule failed: restart the classifier
"""

from __future__ import annotations

from edgewise.site.errors import PermanentError, TemporaryError


class DpiUnavailable(PermanentError):
    code = "dpi-unavailable"


class DpiConfigError(PermanentError):
    code = "dpi-config"


class QueueError(TemporaryError):
    code = "dpi-queue"
