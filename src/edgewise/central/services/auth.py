"""API tokens: issued once in clear, stored only as a SHA-256 hash, checked on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, Role
from edgewise.central.services.errors import Unauthenticated
from edgewise.central.store.tables import ApiTokenRow, UserRow

TOKEN_PREFIX = "ew_"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True)
class IssuedToken:
    """A token as issued: `secret` is shown this once and never stored."""

    id: str
    name: str
    user_id: str
    secret: str
    expires_at: datetime | None


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session, user: UserRow, name: str, *, lifetime: timedelta | None = None
) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + lifetime if lifetime else None
    row = ApiTokenRow(
        user_id=user.id,
        tenant_id=user.tenant_id,
        name=name,
        prefix=secret[:10],
        token_hash=hash_token(secret),
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    return IssuedToken(row.id, name, user.id, secret, expires)


def authenticate(session: Session, authorization: str | None) -> Principal:
    """The principal behind an `Authorization: Bearer ...` header, or Unauthenticated."""
    if not authorization:
        raise Unauthenticated("this request needs an 'Authorization: Bearer <token>' header")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    digest = hash_token(secret.strip())
    found = session.execute(
        select(ApiTokenRow, UserRow)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.token_hash == digest)
    ).first()
    if found is None or not hmac.compare_digest(found[0].token_hash, digest):
        raise Unauthenticated("the token is not valid")
    token, user = found
    if token.revoked_at is not None:
        raise Unauthenticated("the token has been revoked")
    if token.expires_at is not None and _aware(token.expires_at) <= datetime.now(UTC):
        raise Unauthenticated("the token has expired")
    return Principal(user.id, user.name, Role(user.role), user.tenant_id)


def bootstrap_admin(session: Session) -> IssuedToken | None:
    """On first start, the first admin and its token; None when an admin exists."""
    if session.scalar(select(UserRow.id).where(UserRow.role == Role.ADMIN.value).limit(1)):
        return None
    admin = UserRow(name="admin", role=Role.ADMIN.value, tenant_id=None)
    session.add(admin)
    session.flush()
    return issue_token(session, admin, "bootstrap")


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
