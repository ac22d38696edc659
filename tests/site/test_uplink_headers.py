"""What a poll puts on the wire: the request line, Host and nothing aiohttp adds by default.

An idle site sends one poll per hold (30-60 s), so every header is paid about 1.3 times a minute
by every site. A raw TLS server on 127.0.0.1 records the request head byte for byte.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edgewise.site.journal import SiteIdentity
from edgewise.site.uplink import CentralTrust, Uplink, enroll
from tests.site.central import running_central, server_context

pytestmark = pytest.mark.anyio


async def test_a_poll_sends_only_the_request_line_and_host(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        central.tokens.add("token-1")
        identity = await enroll(
            central.url,
            "token-1",
            CentralTrust(ca_pem=central.ca.pem.decode()),
            key_path=tmp_path / "pki" / "site.key",
            cert_path=tmp_path / "pki" / "site.crt",
            ca_path=tmp_path / "pki" / "ca.crt",
        )
        heads: list[bytes] = []

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            writer.close()

        raw = await asyncio.start_server(
            answer, "127.0.0.1", 0, ssl=server_context(central.ca, tmp_path)
        )
        port = raw.sockets[0].getsockname()[1]
        uplink = Uplink(
            SiteIdentity(identity.site_id, f"https://127.0.0.1:{port}/", identity.key_path,
                         identity.cert_path, identity.ca_path)
        )  # fmt: skip
        try:
            assert await uplink.poll_desired(3) is None
        finally:
            await uplink.close()
            raw.close()
            await raw.wait_closed()
    (head,) = heads
    assert head == (
        b"GET /southbound/v1/desired-state?revision=3 HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{port}\r\n\r\n".encode()
    )
