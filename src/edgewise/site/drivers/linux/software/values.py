"""What the driver and a third-party VNF's supervisor exchange (values only): the deployment
asked for, and the status observed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgewise.model.desired import config_digest
from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.software.facts import VnfFacts

WAITING = "waiting for the chain's links (its templates name its interfaces)"


@dataclass(frozen=True)
class Deployment:
    """What the driver asks a VNF to run: its config (and that config's digest) and facts."""

    config: SoftwareConfig
    digest: str
    facts: VnfFacts

    @property
    def settled_digest(self) -> str:
        """The digest of the config without its heal count (the same: only a heal asked)."""
        return config_digest(self.config.settled())


@dataclass(frozen=True)
class SoftwareStatus:
    """What observe reports of a third-party VNF (`as_json` goes into its counters)."""

    state: str  # starting | ready | unready | failed | stopped
    reason: str = ""
    restart_due: bool = False
    programs: dict[str, dict[str, Any]] = field(default_factory=dict)
    reload_error: str | None = None
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "programs": self.programs,
            "reload_error": self.reload_error,
            "notes": list(self.notes),
        }
