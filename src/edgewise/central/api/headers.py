"""Response header names in their canonical case (`Content-Type`, `Location`, `Link`), and
SOL005's `Version` header on its APIs' answers.

HTTP header names are case-insensitive and ASGI hands them over in lower case; some clients
(ETSI's own conformance library among them) compare them case-sensitively. uvicorn writes the
names as given, so this middleware gives them the case everyone writes in specifications.
It is plain ASGI (Starlette's BaseHTTPMiddleware costs a task and a stream per request).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SPELLED = {b"etag": b"ETag"}  # names whose usual spelling is not capitalised words


def canonical(name: bytes) -> bytes:
    spelled = SPELLED.get(name.lower())
    if spelled is not None:
        return spelled
    return b"-".join(part[:1].upper() + part[1:] for part in name.split(b"-"))


class CanonicalHeaderNames:
    def __init__(
        self, app: ASGIApp, *, version: bytes = b"", version_paths: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.version = version
        self.version_paths = version_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        versioned = bool(self.version) and scope["path"].startswith(self.version_paths)

        async def send_canonical(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(canonical(k), v) for k, v in message.get("headers", [])]
                if versioned:
                    headers.append((b"Version", self.version))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_canonical)
