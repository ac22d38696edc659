"""Request size limits, enforced while the body streams in (no 1 GB JSON reaches a parser)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgewise.central.api.problems import PROBLEM_TYPE


@dataclass
class BodySizeLimit:
    """ASGI middleware: bodies over `json_bytes` (`upload_bytes` for content uploads) get 413."""

    app: ASGIApp
    json_bytes: int
    upload_bytes: int
    upload_suffixes: tuple[str, ...] = ("/nsd_content", "/package_content")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.upload_bytes if path.endswith(self.upload_suffixes) else self.json_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, path, limit)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, _detail(limit))
            return message

        await self.app(scope, limited_receive, send)


def _detail(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, the limit here"


async def _refuse(send: Send, path: str, limit: int) -> None:
    body = json.dumps(
        {
            "type": "https://edgewise.dev/problems/413",
            "title": "Payload Too Large",
            "status": 413,
            "detail": _detail(limit),
            "instance": path,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class WriteAdmission:
    """ASGI middleware: at most `concurrency` requests that may write run at once.

    Sync routes run on a pool of 40 worker threads. On SQLite, writes go one at a time; left
    alone, a burst of writes takes every thread, each waiting its turn for the store, and
    reads queue behind them for a thread. Admitting writes a few at a time keeps threads
    free for reads; waiting writers wait here, without holding a thread.

    Requests to paths ending in `fetching` first fetch from elsewhere (a package by URI, a
    callback's test): they are admitted at once and take a slot themselves (`write_slot`)
    only for their store work, so that slow servers elsewhere hold no slot.
    """

    app: ASGIApp
    concurrency: int
    fetching: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.concurrency)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if scope.get("path", "").endswith(self.fetching):
            scope[WRITE_SLOT] = self._gate
            await self.app(scope, receive, send)
            return
        async with self._gate:
            await self.app(scope, receive, send)


WRITE_SLOT = "edgewise.write-slot"


def write_slot(request: Request) -> AbstractAsyncContextManager[Any]:
    """The write slot a fetching route takes around its store work (none outside the app)."""
    gate: asyncio.Semaphore | None = request.scope.get(WRITE_SLOT)
    return gate if gate is not None else contextlib.nullcontext()
