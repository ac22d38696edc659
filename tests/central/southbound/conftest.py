"""A real central runtime and southbound listener on a loopback port, and site credentials."""

from __future__ import annotations

import datetime as dt
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services import enrollment
from edgewise.central.services.access import Principal, Role
from edgewise.central.services.sites import SiteSpec, create_site
from edgewise.central.services.tenants import create_tenant
from edgewise.central.southbound.server import SouthboundServer
from edgewise.central.store.tables import UserRow
from edgewise.model.sites import SiteKind


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def key_and_csr() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whatever")]))
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Channel:
    runtime: CentralRuntime
    server: SouthboundServer
    admin: Principal
    tenant_id: str
    tmp: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}/southbound/v1"

    def new_site(self, name: str) -> tuple[str, str]:
        """(site id, one-time token) of a new site."""
        with self.runtime.sessions.begin() as session:
            site = create_site(
                session, self.admin, SiteSpec(name, SiteKind.ON_PREMISE, tenant_id=self.tenant_id)
            )
            token = enrollment.token_for(site)
            return site.id, token.secret

    def server_trust(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.runtime.authority.ca_cert_path))

    def client_context(
        self, key: ec.EllipticCurvePrivateKey, certificate_pem: str
    ) -> ssl.SSLContext:
        key_path = self.tmp / f"{id(key)}.key"
        cert_path = self.tmp / f"{id(key)}.pem"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_path.write_text(certificate_pem)
        context = self.server_trust()
        context.load_cert_chain(cert_path, key_path)
        return context

    async def enroll(self, http: aiohttp.ClientSession, name: str) -> tuple[str, ssl.SSLContext]:
        """Creates and enrolls a site through the real endpoint; (site id, its mTLS context)."""
        site_id, token = self.new_site(name)
        key, csr = key_and_csr()
        async with http.post(
            f"{self.url}/enroll", json={"token": token, "csr": csr}, ssl=self.server_trust()
        ) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
        assert body["siteId"] == site_id
        return site_id, self.client_context(key, body["certificate"])


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[CentralRuntime]:
    settings = CentralSettings(
        data_dir=tmp_path / "central", southbound_port=0, poll_hold=(0.3, 0.5)
    )
    opened = CentralRuntime.open(settings)
    yield opened
    opened.close()


def make_channel(
    runtime: CentralRuntime, server: SouthboundServer, tmp: Path, *, tenant: str | None
) -> Channel:
    """A Channel over a started server; with `tenant`, also an admin and that tenant."""
    tmp.mkdir(parents=True, exist_ok=True)
    with runtime.sessions.begin() as session:
        root = UserRow(name=f"root-{uuid.uuid4().hex[:8]}", role="admin", tenant_id=None)
        session.add(root)
        session.flush()
        admin = Principal(root.id, root.name, Role.ADMIN, None)
        tenant_id = create_tenant(session, admin, tenant, "").id if tenant else ""
    return Channel(runtime, server, admin, tenant_id, tmp)


@pytest.fixture
async def channel(runtime: CentralRuntime, tmp_path: Path) -> AsyncIterator[Channel]:
    server = SouthboundServer(runtime, seed=1)
    await server.start()
    try:
        yield make_channel(runtime, server, tmp_path, tenant="acme")
    finally:
        await server.stop()


def expired_certificate(runtime: CentralRuntime, site_id: str, csr: str) -> str:
    return runtime.authority.sign_site(site_id, csr, dt.timedelta(seconds=-60)).pem
