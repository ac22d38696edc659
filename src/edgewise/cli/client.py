"""HTTP client of the central's REST API for the CLI: bearer token, ProblemDetails to one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from edgewise.central.config import DEFAULT_DATA_DIR
from edgewise.cli.errors import CliError
from edgewise.cli.local import data_dir_of

DEFAULT_CENTRAL = "http://127.0.0.1:8800"


def default_token(central: str = DEFAULT_CENTRAL) -> str | None:
    """EDGEWISE_TOKEN, else the admin token a central on this machine wrote in its data
    directory: EDGEWISE_DATA_DIR's, else the one `central`'s server recorded, else var/central's."""
    token = os.environ.get("EDGEWISE_TOKEN")
    if token:
        return token.strip()
    env_dir = os.environ.get("EDGEWISE_DATA_DIR")
    for data_dir in (Path(env_dir),) if env_dir else (data_dir_of(central), DEFAULT_DATA_DIR):
        path = data_dir / "admin.token" if data_dir else None
        if path is not None and path.is_file():
            try:
                return path.read_text().strip()
            except OSError as exc:
                raise CliError(f"cannot read the admin token {path}: {exc}") from exc
    return None


@dataclass
class CentralClient:
    base_url: str
    token: str | None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout)

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(
                method, path, json=json, content=content, headers=headers, params=params
            )
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the central at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise CliError(describe_problem(response))
        return response

    def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def get_optional(self, path: str, params: dict[str, str] | None = None) -> Any | None:
        """The JSON at `path`, or None when the central answers 404."""
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the central at {self.base_url}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise CliError(describe_problem(response))
        return response.json()

    def post_json(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body).json()

    def list_all(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, following the `Link: rel="next"` headers."""
        response = self.request("GET", path, params=params)
        while True:
            yield from response.json()
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            response = self.request("GET", following)


def describe_problem(response: httpx.Response) -> str:
    """One line out of a ProblemDetails response (with its first problems), or the raw status."""
    try:
        body = response.json()
    except ValueError:
        return f"the central answered {response.status_code}: {response.text[:200]}"
    if not isinstance(body, dict):
        return f"the central answered {response.status_code}"
    line = f"{body.get('title', 'Error')} ({response.status_code}): {body.get('detail', '')}"
    problems = body.get("problems") or []
    if problems:
        shown = "; ".join(f"{p.get('where')}: {p.get('message')}" for p in problems[:20])
        more = f" (+{len(problems) - 20} more)" if len(problems) > 20 else ""
        line += f" — {shown}{more}"
    return line
