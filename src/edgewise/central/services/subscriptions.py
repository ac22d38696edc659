"""Subscriptions to SOL005 notifications, for every API that has them (nslcm, nsd, vnfpkgm,
nsfm, nspm).

One table holds them all, each marked with its API, and an API's routes see only its own. Each
API module states what its filters may say (`Rule`s, checked by `check_filter`) and decides which
of the subscriptions that see an object (`audience`) hear an event; `outbox` delivers.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    visible,
)
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.errors import InputProblem, Invalid, NotFound, Unprocessable
from edgewise.central.services.tenants import get_tenant
from edgewise.central.services.views import Subscription
from edgewise.central.store.tables import LccnSubscriptionRow

CACHE_KEY: Final = "edgewise.subscriptions"
AUTH_TYPES: Final = ("BASIC", "OAUTH2_CLIENT_CREDENTIALS", "TLS_CERT")


class Api(StrEnum):
    """A SOL005 API with subscriptions; the value is its path's first segment."""

    NSLCM = "nslcm"
    NSD = "nsd"
    VNFPKGM = "vnfpkgm"
    NSFM = "nsfm"
    NSPM = "nspm"

    def href(self, subscription_id: str) -> str:
        return f"/{self.value}/v1/subscriptions/{subscription_id}"

    @property
    def time_key(self) -> str:
        """SOL005 v2.6.1 spells it `timestamp` in NS LCM notifications, `timeStamp` elsewhere."""
        return "timestamp" if self is Api.NSLCM else "timeStamp"


def existing(
    session: Session,
    principal: Principal,
    api: Api,
    *,
    callback_uri: str,
    filter_: Mapping[str, Any],
    authentication: Mapping[str, Any] | None,
    tenant_id: str | None = None,
) -> Subscription | None:
    """The same subscription (callback and filter, same owner) if there is one; the request's
    authentication and owner are checked first. A new one is tested (SOL005's endpoint test,
    outside any transaction) before `create` stores it."""
    check_authentication(authentication)
    row = _same(session, api, _owner(session, principal, tenant_id), callback_uri, filter_)
    return None if row is None else Subscription.of(row)


def create(
    session: Session,
    principal: Principal,
    api: Api,
    *,
    callback_uri: str,
    filter_: Mapping[str, Any],
    authentication: Mapping[str, Any] | None,
    sealer: Sealer,
    tenant_id: str | None = None,
) -> tuple[Subscription, bool]:
    """The subscription, and False when the same one (callback and filter) already existed.

    `filter_` has been checked against the API's rules, and the callback tested; credentials
    are stored sealed."""
    auth = check_authentication(authentication)
    owner = _owner(session, principal, tenant_id)
    same = _same(session, api, owner, callback_uri, filter_)
    if same is not None:
        return Subscription.of(same), False
    row = LccnSubscriptionRow(
        api=api.value,
        tenant_id=owner,
        callback_uri=callback_uri,
        filter=dict(filter_),
        authentication=sealer.seal(auth),
    )
    session.add(row)
    session.flush()
    session.info.pop(CACHE_KEY, None)
    return Subscription.of(row), True


def _owner(session: Session, principal: Principal, tenant_id: str | None) -> str | None:
    owner = owner_for_new(principal, tenant_id, shared_allowed=True)
    if owner is not None:
        get_tenant(session, principal, owner)
    return owner


def _same(
    session: Session, api: Api, owner: str | None, callback_uri: str, filter_: Mapping[str, Any]
) -> LccnSubscriptionRow | None:
    same_owner = (
        LccnSubscriptionRow.tenant_id.is_(None)
        if owner is None
        else LccnSubscriptionRow.tenant_id == owner
    )
    rows = session.scalars(
        select(LccnSubscriptionRow).where(
            LccnSubscriptionRow.api == api.value,
            LccnSubscriptionRow.callback_uri == callback_uri,
            same_owner,
        )
    )
    return next((row for row in rows if row.filter == filter_), None)


