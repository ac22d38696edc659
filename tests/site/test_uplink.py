"""The uplink against a real HTTPS server on 127.0.0.1 with client certificates: no HTTP mocks."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from edgewise.site.errors import ChannelRefused, ChannelUnavailable, EnrollmentRefused
from edgewise.site.journal import OutboxItem, SiteIdentity
from edgewise.site.uplink import CentralTrust, Uplink, enroll, parse_retry_after
from tests.site.central import FakeCentral, running_central
from tests.site.pki import ThrowawayCa

pytestmark = pytest.mark.anyio


async def enroll_with(
    central: FakeCentral, directory: Path, trust: CentralTrust | None = None
) -> SiteIdentity:
    central.tokens.add("token-1")
    return await enroll(
        central.url,
        "token-1",
        trust or CentralTrust(ca_pem=central.ca.pem.decode()),
        key_path=directory / "pki" / "site.key",
        cert_path=directory / "pki" / "site.crt",
        ca_path=directory / "pki" / "ca.crt",
    )


async def test_enroll_writes_a_private_key_and_the_pinned_ca(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        identity = await enroll_with(central, tmp_path)
    assert identity.site_id in central.enrolled
    assert stat.S_IMODE(identity.key_path.stat().st_mode) == 0o600
    assert identity.ca_path.read_bytes() == central.ca.pem
    certificate = x509.load_pem_x509_certificate(identity.cert_path.read_bytes())
    assert certificate.subject.rfc4514_string() == f"CN={identity.site_id}"


async def test_enroll_with_the_ca_fingerprint(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        fingerprint = central.ca.certificate.fingerprint(hashes.SHA256()).hex(":")
        identity = await enroll_with(central, tmp_path, CentralTrust(ca_fingerprint=fingerprint))
        assert identity.site_id in central.enrolled


async def test_enroll_refuses_a_central_with_another_ca(tmp_path: Path) -> None:
    other = ThrowawayCa.create("someone else")
    async with running_central(tmp_path) as central:
        fingerprint = other.certificate.fingerprint(hashes.SHA256()).hex()
        with pytest.raises(EnrollmentRefused, match=r"fingerprint.*the token was not sent"):
            await enroll_with(central, tmp_path, CentralTrust(ca_fingerprint=fingerprint))
        assert central.tokens_received == []  # whoever answered never saw the token
        assert "token-1" in central.tokens
        with pytest.raises(ChannelUnavailable, match=r"SSL|certificate"):
            await enroll_with(central, tmp_path, CentralTrust(ca_pem=other.pem.decode()))
    assert not (tmp_path / "pki" / "site.key").exists()


async def test_a_pinned_fingerprint_is_checked_before_the_token_leaves(tmp_path: Path) -> None:
    """An impostor that shows the pinned CA's certificate but holds no server certificate of it
    fails the enrollment's handshake: the token travels only to a server that CA certified."""
    real = ThrowawayCa.create("the real central")
    async with running_central(tmp_path) as impostor:
        impostor.shown_ca = real.pem
        fingerprint = real.certificate.fingerprint(hashes.SHA256()).hex(":")
        with pytest.raises(ChannelUnavailable, match=r"SSL|certificate"):
            await enroll_with(impostor, tmp_path, CentralTrust(ca_fingerprint=fingerprint))
        assert impostor.tokens_received == []
        typo = fingerprint[:-1] + ("0" if fingerprint[-1] != "0" else "1")
        with pytest.raises(EnrollmentRefused, match="not the pinned"):
            await enroll_with(impostor, tmp_path, CentralTrust(ca_fingerprint=typo))
        assert impostor.tokens_received == []


