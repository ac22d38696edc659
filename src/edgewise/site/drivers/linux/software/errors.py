"""The errors of third-party VNFs at the site, by what happens next.

SiteError (edgewise.site.errors)
 +-- PermanentError
 |    +-- VnfConfigError (linux/errors.py)
 |    |    +-- SoftwareFileError   a file's SHA-256 does not match, a template does not render
 |    |    +-- ReloadFailed        a new configuration did not take: the previous one is back
 |    +-- MissingPackages          Debian packages absent, and the site may not install them
 +-- TemporaryError
      +-- DataPlaneError (linux/errors.py)  spawning, writing, a hook that failed: retry
"""

from __future__ import annotations

from edgewise.site.drivers.linux.errors import VnfConfigError
from edgewise.site.errors import PermanentError


class SoftwareFileError(VnfConfigError):
    code = "software-file"


class ReloadFailed(VnfConfigError):
    code = "reload-failed"


class MissingPackages(PermanentError):
    code = "missing-packages"
