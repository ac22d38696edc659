"""A small JSON client for the central's northbound API (loopback, bearer token); a refused
call becomes a SetupError naming the request and the central's answer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from conformance.errors import SetupError

TIMEOUT = 30.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Api:
    base: str  # http://127.0.0.1:PORT
    token: str

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        content_type: str = "application/json",
    ) -> Answer:
        data = content if content is not None else None
        if body is not None:
            data = json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            f"{self.base}/{path.lstrip('/')}", data=data, method=method
        )
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
                return Answer(answer.status, dict(answer.headers.items()), _decode(answer.read()))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers.items()), _decode(exc.read()))
        except (OSError, urllib.error.URLError) as exc:
            raise SetupError(f"{method} {path}: the central did not answer ({exc})") from exc

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The body of a 2xx answer; anything else is a SetupError."""
        answer = self.send(method, path, body, **kwargs)
        if not 200 <= answer.status < 300:
            detail = answer.body.get("detail") if isinstance(answer.body, dict) else answer.body
            raise SetupError(f"{method} {path} answered {answer.status}: {detail}")
        return answer.body


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
