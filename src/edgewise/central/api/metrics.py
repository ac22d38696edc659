"""`GET /metrics`: the central's series in Prometheus' text format, for an operator's token.

The registry is the app's own (one per central runtime, never prometheus-client's global one):
the store's counts (`services.metrics`) and the channel's counters, read at scrape time.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from edgewise.central.api.deps import CallerDep
from edgewise.central.api.problems import problem
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services.errors import Forbidden
from edgewise.central.services.metrics import ScrapeUnavailable, StoreCollector
from edgewise.central.services.metrics_channel import ChannelCollector

router = APIRouter(tags=["service"])


def registry_of(runtime: CentralRuntime) -> CollectorRegistry:
    """The runtime's metrics: built once per app, read on every scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        StoreCollector(runtime.sessions, site_series=runtime.settings.metrics_site_series)
    )
    registry.register(ChannelCollector(runtime.channel))
    return registry


@router.get(
    "/metrics",
    operation_id="readMetrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, 503: {"description": "store slow"}},
)
async def read_metrics(request: Request, caller: CallerDep) -> Response:
    """The fleet's, operations', rollouts', notifications', links' (with per-class counters),
    VNFs' counters and channel's series (docs/monitoring.md). Fleet-wide, so an operator's
    (`admin`) token only; 503 when the store does not answer in time."""
    if not caller.is_admin:
        raise Forbidden("the metrics are fleet-wide: an operator's (admin) token is needed")
    registry: CollectorRegistry = request.app.state.metrics
    try:
        body = await run_in_threadpool(generate_latest, registry)
    except ScrapeUnavailable as exc:  # temporary: Prometheus marks the target down, retries
        return problem(503, str(exc), instance=request.url.path, headers={"Retry-After": "5"})
    return Response(body, media_type=CONTENT_TYPE_LATEST)
