"""Builds the central's FastAPI application: store, routes, problem handlers, first admin."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from edgewise import __version__
from edgewise.central.api import catalog, sites, tenants
from edgewise.central.api.catalog import UPLOAD_LIMITS
from edgewise.central.api.limits import BodySizeLimit
from edgewise.central.api.problems import install_problem_handlers
from edgewise.central.config import CentralSettings
from edgewise.central.services.auth import bootstrap_admin
from edgewise.central.store.engine import migrate, open_engine, session_factory

SOL005_VERSION = "2.6.1"
JSON_BODY_LIMIT = 4 * 1024 * 1024
log = logging.getLogger(__name__)


def create_app(settings: CentralSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(settings.effective_database_url)
        migrate(engine)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        _first_admin(app, settings)
        yield
        engine.dispose()

    app = FastAPI(
        title="Edgewise central manager",
        version=__version__,
        description="ETSI NFV SOL005 catalog and Edgewise's native API for tenants and sites.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(
        BodySizeLimit, json_bytes=JSON_BODY_LIMIT, upload_bytes=UPLOAD_LIMITS.max_package_bytes
    )
    install_problem_handlers(app)
    for router in (catalog.nsd_router, catalog.vnf_router, tenants.router, sites.router):
        app.include_router(router)

    @app.middleware("http")
    async def sol005_version_header(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(("/nsd/", "/vnfpkgm/")):
            response.headers["Version"] = SOL005_VERSION
        return response

    @app.get("/health", tags=["service"], operation_id="health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for prefix in ("/nsd/v1", "/vnfpkgm/v1"):
        app.add_api_route(
            f"{prefix}/api_versions",
            _api_versions(prefix),
            methods=["GET"],
            tags=["service"],
            operation_id=f"apiVersions{prefix.replace('/', '_')}",
        )
    return app


def _api_versions(prefix: str) -> Callable[[], dict[str, Any]]:
    def api_versions() -> dict[str, Any]:
        return {"uriPrefix": prefix, "apiVersions": [{"version": SOL005_VERSION}]}

    return api_versions


def _first_admin(app: FastAPI, settings: CentralSettings) -> None:
    """On a new store, creates the admin and writes its token to a 0600 file beside the data."""
    with app.state.sessions.begin() as session:
        issued = bootstrap_admin(session)
        if issued is None:
            return
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = settings.admin_token_file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(issued.secret + "\n")
        log.warning("first start: admin token written to %s", path)
