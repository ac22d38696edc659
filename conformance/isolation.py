"""Robot library the pre-run modifier (`overrides.py`) opens every test with, so that no test
sees what an earlier one left: RESTinstance's client (one per suite; headers such as a Range or
an Authorization set by one test stay for the next) goes back to how the suite's set-up left
it, and a test that creates a subscription finds the one its pre-condition names there, or
none like it. Runs inside robot, in the suites' venv."""

from __future__ import annotations

import copy
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from robot.libraries.BuiltIn import BuiltIn

MAX_PAGES = 200
TIMEOUT = 10.0
_NEXT = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="?next"?')


class Isolation:
    ROBOT_LIBRARY_SCOPE = "GLOBAL"

    def __init__(self) -> None:
        self._clients: dict[int, dict[str, Any]] = {}  # REST instance -> its request as set up

    def start_test_afresh(self) -> None:
        """RESTinstance's request settings as they were when the suite's first test began."""
        try:
            rest = BuiltIn().get_library_instance("REST")
        except RuntimeError:
            return  # the suite does not use RESTinstance
        first = self._clients.setdefault(id(rest), copy.deepcopy(rest.request))
        rest.request = copy.deepcopy(first)

    def subscription_exists(self, path: str, body_file: str, wanted: str) -> None:
        """Makes the subscription `body_file` describes (none: one to robot's `${callbackUri}`)
        exist (wanted "yes") or removes every subscription to its callback (wanted "no"),
        through the central's API at `path`."""
        if body_file:
            body = json.loads(Path(body_file).read_text())
        else:
            body = {"callbackUri": BuiltIn().get_variable_value("${callbackUri}")}
        callback = body.get("callbackUri")
        same = [s for s in self._listed(path) if s.get("callbackUri") == callback]
        if wanted == "yes" and not same:
            self._call("POST", path, body)
        if wanted == "no":
            for subscription in same:
                self._call("DELETE", f"{path}/{subscription['id']}")

    def _listed(self, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        url: str | None = self._url(path)
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page, link = self._call("GET", url)
            found += page if isinstance(page, list) else []
            match = _NEXT.search(link)
            url = match["url"] if match else None
        return found

    def _url(self, path: str) -> str:
        variables = BuiltIn().get_variables()
        host = f"{variables['${NFVO_SCHEMA}']}://{variables['${NFVO_HOST}']}"
        return f"{host}:{variables['${NFVO_PORT}']}/{path.lstrip('/')}"

    def _call(self, method: str, target: str, body: Any = None) -> tuple[Any, str]:
        url = target if "://" in target else self._url(target)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
        request.add_header("Authorization", str(BuiltIn().get_variable_value("${AUTHORIZATION}")))
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
                raw = answer.read()
                link = answer.headers.get("Link", "")
        except urllib.error.HTTPError as exc:
            raw, link = exc.read(), ""
        return (json.loads(raw) if raw.strip() else None), link