async def test_enroll_with_a_used_token_says_why(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        await enroll_with(central, tmp_path)
        with pytest.raises(EnrollmentRefused, match="401 the token is unknown, used or expired"):
            await enroll(
                central.url,
                "token-1",
                CentralTrust(ca_pem=central.ca.pem.decode()),
                key_path=tmp_path / "k",
                cert_path=tmp_path / "c",
                ca_path=tmp_path / "a",
            )


async def test_poll_answers_at_once_then_holds_then_sheds(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        identity = await enroll_with(central, tmp_path)
        uplink = Uplink(identity)
        try:
            central.publish({"services": [], "x": 1})
            polled = await uplink.poll_desired(0)
            assert polled is not None
            assert (polled.revision, polled.document) == (1, {"services": [], "x": 1})
            central.hold = 0.05
            assert await uplink.poll_desired(1) is None  # 204: no change
            central.shed, central.retry_after = 1, "7"
            with pytest.raises(ChannelUnavailable) as shed:
                await uplink.poll_desired(1)
            assert shed.value.retry_after == 7.0
            assert shed.value.code == "http-503"
        finally:
            await uplink.close()


async def test_a_held_poll_returns_when_a_revision_is_written(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        identity = await enroll_with(central, tmp_path)
        central.hold = 5.0
        uplink = Uplink(identity)
        try:
            poll = asyncio.create_task(uplink.poll_desired(0))
            await asyncio.sleep(0.1)
            central.publish({"services": []})
            polled = await asyncio.wait_for(poll, 2)
            assert polled is not None
            assert polled.revision == 1
        finally:
            await uplink.close()


async def test_reports_are_counted_once(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        identity = await enroll_with(central, tmp_path)
        items = [
            OutboxItem(f"00000000-0000-4000-8000-00000000000{i}", "event", "2026-01-01T00:00:00Z",
                       {"event": "x"})
            for i in range(3)
        ]  # fmt: skip
        uplink = Uplink(identity)
        try:
            first = await uplink.send_reports(items)
            again = await uplink.send_reports(items)
            bad = [OutboxItem("id", "gossip", "2026-01-01T00:00:00Z", {})]
            with pytest.raises(ChannelRefused, match="400 unknown kind"):
                await uplink.send_reports(bad)
        finally:
            await uplink.close()
    assert (first.accepted, first.duplicates) == (3, 0)
    assert (again.accepted, again.duplicates) == (3, 3)
    assert len(central.reports) == 3


async def test_a_certificate_of_another_ca_is_refused(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        identity = await enroll_with(central, tmp_path)
        async with running_central(tmp_path / "..", ThrowawayCa.create("other")) as stranger:
            uplink = Uplink(
                SiteIdentity(identity.site_id, stranger.url, identity.key_path,
                             identity.cert_path, identity.ca_path)
            )  # fmt: skip
            try:
                with pytest.raises(ChannelUnavailable, match="certificate"):
                    await uplink.poll_desired(0)
            finally:
                await uplink.close()


async def test_no_central_listening_is_temporary(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        identity = await enroll_with(central, tmp_path)
    uplink = Uplink(identity)  # the server is gone now
    try:
        with pytest.raises(ChannelUnavailable):
            await uplink.poll_desired(0)
    finally:
        await uplink.close()


def test_retry_after_as_seconds_or_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    "answer",
    [
        b'{"siteId": "%s", "revision": 1, "document": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"siteId": "%s", "revision": 18446744073709551616, "document": {}}',
        b'{"siteId": "%s", "revision": -1, "document": {}}',
    ],
    ids=["nested-100000", "revision-2**64", "revision-negative"],
)
async def test_an_answer_out_of_bounds_is_a_bad_answer(tmp_path: Path, answer: bytes) -> None:
    async with running_central(tmp_path) as central:
        identity = await enroll_with(central, tmp_path)
        central.raw_answer = answer.replace(b"%s", identity.site_id.encode())
        uplink = Uplink(identity)
        try:
            with pytest.raises(ChannelUnavailable) as refused:
                await uplink.poll_desired(0)
        finally:
            await uplink.close()
    assert refused.value.code == "bad-answer"
