"""The site's enrollment against the real listener with a pinned CA fingerprint: the token only
leaves once the central proved it holds that CA's server certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.site.errors import EnrollmentRefused
from edgewise.site.uplink import CentralTrust, enroll
from tests.central.southbound.conftest import Channel

pytestmark = pytest.mark.anyio


async def enroll_pinned(channel: Channel, token: str, fingerprint: str, home: Path) -> str:
    identity = await enroll(
        f"https://127.0.0.1:{channel.server.port}",
        token,
        CentralTrust(ca_fingerprint=fingerprint),
        key_path=home / "site.key",
        cert_path=home / "site.crt",
        ca_path=home / "ca.crt",
    )
    return identity.site_id


async def test_a_mistyped_fingerprint_leaves_the_token_unspent(channel: Channel) -> None:
    site_id, token = channel.new_site("hq")
    right = channel.runtime.authority.fingerprint
    typo = right[:-1] + ("0" if right[-1] != "0" else "1")
    with pytest.raises(EnrollmentRefused, match="fingerprint"):
        await enroll_pinned(channel, token, typo, channel.tmp / "typo")
    assert not (channel.tmp / "typo").exists()
    assert await enroll_pinned(channel, token, right, channel.tmp / "right") == site_id
