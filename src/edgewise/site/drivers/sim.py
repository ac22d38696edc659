"""The simulated data plane: an in-memory `Driver` with latency, seeded failures and drift.

Used by tests and by the simulator that runs thousands of real site controllers in one process.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from edgewise.model.desired import DesiredState, ServiceSpec, VnfSpec
from edgewise.site.reconcile import (
    SITE_OPS,
    Change,
    ChangeOp,
    ChangeResult,
    ObservedService,
    ObservedState,
    ObservedVnf,
    VnfFault,
)
from edgewise.site.sdwan.sections import (
    ObservedWan,
    WanFault,
    links_digest,
    overlays_digest,
    steering_digest,
)

Sleeper = Callable[[float], Awaitable[None]]


@dataclass
class SimService:
    vnfs: dict[str, ObservedVnf] = field(default_factory=dict)
    chain: tuple[str, ...] = ()


class SimDriver:
    """Applies changes to dictionaries after a simulated delay; fails some at random.

    `latency` is the mean delay per change in seconds (drawn uniformly from 0.5x to 1.5x);
    `failure_rate` the chance that a change fails. The draws for a change depend only on the
    seed, the change and how often that change was applied before, so a run with a given seed
    fails the same changes whatever the interleaving of services.
    """

    def __init__(
        self,
        latency: float = 0.0,
        failure_rate: float = 0.0,
        seed: int = 0,
        *,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        if latency < 0 or not 0.0 <= failure_rate <= 1.0:
            raise ValueError("latency must be >= 0 and failure_rate within 0..1")
        self.latency = latency
        self.failure_rate = failure_rate
        self.seed = seed
        self._sleep = sleep
        self._services: dict[str, SimService] = {}
        self._attempts: dict[str, int] = {}
        self._wan = ObservedWan()  # the site's links, steering, overlays: digests
        self.applied = 0
        self.closed = False

    async def observe(self) -> ObservedState:
        return ObservedState(
            tuple(
                ObservedService(sid, tuple(s.vnfs[n] for n in sorted(s.vnfs)), s.chain)
                for sid, s in sorted(self._services.items())
            ),
            self._wan,
        )

    async def apply(self, change: Change) -> ChangeResult:
        key = f"{self.seed}:{change.op.value}:{change.target}"
        attempt = self._attempts.get(key, 0)
        self._attempts[key] = attempt + 1
        draws = random.Random(f"{key}:{attempt}")  # noqa: S311 - simulation, not security
        if self.latency > 0:
            await self._sleep(self.latency * draws.uniform(0.5, 1.5))
        if draws.random() < self.failure_rate:
            return ChangeResult(change, changed=False, failed=True, error="simulated failure")
        self.applied += 1
        try:
            changed = self._apply_now(change)
        except LookupError as exc:
            return ChangeResult(change, changed=False, failed=True, error=str(exc.args[0]))
        return ChangeResult(change, changed=changed)

    async def close(self) -> None:
        self.closed = True

    def _apply_now(self, change: Change) -> bool:
        sid, op = change.service_id, change.op
        if op in SITE_OPS:
            assert isinstance(change.desired, DesiredState)
            return self._apply_site(op, change.desired)
        if op is ChangeOp.DELETE_SERVICE:
            return self._services.pop(sid, None) is not None
        if op is ChangeOp.CREATE_SERVICE:
            if sid in self._services:
                return False
            self._services[sid] = SimService()
            return True
        service = self._services.get(sid)
        if service is None:
            raise LookupError(f"service {sid} is not on the data plane")
        if op is ChangeOp.UPDATE_CHAIN:
            assert isinstance(change.desired, ServiceSpec)
            missing = [n for n in change.desired.chain if n not in service.vnfs]
            if missing:
                raise LookupError(f"chain names VNFs not on the data plane: {', '.join(missing)}")
            changed = service.chain != change.desired.chain
            service.chain = change.desired.chain
            for name, vnf in service.vnfs.items():  # its links are up again
                if VnfFault.LINK_DOWN in vnf.faults:
                    service.vnfs[name] = replace(vnf, faults=vnf.faults - {VnfFault.LINK_DOWN})
                    changed = True
            return changed
        name = change.vnf_name or ""
        if op is ChangeOp.DELETE_VNF:
            return service.vnfs.pop(name, None) is not None
        spec = change.desired
        assert isinstance(spec, VnfSpec)
        wanted = ObservedVnf(name, spec.function, spec.config_digest())
        seen = service.vnfs.get(name)
        if seen == wanted:
            return False  # applied twice
        if op is ChangeOp.CREATE_VNF:
            if seen is not None:
                raise LookupError(f"VNF {change.target} is on the data plane already")
            service.vnfs[name] = wanted
            return True
        if seen is None or seen.function != spec.function:
            raise LookupError(f"VNF {change.target} is not on the data plane as planned")
        if op is ChangeOp.RESTART_VNF:
            if seen.config_digest != wanted.config_digest:
                raise LookupError(f"VNF {change.target} runs another config: not restarted")
            service.vnfs[name] = replace(seen, faults=seen.faults - {VnfFault.PROCESS_DOWN})
        else:  # UPDATE_VNF_CONFIG: ruleset, token buckets and program anew, links as they are
            service.vnfs[name] = replace(wanted, faults=seen.faults & {VnfFault.LINK_DOWN})
        return True

    def _apply_site(self, op: ChangeOp, desired: DesiredState) -> bool:
        wan = self._wan
        if op is ChangeOp.UPDATE_LINKS:
            done = replace(wan, links_digest=links_digest(desired),
                           faults=wan.faults - {WanFault.LINKS_BROKEN})  # fmt: skip
        elif op is ChangeOp.UPDATE_OVERLAYS:
            done = replace(wan, overlays_digest=overlays_digest(desired),
                           faults=wan.faults - {WanFault.OVERLAYS_BROKEN})  # fmt: skip
        else:
            if wan.links_digest != links_digest(desired):
                raise LookupError("steering refers to links not on the data plane")
            done = replace(wan, steering_digest=steering_digest(desired),
                           faults=wan.faults - {WanFault.STEERING_BROKEN})  # fmt: skip
        self._wan = done
        return done != wan

    # Drift, for tests and the simulator: what a crash or an admin's mistake would do.

    def break_vnf(
        self, service_id: str, vnf_name: str, fault: VnfFault = VnfFault.PROCESS_DOWN
    ) -> None:
        """Breaks a VNF (by default its process dies); the next observe reports the fault."""
        service = self._services[service_id]
        seen = service.vnfs[vnf_name]
        broken = replace(seen, faults=seen.faults | {fault})
        if fault is VnfFault.RULESET_MISSING:
            broken = replace(broken, config_digest="")
        service.vnfs[vnf_name] = broken

    def remove_vnf(self, service_id: str, vnf_name: str) -> None:
        """Deletes a VNF behind the controller's back (a deleted namespace)."""
        del self._services[service_id].vnfs[vnf_name]

    def break_wan(self, fault: WanFault) -> None:
        """Breaks the WAN namespace (a flushed steering table, a deleted route or rule)."""
        self._wan = replace(self._wan, faults=self._wan.faults | {fault})

    def remove_service(self, service_id: str) -> None:
        """Deletes a whole service behind the controller's back."""
        del self._services[service_id]
