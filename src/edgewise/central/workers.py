"""The central's background work, started by the process root (serve.py, or a test) on the
runtime's event loop — never by the web framework, so a process without the API (a worker-only
replica, a regional manager) runs the same workers:

    tracker     moves NS LCM operations and rollouts on from the sites' reports, sweeps the
                alarms nothing reports (sites offline, certificates expiring), collects PM jobs,
                scales VNFs by their auto-scaling rules, and rolls up and expires the links'
                telemetry history
    delivery    POSTs due SOL005 notifications to their subscribers
    alerts      posts alarms to Alertmanager, when EDGEWISE_ALERTMANAGER_URL is set

Every replica runs them; what they do is safe to run side by side (see orchestrator.tracker,
services.outbox and services.alarms).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import aiohttp
from sqlalchemy.orm import Session

from edgewise.central.config import CentralSettings
from edgewise.central.orchestrator import autoscale_step, rollouts, sdwan, tracker
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services import (
    alarms_sweep,
    announce,
    fault_notifications,
    outbound,
    outbox,
    pm_collect,
    telemetry_rollup,
)
from edgewise.central.services.alarms_alertmanager import AlertmanagerSender
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.egress import EgressPolicy, refused_detail
from edgewise.central.services.telemetry import Retention
from edgewise.central.store.tables import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
TRACKER_PACE = 0.1  # s: at least this long from one tracker pass to the next
ALARM_SWEEP_S = 2.0  # s: at least this long from one alarm sweep to the next


def tracker_steps(
    nsds: NsdModels, settings: CentralSettings
) -> tuple[tuple[Callable[[Session], object], str], ...]:
    """What each tracker pass moves on, each in its own transaction: operations, rollouts, the
    overlay key rotations whose last reports two replicas took in at once, PM jobs' samples and
    reports and thresholds' crossings, the auto-scaling rules, the alarms nothing reports, and
    the links' telemetry history (rolled up, expired)."""
    policy, hold = settings.alarms, settings.poll_hold[1]
    retention = Retention(settings.history_retention)
    swept = [0.0]  # when this tracker last swept the alarms (monotonic; 0: not yet)

    def sweep_alarms(session: Session) -> object:
        """At most every ALARM_SWEEP_S: a pass reads every site (about 20-50 ms at 10,000),
        and the tracker runs up to ten times a second under a stream of reports. The first
        pass after the central starts re-derives what happened while it was away (sites gone
        silent or back, certificates); if that changed the list, subscribers are told to read
        it again (AlarmListRebuiltNotification)."""
        first = swept[0] == 0.0
        if not first and time.monotonic() - swept[0] < ALARM_SWEEP_S:
            return None
        swept[0] = time.monotonic()
        tally = alarms_sweep.sweep(session, policy, hold, utcnow())
        if first and tally.raised + tally.cleared:
            fault_notifications.alarm_list_rebuilt(session)
        return tally

    return (
        (lambda session: tracker.advance(session, nsds), "NS LCM operations"),
        (lambda session: rollouts.advance(session, nsds), "rollouts"),
        (sdwan.sweep_rotations, "overlay key rotations"),
        (pm_collect.advance, "PM jobs and thresholds"),
        (lambda session: autoscale_step.advance(session, nsds), "auto-scaling rules"),
        (sweep_alarms, "alarms"),
        (lambda session: telemetry_rollup.step(session, utcnow(), retention), "link history"),
    )


