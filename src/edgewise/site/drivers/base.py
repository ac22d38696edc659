"""The one seam between the site controller and a data plane: what every driver offers."""

from __future__ import annotations

from typing import Protocol

from edgewise.site.reconcile import Change, ChangeResult, ObservedState


class Driver(Protocol):
    """A data plane the reconciler observes and changes.

    `apply` returns a failed `ChangeResult` for data-plane failures instead of raising, and is
    idempotent: applying a change whose effect is already there reports `changed=False`.
    """

    async def observe(self) -> ObservedState:
        """What runs now: services, their VNFs (function, config digest, health), their chains."""
        ...

    async def apply(self, change: Change) -> ChangeResult: ...

    async def close(self) -> None:
        """Releases the driver's resources; the data plane itself keeps running."""
        ...
