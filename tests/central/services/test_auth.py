"""The API token cache: what it remembers, for how long, and what makes it forget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edgewise.central.services.access import Principal, Role
from edgewise.central.services.auth import TokenCache, bearer_digest, hash_token
from edgewise.central.services.errors import Unauthenticated

ALICE = Principal("u1", "alice", Role.TENANT, "t1")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_remembered_for_the_ttl_then_looked_up_again() -> None:
    clock = Clock()
    cache = TokenCache(ttl=5.0, clock=clock)
    assert cache.get("d") is None
    cache.put("d", ALICE, None)
    assert cache.get("d") == ALICE
    clock.now += 4.9
    assert cache.get("d") == ALICE
    clock.now += 0.2
    assert cache.get("d") is None


def test_an_expired_token_is_not_served_from_the_cache() -> None:
    cache = TokenCache(ttl=60.0)
    cache.put("soon", ALICE, datetime.now(UTC) - timedelta(seconds=1))
    cache.put("later", ALICE, datetime.now(UTC) + timedelta(hours=1))
    assert cache.get("soon") is None
    assert cache.get("later") == ALICE


def test_clear_and_the_size_limit() -> None:
    cache = TokenCache(limit=2)
    cache.put("a", ALICE, None)
    cache.put("b", ALICE, None)
    cache.put("c", ALICE, None)  # full: starts over rather than grow
    assert (cache.get("a"), cache.get("c")) == (None, ALICE)
    cache.clear()
    assert cache.get("c") is None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "needs an 'Authorization: Bearer <token>' header"),
        ("Basic abc", "must be 'Bearer <token>'"),
        ("Bearer   ", "must be 'Bearer <token>'"),
    ],
)
def test_bearer_digest_refuses_what_is_not_a_bearer_token(header: str | None, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        bearer_digest(header)


def test_bearer_digest_is_the_stored_hash() -> None:
    assert bearer_digest("Bearer ew_secret ") == hash_token("ew_secret")
