"""Every request has an id, sent back in `X-Request-Id`: the caller's, when it sent a plain one,
else a new one. An error nothing else handled is logged here, once (a line naming the request
id, then the traceback), and answered with a 500 ProblemDetails carrying the id; it goes no
further, so the server does not log it a second time. Plain ASGI, like `headers`."""

from __future__ import annotations

import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgewise.central.api.problems import problem

HEADER = b"x-request-id"
SCOPE_KEY = "edgewise.request-id"
PLAIN = re.compile(rb"[A-Za-z0-9._:-]{1,64}")  # anything else is not echoed, nor logged
log = logging.getLogger(__name__)


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER, b"")
        request_id = given.decode() if PLAIN.fullmatch(given) else uuid.uuid4().hex
        scope[SCOPE_KEY] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:  # the last stop: logged once, answered 500
            method, path = scope.get("method", ""), scope.get("path", "")
            log.exception("request %s: %s %s failed unexpectedly", request_id, method, path)
            if started:  # too late for a 500: the connection is closed on the caller
                return
            answer = problem(
                500,
                f"the central hit an unexpected error; it is logged as request {request_id}, "
                "and nothing was changed",
                instance=path,
                extra={"requestId": request_id},
            )
            await answer(scope, receive, send_with_id)
