"""The site's end of the southbound channel (docs/channel.md) over aiohttp: enroll, poll, report.

Foreign errors (aiohttp, ssl, timeouts, HTTP statuses) become `site.errors` here, where they enter.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from edgewise.site.errors import (
    ChannelRefused,
    ChannelUnavailable,
    EnrollmentRefused,
    PermanentError,
)
from edgewise.site.filemodes import PRIVATE_FILE, private_directory
from edgewise.site.journal import OutboxItem, SiteIdentity

if TYPE_CHECKING:  # cryptography is imported where it is used: a running site does not need it
    from cryptography import x509

API = "southbound/v1/"
POLL_TIMEOUT = 75.0  # the central holds a poll 30-60 s; a margin on top (from the request sent)
REQUEST_TIMEOUT = 30.0  # from the request sent
CONNECT_TIMEOUT = 30.0  # TCP and TLS: a central handed a burst of handshakes queues them


@dataclass(frozen=True)
class PolledDesired:
    revision: int
    document: Any


@dataclass(frozen=True)
class ReportReceipt:
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]


KEEPALIVE_SECONDS = 300.0
MAX_REVISION = 2**63 - 1  # what the journal (SQLite INTEGER) holds
MAX_ANSWER_BYTES = 8 * 1024 * 1024  # a desired-state document larger than this is refused
# aiohttp's automatic request headers that the central does not use: every idle site sends one
# poll per hold, so each byte here is paid again about 1.3 times a minute by every site.
SKIPPED_HEADERS = ("User-Agent", "Accept", "Accept-Encoding")


def endpoint(central_url: str, name: str) -> str:
    return central_url.rstrip("/") + "/" + API + name


def channel_session(
    context: ssl.SSLContext, trace_configs: list[aiohttp.TraceConfig] | None = None
) -> aiohttp.ClientSession:
    """The session of one site's channel: at most two connections (the parked long-poll and
    the reports), both kept open between calls, and only the request headers HTTP needs.

    Keeping the report connection open means a wave of reports after a fleet-wide change costs
    the central no TLS handshakes (its scarcest resource)."""
    connector = aiohttp.TCPConnector(ssl=context, limit=2, keepalive_timeout=KEEPALIVE_SECONDS)
    return aiohttp.ClientSession(
        connector=connector, skip_auto_headers=SKIPPED_HEADERS, trace_configs=trace_configs
    )


def call_limits(read: float, connect: float = CONNECT_TIMEOUT) -> aiohttp.ClientTimeout:
    """`read` seconds for the answer once the request is sent, `connect` for TCP and TLS before.

    Connecting does not eat into a poll's hold. A connection given up while the central still
    queues its handshake costs the central that handshake for nothing, and another on the retry:
    with thousands of sites connecting at once (a restart), a short connect timeout feeds itself.
    """
    return aiohttp.ClientTimeout(total=connect + read, sock_connect=connect, sock_read=read)


def client_ssl_context(identity: SiteIdentity) -> ssl.SSLContext:
    """Mutual TLS: our key and certificate, and only the central's CA is trusted."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(identity.ca_path))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(identity.cert_path), str(identity.key_path))
    return context


