"""The southbound listener (aiohttp; TLS, client certificates optional): docs/channel.md's calls.

Enrollment and the CA certificate need no certificate; every other call needs one from the
central's CA whose site is not revoked and whose serial is the site's current one, checked on
every request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import hdrs, web

from edgewise.central.orchestrator import documents, sdwan
from edgewise.central.pki import site_of_certificate
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services import enrollment, site_channel
from edgewise.central.services.errors import (
    Forbidden,
    InputProblem,
    Invalid,
    NotFound,
    ServiceError,
    Unauthenticated,
)
from edgewise.central.services.site_channel import MAX_REVISION
from edgewise.central.southbound.bodies import read_object
from edgewise.central.southbound.intake import NotRecorded, Overloaded, ReportIntake
from edgewise.central.southbound.presence import LastSeen

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
MAX_ITEMS = 500
MAX_TOKEN = 256  # an enrollment token is 47 characters
MAX_CSR = 16 * 1024  # a PEM CSR for an EC P-256 key is about 500 B; RSA 4096 about 1.7 KB
RETRY_AFTER_S = 5
IDENTITY_CACHE = 50_000  # verified client certificates -> (site, serial), by their DER bytes
KEEPALIVE_SECONDS = 330.0  # longer than the sites' own (300 s): the site closes first
PROBLEM = "application/problem+json"
SITE_KEY: web.RequestKey[str] = web.RequestKey("site", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, title: str, detail: str, **extra: Any) -> web.Response:
    body = {"type": f"https://edgewise.dev/problems/{status}", "title": title, "status": status}
    body |= {"detail": detail, **extra}
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM, headers=headers)


STATUS = {Invalid: (400, "Bad Request"), Unauthenticated: (401, "Unauthorized"),
          Forbidden: (403, "Forbidden"), NotFound: (404, "Not Found")}  # fmt: skip


def from_service_error(error: ServiceError) -> web.Response:
    for cls, (status, title) in STATUS.items():
        if isinstance(error, cls):
            extra: dict[str, Any] = {}
            if isinstance(error, Invalid) and error.problems:
                extra["problems"] = [
                    {"where": p.where, "message": p.message} for p in error.problems
                ]
            return problem(status, title, error.detail, **extra)
    return problem(409, "Conflict", error.detail)


async def trim_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """Drops what aiohttp adds that no site reads: `Server`, `Date`, and the `charset` of JSON
    (always UTF-8). An idle site is answered one 204 per poll hold: these are most of its bytes."""
    response.headers.popall(hdrs.SERVER, None)
    response.headers.popall(hdrs.DATE, None)
    media_type, _, parameters = response.headers.get(hdrs.CONTENT_TYPE, "").partition(";")
    if media_type.endswith("json") and parameters.strip().lower() == "charset=utf-8":
        response.headers[hdrs.CONTENT_TYPE] = media_type


class SouthboundServer:
    """Serves the channel on the runtime's store until stopped."""

    def __init__(self, runtime: CentralRuntime, *, seed: int | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.intake = ReportIntake(
            runtime.sessions,
            max_pending=self.settings.max_pending_reports,
            on_overlay_change=sdwan.recompose_overlay_peers,
            alarm_policy=self.settings.alarms,
        )
        self.last_seen = LastSeen(runtime.sessions)
        self._random = random.Random(seed)  # noqa: S311 - poll jitter, not security
        self._runner: web.AppRunner | None = None
        self.port = self.settings.southbound_port
        self.polls_answered = 0
        self._identities: dict[bytes, tuple[str, str] | None] = {}

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors])
        app.on_response_prepare.append(trim_headers)
        app.router.add_get("/southbound/v1/ca-certificate", self.ca_certificate)
        app.router.add_post("/southbound/v1/enroll", self.enroll)
        app.router.add_get("/southbound/v1/desired-state", self._site(self.desired_state))
        app.router.add_post("/southbound/v1/reports", self._site(self.reports))
        return app

    async def start(self) -> None:
        self.runtime.hub.bind(asyncio.get_running_loop())
        self.intake.start()
        self.last_seen.start()
        self._runner = web.AppRunner(
            self.app(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=KEEPALIVE_SECONDS,
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self.settings.southbound_host,
            self.settings.southbound_port,
            ssl_context=self.runtime.authority.server_context(self.runtime.channel.handshook),
            backlog=4096,
        )
        await site.start()
        if self._runner.addresses:
            self.port = int(self._runner.addresses[0][1])
        self.runtime.southbound_url = f"https://{self.settings.southbound_host}:{self.port}"
        log.info("southbound channel listening on %s:%s", self.settings.southbound_host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.intake.stop()
        await self.last_seen.stop()

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ServiceError as error:
            if isinstance(error, Unauthenticated | Forbidden):
                self.runtime.channel.refused[
                    "unauthenticated" if isinstance(error, Unauthenticated) else "forbidden"
                ] += 1
                log.warning(
                    "refused %s %s from %s: %s", request.method, request.path, request.remote, error
                )
            return from_service_error(error)
        except Overloaded:
            self.runtime.channel.shed["busy"] += 1
            return problem(503, "Service Unavailable", "the central is busy; retry later")
        except NotRecorded:
            self.runtime.channel.shed["store"] += 1
            return problem(503, "Service Unavailable", "the store is unavailable; retry later")
        except web.HTTPRequestEntityTooLarge:
            return problem(
                413, "Payload Too Large", f"request bodies are limited to {MAX_BODY} bytes"
            )
        except web.HTTPException as error:
            return problem(error.status, error.reason, error.text or error.reason)

    def _site(self, handler: Handler) -> Handler:
        """Resolves the calling site from its verified client certificate, or refuses."""

        async def with_site(request: web.Request) -> web.StreamResponse:
            ssl_object = (
                request.transport.get_extra_info("ssl_object") if request.transport else None
            )
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            if not der:
                raise Unauthenticated("this call needs the site's client certificate (mutual TLS)")
            identity = self._identities.get(der)
            if identity is None:  # parsing X.509 costs more than the rest of a poll
                identity = site_of_certificate(der)
                if len(self._identities) >= IDENTITY_CACHE:
                    self._identities.clear()
                self._identities[der] = identity
            if identity is None:
                raise Forbidden("the client certificate names no Edgewise site")
            site_id, serial = identity
            await self.runtime.auth.authorize(site_id, serial)
            self.last_seen.saw(site_id)
            request[SITE_KEY] = site_id
            return await handler(request)

        return with_site

    async def ca_certificate(self, _request: web.Request) -> web.Response:
        """The CA (public): a site pinning its fingerprint fetches it before it sends a token."""
        return web.json_response({"caCertificate": self.runtime.authority.ca_pem})

    async def enroll(self, request: web.Request) -> web.Response:
        body = await _json(request)
        token, csr = body.get("token"), body.get("csr")
        problems = []
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            problems.append(
                InputProblem("token", f"the one-time enrollment token (1-{MAX_TOKEN} characters)")
            )
        if not isinstance(csr, str) or len(csr) > MAX_CSR or "BEGIN CERTIFICATE REQUEST" not in csr:
            problems.append(
                InputProblem("csr", f"a PEM certificate signing request of at most {MAX_CSR} B")
            )
        if problems or not isinstance(token, str) or not isinstance(csr, str):
            raise Invalid("the enrollment request is not valid", problems)

        def redeem() -> enrollment.Enrollment:
            with self.runtime.sessions.begin() as session:
                return enrollment.redeem(session, token, csr, self.runtime.authority)

        done = await asyncio.to_thread(redeem)
        self.runtime.channel.enrollments += 1
        log.info("site %s enrolled (certificate %s)", done.site_id, done.certificate.serial)
        return web.json_response(
            {
                "siteId": done.site_id,
                "certificate": done.certificate.pem,
                "caCertificate": self.runtime.authority.ca_pem,
            }
        )

    async def desired_state(self, request: web.Request) -> web.StreamResponse:
        site_id = request[SITE_KEY]
        known = polled_revision(request.query.get("revision", "0"))
        revision, document = await self._latest(site_id)
        if known > revision:
            if known >= MAX_REVISION:
                raise Invalid(
                    f"revision {known} was never written here, and none above it fits",
                    [InputProblem("revision", f"at most {MAX_REVISION - 1} to be fast-forwarded")],
                )
            # The site holds a revision this store never reached (restored from a backup):
            # re-assert our document above it rather than send the site backwards.
            revision, document = await asyncio.to_thread(self._fast_forward, site_id, known)
        if revision == known:
            hold = self._random.uniform(*self.settings.poll_hold)
            if await self.runtime.hub.wait(site_id, known, hold) is None:
                self.polls_answered += 1
                self.runtime.channel.polled(changed=False)
                return web.Response(status=204)
            revision, document = await self._latest(site_id)
        self.polls_answered += 1
        self.runtime.channel.polled(changed=True)
        return web.json_response({"siteId": site_id, "revision": revision, "document": document})

    async def _latest(self, site_id: str) -> tuple[int, dict[str, Any]]:
        """The site's newest revision and document: from the hub when this process wrote it,
        else from the store (which then primes the hub)."""
        cached = self.runtime.hub.cached(site_id)
        if cached is not None and cached[1] is not None:
            return cached[0], cached[1]
        current = await asyncio.to_thread(self._desired, site_id)
        self.runtime.hub.remember(site_id, current.revision, current.document)
        return current.revision, current.document

    def _fast_forward(self, site_id: str, above: int) -> tuple[int, dict[str, Any]]:
        with self.runtime.sessions.begin() as session:
            written = documents.fast_forward(session, site_id, above)
        log.warning(
            "site %s held revision %s; fast-forwarded to %s", site_id, above, written.revision
        )
        return written.revision, written.document

    def _desired(self, site_id: str) -> documents.DesiredDocument:
        with self.runtime.sessions() as session:
            return documents.get_desired(session, site_id)

    async def reports(self, request: web.Request) -> web.Response:
        body = await _json(request)
        items = site_channel.parse_report_batch(body, max_items=MAX_ITEMS)
        accepted, duplicates = await self.intake.submit(request[SITE_KEY], items)
        self.runtime.channel.reported(accepted, duplicates)
        return web.json_response({"accepted": accepted, "duplicates": duplicates})


def polled_revision(text: str) -> int:
    """The `revision` a poll names: a whole number the store's revisions can hold."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_REVISION)):
        raise Invalid(
            f"revision must be a whole number from 0 to {MAX_REVISION}",
            [InputProblem("revision", f"{text[:40]!r} is not one")],
        )
    known = int(text)
    if known > MAX_REVISION:
        raise Invalid(
            f"revision must be a whole number from 0 to {MAX_REVISION}",
            [InputProblem("revision", f"{known} is above it")],
        )
    return known


async def _json(request: web.Request) -> dict[str, Any]:
    return read_object(await request.read())