def get(session: Session, principal: Principal, api: Api, sub_id: str) -> LccnSubscriptionRow:
    """The subscription's row if `principal` sees it; the API reads `read`."""
    row = get_visible(session, LccnSubscriptionRow, sub_id, principal, what="subscription")
    if row.api != api.value:
        raise NotFound(f"subscription {sub_id} does not exist")
    return row


def read(session: Session, principal: Principal, api: Api, sub_id: str) -> Subscription:
    return Subscription.of(get(session, principal, api, sub_id))


def list_visible(session: Session, principal: Principal, api: Api) -> list[Subscription]:
    query = select(LccnSubscriptionRow).where(
        LccnSubscriptionRow.api == api.value, visible(principal, LccnSubscriptionRow)
    )
    return [Subscription.of(row) for row in session.scalars(query.order_by(LccnSubscriptionRow.id))]


def delete(session: Session, principal: Principal, api: Api, sub_id: str) -> None:
    row = get(session, principal, api, sub_id)
    ensure_writable(principal, row, what="subscription")
    session.delete(row)
    session.flush()
    session.info.pop(CACHE_KEY, None)


def audience(
    session: Session, api: Api, tenant_id: str | None, *, shared_rows: bool
) -> list[LccnSubscriptionRow]:
    """The subscriptions of `api` that see an object of `tenant_id`: the provider's (no tenant)
    and that tenant's; with `shared_rows`, an object of no tenant (the shared catalog) is seen
    by every subscription. Read once per transaction (a rollout's wave emits thousands)."""
    transaction = session.get_transaction()
    held = session.info.get(CACHE_KEY)
    if held is None or held[0] is not transaction:
        held = session.info[CACHE_KEY] = (transaction, {})
    cache: dict[tuple[Api, str | None, bool], list[LccnSubscriptionRow]] = held[1]
    key = (api, tenant_id, shared_rows)
    if key not in cache:
        query = select(LccnSubscriptionRow).where(LccnSubscriptionRow.api == api.value)
        if tenant_id is not None or not shared_rows:
            owners: ColumnElement[bool] = LccnSubscriptionRow.tenant_id.is_(None)
            if tenant_id is not None:
                owners = or_(owners, LccnSubscriptionRow.tenant_id == tenant_id)
            query = query.where(owners)
        cache[key] = list(session.scalars(query.order_by(LccnSubscriptionRow.id)))
    return cache[key]


def wanted(filter_: Mapping[str, Any], key: str, value: str | Sequence[str] | None) -> bool:
    """Whether `value` (one, or any of several) passes the filter's `key` (SOL005: any value of
    the list). A filter without `key` passes everything; an unknown value passes no filter that
    names the key."""
    allowed = filter_.get(key)
    if not allowed:
        return True
    if value is None:
        return False
    return any(v in allowed for v in ([value] if isinstance(value, str) else value))


# filters


@dataclass
class FilterProblems:
    """What is wrong with a filter (400) and what Edgewise cannot serve (422)."""

    invalid: list[InputProblem] = field(default_factory=list)
    unsupported: list[InputProblem] = field(default_factory=list)


Rule = Callable[[object, str, FilterProblems], None]
"""Checks the filter value found at a path (`filter.x.y`), noting what is wrong with it."""


def check_filter(value: Mapping[str, Any], rule: Rule) -> dict[str, Any]:
    """The filter if Edgewise can apply it, else Invalid (or Unprocessable, when it is well
    formed but asks for what Edgewise does not have) naming every unusable part."""
    problems = FilterProblems()
    rule(value, "filter", problems)
    if problems.invalid:
        raise Invalid(
            "the subscription filter is not valid", problems.invalid + problems.unsupported
        )
    if problems.unsupported:
        raise Unprocessable("the subscription filter asks for what Edgewise does not have",
                            problems.unsupported)  # fmt: skip
    return dict(value)


def strings(choices: Sequence[str] | None = None, refused: Mapping[str, str] | None = None) -> Rule:
    """An array of strings, each one of `choices` when given; `refused` values are known but
    not served here, each with its reason."""

    def check(value: object, where: str, problems: FilterProblems) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.invalid.append(InputProblem(where, "expected an array of strings"))
            return
        for index, item in enumerate(value):
            if refused and item in refused:
                problems.unsupported.append(InputProblem(f"{where}[{index}]", refused[item]))
            elif choices is not None and item not in choices:
                problems.invalid.append(InputProblem(
                    f"{where}[{index}]", f"{item!r} is not one of {', '.join(choices)}"
                ))  # fmt: skip

    return check


