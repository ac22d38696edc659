"""The channel's counters over real mutual TLS, as GET /metrics exposes them: handshakes,
enrollments, polls by outcome, report items new and duplicate, refusals and shed requests."""

from __future__ import annotations

import ssl
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from edgewise.central.orchestrator import documents
from edgewise.central.pki import CertificateAuthority
from edgewise.central.services.metrics_channel import ChannelCollector
from tests.central.southbound.conftest import Channel, key_and_csr

pytestmark = pytest.mark.anyio


def item() -> dict[str, Any]:
    body = {"revision": 1, "state": "converged"}
    return {"id": str(uuid.uuid4()), "kind": "status", "at": datetime.now(UTC).isoformat(),
            "body": body}  # fmt: skip


def scraped(channel: Channel) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ChannelCollector(channel.runtime.channel))
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_the_channel_counts_what_it_serves_and_refuses(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        site_id, tls = await channel.enroll(http, "hq")
        idle = await http.get(f"{channel.url}/desired-state", params={"revision": "0"}, ssl=tls)
        assert idle.status == 204
        with channel.runtime.sessions.begin() as session:
            documents.write_revision(session, site_id, {"services": []})
        fresh = await http.get(f"{channel.url}/desired-state", params={"revision": "0"}, ssl=tls)
        assert fresh.status == 200
        batch = [item(), item()]
        for _ in range(2):  # the second time both are duplicates
            sent = await http.post(f"{channel.url}/reports", json={"items": batch}, ssl=tls)
            assert sent.status == 200
        plain = await http.get(f"{channel.url}/desired-state", ssl=channel.server_trust())
        assert plain.status == 401
        rogue = CertificateAuthority(channel.tmp / "rogue")
        key, csr = key_and_csr()
        forged = rogue.sign_site(site_id, csr, timedelta(days=1)).pem
        with pytest.raises((aiohttp.ClientError, ssl.SSLError)):
            await http.get(f"{channel.url}/desired-state", ssl=channel.client_context(key, forged))
        channel.server.intake._max_pending = 1
        shed = await http.post(f"{channel.url}/reports", json={"items": [item(), item()]}, ssl=tls)
        assert shed.status == 503

    got = scraped(channel)
    assert got[("edgewise_channel_enrollments_total", ())] == 1
    assert got[("edgewise_channel_polls_total", (("outcome", "unchanged"),))] == 1
    assert got[("edgewise_channel_polls_total", (("outcome", "document"),))] == 1
    assert got[("edgewise_channel_report_items_total", (("outcome", "new"),))] == 2
    assert got[("edgewise_channel_report_items_total", (("outcome", "duplicate"),))] == 2
    assert got[("edgewise_channel_refused_total", (("reason", "unauthenticated"),))] == 1
    assert got[("edgewise_channel_shed_total", (("reason", "busy"),))] == 1
    assert got[("edgewise_channel_tls_handshakes_total", (("outcome", "refused"),))] >= 1
    assert got[("edgewise_channel_tls_handshakes_total", (("outcome", "completed"),))] >= 2
