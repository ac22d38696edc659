"""A SOL005 subscriber for tests: a real HTTP callback server on loopback that passes the endpoint
test and records every notification POSTed to it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Callback:
    """A subscriber: answers GET with 204, records every POSTed notification; the first
    `failures` POSTs answer 500."""

    failures: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    answered_500: int = 0
    authorizations: list[str | None] = field(default_factory=list)  # of each POST taken
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(204)
                self.end_headers()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with callback.lock:
                    fail = callback.answered_500 < callback.failures
                    if fail:
                        callback.answered_500 += 1
                    else:
                        callback.received.append(body)
                        callback.authorizations.append(self.headers.get("Authorization"))
                self.send_response(500 if fail else 204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base name
                pass

        return Handler

    @classmethod
    def serve(cls) -> tuple[Callback, ThreadingHTTPServer, str]:
        """A subscriber listening on a loopback port; shut the server down when done."""
        subscriber = cls()
        server = ThreadingHTTPServer(("127.0.0.1", 0), subscriber.handler())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return subscriber, server, f"http://127.0.0.1:{server.server_address[1]}/notify"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received)} notifications arrived, {count} expected")
