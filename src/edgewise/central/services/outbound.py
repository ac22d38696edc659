"""GETs a URI a caller gave (a package by URI, a callback's endpoint test) under `egress`'s policy:
the name resolved once and every address checked, the connection made to a checked address (no
DNS rebinding), each redirect checked the same way, one deadline for the whole fetch. Async: a
slow server holds no worker thread and no write slot. Refusals name no address and nothing that
answered."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from edgewise.central.services.egress import (
    ONLY_PUBLIC,
    EgressPolicy,
    literal_address,
    refused_detail,
)
from edgewise.central.services.errors import InputProblem, Invalid, Unprocessable

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Target:
    """What is fetched, for errors: the request field that named it and what it is."""

    field: str  # "addressInformation"
    what: str  # "the package"


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes


class RefusedTarget(Exception):
    """A name resolved to an address the policy refuses (or to nothing); the host's name."""


class CheckedResolver(AbstractResolver):
    """Resolves a name once and hands aiohttp its addresses only if the policy allows every
    one: the connection then goes to one of them, never to a second lookup's answer."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            found = await self.inner.resolve(host, port, family)
        except OSError as exc:
            raise RefusedTarget(host) from exc
        for result in found:
            address = literal_address(result["host"])
            if address is None or self.policy.refusal(address) is not None:
                raise RefusedTarget(host)
        return found

    async def close(self) -> None:
        await self.inner.close()


def checked_connector(policy: EgressPolicy) -> aiohttp.TCPConnector:
    """Connections only to addresses the policy allows, for names (literal addresses are
    checked by `refusal`, before a request)."""
    return aiohttp.TCPConnector(resolver=CheckedResolver(policy), use_dns_cache=False)


def refusal(uri: str, policy: EgressPolicy) -> str | None:
    """Why a URI's literal address may not be reached; None for a name or an allowed one."""
    try:
        host = URL(uri).host or ""
    except ValueError:
        return "the URI is not valid"
    address = literal_address(host)
    kind = None if address is None else policy.refusal(address)
    return None if kind is None else f"{host} is {kind}; {ONLY_PUBLIC}"


async def fetch(
    uri: str,
    target: Target,
    *,
    policy: EgressPolicy,
    deadline: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """The answer to GET `uri` within `deadline` seconds in all (redirects included), its body
    at most `max_bytes`; Invalid when the URI may not be fetched, Unprocessable when the fetch
    fails. `headers` (credentials) go only to the URI's own origin."""
    url = _checked(uri, target, policy)
    connector = checked_connector(policy)
    timeout = aiohttp.ClientTimeout(total=deadline)
    try:
        async with (
            asyncio.timeout(deadline),
            aiohttp.ClientSession(connector=connector, timeout=timeout) as http,
        ):
            return await _follow(http, url, target, policy, max_bytes=max_bytes,
                                 headers=dict(headers or {}))  # fmt: skip
    except RefusedTarget as refused:
        raise _unfit(target, refused_detail(str(refused))) from None
    except TimeoutError:
        raise _failed(target, f"{url.host} did not answer within {deadline:g} s") from None
    except aiohttp.ClientError as exc:
        raise _failed(target, f"could not fetch from {url.host}: {type(exc).__name__}") from exc


async def _follow(
    http: aiohttp.ClientSession,
    url: URL,
    target: Target,
    policy: EgressPolicy,
    *,
    max_bytes: int,
    headers: dict[str, str],
) -> Fetched:
    origin = url.origin()
    for _ in range(MAX_REDIRECTS + 1):
        sent = headers if url.origin() == origin else {}
        async with http.get(url, headers=sent, allow_redirects=False) as answer:
            location = answer.headers.get("Location")
            if answer.status not in REDIRECTS or not location:
                return Fetched(answer.status, await _body(answer, target, max_bytes))
        try:
            url = url.join(URL(location))
        except ValueError:
            raise _failed(target, "the server redirected to a URI that is not valid") from None
        url = _checked(str(url), target, policy)
    raise _failed(target, f"more than {MAX_REDIRECTS} redirects")


async def _body(answer: aiohttp.ClientResponse, target: Target, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise _failed(target, f"more than {max_bytes} bytes; that is the limit here")
        chunks.append(chunk)
    return b"".join(chunks)


def _checked(uri: str, target: Target, policy: EgressPolicy) -> URL:
    """The URL if it is http(s) with a host, and a literal address in it is allowed."""
    try:
        url = URL(uri)
    except (ValueError, TypeError):
        url = URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise Invalid(
            f"{target.what} cannot be fetched",
            [InputProblem(target.field, "expected an http:// or https:// URI with a host")],
        )
    address = literal_address(url.host)
    if address is not None:
        kind = policy.refusal(address)
        if kind is not None:
            raise _unfit(target, f"{url.host} is {kind}; {ONLY_PUBLIC}")
    return url


def _unfit(target: Target, why: str) -> Unprocessable:
    return Unprocessable(f"{target.what} is not fetched", [InputProblem(target.field, why)])


def _failed(target: Target, why: str) -> Unprocessable:
    return Unprocessable(f"{target.what} could not be fetched", [InputProblem(target.field, why)])


def basic_headers(user: str, password: str) -> dict[str, str]:
    """An `Authorization` header with BASIC credentials."""
    return {"Authorization": aiohttp.BasicAuth(user, password).encode()}
