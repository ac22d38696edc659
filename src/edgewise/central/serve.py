"""The central's process root: opens the runtime (store, CA, revision hub, NSD models) and
runs, on one event loop, the northbound API (uvicorn), the southbound channel (aiohttp) and the
background workers (workers.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

import uvicorn

from edgewise.central.api.app import create_app
from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime
from edgewise.central.southbound.server import SouthboundServer
from edgewise.central.web.portal import install_web
from edgewise.central.workers import Workers

log = logging.getLogger(__name__)


async def serve(settings: CentralSettings, api_host: str, api_port: int) -> None:
    """Serves until SIGINT/SIGTERM; the southbound listener stops with the API."""
    runtime = CentralRuntime.open(settings)
    runtime.bind(asyncio.get_running_loop())
    southbound = SouthboundServer(runtime)
    await southbound.start()
    workers = asyncio.create_task(Workers(runtime).run(), name="central workers")
    app = create_app(settings, runtime)
    install_web(app)
    config = uvicorn.Config(
        app,
        host=api_host,
        port=api_port,
        log_level="warning",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=65,  # past clients' idle pools (a close racing a reuse is an error)
        http="h11",  # keeps header names as written (httptools lowercases them): see headers.py
    )
    server = uvicorn.Server(config)
    gc.collect()
    gc.freeze()  # start-up objects live forever: keep them out of every collection
    log.warning(
        "central up: API http://%s:%s, southbound %s, CA fingerprint %s",
        api_host, api_port, runtime.southbound_url, runtime.authority.fingerprint,
    )  # fmt: skip
    try:
        await server.serve()
    finally:
        workers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await workers
        await southbound.stop()
        runtime.close()


def run(settings: CentralSettings, api_host: str, api_port: int) -> None:
    """On uvloop when it is installed (it comes with uvicorn[standard]): for thousands of TLS
    connections it needs a fraction of asyncio's memory (asyncio keeps a 256 KiB buffer each)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(settings, api_host, api_port))
    else:
        uvloop.run(serve(settings, api_host, api_port))
