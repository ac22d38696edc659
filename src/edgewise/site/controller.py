"""The site controller: poller, reconciler and reporter around one journal, driver and uplink.

The poller stores each new desired state in the journal and wakes the reconciler; the reconciler
also runs on a timer, connected or not, so drift is repaired locally, and at once when the
driver can tell of drift (`WatchesDrift`); the reporter drains the outbox whenever the central
answers. A driver that tells its WAN links' state changes (`ReportsLinkStates`) has each one put
in the outbox as a `link-state` event, at most a few per link per minute (health/events.py); a
driver that runs real-time policy is ticked every second, central or not (rtpolicy/ticker.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from edgewise.model.desired import DesiredState, DocumentError
from edgewise.site.backoff import Backoff, initial_delay
from edgewise.site.drivers.base import Driver, WatchesDrift
from edgewise.site.errors import PermanentError, TemporaryError
from edgewise.site.health.events import LinkEvent, LinkEventLimiter, ReportsLinkStates
from edgewise.site.journal import Journal, OutboxItem
from edgewise.site.reconcile import SITE, ChangeResult, ObservedState, apply_plan, plan
from edgewise.site.reporting import change_event, is_repair, status_body
from edgewise.site.rtpolicy.ticker import ticker_for
from edgewise.site.uplink import PolledDesired, ReportReceipt

log = logging.getLogger(__name__)
SETTLE_INTERVAL = 0.25  # s between passes while a VNF is coming up (its programs not ready)
ANSWER_FAULTS = frozenset({"bad-answer", "too-large"})  # the central answered, but wrongly
Sleeper = Callable[[float], Awaitable[None]]


class CentralChannel(Protocol):
    """What the controller needs of the uplink (`site.uplink.Uplink` is the real one)."""

    async def poll_desired(self, revision: int) -> PolledDesired | None: ...

    async def send_reports(self, items: Sequence[OutboxItem]) -> ReportReceipt: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ControllerSettings:
    reconcile_interval: float = 5.0
    first_poll_max_delay: float = 10.0
    report_batch: int = 500
    report_max_bytes: int = 900 * 1024  # under the channel's 1 MiB per batch
    backoff_base: float = 0.5
    backoff_cap: float = 10.0
    concurrency: int = 4
    keep_sent_reports: int = 100
    counters_interval: float = 60.0  # at most one counters report per this many seconds
    # while links are probed, one at least this often, changed or not (passes are
    # `reconcile_interval` apart: 50 + 5 s leaves every minute of the history a sample)
    links_sample_interval: float = 50.0
    settle_timeout: float = 60.0  # between a new revision and the next poll, at most (a hold)
    seed: int | None = None


class SiteController:
    """Runs one site. It owns what it is given: `stop()` closes the channel, driver and journal.

    With `channel=None` it runs alone from its journal (no central configured).
    """

    def __init__(
        self,
        journal: Journal,
        driver: Driver,
        channel: CentralChannel | None,
        settings: ControllerSettings | None = None,
        *,
        sleep: Sleeper = asyncio.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.journal = journal
        self.driver = driver
        self.channel = channel
        self.settings = settings or ControllerSettings()
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(self.settings.seed)  # noqa: S311 - jitter, not security
        self._wake_reconciler = asyncio.Event()
        self._outbox_ready = asyncio.Event()
        self._outbox_drained = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._desired: DesiredState | None = None
        self._rejection: str | None = None
        self._failures: dict[str, str] = {}
        self._settling = False  # the last status showed a VNF coming up
        self._counters_sent: dict[str, dict[str, dict[str, Any]]] = {}
        self._counters_at = -math.inf
        self._reported_revision: int | None = None
        self._stale_reported: int | None = None
        self._channel_trouble: str | None = None
        self.connected = False
        self.passes = 0
        self.link_limiter = LinkEventLimiter()
        self._links_told = False  # a link changed state since the last status
        self._observed: ObservedState | None = None  # the last pass's: the policy reads it
        self._peers_sent: Mapping[str, Mapping[str, str]] = {}  # the last status's overlay_peers
        self.policy = ticker_for(driver, lambda: (self._desired, self._observed),
                                 lambda event: self._enqueue("event", event))  # fmt: skip

    @property
    def desired(self) -> DesiredState | None:
        return self._desired

    def _backoff(self) -> Backoff:
        s = self.settings
        return Backoff(s.backoff_base, s.backoff_cap, random.Random(self._rng.random()))  # noqa: S311

    async def start(self) -> None:
        """Loads the journal's last desired state and starts the three loops."""
        stored = self.journal.desired()
        if stored is not None:
            try:
                self._desired = DesiredState.from_document(stored.revision, stored.document)
            except DocumentError as exc:
                log.error("journal: stored revision %s is invalid: %s", stored.revision, exc)  # noqa: TRY400
        self._enqueue(
            "event",
            {"event": "controller-started", "appliedRevision": self.journal.applied_revision(),
             "desiredRevision": stored.revision if stored else None},
        )  # fmt: skip
        self._wake_reconciler.set()
        self._tasks = [asyncio.create_task(self._reconcile_loop(), name="reconciler")]
        if isinstance(self.driver, WatchesDrift):
            self._tasks.append(asyncio.create_task(self._drift_loop(self.driver), name="drift"))
        if isinstance(self.driver, ReportsLinkStates):
            self._tasks.append(asyncio.create_task(self._link_loop(self.driver), name="links"))
        if self.policy is not None:
            self._tasks.append(asyncio.create_task(self.policy.run(), name="policy"))
        if self.channel is not None:
            self._tasks.append(asyncio.create_task(self._poll_loop(self.channel), name="poller"))
            self._tasks.append(
                asyncio.create_task(self._report_loop(self.channel), name="reporter")
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.channel is not None:
            await self.channel.close()
        await self.driver.close()
        self.journal.close()

    async def __aenter__(self) -> SiteController:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # desired state

    def accept(self, revision: int, document: Any) -> bool:
        """Stores a valid desired state (before using it) and wakes the reconciler.

        A bad document is refused with an event; the controller keeps its last good state.
        """
        held = self.journal.received_revision()
        if self._desired is not None and revision < held:
            # Out of order (a replay, a stale proxy): it changes nothing. The central never
            # sends an older revision on purpose; after a restore it fast-forwards instead.
            log.warning("ignored desired revision %s older than the %s held", revision, held)
            if self._stale_reported != revision:
                self._stale_reported = revision
                self._enqueue(
                    "event",
                    {"event": "stale-revision-ignored", "revision": revision, "held": held},
                )
            return False
        try:
            state = DesiredState.from_document(revision, document)
        except DocumentError as exc:
            self.journal.mark_received(revision)
            self._rejection = f"revision {revision} rejected: {len(exc.problems)} problem(s)"
            log.error("desired state %s", self._rejection)  # noqa: TRY400 - no traceback
            self._enqueue(
                "event",
                {"event": "document-rejected", "revision": revision,
                 "problems": [str(p) for p in exc.problems[:50]], "detail": self._rejection},
            )  # fmt: skip
            self._reported_revision = None  # the next pass reports the error
            self._wake_reconciler.set()
            return False
        self.journal.store_desired(revision, document)
        self._desired, self._rejection = state, None
        self._wake_reconciler.set()
        if self.policy is not None:  # evaluate the new rules at once
            self.policy.wake()
        return True

    # reconciler

    async def _reconcile_loop(self) -> None:
        while True:
            interval = self.settings.reconcile_interval
            if self._settling:  # a VNF is coming up: its readiness goes out when it settles
                interval = min(interval, SETTLE_INTERVAL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_reconciler.wait(), interval)
            self._wake_reconciler.clear()
            try:
                await self.reconcile_once()
            except Exception:  # the loop must outlive a bad pass
                log.exception("reconcile pass failed")

    async def _drift_loop(self, driver: WatchesDrift) -> None:
        """Wakes the reconciler on the driver's drift events; the timer stays the backstop.

        While changes fail, only the timer retries (a failing change could wake itself).
        """
        try:
            async for drift in driver.drift_events():
                if self._failures:
                    log.info("drift (repaired on the timer while changes fail): %s", drift)
                    continue
                log.info("drift: %s", drift)
                self._wake_reconciler.set()
        except Exception:
            log.exception("drift watch failed: drift is now found on the timer only")

    async def _link_loop(self, driver: ReportsLinkStates) -> None:
        """Puts each link state change in the outbox, within the limiter's rate per link; a
        held change goes out when the link may send again (if its state is still news)."""
        limiter = self.link_limiter
        events = driver.link_events()
        pending: asyncio.Task[LinkEvent] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(events))
                wait = limiter.next_due(time.monotonic())
                done, _ = await asyncio.wait({pending}, timeout=wait)
                now = time.monotonic()
                if pending in done:
                    event, pending = pending.result(), None
                    sent = limiter.offer(event, now)
                    self._links_told = True  # the next status carries the links' states
                    if sent is not None:
                        self._enqueue("event", sent.body())
                for held in limiter.due(now):
                    self._enqueue("event", held.body())
        except StopAsyncIteration:
            log.warning("the driver stopped telling link state changes")
        except Exception:
            log.exception("link state events failed: the status still carries link states")
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            if isinstance(events, AsyncGenerator):
                await events.aclose()

    async def reconcile_once(self) -> list[ChangeResult]:
        """One pass: observe, plan, apply, then report what it did."""
        desired = self._desired
        if desired is None:
            return []  # nothing accepted yet: leave whatever runs alone
        observed = self._observed = await self.driver.observe()
        settled = self._settling and not settling(observed)
        changes = plan(desired, observed)
        results = await apply_plan(self.driver, changes, concurrency=self.settings.concurrency)
        self.passes += 1
        await self._report_pass(desired, results, settled=settled)
        self._report_counters(observed)
        return results

    def _report_counters(self, observed: ObservedState) -> None:
        """The data plane's counters, when they changed, at most every `counters_interval`;
        while links are probed, every `links_sample_interval` (or sooner) changed or not."""
        now, settings = time.monotonic(), self.settings
        probed = bool(observed.wan.counters.get("probes"))
        every = settings.counters_interval
        if probed:
            every = min(every, settings.links_sample_interval)
        if now - self._counters_at < every:
            return
        counters = {
            service.id: {vnf.name: dict(vnf.counters) for vnf in service.vnfs if vnf.counters}
            for service in observed.services
        }
        counters = {sid: vnfs for sid, vnfs in counters.items() if vnfs}
        wan = dict(observed.wan.counters)
        if wan:
            counters["@wan"] = wan
        if counters == self._counters_sent and not probed:
            return
        body: dict[str, Any] = {"services": {k: v for k, v in counters.items() if k != "@wan"}}
        if wan:
            body["wan"] = wan  # per link, per class: see site/drivers/linux/wancounters.py
        self._enqueue("counters", body)
        self._counters_sent = counters
        self._counters_at = now

    async def _report_pass(
        self, desired: DesiredState, results: list[ChangeResult], *, settled: bool = False
    ) -> None:
        was_applied = self.journal.applied_revision() == desired.revision
        failures = {str(r.change): r.error or "failed" for r in results if r.failed}
        for result in results:
            change = result.change
            if result.failed and not result.skipped and str(change) not in self._failures:
                self._enqueue("event", change_event("change-failed", result, desired.revision))
            elif result.changed and is_repair(change, was_applied=was_applied):
                name = "service-repaired" if change.vnf_name is None else "vnf-repaired"
                if change.service_id == SITE:
                    name = "wan-repaired"
                self._enqueue("event", change_event(name, result, desired.revision))
        if not failures and not was_applied:
            self.journal.mark_applied(desired.revision)
        peers = self._observed.wan.overlay_peers if self._observed is not None else {}
        told = self._links_told or peers != self._peers_sent  # a tunnel went up or down
        changed = any(r.changed for r in results) or told or settled
        if changed or failures != self._failures or self._reported_revision != desired.revision:
            self._links_told = False
            broken = {r.change.service_id for r in results if r.failed}
            self._enqueue("status", await self._status(desired, failures, broken))
            self._reported_revision = desired.revision
        self._failures = failures

    async def _status(
        self, desired: DesiredState, failures: dict[str, str], broken: set[str]
    ) -> dict[str, Any]:
        observed = await self.driver.observe()
        self._settling = settling(observed)
        status = status_body(desired, observed, failures, broken, self._rejection,
                             peers_told=bool(self._peers_sent))  # fmt: skip
        self._peers_sent = status.get("overlay_peers") or {}
        return status

    def _enqueue(self, kind: str, body: dict[str, Any]) -> None:
        self.journal.enqueue(kind, body, at=self._clock())
        self._outbox_ready.set()

    # poller

    async def _poll_loop(self, channel: CentralChannel) -> None:
        backoff = self._backoff()
        await self._sleep(initial_delay(self.settings.first_poll_max_delay, self._rng))
        while True:
            try:
                polled = await channel.poll_desired(self.journal.received_revision())
            except TemporaryError as exc:
                self.connected = False
                delay = backoff.next_delay(exc.retry_after)
                log.warning("poll: %s (retrying in %.1f s)", exc.message, delay)
                if exc.code in ANSWER_FAULTS and self._channel_trouble != exc.code:
                    self._channel_trouble = exc.code  # one event per kind of bad answer
                    self._enqueue("event", {"event": "bad-answer", "detail": exc.message})
                await self._sleep(delay)
                continue
            except PermanentError as exc:
                self.connected = False
                log.error("poll refused: %s", exc.message)  # noqa: TRY400 - no traceback
                await self._sleep(self.settings.backoff_cap + backoff.next_delay())
                continue
            self.connected = True
            self._channel_trouble = None
            backoff.reset()
            if polled is not None and self.accept(polled.revision, polled.document):
                await self._settle(polled.revision)

    async def _settle(self, revision: int) -> None:
        """Before polling again, lets the new revision be applied and its status sent (briefly):
        the report then rides the connection the poll just released instead of a new one — at
        thousands of sites, the central's TLS handshakes are its scarcest resource."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.settle_timeout):
                while True:
                    self._outbox_drained.clear()  # (no await between this and the check)
                    if self._reported_revision == revision and not self.journal.pending_count():
                        return
                    await self._outbox_drained.wait()

    # reporter

    async def _report_loop(self, channel: CentralChannel) -> None:
        backoff = self._backoff()
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            limit = self.settings.report_batch
            while batch := self._next_batch(limit):
                try:
                    await channel.send_reports(batch)
                except TemporaryError as exc:
                    await self._sleep(backoff.next_delay(exc.retry_after))
                    continue
                except PermanentError as exc:
                    if len(batch) > 1:
                        limit = 1  # find the refused item: send one at a time
                    else:
                        log.error("report %s refused: %s", batch[0].id, exc.message)  # noqa: TRY400
                        self.journal.mark_sent([batch[0].id])
                    continue
                backoff.reset()
                self.journal.mark_sent(item.id for item in batch)
            self.journal.prune_sent(keep=self.settings.keep_sent_reports)
            self._outbox_drained.set()

    def _next_batch(self, limit: int) -> list[OutboxItem]:
        """The oldest pending reports, at most `limit` items and `report_max_bytes` of JSON."""
        batch: list[OutboxItem] = []
        size = 0
        for item in self.journal.pending(limit):
            size += len(json.dumps(item.to_wire()))
            if batch and size > self.settings.report_max_bytes:
                break
            batch.append(item)
        return batch


def settling(observed: ObservedState) -> bool:
    """Whether a VNF is coming up (ObservedVnf.settling)."""
    return any(vnf.settling for service in observed.services for vnf in service.vnfs)
