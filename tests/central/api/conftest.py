"""A running central app (embedded SQLite) with its first admin, tenants to test with, and a
notification subscriber (a callback server on loopback)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_network
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.api.app import create_app
from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services import site_channel
from edgewise.central.store.tables import SiteRow, SiteStatusRow
from edgewise.central.workers import Workers
from tests.central.api.callbacks import Callback


@dataclass
class Caller:
    headers: dict[str, str]
    tenant_id: str | None
    user_id: str


@dataclass
class Central:
    client: TestClient
    admin: Caller

    @property
    def sessions(self) -> sessionmaker[Session]:
        factory: sessionmaker[Session] = self.client.app.state.sessions  # type: ignore[attr-defined]
        return factory

    def bring_online(
        self, site_ids: Iterable[str] | None = None, *, last_seen: datetime | None = None
    ) -> None:
        """What a site controller's enrollment and polls record for these sites (every site
        when None): heard from now, or at `last_seen`. The real enrollment and channel are
        tested with real controllers in tests/central/southbound and tests/integration."""
        with self.sessions.begin() as session:
            ids = (
                list(site_ids)
                if site_ids is not None
                else list(session.scalars(select(SiteRow.id)))
            )
            session.execute(
                update(SiteRow)
                .where(SiteRow.id.in_(ids))
                .values(enrolled_at=datetime(2026, 1, 1, tzinfo=UTC), cert_serial="00")
            )
            site_channel.touch(session, ids)
            if last_seen is not None:
                session.execute(
                    update(SiteStatusRow)
                    .where(SiteStatusRow.site_id.in_(ids))
                    .values(last_seen_at=last_seen)
                )

    def tenant(self, name: str) -> Caller:
        """A new tenant with one tenant user, and that user's token."""
        tenant = self.client.post(
            "/api/v1/tenants", json={"name": name}, headers=self.admin.headers
        )
        assert tenant.status_code == 201, tenant.text
        tenant_id = tenant.json()["id"]
        user = self.client.post(
            "/api/v1/users",
            json={"name": f"{name}-user", "role": "tenant", "tenantId": tenant_id},
            headers=self.admin.headers,
        )
        assert user.status_code == 201, user.text
        user_id = user.json()["id"]
        token = self.client.post(
            "/api/v1/tokens",
            json={"name": "t", "userId": user_id},
            headers=self.admin.headers,
        )
        assert token.status_code == 201, token.text
        secret = token.json()["token"]
        return Caller({"Authorization": f"Bearer {secret}"}, tenant_id, user_id)


@pytest.fixture
def central(tmp_path: Path, database_url: str) -> Iterator[Central]:
    """The app on each store kind (embedded SQLite and a real PostgreSQL server), with the
    background workers running beside it as the process root runs them."""
    settings = CentralSettings(
        data_dir=tmp_path, database_url=database_url, page_size=50, fetch_allowed=LOOPBACK
    )
    with running(settings) as central:
        yield central


LOOPBACK = (ip_network("127.0.0.0/8"), ip_network("::1/128"))  # the tests' callbacks and servers


@contextmanager
def running(settings: CentralSettings) -> Iterator[Central]:
    """The app of `settings` with the workers beside it, and its first admin."""
    runtime = CentralRuntime.open(settings)
    try:
        with TestClient(create_app(settings, runtime)) as client:
            assert client.portal is not None  # the app's loop, running while the client is open
            workers = client.portal.start_task_soon(Workers(runtime).run)
            token = settings.admin_token_file.read_text().strip()
            me = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}).json()
            try:
                yield Central(
                    client, Caller({"Authorization": f"Bearer {token}"}, None, me["userId"])
                )
            finally:
                workers.cancel()
    finally:
        runtime.close()


@pytest.fixture
def callback() -> Iterator[tuple[Callback, str]]:
    """A subscriber and its callback URI."""
    subscriber, server, uri = Callback.serve()
    try:
        yield subscriber, uri
    finally:
        server.shutdown()
        server.server_close()
