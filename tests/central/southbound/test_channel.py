"""The southbound channel over real mutual TLS: enrollment, long-polls, reports, refusals."""

from __future__ import annotations

import asyncio
import io
import json
import ssl
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from edgewise.central.orchestrator import documents
from edgewise.central.pki import CertificateAuthority
from edgewise.central.services import enrollment
from edgewise.central.store.tables import ReportItemRow, SiteEventRow, SiteRow, SiteStatusRow
from tests.central.southbound.conftest import Channel, expired_certificate, key_and_csr

pytestmark = pytest.mark.anyio
DOCUMENT: dict[str, Any] = {  # in the contract's canonical form, as the central writes it
    "services": [
        {
            "id": "svc-1",
            "name": "vcpe",
            "tenant": "acme",
            "vnfs": [
                {
                    "name": "fw",
                    "function": "firewall",
                    "config": {"default_action": "drop", "rules": []},
                },
                {
                    "name": "nat",
                    "function": "nat",
                    "config": {"mode": "masquerade", "port_forwards": []},
                },
            ],
            "chain": ["fw", "nat"],
        }
    ]
}


def item(kind: str = "status", body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "at": datetime.now(UTC).isoformat(),
        "body": body if body is not None else {"revision": 1, "state": "converged"},
    }


async def test_a_token_works_once_and_yields_a_site_certificate(channel: Channel) -> None:
    site_id, token = channel.new_site("hq")
    _, csr = key_and_csr()
    async with aiohttp.ClientSession() as http:
        first = await http.post(
            f"{channel.url}/enroll", json={"token": token, "csr": csr}, ssl=channel.server_trust()
        )
        assert first.status == 200
        body = await first.json()
        assert body["siteId"] == site_id
        assert "BEGIN CERTIFICATE" in body["certificate"]
        assert body["caCertificate"] == channel.runtime.authority.ca_pem
        again = await http.post(
            f"{channel.url}/enroll", json={"token": token, "csr": csr}, ssl=channel.server_trust()
        )
        assert again.status == 401
        assert "already used" in (await again.json())["detail"]


async def test_expired_token_and_bad_requests_are_refused(channel: Channel) -> None:
    site_id, token = channel.new_site("hq")
    with channel.runtime.sessions.begin() as session:
        site = session.get(SiteRow, site_id)
        assert site is not None
        site.enrollment_expires_at = datetime(2000, 1, 1, tzinfo=UTC)
    _, csr = key_and_csr()
    async with aiohttp.ClientSession() as http:
        trust = channel.server_trust()
        expired = await http.post(
            f"{channel.url}/enroll", json={"token": token, "csr": csr}, ssl=trust
        )
        assert expired.status == 401
        assert "expired" in (await expired.json())["detail"]
        for body in ({}, {"token": "x"}, {"token": "x", "csr": "not a csr"}, [1, 2]):
            response = await http.post(f"{channel.url}/enroll", json=body, ssl=trust)
            assert response.status in (400, 401), body
        garbage = await http.post(f"{channel.url}/enroll", data=b"{not json", ssl=trust)
        assert garbage.status == 400
        assert garbage.content_type == "application/problem+json"


