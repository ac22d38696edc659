"""Two central replicas over one PostgreSQL store: any replica serves any site.

A site long-polls replica B while the change is written through replica A; B hears of it
through LISTEN/NOTIFY and answers at once. A revocation made on A is refused by B at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from edgewise.central.config import CentralSettings
from edgewise.central.orchestrator import documents
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services import enrollment
from edgewise.central.southbound.server import SouthboundServer
from tests.central.southbound.conftest import Channel, make_channel
from tests.central.southbound.test_channel import DOCUMENT
from tests.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
async def replicas(
    postgres_server: PostgresServer, tmp_path: Path
) -> AsyncIterator[tuple[Channel, Channel]]:
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.url(name)
    # Both replicas share the store and the CA (the same pki directory, as a deployment shares it).
    first = CentralRuntime.open(
        CentralSettings(data_dir=tmp_path / "a", database_url=url, southbound_port=0,
                        poll_hold=(3.0, 4.0))
    )  # fmt: skip
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pki").symlink_to(tmp_path / "a" / "pki")
    second = CentralRuntime.open(
        CentralSettings(data_dir=tmp_path / "b", database_url=url, southbound_port=0,
                        poll_hold=(3.0, 4.0))
    )  # fmt: skip
    servers = [SouthboundServer(first, seed=1), SouthboundServer(second, seed=2)]
    for server in servers:
        await server.start()
    try:
        yield (
            make_channel(first, servers[0], tmp_path / "a", tenant="acme"),
            make_channel(second, servers[1], tmp_path / "b", tenant=None),
        )
    finally:
        for server in servers:
            await server.stop()
        first.close()
        second.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_a_change_written_on_one_replica_wakes_a_poll_on_the_other(
    replicas: tuple[Channel, Channel],
) -> None:
    a, b = replicas
    async with aiohttp.ClientSession() as http:
        site_id, tls = await a.enroll(http, "branch")
        b_url = b.url
        # Primes replica B's view of the site (revision 0), then parks a poll there.
        poll = asyncio.create_task(
            http.get(f"{b_url}/desired-state", params={"revision": "0"}, ssl=tls)
        )
        await asyncio.sleep(0.5)
        started = time.monotonic()
        with a.runtime.sessions.begin() as session:
            documents.write_revision(session, site_id, DOCUMENT)
        answered = await poll
        assert answered.status == 200
        assert time.monotonic() - started < 1.5, "B should hear of A's write through NOTIFY"
        body = await answered.json()
        assert (body["revision"], body["document"]) == (1, DOCUMENT)

        # Reports go to B; revocation happens on A; B refuses the very next call.
        ok = await http.post(f"{b_url}/reports", json={"items": []}, ssl=tls)
        assert ok.status == 200
        with a.runtime.sessions.begin() as session:
            enrollment.revoke(session, a.admin, site_id)
        deadline = time.monotonic() + 2
        while True:
            refused = await http.post(f"{b_url}/reports", json={"items": []}, ssl=tls)
            if refused.status == 403 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert refused.status == 403
