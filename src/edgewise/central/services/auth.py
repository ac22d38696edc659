"""API tokens: issued once in clear, stored only as a SHA-256 hash, checked on every request."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, Role
from edgewise.central.services.errors import Unauthenticated
from edgewise.central.store.tables import ApiTokenRow, TenantRow, UserRow, aware

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
    return principal_of(session, bearer_digest(authorization))[0]


def bearer_digest(authorization: str | None) -> str:
    """The hash of the bearer token in an Authorization header; Unauthenticated without one."""
    if not authorization:
        raise Unauthenticated("this request needs an 'Authorization: Bearer <token>' header")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return hash_token(secret.strip())


def principal_of(session: Session, digest: str) -> tuple[Principal, datetime | None]:
    """The principal of a live token (by hash) and when the token expires; Unauthenticated."""
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
    expires = aware(token.expires_at) if token.expires_at is not None else None
    if expires is not None and expires <= datetime.now(UTC):
        raise Unauthenticated("the token has expired")
    return principal_of_user(user), expires


def principal_of_user(user: UserRow) -> Principal:
    """Who a user is when it calls, by a token or by a portal session."""
    return Principal(user.id, user.name, Role(user.role), user.tenant_id)


AUTH_ROWS = (ApiTokenRow, UserRow, TenantRow)


def changes_auth(session: Session) -> bool:
    """Whether what the session is flushing changes tokens, users or tenants."""
    return any(
        isinstance(row, AUTH_ROWS)
        for row in itertools.chain(session.new, session.dirty, session.deleted)
    )


class TokenCache:
    """Principals of the API tokens seen in the last `ttl` seconds, so that a request costs no
    token lookup. This replica empties it whenever it commits a change to tokens, users or
    tenants (a revoked token stops working at once); another replica's revocation takes
    effect here within `ttl`. A token's own expiry is checked on every use."""

    def __init__(
        self, ttl: float = 5.0, limit: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._known: dict[str, tuple[Principal, datetime | None, float]] = {}

    def get(self, digest: str) -> Principal | None:
        known = self._known.get(digest)
        if known is None:
            return None
        principal, expires, seen = known
        if self.clock() - seen > self.ttl or (expires is not None and expires <= datetime.now(UTC)):
            self._known.pop(digest, None)
            return None
        return principal

    def put(self, digest: str, principal: Principal, expires: datetime | None) -> None:
        if len(self._known) >= self.limit:
            self._known.clear()
        self._known[digest] = (principal, expires, self.clock())

    def clear(self) -> None:
        self._known.clear()


def bootstrap_admin(session: Session) -> IssuedToken | None:
    """On first start, the first admin and its token; None when an admin exists."""
    if session.scalar(select(UserRow.id).where(UserRow.role == Role.ADMIN.value).limit(1)):
        return None
    admin = UserRow(name="admin", role=Role.ADMIN.value, tenant_id=None)
    session.add(admin)
    session.flush()
    return issue_token(session, admin, "bootstrap")
