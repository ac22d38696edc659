"""What the central fetches on a caller's behalf (a package by URI, a callback's endpoint test):
never a loopback, private or otherwise non-public target unless the operator allows its network,
never for longer than one deadline, never holding a write slot while it waits."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest

from edgewise.central.config import CentralSettings
from edgewise.central.services import outbound
from edgewise.central.services.egress import EgressPolicy
from edgewise.central.services.outbox import Delivery
from edgewise.central.workers import deliver
from edgewise.lab import samples
from tests.central.api.conftest import Central, running
from tests.central.api.test_catalog import PKGS, zip_dir

SUBS = "/vnfpkgm/v1/subscriptions"
ROUTER_ZIP = zip_dir(samples.path("edgewise-router-vnf"))


@dataclass
class Server:
    """A loopback HTTP server: serves the router package, 204 to a callback's test, redirects
    (`/to?where`), and drips (`/slow`: a byte every `drip` s); counts every request."""

    port: int = 0
    drip: float = 0.2
    requests: list[str] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path.startswith("/to?"):
                    self.send_response(302)
                    self.send_header("Location", unquote(self.path.removeprefix("/to?")))
                    self.end_headers()
                elif self.path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(50):  # bounded: 50 bytes at most, then the server gives up
                        time.sleep(server.drip)
                        try:
                            self.wfile.write(b"x")
                            self.wfile.flush()
                        except OSError:
                            return
                elif self.path == "/notify":
                    self.send_response(204)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(ROUTER_ZIP)))
                    self.end_headers()
                    self.wfile.write(ROUTER_ZIP)

            def do_POST(self) -> None:
                self.do_GET()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base name
                pass

        return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    http = ThreadingHTTPServer(("127.0.0.1", 0), found.handler())
    http.daemon_threads = True
    found.port = http.server_address[1]
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield found
    finally:
        http.shutdown()
        http.server_close()


def guarded(tmp_path: Path, **settings: Any) -> AbstractContextManager[Central]:
    """A central on SQLite as it runs by default: no network allowed beyond the public."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    return running(CentralSettings(data_dir=tmp_path, database_url=url, **settings))


def new_package(central: Central) -> str:
    created = central.client.post(PKGS, json={}, headers=central.admin.headers)
    assert created.status_code == 201, created.text
    package: str = created.json()["id"]
    return package


def from_uri(central: Central, package: str, uri: str) -> Any:
    return central.client.post(
        f"{PKGS}/{package}/package_content/upload_from_uri",
        json={"addressInformation": uri},
        headers=central.admin.headers,
    )


def subscribe(central: Central, uri: str) -> Any:
    return central.client.post(SUBS, json={"callbackUri": uri}, headers=central.admin.headers)


REFUSED = [
    ("http://127.0.0.1:{port}/router.zip", "a loopback address"),
    ("http://0.0.0.0:{port}/router.zip", "an unspecified address"),
    ("http://2130706433:{port}/router.zip", "a loopback address"),  # 127.0.0.1, decimal
    ("http://0177.0.0.1:{port}/router.zip", "a loopback address"),  # octal
    ("http://0x7f.1:{port}/router.zip", "a loopback address"),  # hex, short form
    ("http://[::1]:{port}/router.zip", "a loopback address"),
    ("http://[::ffff:127.0.0.1]:{port}/router.zip", "a loopback address"),  # IPv4-mapped
    ("http://[::]:{port}/router.zip", "an unspecified address"),
    ("http://169.254.169.254/latest/meta-data", "a link-local address"),
    ("http://10.1.2.3/x", "a private address"),
    ("http://192.168.0.1/x", "a private address"),
    ("http://224.0.0.1/x", "a multicast address"),
    ("http://[ff02::1]/x", "a multicast address"),
    ("http://240.0.0.1/x", "a private address"),  # reserved; Python counts it private too
    ("http://100.64.0.1/x", "not a public address"),  # carrier-grade NAT
]


def test_loopback_private_and_other_non_public_targets_are_refused_unconnected(
    tmp_path: Path, server: Server
) -> None:
    with guarded(tmp_path) as central:
        package = new_package(central)
        for template, kind in REFUSED:
            uri = template.format(port=server.port)
            for answer in (from_uri(central, package, uri), subscribe(central, uri)):
                assert answer.status_code == 422, (uri, answer.text)
                problem = answer.json()["problems"][0]
                assert kind in problem["message"], (uri, problem)
                assert "EDGEWISE_FETCH_ALLOW" in problem["message"]
        info = central.client.get(f"{PKGS}/{package}", headers=central.admin.headers).json()
        assert info["onboardingState"] == "CREATED"
        assert central.client.get(SUBS, headers=central.admin.headers).json() == []
    assert server.requests == []  # nothing was asked of the server