class Workers:
    """The tracker, the notification delivery and the alert sender of one runtime; `run` until
    cancelled."""

    def __init__(
        self,
        runtime: CentralRuntime,
        *,
        tracker_interval: float = 1.0,
        delivery_interval: float = 0.5,
    ) -> None:
        self.runtime = runtime
        self.tracker_interval = tracker_interval
        self.delivery_interval = delivery_interval

    async def run(self) -> None:
        """Runs the workers on the current loop (binding the runtime to it if nobody has)."""
        if self.runtime.loop is None:
            self.runtime.bind(asyncio.get_running_loop())
        work = [self.track_operations(), self.deliver_notifications()]
        settings = self.runtime.settings
        if settings.alertmanager_url:
            sender = AlertmanagerSender(
                self.runtime.sessions, settings.alertmanager_url, settings.alertmanager_interval
            )
            work.append(sender.run())
        await asyncio.gather(*work)

    async def track_operations(self) -> None:
        """Moves NS LCM operations and rollouts on: when this replica records statuses, and at
        least every `tracker_interval` s. Finishing an operation is a conditional update only
        one replica wins."""
        loop = asyncio.get_running_loop()
        nsds = self.runtime.nsds
        steps = tracker_steps(nsds, self.runtime.settings)
        while True:
            began = loop.time()
            for step, what in steps:
                try:  # each on its own: a bad pass of one must not hold the other back
                    await asyncio.to_thread(self._in_transaction, step)
                except Exception:  # the tracker outlives a bad pass (store briefly away, ...)
                    log.exception("advancing %s failed", what)
            await self.runtime.nap(announce.STATUSES, self.tracker_interval)
            # a pass reads every operation in flight: under a stream of reports, passes are
            # paced so that each one takes in the reports of a while, not of one commit
            await asyncio.sleep(max(0.0, TRACKER_PACE - (loop.time() - began)))

    async def deliver_notifications(self) -> None:
        """POSTs due notifications to their subscribers, forever; failures are retried later
        with backoff (services.outbox), never holding anything else back."""
        timeout = aiohttp.ClientTimeout(total=10)
        claim = _claimer(self.runtime.sealer)
        policy = EgressPolicy(self.runtime.settings.fetch_allowed)
        post = functools.partial(deliver, policy=policy)
        connector = outbound.checked_connector(policy)  # a callback's name may move since
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            while True:
                batch: list[outbox.Delivery] = []
                try:
                    batch = await asyncio.to_thread(self._in_transaction, claim)
                    if batch:
                        outcomes = await asyncio.gather(*(post(http, d) for d in batch))
                        await asyncio.to_thread(self._in_transaction, _recorder(outcomes))
                except Exception:  # the deliverer must outlive a bad pass
                    log.exception("delivering notifications failed")
                if not batch:
                    await self.runtime.nap(announce.NOTIFICATIONS, self.delivery_interval)

    def _in_transaction(self, step: Callable[[Session], T]) -> T:
        with self.runtime.sessions.begin() as session:
            return step(session)


def _claimer(sealer: Sealer) -> Callable[[Session], list[outbox.Delivery]]:
    def claim(session: Session) -> list[outbox.Delivery]:
        return outbox.claim(session, utcnow(), sealer)

    return claim


def _recorder(outcomes: list[tuple[str, str | None]]) -> Callable[[Session], None]:
    def record(session: Session) -> None:
        outbox.record(session, outcomes, utcnow())

    return record


async def deliver(
    http: aiohttp.ClientSession, delivery: outbox.Delivery, *, policy: EgressPolicy
) -> tuple[str, str | None]:
    """(notification id, None when the subscriber took it, else why not). A callback whose
    address the policy refuses now (it moved, or the operator narrowed the policy) is not
    contacted; redirects are not followed."""
    refused = outbound.refusal(delivery.callback_uri, policy)
    if refused is not None:
        return delivery.id, f"the callback is not reached: {refused}"
    headers = {"Content-Type": "application/json", **delivery.headers}
    try:
        async with http.post(delivery.callback_uri, json=delivery.body, headers=headers,
                             allow_redirects=False) as answer:  # fmt: skip
            if answer.status == 204 or 200 <= answer.status < 300:
                return delivery.id, None
            return delivery.id, f"the callback answered {answer.status}"
    except outbound.RefusedTarget as name:
        return delivery.id, f"the callback is not reached: {refused_detail(str(name))}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return delivery.id, f"the callback cannot be reached: {exc or type(exc).__name__}"