def text(value: object, where: str, problems: FilterProblems) -> None:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        problems.invalid.append(InputProblem(where, "expected a non-empty string"))


def array_of(rule: Rule) -> Rule:
    def check(value: object, where: str, problems: FilterProblems) -> None:
        if not isinstance(value, list):
            problems.invalid.append(InputProblem(where, "expected an array"))
            return
        for index, item in enumerate(value):
            rule(item, f"{where}[{index}]", problems)

    return check


def record(
    rules: Mapping[str, Rule],
    *,
    required: Sequence[str] = (),
    alternatives: Sequence[str] = (),
    refused: Mapping[str, str] | None = None,
) -> Rule:
    """An object of the attributes in `rules` (those in `required` must be there, at most one of
    `alternatives`); `refused` attributes are known but not served here, any other is unknown."""

    def check(value: object, where: str, problems: FilterProblems) -> None:
        if not isinstance(value, Mapping):
            problems.invalid.append(InputProblem(where, "expected an object"))
            return
        for key, item in value.items():
            rule = rules.get(key)
            if rule is not None:
                rule(item, f"{where}.{key}", problems)
            elif refused and key in refused:
                problems.unsupported.append(InputProblem(f"{where}.{key}", refused[key]))
            else:
                problems.invalid.append(InputProblem(
                    f"{where}.{key}",
                    f"unknown filter attribute; Edgewise knows {', '.join(rules)}",
                ))  # fmt: skip
        problems.invalid.extend(
            InputProblem(f"{where}.{key}", "missing") for key in required if key not in value
        )
        given = [key for key in alternatives if key in value]
        if len(given) > 1:
            problems.invalid.append(
                InputProblem(where, f"{' and '.join(given)} are alternatives: give one of them")
            )

    return check


# callback authentication


def check_authentication(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """SOL005 SubscriptionAuthentication, if Edgewise can authenticate that way (BASIC)."""
    if not value:
        return None
    where = "authentication.authType"
    kinds = value.get("authType")
    basic = value.get("paramsBasic", {})
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        malformed = [InputProblem(where, "expected a non-empty array of strings")]
    else:
        malformed = [
            InputProblem(f"{where}[{index}]", f"{kind!r} is not one of {', '.join(AUTH_TYPES)}")
            for index, kind in enumerate(kinds)
            if kind not in AUTH_TYPES
        ]
    if not isinstance(basic, Mapping) or not all(
        isinstance(basic.get(key, ""), str) for key in ("userName", "password")
    ):
        malformed.append(
            InputProblem("authentication.paramsBasic", "expected userName and password strings")
        )
    if malformed or not isinstance(kinds, list):
        raise Invalid("the authentication is not valid", malformed)
    unsupported = [
        InputProblem(f"{where}[{index}]", f"{kind}: Edgewise authenticates to callbacks with "
                     "BASIC only")
        for index, kind in enumerate(kinds)
        if kind != "BASIC"
    ]  # fmt: skip
    if "BASIC" in kinds and not basic.get("userName"):
        unsupported.append(InputProblem(
            "authentication.paramsBasic.userName",
            "needed: Edgewise has no callback credentials provisioned out of band",
        ))  # fmt: skip
    if unsupported:
        raise Unprocessable("Edgewise cannot authenticate to this callback", unsupported)
    return dict(value)


def headers_for(authentication: Mapping[str, Any] | None) -> dict[str, str]:
    """The headers a callback asked for (SOL005 SubscriptionAuthentication, BASIC)."""
    auth = authentication or {}
    basic = auth.get("paramsBasic") or {}
    if "BASIC" in (auth.get("authType") or []) and basic.get("userName"):
        token = base64.b64encode(f"{basic['userName']}:{basic.get('password', '')}".encode())
        return {"Authorization": f"Basic {token.decode()}"}
    return {}
