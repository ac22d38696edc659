"""The portals' sign-in: passwords (Argon2id, argon2-cffi) and browser sessions.

A user signs in with `name` (an operator) or `name@tenant` (a tenant's user) and a password; a
session is a random cookie secret stored only as its SHA-256 hash, with a CSRF synchronizer
token, an absolute lifetime and an idle timeout. A session's principal is the same `Principal`
an API token gives, so the portals go through the same scoping (`services.access`) as the API.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, Role, require_admin
from edgewise.central.services.auth import hash_token, principal_of_user
from edgewise.central.services.errors import Forbidden, Invalid, Unauthenticated
from edgewise.central.services.tenants import get_user
from edgewise.central.store.tables import TenantRow, UserRow, aware
from edgewise.central.store.web_tables import WebSessionRow

PASSWORD_MIN = 12
PASSWORD_MAX = 256  # characters: a bound on what Argon2 is asked to hash
LOGIN_NAME_MAX = 127  # name@tenant, each at most 63
HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
# A hash to verify against when the user does not exist, so both answers take as long
_ABSENT = HASHER.hash(secrets.token_urlsafe(16))
SEEN_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often per session


@dataclass(frozen=True)
class WebSessionPolicy:
    lifetime: timedelta = timedelta(hours=12)  # absolute, from sign-in
    idle: timedelta = timedelta(minutes=30)  # since the last request


@dataclass(frozen=True)
class SignedIn:
    """A new session: `secret` goes into the cookie and is never stored."""

    secret: str
    csrf_token: str
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True)
class WebCaller:
    """A request's signed-in browser: who, and the token its writes must carry."""

    principal: Principal
    session_id: str
    csrf_token: str


def check_password_rules(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise Invalid(f"a password needs at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise Invalid(f"a password has at most {PASSWORD_MAX} characters")


def set_password(session: Session, principal: Principal, user_id: str, password: str) -> None:
    """Sets a user's portal password: one's own, a tenant admin its tenant's users', an
    operator anyone's. Every session of that user ends (a changed password signs out)."""
    row = get_user(session, principal, user_id)
    if row.id != principal.user_id:
        if not principal.manages_users:
            raise Forbidden("only an admin or a tenant admin may set another user's password")
        if row.role == Role.ADMIN.value:
            require_admin(principal, "set an admin's password")
    check_password_rules(password)
    row.password_hash = HASHER.hash(password)
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))


def split_login(login: str) -> tuple[str, str | None]:
    """`name` (an operator) or `name@tenant`: the name and the tenant's name."""
    login = login.strip()
    if not login or len(login) > LOGIN_NAME_MAX:
        raise Unauthenticated("the user name or the password is wrong")
    name, at, tenant = login.rpartition("@")
    return (name, tenant) if at else (login, None)


def sign_in(
    session: Session,
    login: str,
    password: str,
    *,
    address: str,
    policy: WebSessionPolicy,
    now: datetime | None = None,
) -> SignedIn:
    """A new session for a user whose password matches; Unauthenticated, with the same words
    whatever was wrong (no user, no password set, a wrong password)."""
    wrong = Unauthenticated("the user name or the password is wrong")
    if len(password) > PASSWORD_MAX:
        raise wrong
    name, tenant = split_login(login)
    query = select(UserRow).where(UserRow.name == name)
    if tenant is None:
        query = query.where(UserRow.tenant_id.is_(None))
    else:
        query = query.join(TenantRow, TenantRow.id == UserRow.tenant_id).where(
            TenantRow.name == tenant
        )
    user = session.scalar(query)
    stored = user.password_hash if user is not None else None
    try:
        HASHER.verify(stored or _ABSENT, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise wrong from None
    if user is None or stored is None:
        raise wrong
    if HASHER.check_needs_rehash(stored):
        user.password_hash = HASHER.hash(password)
    now = now or datetime.now(UTC)
    secret = secrets.token_urlsafe(32)
    row = WebSessionRow(
        user_id=user.id,
        secret_hash=hash_token(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.lifetime,
        address=address[:64],
    )
    session.add(row)
    session.flush()
    principal = principal_of_user(user)
    return SignedIn(secret, row.csrf_token, principal, row.expires_at)


def session_caller(
    session: Session, secret: str, *, policy: WebSessionPolicy, now: datetime | None = None
) -> WebCaller:
    """The caller behind a session cookie; Unauthenticated when it is unknown, expired or idle
    (an ended session's row is deleted)."""
    if not secret or len(secret) > 128:
        raise Unauthenticated("you are not signed in")
    digest = hash_token(secret)
    found = session.execute(
        select(WebSessionRow, UserRow)
        .join(UserRow, UserRow.id == WebSessionRow.user_id)
        .where(WebSessionRow.secret_hash == digest)
    ).first()
    if found is None or not hmac.compare_digest(found[0].secret_hash, digest):
        raise Unauthenticated("you are not signed in")
    row, user = found
    now = now or datetime.now(UTC)
    if aware(row.expires_at) <= now or aware(row.last_seen_at) + policy.idle <= now:
        session.delete(row)
        raise Unauthenticated("your session has ended; sign in again")
    if aware(row.last_seen_at) + SEEN_EVERY <= now:
        row.last_seen_at = now
    principal = principal_of_user(user)
    return WebCaller(principal, row.id, row.csrf_token)


def sign_out(session: Session, session_id: str) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.id == session_id))


def csrf_matches(caller: WebCaller, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(caller.csrf_token, presented or "")