async def test_long_poll_answers_at_once_holds_and_wakes(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        site_id, tls = await channel.enroll(http, "hq")
        # Nothing new: held for the configured 0.3-0.5 s, then "no change".
        started = time.monotonic()
        idle = await http.get(f"{channel.url}/desired-state", params={"revision": "0"}, ssl=tls)
        assert idle.status == 204
        assert 0.25 <= time.monotonic() - started < 2

        # A write during the hold wakes the poll at once.
        poll = asyncio.create_task(
            http.get(f"{channel.url}/desired-state", params={"revision": "0"}, ssl=tls)
        )
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with channel.runtime.sessions.begin() as session:
            documents.write_revision(session, site_id, DOCUMENT)
        woken = await poll
        assert woken.status == 200
        assert time.monotonic() - started < 0.25
        body = await woken.json()
        assert (body["siteId"], body["revision"], body["document"]) == (site_id, 1, DOCUMENT)

        # A site holding an older revision gets the latest document at once.
        response = await http.get(f"{channel.url}/desired-state", params={"revision": "0"}, ssl=tls)
        assert (response.status, (await response.json())["revision"]) == (200, 1)
        # One holding a revision this store never reached (a store restored from a backup)
        # gets the same document again, re-issued above its revision: never a step back.
        ahead = await http.get(f"{channel.url}/desired-state", params={"revision": "7"}, ssl=tls)
        body = await ahead.json()
        assert (ahead.status, body["revision"], body["document"]) == (200, 8, DOCUMENT)
        bad = await http.get(f"{channel.url}/desired-state", params={"revision": "x"}, ssl=tls)
        assert bad.status == 400


async def test_calls_without_a_valid_certificate_are_refused(
    channel: Channel, caplog: pytest.LogCaptureFixture
) -> None:
    async with aiohttp.ClientSession() as http:
        site_id, tls = await channel.enroll(http, "hq")
        plain = await http.get(f"{channel.url}/desired-state", ssl=channel.server_trust())
        assert plain.status == 401

        # A certificate from another CA never completes the handshake.
        rogue = CertificateAuthority(channel.tmp / "rogue")
        key, csr = key_and_csr()
        forged = rogue.sign_site(site_id, csr, timedelta(days=1)).pem
        with pytest.raises((aiohttp.ClientError, ssl.SSLError)):
            await http.get(f"{channel.url}/desired-state", ssl=channel.client_context(key, forged))

        # An expired certificate of our own CA is refused at the handshake too.
        key, csr = key_and_csr()
        stale = expired_certificate(channel.runtime, site_id, csr)
        with pytest.raises((aiohttp.ClientError, ssl.SSLError)):
            await http.get(f"{channel.url}/desired-state", ssl=channel.client_context(key, stale))

        refusals = [
            r.getMessage() for r in caplog.records if "refused a TLS handshake" in r.getMessage()
        ]
        assert len(refusals) >= 2, "both refused handshakes are logged"
        assert any("expired" in message for message in refusals)

        # Revocation takes effect on the very next request.
        with channel.runtime.sessions.begin() as session:
            enrollment.revoke(session, channel.admin, site_id)
        revoked = await http.get(f"{channel.url}/desired-state", ssl=tls)
        assert revoked.status == 403
        assert "revoked" in (await revoked.json())["detail"]


async def test_re_enrollment_retires_the_old_certificate(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        site_id, old_tls = await channel.enroll(http, "hq")
        with channel.runtime.sessions.begin() as session:
            token = enrollment.issue_token(session, channel.admin, site_id).secret
        key, csr = key_and_csr()
        response = await http.post(
            f"{channel.url}/enroll", json={"token": token, "csr": csr}, ssl=channel.server_trust()
        )
        new_tls = channel.client_context(key, (await response.json())["certificate"])
        refused = await http.post(f"{channel.url}/reports", json={"items": [item()]}, ssl=old_tls)
        assert refused.status == 403
        accepted = await http.post(f"{channel.url}/reports", json={"items": [item()]}, ssl=new_tls)
        assert accepted.status == 200


async def test_reports_are_deduplicated_and_bad_batches_change_nothing(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        site_id, tls = await channel.enroll(http, "hq")
        batch = [item(), item("event", {"event": "vnf-repaired"}), item("counters", {"x": 1})]
        first = await http.post(f"{channel.url}/reports", json={"items": batch}, ssl=tls)
        assert await first.json() == {"accepted": 3, "duplicates": 0}
        replay = await http.post(f"{channel.url}/reports", json={"items": batch}, ssl=tls)
        assert await replay.json() == {"accepted": 3, "duplicates": 3}

        bad_batches: list[object] = [
            {"items": [item(), {"id": "x", "kind": "gossip", "at": "now", "body": []}]},
            {"items": [item() for _ in range(501)]},
            {"things": []},
        ]
        for bad in bad_batches:
            response = await http.post(f"{channel.url}/reports", json=bad, ssl=tls)
            assert response.status == 400
        huge = io.BytesIO(json.dumps({"items": [item("event", {"blob": "x" * 2**21})]}).encode())
        too_big = await http.post(
            f"{channel.url}/reports",
            data=huge,
            headers={"Content-Type": "application/json"},
            ssl=tls,
        )
        assert too_big.status == 413

    with channel.runtime.sessions() as session:
        items = session.scalar(select(func.count()).select_from(ReportItemRow))
        events = session.scalar(select(func.count()).select_from(SiteEventRow))
        status = session.get(SiteStatusRow, site_id)
    assert (items, events) == (3, 1)
    assert status is not None
    assert (status.applied_revision, status.state) == (1, "converged")


async def test_the_central_sheds_load_with_retry_after(channel: Channel) -> None:
    channel.server.intake._max_pending = 2
    async with aiohttp.ClientSession() as http:
        _, tls = await channel.enroll(http, "hq")
        response = await http.post(
            f"{channel.url}/reports", json={"items": [item(), item(), item()]}, ssl=tls
        )
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