def test_a_name_of_a_refused_address_answers_as_a_name_that_does_not_resolve(
    tmp_path: Path, server: Server
) -> None:
    with guarded(tmp_path) as central:
        package = new_package(central)
        local = from_uri(central, package, f"http://localhost:{server.port}/router.zip")
        nowhere = from_uri(central, package, f"http://nowhere.invalid:{server.port}/router.zip")
        assert local.status_code == nowhere.status_code == 422
        messages = [a.json()["problems"][0]["message"] for a in (local, nowhere)]
        assert messages[0].replace("localhost", "H") == messages[1].replace("nowhere.invalid", "H")
        assert "127.0.0.1" not in local.text
        assert "does not resolve to a public address" in messages[0]
        callback = subscribe(central, f"http://localhost:{server.port}/notify")
        assert callback.status_code == 422
        assert callback.json()["problems"][0]["where"] == "callbackUri"
    assert server.requests == []


def test_an_allowed_network_is_fetched_and_a_redirect_out_of_it_is_refused(
    tmp_path: Path, server: Server
) -> None:
    allowed = (ip_network("127.0.0.0/8"),)
    base = f"http://127.0.0.1:{server.port}"
    with guarded(tmp_path, fetch_allowed=allowed) as central:
        package = new_package(central)
        for where in ("http://[::1]:1/router.zip", "http://169.254.169.254/x"):
            refused = from_uri(central, package, f"{base}/to?{where}")
            assert refused.status_code == 422, refused.text
            assert "is a" in refused.json()["problems"][0]["message"]
        followed = from_uri(central, package, f"{base}/to?/router.zip")  # within the network
        assert followed.status_code == 202, followed.text
        assert subscribe(central, f"{base}/notify").status_code == 201
    assert server.requests[-2:] == ["/router.zip", "/notify"]


def test_a_dripping_server_is_given_one_deadline_for_the_whole_fetch(
    tmp_path: Path, server: Server
) -> None:
    loopback = (ip_network("127.0.0.0/8"),)
    with guarded(tmp_path, fetch_allowed=loopback, fetch_deadline=1.0) as central:
        package = new_package(central)
        began = time.monotonic()
        answer = from_uri(central, package, f"http://127.0.0.1:{server.port}/slow")
        took = time.monotonic() - began
        assert answer.status_code == 422, answer.text
        assert "did not answer within 1 s" in answer.json()["problems"][0]["message"]
        assert took < 2.5, took  # a byte every 0.2 s would have held it 10 s


def test_slow_fetches_hold_no_write_slot_from_another_tenants_post(
    tmp_path: Path, server: Server
) -> None:
    loopback = (ip_network("127.0.0.0/8"),)
    settings = {"fetch_allowed": loopback, "fetch_deadline": 3.0, "write_concurrency": 1}
    with guarded(tmp_path, **settings) as central:
        packages = [new_package(central) for _ in range(4)]
        slow = f"http://127.0.0.1:{server.port}/slow"
        with ThreadPoolExecutor(4) as pool:
            fetches = [pool.submit(from_uri, central, p, slow) for p in packages]
            deadline = time.monotonic() + 2.0
            while len(server.requests) < 4 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(server.requests) == 4  # every fetch is under way
            began = time.monotonic()
            other = central.client.post(
                "/api/v1/tenants", json={"name": "other"}, headers=central.admin.headers
            )
            took = time.monotonic() - began
            assert other.status_code == 201, other.text
            assert not any(f.done() for f in fetches)
            assert all(f.result(timeout=10).status_code == 422 for f in fetches)
        assert took < 1.0, took


def test_notifications_are_not_delivered_to_a_callback_the_policy_now_refuses(
    server: Server,
) -> None:
    base = f"127.0.0.1:{server.port}"

    async def send(policy: EgressPolicy, uri: str) -> str | None:
        connector = outbound.checked_connector(policy)
        async with aiohttp.ClientSession(connector=connector) as http:
            return (await deliver(http, Delivery("n", uri, {}, {}), policy=policy))[1]

    refused = EgressPolicy()
    literal = asyncio.run(send(refused, f"http://{base}/notify"))
    named = asyncio.run(send(refused, f"http://localhost:{server.port}/notify"))
    assert literal is not None
    assert "a loopback address" in literal
    assert named is not None
    assert "does not resolve to a public address" in named
    assert server.requests == []
    allowed = EgressPolicy((ip_network("127.0.0.0/8"),))
    assert asyncio.run(send(allowed, f"http://{base}/notify")) is None
    moved = asyncio.run(send(allowed, f"http://{base}/to?http://169.254.169.254/x"))
    assert moved == "the callback answered 302"  # not followed
    assert server.requests == ["/notify", "/to?http://169.254.169.254/x"]
