"""Every answer carries a request id; an unexpected error is logged once under it (one line,
one traceback) and answered with a 500 ProblemDetails that names it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edgewise.central.api.app import create_app
from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = CentralSettings(data_dir=tmp_path)
    runtime = CentralRuntime.open(settings)
    app = create_app(settings, runtime)

    def broken() -> None:
        raise RuntimeError("a bug, with a secret-free message")

    app.add_api_route("/boom", broken, methods=["GET"])
    try:
        with TestClient(app) as client:  # raises what the app lets escape to the server
            yield client
    finally:
        runtime.close()


def test_an_unexpected_error_is_logged_once_with_the_request_id_and_answered_500(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        answer = client.get("/boom")  # before: the error escaped to the server, logged again
    assert answer.status_code == 500
    request_id = answer.headers["X-Request-Id"]
    assert answer.json()["requestId"] == request_id
    assert request_id in answer.json()["detail"]
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1
    assert request_id in logged[0].getMessage()
    assert "\n" not in logged[0].getMessage()
    assert logged[0].exc_info is not None


def test_every_answer_carries_a_request_id_the_callers_when_plain(client: TestClient) -> None:
    fresh = {client.get("/health").headers["X-Request-Id"] for _ in range(3)}
    assert len(fresh) == 3
    assert client.get("/health", headers={"X-Request-Id": "abc-1"}).headers["X-Request-Id"] == (
        "abc-1"
    )
    for forged in ("a b\tc", "x" * 65, "<script>"):
        answered = client.get("/health", headers={"X-Request-Id": forged}).headers["X-Request-Id"]
        assert answered not in (forged, "")
    assert client.get("/api/v1/whoami").headers["X-Request-Id"]  # a 401 too