class Uplink:
    """One aiohttp session per controller; the SSL context is built once, here."""

    def __init__(
        self,
        identity: SiteIdentity,
        *,
        poll_timeout: float = POLL_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.identity = identity
        self._ssl = client_ssl_context(identity)
        self._poll_timeout = call_limits(poll_timeout, connect_timeout)
        self._request_timeout = call_limits(request_timeout, connect_timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # created lazily: a session needs the running event loop
            self._session = channel_session(self._ssl)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def poll_desired(self, revision: int) -> PolledDesired | None:
        """Long-polls for a desired state newer than `revision`; None when nothing changed."""
        url = endpoint(self.identity.central_url, "desired-state")
        answer = await call(
            self._client(),
            "GET",
            url,
            params={"revision": str(revision)},
            limits=self._poll_timeout,
        )
        if answer.status == 204:
            return None
        body = json_body(answer, url)
        site_id, new_revision = body.get("siteId"), body.get("revision")
        if site_id != self.identity.site_id:
            raise ChannelUnavailable(f"GET {url}: answer names site {site_id!r}", code="bad-answer")
        if (
            isinstance(new_revision, bool)
            or not isinstance(new_revision, int)
            or not 0 <= new_revision <= MAX_REVISION
        ):
            what = f"revision {str(new_revision)[:40]}"
            raise ChannelUnavailable(f"GET {url}: {what} (0..{MAX_REVISION})", code="bad-answer")
        return PolledDesired(new_revision, body.get("document"))

    async def send_reports(self, items: Sequence[OutboxItem]) -> ReportReceipt:
        """Sends one batch (at most 500 items, 1 MiB); the central counts re-sent items once."""
        url = endpoint(self.identity.central_url, "reports")
        payload = {"items": [item.to_wire() for item in items]}
        answer = await call(self._client(), "POST", url, json=payload, limits=self._request_timeout)
        body = json_body(answer, url)
        accepted, duplicates = body.get("accepted"), body.get("duplicates")
        if not isinstance(accepted, int) or not isinstance(duplicates, int):
            raise ChannelUnavailable(f"POST {url}: unexpected answer {body!r}", code="bad-answer")
        return ReportReceipt(accepted, duplicates)


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    limits: aiohttp.ClientTimeout,
    params: Mapping[str, str] | None = None,
    json: Any = None,
) -> Answer:
    """One HTTP call; transport failures and error statuses become site errors."""
    try:
        async with session.request(method, url, params=params, json=json, timeout=limits) as resp:
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise ChannelUnavailable(
                        f"{method} {url}: the answer exceeds {MAX_ANSWER_BYTES} bytes; not read",
                        code="too-large",
                    )
                chunks.append(chunk)
            answer = Answer(resp.status, b"".join(chunks), dict(resp.headers))
    except TimeoutError as exc:
        raise ChannelUnavailable(f"{method} {url}: timed out", code="timeout") from exc
    except (aiohttp.ClientError, ssl.SSLError, OSError) as exc:
        raise ChannelUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if answer.status >= 400:
        what = f"{method} {url}: {answer.status} {problem_detail(answer.body)}"
        if answer.status in {408, 429} or answer.status >= 500:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            raise ChannelUnavailable(what, retry_after=retry_after, code=f"http-{answer.status}")
        raise ChannelRefused(what, status=answer.status, code=f"http-{answer.status}")
    return answer


def json_body(answer: Answer, url: str) -> dict[str, Any]:
    if answer.status != 200:
        raise ChannelUnavailable(f"{url}: unexpected status {answer.status}", code="bad-answer")
    try:
        body = json.loads(answer.body)
    except RecursionError:
        raise ChannelUnavailable(f"{url}: the answer nests too deep", code="bad-answer") from None
    except ValueError as exc:
        raise ChannelUnavailable(f"{url}: the answer is not JSON", code="bad-answer") from exc
    if not isinstance(body, dict):
        raise ChannelUnavailable(f"{url}: the answer is not a JSON object", code="bad-answer")
    return body


def problem_detail(body: bytes) -> str:
    """The `detail` (else `title`) of a ProblemDetails body, else the body's start."""
    try:
        problem = json.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace").strip()
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or "")
    return ""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (`120`) or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


# enrollment


@dataclass(frozen=True)
class CentralTrust:
    """How the site trusts the central before it holds the CA: one of the three."""

    ca_pem: str | None = None
    ca_fingerprint: str | None = None
    insecure_first_contact: bool = False

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the server against the pinned CA during the handshake (hostname included);
        with `insecure_first_contact` alone, trusts whoever answers."""
        if self.ca_pem is not None:
            return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=self.ca_pem)
        if self.ca_fingerprint is not None:
            raise EnrollmentRefused("the CA of that fingerprint is not fetched yet: see pin_ca")
        if not self.insecure_first_contact:
            raise EnrollmentRefused("give the central's CA file or its fingerprint")
        return unverified_context()

    def check_ca(self, ca: x509.Certificate) -> None:
        """Refuses an enrollment answer whose CA is not the one the site pinned."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        if self.ca_pem is None:
            return
        pinned = x509.load_pem_x509_certificate(self.ca_pem.encode())
        if pinned.fingerprint(hashes.SHA256()) != ca.fingerprint(hashes.SHA256()):
            raise EnrollmentRefused("the central sent another CA than the pinned one")


def unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def normalise_fingerprint(text: str) -> str:
    text = text.strip().lower().removeprefix("sha256:").removeprefix("sha256/")
    return text.replace(":", "").replace(" ", "")


async def pin_ca(central_url: str, fingerprint: str, *, request_timeout: float) -> CentralTrust:
    """The central's CA, fetched (it is public: nothing secret is sent) and kept only if its
    SHA-256 fingerprint is `fingerprint`; the enrollment then verifies the server against it
    during the TLS handshake, so no byte of the token goes to a server that CA did not certify.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    url = endpoint(central_url, "ca-certificate")
    connector = aiohttp.TCPConnector(ssl=unverified_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            answer = await call(
                session, "GET", url, limits=aiohttp.ClientTimeout(total=request_timeout)
            )
        except PermanentError as exc:
            raise EnrollmentRefused(f"{exc.message}; the token was not sent") from exc
    try:
        pem = str(json_body(answer, url)["caCertificate"])
        ca = x509.load_pem_x509_certificate(pem.encode())
    except (KeyError, ValueError) as exc:
        raise EnrollmentRefused(f"{url}: no CA certificate in the answer: {exc}") from exc
    actual = ca.fingerprint(hashes.SHA256()).hex()
    if actual != normalise_fingerprint(fingerprint):
        raise EnrollmentRefused(
            f"the central's CA has fingerprint {actual}, not the pinned {fingerprint}: "
            "the token was not sent"
        )
    return CentralTrust(ca_pem=pem)


async def enroll(
    central_url: str,
    token: str,
    trust: CentralTrust,
    *,
    key_path: Path,
    cert_path: Path,
    ca_path: Path,
    request_timeout: float = REQUEST_TIMEOUT,
) -> SiteIdentity:
    """Sends the token and a CSR for a new EC P-256 key; writes key, certificate and CA (0600).

    With a CA fingerprint, the CA is fetched and checked first (`pin_ca`): the token only
    travels on a connection whose server that CA certified."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    if trust.ca_pem is None and trust.ca_fingerprint is not None:
        trust = await pin_ca(central_url, trust.ca_fingerprint, request_timeout=request_timeout)
    context = trust.ssl_context()
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgewise-site")]))
        .sign(key, hashes.SHA256())
    )
    body = {"token": token, "csr": csr.public_bytes(serialization.Encoding.PEM).decode()}
    url = endpoint(central_url, "enroll")
    connector = aiohttp.TCPConnector(ssl=context)
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            answer = await call(
                session, "POST", url, json=body, limits=aiohttp.ClientTimeout(total=request_timeout)
            )
        except PermanentError as exc:
            raise EnrollmentRefused(exc.message) from exc
    reply = json_body(answer, url)
    try:
        site_id = str(reply["siteId"])
        certificate = x509.load_pem_x509_certificate(str(reply["certificate"]).encode())
        ca = x509.load_pem_x509_certificate(str(reply["caCertificate"]).encode())
    except (KeyError, ValueError) as exc:
        raise EnrollmentRefused(f"{url}: malformed enrollment answer: {exc}") from exc
    trust.check_ca(ca)
    if certificate.public_key() != key.public_key():
        raise EnrollmentRefused("the certificate the central sent is not for this site's key")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_file(key_path, key_pem)
    write_file(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    write_file(ca_path, ca.public_bytes(serialization.Encoding.PEM))
    return SiteIdentity(site_id, central_url, key_path, cert_path, ca_path)


def write_file(path: Path, data: bytes, *, mode: int = PRIVATE_FILE) -> None:
    """Writes atomically (temporary file, fsync, rename) with `mode` from the first byte, in a
    private directory."""
    private_directory(path.parent)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def ca_fingerprint(ca_pem: bytes) -> str:
    """The SHA-256 fingerprint (hex) that an operator may hand a site instead of the CA file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return hashlib.sha256(
        x509.load_pem_x509_certificate(ca_pem).public_bytes(serialization.Encoding.DER)
    ).hexdigest()
