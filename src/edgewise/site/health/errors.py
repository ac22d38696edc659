"""Errors of link health: settings that cannot work (fix the document; retrying will not help).

SiteError (edgewise.site.errors)
 +-- PermanentError
      +-- HealthSettingsError   a probe or threshold setting out of range; `field` names it
"""

from __future__ import annotations

from edgewise.site.errors import PermanentError


class HealthSettingsError(PermanentError):
    code = "link-health-settings"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
