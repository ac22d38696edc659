"""What the decision knows of each WAN link (pure): its state and measured figures.

Fed by the link's carrier (netlink) and by its probes' verdicts and figures (site.health,
through drivers/linux/wanhealth.py); a link without figures keeps every SLA (nothing measured
breaks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgewise.model.steering import SlaProfile
from edgewise.site.health.states import LinkState

__all__ = ["DOWN", "UP", "LinkHealth", "LinkState"]


@dataclass(frozen=True)
class LinkHealth:
    """A link's state and its figures over the probe window (None: not measured)."""

    state: LinkState
    latency_ms: float | None = None
    loss_percent: float | None = None
    jitter_ms: float | None = None

    @property
    def usable(self) -> bool:
        return self.state is not LinkState.DOWN

    def keeps(self, profile: SlaProfile | None) -> bool:
        """Up (not degraded), and within every limit of `profile` that was measured."""
        if self.state is not LinkState.UP:
            return False
        if profile is None:
            return True
        limits = (
            (self.latency_ms, profile.max_latency_ms),
            (self.loss_percent, profile.max_loss_percent),
            (self.jitter_ms, profile.max_jitter_ms),
        )
        return all(value is None or limit is None or value <= limit for value, limit in limits)


UP = LinkHealth(LinkState.UP)
DOWN = LinkHealth(LinkState.DOWN)


def carrier_health(carrier: bool) -> LinkHealth:
    """What a link's carrier alone says (until the probes tell more)."""
    return UP if carrier else DOWN
