"""Request bodies at the edge, before any route: sizes enforced while the body streams in (no
1 GB JSON reaches a parser), every JSON body read whole and checked once (`json_bodies`: strict
numbers, bounded depth) before a route parses it; and the admission of writes."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgewise.central.api.json_bodies import NUL, BodyRefused, JsonBounds, read_json
from edgewise.central.api.problems import problem
from edgewise.central.services.errors import InputProblem


@dataclass
class BodySizeLimit:
    """ASGI middleware: bodies over `json_bytes` (`upload_bytes` for content uploads) get 413;
    a JSON body that `json_bodies` refuses gets 400, naming where in the body and why; so does
    a NUL in the path or the query (no store keeps one: PostgreSQL refuses it in text)."""

    app: ASGIApp
    json_bytes: int
    upload_bytes: int
    upload_suffixes: tuple[str, ...] = ("/nsd_content", "/package_content")
    json_bounds: JsonBounds = field(default_factory=JsonBounds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        where = nul_in_target(scope)
        if where is not None:
            await _refused(scope, receive, send, InputProblem(where, NUL))
            return
        upload = path.endswith(self.upload_suffixes)
        limit = self.upload_bytes if upload else self.json_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit)
            return
        if not upload and is_json(headers.get(b"content-type")):
            await self._checked_json(scope, receive, send, limit)
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

    async def _checked_json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                read_json(body, self.json_bounds)
            except BodyRefused as refused:
                await _refused(scope, receive, send, refused.problem)
                return
        await self.app(scope, _replay(body, receive), send)


def nul_in_target(scope: Scope) -> str | None:
    """Where the request's path or query has a NUL: "path", a query parameter's name, "query"."""
    raw_path: bytes = scope.get("raw_path") or scope.get("path", "").encode()
    if b"%00" in raw_path or b"\x00" in raw_path or "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in value and "\x00" not in name:
            return name
    return "query"


async def _refused(scope: Scope, receive: Receive, send: Send, why: InputProblem) -> None:
    refusal = problem(
        400,
        f"the request is not valid: {why}",
        instance=scope.get("path"),
        extra={"problems": [{"where": why.where, "message": why.message}]},
    )
    await refusal(scope, receive, send)


def is_json(content_type: bytes | None) -> bool:
    """application/json or application/*+json, as FastAPI decides to parse a body as JSON."""
    if content_type is None:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body read already, then what the client sends next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _detail(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, the limit here"


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    refusal = problem(413, _detail(limit), instance=scope.get("path"))
    await refusal(scope, receive, send)


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
