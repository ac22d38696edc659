"""Builds the central's FastAPI application: store, routes, problem handlers, first admin."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request

from edgewise import __version__
from edgewise.central.api import (
    autoscale,
    catalog,
    links,
    metrics,
    nsfm,
    nslcm,
    nspm,
    overlays,
    pnfd,
    policy_rules,
    rollout_preview,
    rollouts,
    sites,
    steering,
    telemetry,
    tenants,
    vnf_packages,
)
from edgewise.central.api.catalog import UPLOAD_LIMITS
from edgewise.central.api.deps import get_caller
from edgewise.central.api.headers import CanonicalHeaderNames
from edgewise.central.api.limits import BodySizeLimit, WriteAdmission
from edgewise.central.api.openapi import install_openapi
from edgewise.central.api.problems import install_problem_handlers
from edgewise.central.api.requestids import RequestIds
from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime

SOL005_VERSION = "2.6.1"
JSON_BODY_LIMIT = 4 * 1024 * 1024
FETCHING_PATHS = ("/upload_from_uri", "/subscriptions")  # take a write slot after fetching
log = logging.getLogger(__name__)


def create_app(settings: CentralSettings, runtime: CentralRuntime) -> FastAPI:
    """The northbound app over the process's runtime (the process root opens and closes it,
    and starts the background workers: see serve.py)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if runtime.loop is None:  # served alone (a test): the app's loop is the runtime's
            runtime.bind(asyncio.get_running_loop())
        yield

    app = FastAPI(
        title="Edgewise central manager",
        version=__version__,
        description="ETSI NFV SOL005 catalog and Edgewise's native API for tenants and sites.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by install_openapi
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.sessions = runtime.sessions
    app.state.metrics = metrics.registry_of(runtime)
    app.add_middleware(
        BodySizeLimit, json_bytes=JSON_BODY_LIMIT, upload_bytes=UPLOAD_LIMITS.max_package_bytes
    )
    app.add_middleware(
        WriteAdmission, concurrency=settings.api_write_concurrency, fetching=FETCHING_PATHS
    )
    install_problem_handlers(app)
    for router in (
        catalog.nsd_router,
        vnf_packages.router,
        pnfd.router,
        nslcm.router,
        nsfm.router,
        nspm.router,
        rollouts.router,
        rollout_preview.router,
        tenants.router,
        sites.router,
        links.router,
        telemetry.router,
        steering.router,
        overlays.router,
        policy_rules.router,
        autoscale.router,
        metrics.router,
    ):
        app.include_router(router)

    @app.get("/health", tags=["service"], operation_id="health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/api/v1/central",
        tags=["service"],
        operation_id="readCentral",
        dependencies=[Depends(get_caller)],
    )
    def central(request: Request) -> dict[str, Any]:
        """Where sites reach this central and the CA they pin (to hand out with tokens)."""
        described: dict[str, Any] = request.app.state.runtime.describe()
        return described

    for api in (
        "nsd",
        "vnfpkgm",
        "nslcm",
        "nsfm",
        "nspm",
    ):  # SOL013: the version-independent list too
        app.add_api_route(
            f"/{api}/api_versions",
            _api_versions(f"/{api}/v1"),
            methods=["GET"],
            tags=["service"],
            operation_id=f"apiVersions_{api}",
        )
    for prefix in ("/nsd/v1", "/vnfpkgm/v1", "/nslcm/v1", "/nsfm/v1", "/nspm/v1"):
        app.add_api_route(
            f"{prefix}/api_versions",
            _api_versions(prefix),
            methods=["GET"],
            tags=["service"],
            operation_id=f"apiVersions{prefix.replace('/', '_')}",
        )
    install_openapi(app)
    app.add_middleware(RequestIds)  # an id on every answer; unexpected errors logged once
    app.add_middleware(  # outermost: sees every header the others add
        CanonicalHeaderNames,
        version=SOL005_VERSION.encode(),
        version_paths=("/nsd/", "/vnfpkgm/", "/nslcm/", "/nsfm/", "/nspm/"),
    )
    return app


def _api_versions(prefix: str) -> Callable[[], dict[str, Any]]:
    def api_versions() -> dict[str, Any]:
        return {"uriPrefix": prefix, "apiVersions": [{"version": SOL005_VERSION}]}

    return api_versions
