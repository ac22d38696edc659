"""A small central for the channel tests: a real aiohttp HTTPS server that follows docs/channel.md.

mTLS on 127.0.0.1 with a throwaway CA; tests script its answers (hold time, 503 shedding).
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tests.site.pki import ThrowawayCa, key_pem, pem

JSON = "application/json"


def problem(status: int, title: str, detail: str) -> web.Response:
    return web.json_response(
        {"status": status, "title": title, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


@dataclass
class FakeCentral:
    ca: ThrowawayCa
    url: str = ""
    tokens: set[str] = field(default_factory=set)
    tokens_received: list[str] = field(default_factory=list)  # every token an enroll carried
    raw_answer: bytes | None = None  # a desired-state answer sent as is (a broken central)
    shown_ca: bytes | None = None  # the CA certificate it shows (an impostor's lie), else its own
    enrolled: set[str] = field(default_factory=set)
    revision: int = 0
    document: Any = field(default_factory=lambda: {"services": []})
    hold: float = 0.3
    shed: int = 0  # answer this many requests with 503
    retry_after: str = "1"
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: list[int] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, document: Any) -> None:
        self.revision += 1
        self.document = document
        self.changed.set()

    def site_of(self, request: web.Request) -> str | None:
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        if not der:
            return None
        certificate = x509.load_der_x509_certificate(der)
        names = certificate.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
        site = str(names[0].value)
        return site if site in self.enrolled else None

    def shedding(self) -> web.Response | None:
        if self.shed > 0:
            self.shed -= 1
            response = problem(503, "Service Unavailable", "shedding load")
            response.headers["Retry-After"] = self.retry_after
            return response
        return None

    async def enroll(self, request: web.Request) -> web.Response:
        if (shed := self.shedding()) is not None:
            return shed
        body = await request.json()
        self.tokens_received.append(str(body.get("token")))
        if body.get("token") not in self.tokens:
            return problem(401, "Unauthorized", "the token is unknown, used or expired")
        self.tokens.discard(body["token"])
        try:
            csr = x509.load_pem_x509_csr(body["csr"].encode())
        except (KeyError, ValueError):
            return problem(400, "Bad Request", "the CSR is malformed")
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            return problem(400, "Bad Request", "the CSR's key must be EC P-256")
        site_id = str(uuid.uuid4())
        certificate = self.ca.issue(site_id, public_key, san_uri=f"urn:edgewise:site:{site_id}")
        self.enrolled.add(site_id)
        return web.json_response(
            {
                "siteId": site_id,
                "certificate": pem(certificate).decode(),
                "caCertificate": self.ca.pem.decode(),
            }
        )

    async def ca_certificate(self, _request: web.Request) -> web.Response:
        return web.json_response({"caCertificate": (self.shown_ca or self.ca.pem).decode()})

    async def desired_state(self, request: web.Request) -> web.StreamResponse:
        site = self.site_of(request)
        if site is None:
            return problem(403, "Forbidden", "no valid client certificate")
        if (shed := self.shedding()) is not None:
            return shed
        held = int(request.query.get("revision", "0"))
        self.polls.append(held)
        if self.raw_answer is not None:
            return web.Response(body=self.raw_answer, content_type=JSON)
        if held == self.revision:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), self.hold)
            except TimeoutError:
                return web.Response(status=204)
        return web.json_response(
            {"siteId": site, "revision": self.revision, "document": self.document}
        )

    async def intake(self, request: web.Request) -> web.Response:
        if self.site_of(request) is None:
            return problem(403, "Forbidden", "no valid client certificate")
        if (shed := self.shedding()) is not None:
            return shed
        items = (await request.json()).get("items")
        if not isinstance(items, list) or len(items) > 500:
            return problem(400, "Bad Request", "items: at most 500")
        if any(item.get("kind") not in {"status", "event", "counters"} for item in items):
            return problem(400, "Bad Request", "unknown kind")
        duplicates = sum(1 for item in items if item["id"] in self.reports)
        for item in items:
            self.reports.setdefault(item["id"], item)
        return web.json_response({"accepted": len(items), "duplicates": duplicates})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/southbound/v1/ca-certificate", self.ca_certificate)
        app.router.add_post("/southbound/v1/enroll", self.enroll)
        app.router.add_get("/southbound/v1/desired-state", self.desired_state)
        app.router.add_post("/southbound/v1/reports", self.intake)
        return app


def server_context(ca: ThrowawayCa, directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = ca.issue("central", key.public_key(), server=True)
    (directory / "server.key").write_bytes(key_pem(key))
    (directory / "server.crt").write_bytes(pem(certificate))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=ca.pem.decode())
    context.load_cert_chain(directory / "server.crt", directory / "server.key")
    context.verify_mode = ssl.CERT_OPTIONAL  # enrollment comes without a client certificate
    return context


@asynccontextmanager
async def running_central(
    directory: Path, ca: ThrowawayCa | None = None
) -> AsyncIterator[FakeCentral]:
    central = FakeCentral(ca or ThrowawayCa.create())
    runner = web.AppRunner(central.app(), shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context(central.ca, directory))
    await site.start()
    host, port = runner.addresses[0][:2]
    central.url = f"https://{host}:{port}/"
    try:
        yield central
    finally:
        central.changed.set()
        await runner.cleanup()
