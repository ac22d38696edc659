"""The suites' notification endpoint: a loopback HTTP server standing in for MockServer.

The ETSI suites start a MockServer jar that is not shipped with them and drive it through
robotframework-mockserver. This server answers the part of MockServer's control API that
library uses (PUT /expectation, /verify, /verifySequence, /retrieve, /clear, /reset, with or
without the /mockserver prefix), records every other request (the notifications) and answers
it from the first matching expectation. Unlike MockServer it answers an unexpected GET or POST
with 204, as a SOL005 notification endpoint does, so an NFVO that tests the endpoint when a
subscription is created gets the answer it expects. It also serves registered files (the VNF
package behind upload-from-URI).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONTROL = {"expectation", "verify", "verifySequence", "retrieve", "clear", "reset"}
MAX_FORWARDS = 5


@dataclass(frozen=True)
class Recorded:
    """One request the server received (control requests excluded)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", "replace"),
        }


@dataclass
class Expectation:
    matcher: Mapping[str, Any]
    response: Mapping[str, Any] | None
    forward_path: str | None
    remaining: int | None  # None: unlimited


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _contains(whole: Any, part: Any) -> bool:
    """MockServer's ONLY_MATCHING_FIELDS: every field of `part` is in `whole` with that value."""
    if isinstance(part, Mapping) and isinstance(whole, Mapping):
        return all(k in whole and _contains(whole[k], v) for k, v in part.items())
    return bool(whole == part)


def body_matches(matcher: Mapping[str, Any], raw: bytes) -> bool:
    kind = matcher.get("type")
    if kind == "JSON":
        wanted = _json_body(str(matcher.get("json", "")).encode())
        actual = _json_body(raw)
        if matcher.get("matchType") == "STRICT":
            return bool(actual == wanted)
        return _contains(actual, wanted)
    if kind == "JSON_SCHEMA":
        import jsonschema  # the suites' venv and the project's have it

        schema = _json_body(str(matcher.get("jsonSchema", "")).encode())
        actual = _json_body(raw)
        if not isinstance(schema, dict) or actual is None:
            return False
        try:
            jsonschema.validate(actual, schema)
        except jsonschema.ValidationError:
            return False
        return True
    return kind is None


def request_matches(matcher: Mapping[str, Any], request: Recorded) -> bool:
    """Method (exact), path (exact or a whole-path regular expression) and body, when given."""
    method = matcher.get("method")
    if method and str(method).upper() != request.method:
        return False
    path = matcher.get("path")
    if path and path != request.path:
        try:
            if not re.fullmatch(str(path), request.path):
                return False
        except re.error:
            return False
    body = matcher.get("body")
    return not isinstance(body, Mapping) or body_matches(body, request.body)


@dataclass
class CallbackState:
    """Expectations, recorded requests and served files; every method holds the lock."""

    expectations: list[Expectation] = field(default_factory=list)
    received: list[Recorded] = field(default_factory=list)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve_file(self, path: str, data: bytes, media_type: str) -> None:
        with self.lock:
            self.files[path] = (data, media_type)

    def control(self, action: str, body: Any) -> Reply:
        spec = body if isinstance(body, dict) else {}
        with self.lock:
            if action == "expectation":
                self.expectations.append(_expectation(spec))
                return Reply(201)
            if action == "verify":
                return self._verify(spec)
            if action == "verifySequence":
                return self._verify_sequence(spec)
            if action == "retrieve":
                path = spec.get("path")
                found = [r.as_json() for r in self.received if not path or r.path == path]
                return Reply(200, json.dumps(found).encode(), {"Content-Type": "application/json"})
            if action == "clear":
                path = spec.get("path")
                self.expectations = [e for e in self.expectations if e.matcher.get("path") != path]
                self.received = [r for r in self.received if r.path != path]
                return Reply(200)
            self.expectations.clear()
            self.received.clear()
            return Reply(200)

    def handle(self, request: Recorded, depth: int = 0) -> Reply:
        with self.lock:
            self.received.append(request)
            if request.method == "GET" and request.path in self.files:
                data, media_type = self.files[request.path]
                return Reply(200, data, {"Content-Type": media_type})
            expectation = next(
                (e for e in self.expectations if request_matches(e.matcher, request)), None
            )
            if expectation is not None and expectation.remaining is not None:
                expectation.remaining -= 1
                if expectation.remaining <= 0:
                    self.expectations.remove(expectation)
        if expectation is None:
            return Reply(204 if request.method in ("GET", "POST") else 404)
        if expectation.forward_path is not None and depth < MAX_FORWARDS:
            moved = Recorded(
                request.method, expectation.forward_path, request.headers, request.body
            )
            return self.handle(moved, depth + 1)
        return _reply(expectation.response or {})

    def _verify(self, spec: Mapping[str, Any]) -> Reply:
        matcher = spec.get("httpRequest") or {}
        times = spec.get("times") or {}
        count = sum(request_matches(matcher, r) for r in self.received)
        least = int(times.get("atLeast", 1))
        most = times.get("atMost")
        if count >= least and (most is None or count <= int(most)):
            return Reply(202)
        return Reply(
            406,
            f"Request not found between {least} and {most} times (received {count}): "
            f"{json.dumps(matcher)}".encode(),
        )

    def _verify_sequence(self, spec: Mapping[str, Any]) -> Reply:
        pending = list(spec.get("httpRequests") or [])
        for request in self.received:
            if pending and request_matches(pending[0], request):
                pending.pop(0)
        if not pending:
            return Reply(202)
        return Reply(406, f"Request sequence not found: {json.dumps(pending[0])}".encode())


def _expectation(spec: Mapping[str, Any]) -> Expectation:
    times = spec.get("times") or {}
    remaining = None if times.get("unlimited", True) else int(times.get("remainingTimes", 1))
    forward = spec.get("httpOverrideForwardedRequest") or spec.get("httpForward")
    forward_path = None
    if isinstance(forward, Mapping):
        target = forward.get("httpRequest", forward)
        forward_path = str(target.get("path")) if isinstance(target, Mapping) else None
    return Expectation(
        spec.get("httpRequest") or {}, spec.get("httpResponse"), forward_path, remaining
    )


def _reply(response: Mapping[str, Any]) -> Reply:
    headers: dict[str, str] = {}
    for header in response.get("headers") or []:
        if isinstance(header, Mapping):
            headers[str(header.get("name"))] = ",".join(header.get("values") or [])
    body = response.get("body") or ""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return Reply(int(response.get("statusCode", 200)), data, headers)


def control_action(method: str, path: str) -> str | None:
    """The MockServer control action a request names, if it is one."""
    name = path.removeprefix("/mockserver").strip("/").split("?")[0]
    return name if method == "PUT" and name in CONTROL else None


class CallbackServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = CallbackState()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="callback", daemon=True
        )
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: CallbackServer

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        action = control_action(self.command, path)
        if action is not None:
            reply = self.server.state.control(action, _json_body(raw))
        else:
            recorded = Recorded(self.command, path, dict(self.headers.items()), raw)
            reply = self.server.state.handle(recorded)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body and self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: the recorded requests are the log."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: any free)")
    port = parser.parse_args().port
    server = CallbackServer(port)
    with server:
        server.serve_forever()


if __name__ == "__main__":
    main()
