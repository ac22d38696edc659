"""The one seam between the site controller and a data plane: what every driver offers.

`WatchesDrift` is optional: a driver that can hear its data plane drift (a namespace deleted, a
link down, a ruleset flushed, a program ended) lets the controller repair at once instead of at
its next timed pass. `EnforcesPolicy` is optional too: a driver that runs the real-time policy
rules (docs/realtime-policy.md) is ticked every second by the controller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from edgewise.model.desired import DesiredState
from edgewise.site.reconcile import Change, ChangeResult, ObservedState


class Driver(Protocol):
    """A data plane the reconciler observes and changes.

    `apply` does exactly the change it is given, never another in its stead (`plan` alone
    decides between rebuilding, reconfiguring in place and restarting). It returns a failed
    `ChangeResult` for data-plane failures instead of raising, and also when the data plane is
    not as the change was planned for (say, a VNF to restart is gone): the next pass plans
    again. Applying a change whose effect is already there reports `changed=False`.
    """

    async def observe(self) -> ObservedState:
        """What runs now: services, their VNFs (function, config digest, faults), their chains."""
        ...

    async def apply(self, change: Change) -> ChangeResult: ...

    async def close(self) -> None:
        """Releases the driver's resources; the data plane itself keeps running."""
        ...


@runtime_checkable
class WatchesDrift(Protocol):
    """A driver that tells when its data plane may have drifted from what it built."""

    def drift_events(self) -> AsyncIterator[str]:
        """Yields one line per burst of drift (debounced); its own changes do not count.

        Watching lasts while the iteration does; it may end (or raise) if the watch breaks.
        """
        ...


@runtime_checkable
class EnforcesPolicy(Protocol):
    """A driver that evaluates and applies the desired state's real-time policy rules."""

    async def enforce_policy(
        self, desired: DesiredState, observed: ObservedState | None
    ) -> list[dict[str, Any]]:
        """One evaluation on local telemetry (`observed`: the last reconcile pass's, None
        before the first); applies its actions and returns its events (for the outbox)."""
        ...
