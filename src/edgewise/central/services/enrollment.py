"""Zero-touch enrollment: one-time site tokens, redeemed for a certificate; revocation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.pki import CertificateAuthority, CsrRejected, IssuedCertificate
from edgewise.central.services.access import Principal, ensure_writable
from edgewise.central.services.announce import site_credentials_changed
from edgewise.central.services.auth import hash_token
from edgewise.central.services.errors import Forbidden, InputProblem, Invalid, Unauthenticated
from edgewise.central.services.sites import SiteSpec, create_site, get_site
from edgewise.central.services.views import Site
from edgewise.central.store.tables import SiteRow, aware, utcnow

ENROLLMENT_PREFIX = "ewe_"
DEFAULT_TOKEN_LIFETIME = timedelta(days=7)
DEFAULT_CERT_LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class EnrollmentToken:
    """A site's one-time enrollment token: `secret` is shown once and stored only hashed."""

    site_id: str
    secret: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSite:
    """A site just created, with its first enrollment token."""

    site: Site
    token: EnrollmentToken


@dataclass(frozen=True)
class Enrollment:
    site_id: str
    certificate: IssuedCertificate


def new_site(session: Session, principal: Principal, spec: SiteSpec) -> NewSite:
    """Creates the site (`sites.create_site`) and issues its first one-time token."""
    row = create_site(session, principal, spec)
    token = token_for(row)
    return NewSite(Site.of(row), token)


def issue_token(
    session: Session,
    principal: Principal,
    site_id: str,
    *,
    lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
) -> EnrollmentToken:
    """A new token for the site; any earlier unused token stops working."""
    site = get_site(session, principal, site_id)
    ensure_writable(principal, site, what="site")
    return token_for(site, lifetime)


def token_for(site: SiteRow, lifetime: timedelta = DEFAULT_TOKEN_LIFETIME) -> EnrollmentToken:
    secret = ENROLLMENT_PREFIX + secrets.token_urlsafe(32)
    site.enrollment_token_hash = hash_token(secret)
    site.enrollment_expires_at = utcnow() + lifetime
    return EnrollmentToken(site.id, secret, site.enrollment_expires_at)


def redeem(
    session: Session,
    token: str,
    csr_pem: str,
    authority: CertificateAuthority,
    *,
    lifetime: timedelta = DEFAULT_CERT_LIFETIME,
) -> Enrollment:
    """Exchanges a valid token and a CSR for the site's client certificate; the token is spent."""
    site = session.scalar(
        select(SiteRow).where(SiteRow.enrollment_token_hash == hash_token(token.strip()))
    )
    if site is None:
        raise Unauthenticated("the enrollment token is not valid or was already used")
    if site.enrollment_expires_at is None or aware(site.enrollment_expires_at) <= datetime.now(UTC):
        raise Unauthenticated("the enrollment token has expired; ask the operator for a new one")
    try:
        issued = authority.sign_site(site.id, csr_pem, lifetime)
    except CsrRejected as exc:
        raise Invalid(
            "the certificate request was refused", [InputProblem("csr", str(exc))]
        ) from exc
    site.enrollment_token_hash = None
    site.enrollment_expires_at = None
    site.enrolled_at = utcnow()
    site.cert_serial = issued.serial
    site.cert_expires_at = issued.not_after
    site.revoked_at = None
    site_credentials_changed(session, site.id)
    return Enrollment(site.id, issued)


def revoke(session: Session, principal: Principal, site_id: str) -> Site:
    """Revokes the site's certificate at once; the site needs a new token to come back."""
    site = get_site(session, principal, site_id)
    ensure_writable(principal, site, what="site")
    site.revoked_at = utcnow()
    site.cert_serial = None
    site.enrollment_token_hash = None
    site.enrollment_expires_at = None
    site_credentials_changed(session, site.id)
    return Site.of(site)


def authorize(session: Session, site_id: str, serial: str) -> SiteRow:
    """The site behind a verified client certificate, if that certificate is still its own."""
    site = session.get(SiteRow, site_id)
    if site is None:
        raise Forbidden(f"site {site_id} does not exist (any more)")
    if site.revoked_at is not None:
        raise Forbidden(f"site {site_id} has been revoked")
    if site.cert_serial != serial:
        raise Forbidden(f"this certificate of site {site_id} has been replaced or revoked")
    return site
