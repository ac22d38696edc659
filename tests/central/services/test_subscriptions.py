"""Subscriptions of every SOL005 API: each API's filter rules (every problem named by where it
is), callback authentication, one table kept apart by API, and who sees an object's events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from edgewise.central.services import catalog_events, notifications, subscriptions
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.errors import Invalid, NotFound, Unprocessable
from edgewise.central.services.subscriptions import Api
from edgewise.central.store.tables import LccnSubscriptionRow
from tests.central.services.conftest import World

SEALER = Sealer(Sealer.new_key())

Check = Callable[[Mapping[str, Any]], dict[str, Any]]
NSD: Check = catalog_events.NSD.check_filter
PKG: Check = catalog_events.VNF_PACKAGE.check_filter
LCM: Check = notifications.validate_filter
PRODUCTS = "filter.vnfProductsFromProviders[0]"


@pytest.mark.parametrize(
    ("check", "filter_", "error", "where", "says"),
    [
        (NSD, {"nsdName": "x"}, Invalid, "filter.nsdName", "expected an array of strings"),
        (NSD, {"notificationTypes": ["Nope"]}, Invalid, "filter.notificationTypes[0]",
         "'Nope' is not one of NsdOnboardingNotification"),
        (NSD, {"notificationTypes": ["PnfdOnBoardingNotification"]}, Unprocessable,
         "filter.notificationTypes[0]", "a PNFD notification: Edgewise has no PNF descriptors"),
        (NSD, {"pnfdId": ["p"]}, Unprocessable, "filter.pnfdId", "no PNF descriptors"),
        (NSD, {"nestedNsdInfoIds": ["n"]}, Unprocessable, "filter.nestedNsdInfoIds",
         "nest no other NSD"),
        (NSD, {"nsdSize": ["1"]}, Invalid, "filter.nsdSize", "unknown filter attribute"),
        (NSD, {"nsdId": ["a"], "nsdInfoId": ["b"]}, Invalid, "filter",
         "nsdId and nsdInfoId are alternatives"),
        (NSD, {"nsdUsageState": ["BUSY"]}, Invalid, "filter.nsdUsageState[0]",
         "is not one of IN_USE, NOT_IN_USE"),
        (PKG, {"vnfProductsFromProviders": [{"vnfProducts": []}]}, Invalid,
         f"{PRODUCTS}.vnfProvider", "missing"),
        (PKG, {"vnfProductsFromProviders": [{"vnfProvider": "p", "vnfProducts": [
            {"vnfProductName": "n", "versions": [{"vnfdVersions": ["1"]}]}]}]}, Invalid,
         f"{PRODUCTS}.vnfProducts[0].versions[0].vnfSoftwareVersion", "missing"),
        (PKG, {"vnfProductsFromProviders": [{"vnfProvider": "p", "colour": "red"}]}, Invalid,
         f"{PRODUCTS}.colour", "unknown filter attribute; Edgewise knows vnfProvider, vnfProducts"),
        (PKG, {"vnfProductsFromProviders": [{"vnfProvider": ""}]}, Invalid,
         f"{PRODUCTS}.vnfProvider", "expected a non-empty string"),
        (PKG, {"vnfProductsFromProviders": {"vnfProvider": "p"}}, Invalid,
         "filter.vnfProductsFromProviders", "expected an array"),
        (PKG, {"vnfdId": ["a"], "vnfPkgId": ["b"]}, Invalid, "filter",
         "vnfdId and vnfPkgId are alternatives"),
        (PKG, {"operationalState": "ENABLED"}, Invalid, "filter.operationalState",
         "expected an array of strings"),
        (PKG, {"notificationTypes": ["NsdChangeNotification"]}, Invalid,
         "filter.notificationTypes[0]", "is not one of VnfPackageOnboardingNotification"),
        (LCM, {"vnfdIds": ["x"]}, Invalid, "filter.vnfdIds", "unknown filter attribute"),
        (LCM, {"nsInstanceSubscriptionFilter": {"vnfInstanceIds": ["v"]}}, Invalid,
         "filter.nsInstanceSubscriptionFilter.vnfInstanceIds", "unknown filter attribute"),
        (LCM, {"nsInstanceSubscriptionFilter": ["x"]}, Invalid,
         "filter.nsInstanceSubscriptionFilter", "expected an object"),
    ],
)  # fmt: skip
def test_a_filter_edgewise_cannot_apply_is_refused_naming_the_place(
    check: Check, filter_: dict[str, Any], error: type[Invalid], where: str, says: str
) -> None:
    with pytest.raises(error) as raised:
        check(filter_)
    assert type(raised.value) is error
    problems = [(p.where, p.message) for p in raised.value.problems]
    assert any(w == where and says in m for w, m in problems), problems


def test_every_problem_of_a_filter_is_named_at_once() -> None:
    with pytest.raises(Invalid) as raised:
        NSD({"nsdName": "x", "pnfdId": ["p"], "bogus": 1, "nsdOperationalState": ["ON"]})
    assert type(raised.value) is Invalid  # malformed parts make it a 400, not a 422
    assert {p.where for p in raised.value.problems} == {
        "filter.nsdName", "filter.pnfdId", "filter.bogus", "filter.nsdOperationalState[0]",
    }  # fmt: skip


def test_filters_edgewise_can_apply_are_kept_as_given() -> None:
    nsd = {
        "notificationTypes": ["NsdOnBoardingNotification", "NsdChangeNotification"],
        "nsdId": ["x"],
        "nsdOperationalState": ["ENABLED"],
        "nsdOnboardingState": ["ONBOARDED"],
        "vnfPkgIds": ["p"],
    }
    assert NSD(nsd) == nsd
    pkg = {
        "notificationTypes": ["VnfPackageChangeNotification"],
        "vnfProductsFromProviders": [
            {"vnfProvider": "Edgewise", "vnfProducts": [
                {"vnfProductName": "router", "versions": [
                    {"vnfSoftwareVersion": "1.0", "vnfdVersions": ["1.0"]}]}]}
        ],
        "usageState": ["NOT_IN_USE"],
    }  # fmt: skip
    assert PKG(pkg) == pkg
    assert PKG({}) == {}
    assert LCM({"nsInstanceSubscriptionFilter": {"nsdIds": ["d"]}}) == {
        "nsInstanceSubscriptionFilter": {"nsdIds": ["d"]}
    }


@pytest.mark.parametrize(
    ("filter_", "value", "passes"),
    [
        ({}, "a", True),
        ({"k": []}, "a", True),
        ({"k": ["a", "b"]}, "b", True),
        ({"k": ["a"]}, "c", False),
        ({"k": ["a"]}, None, False),
        ({"k": ["a"]}, ["c", "a"], True),
        ({"k": ["a"]}, [], False),
    ],
)
def test_a_filter_attribute_passes_any_listed_value(
    filter_: dict[str, Any], value: str | list[str] | None, passes: bool
) -> None:
    assert subscriptions.wanted(filter_, "k", value) is passes


@pytest.mark.parametrize(
    ("authentication", "error", "where"),
    [
        ({"authType": "BASIC"}, Invalid, "authentication.authType"),
        ({"authType": ["KERBEROS"]}, Invalid, "authentication.authType[0]"),
        ({"authType": ["BASIC"]}, Unprocessable, "authentication.paramsBasic.userName"),
        ({"authType": ["OAUTH2_CLIENT_CREDENTIALS"]}, Unprocessable, "authentication.authType[0]"),
        (
            {"authType": ["BASIC"], "paramsBasic": {"userName": 7}},
            Invalid,
            "authentication.paramsBasic",
        ),
    ],
)
def test_callback_authentication_edgewise_cannot_give_is_refused(
    authentication: dict[str, Any], error: type[Invalid], where: str
) -> None:
    with pytest.raises(error) as raised:
        subscriptions.check_authentication(authentication)
    assert type(raised.value) is error
    assert [p.where for p in raised.value.problems] == [where]


def test_basic_credentials_become_the_authorization_header() -> None:
    basic = {"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "p"}}
    assert subscriptions.check_authentication(basic) == basic
    assert subscriptions.headers_for(basic) == {"Authorization": "Basic dTpw"}
    assert subscriptions.headers_for(None) == {}
    assert subscriptions.check_authentication(None) is None


def subscribe(world: World, api: Api, uri: str, **more: Any) -> tuple[str, bool]:
    principal = more.pop("principal", world.acme)
    row, created = subscriptions.create(
        world.session, principal, api, callback_uri=uri,
        filter_=more.pop("filter_", {}), authentication=None, sealer=SEALER, **more,
    )  # fmt: skip
    return row.id, created


def test_each_api_keeps_its_own_subscriptions_and_a_repeat_is_the_same_one(world: World) -> None:
    session, acme = world.session, world.acme
    made = {api: subscribe(world, api, "http://cb/x") for api in Api}
    assert all(created for _, created in made.values())
    assert len({sub_id for sub_id, _ in made.values()}) == len(Api)  # one per API, each its own
    assert subscribe(world, Api.NSD, "http://cb/x") == (made[Api.NSD][0], False)
    other_filter, created = subscribe(world, Api.NSD, "http://cb/x", filter_={"nsdId": ["a"]})
    assert created
    assert [r.id for r in subscriptions.list_visible(session, acme, Api.NSD)] == sorted(
        [made[Api.NSD][0], other_filter]
    )
    assert [r.id for r in subscriptions.list_visible(session, acme, Api.VNFPKGM)] == [
        made[Api.VNFPKGM][0]
    ]
    nsd_id = made[Api.NSD][0]
    for api, principal in ((Api.VNFPKGM, acme), (Api.NSLCM, acme), (Api.NSD, world.globex)):
        with pytest.raises(NotFound):
            subscriptions.get(session, principal, api, nsd_id)
        with pytest.raises(NotFound):
            subscriptions.delete(session, principal, api, nsd_id)
    subscriptions.delete(session, acme, Api.NSD, nsd_id)
    with pytest.raises(NotFound):
        subscriptions.get(session, acme, Api.NSD, nsd_id)
    assert subscriptions.get(session, acme, Api.NSLCM, made[Api.NSLCM][0]).api == "nslcm"


def test_the_same_subscription_is_found_before_its_callback_is_tested(world: World) -> None:
    def same(uri: str, **more: Any) -> str | None:
        found = subscriptions.existing(
            world.session, world.acme, Api.NSD, callback_uri=uri,
            filter_=more.pop("filter_", {}), authentication=more.pop("authentication", None),
        )  # fmt: skip
        return None if found is None else found.id

    assert same("http://cb/ok") is None
    sub_id, _ = subscribe(world, Api.NSD, "http://cb/ok")
    assert same("http://cb/ok") == sub_id
    assert same("http://cb/ok", filter_={"nsdId": ["a"]}) is None
    assert same("http://cb/other") is None
    with pytest.raises(Invalid):
        same("http://cb/ok", authentication={"authType": ["NOPE"]})


def test_an_admin_naming_no_such_tenant_is_told_so(world: World) -> None:
    with pytest.raises(NotFound, match="tenant nope does not exist"):
        subscribe(world, Api.NSD, "http://cb/x", principal=world.admin, tenant_id="nope")


def test_who_sees_an_object_depends_on_its_owner_and_on_the_shared_catalog(world: World) -> None:
    session = world.session
    subscribe(world, Api.NSD, "http://cb/provider", principal=world.admin)
    subscribe(world, Api.NSD, "http://cb/acme")
    subscribe(world, Api.NSD, "http://cb/globex", principal=world.globex)
    subscribe(world, Api.NSLCM, "http://cb/lcm", principal=world.admin)
    session.commit()

    def heard(tenant: str | None, *, shared_rows: bool) -> set[str]:
        audience = subscriptions.audience(session, Api.NSD, tenant, shared_rows=shared_rows)
        return {row.callback_uri.rsplit("/", 1)[-1] for row in audience}

    assert heard(world.acme.tenant_id, shared_rows=True) == {"provider", "acme"}
    assert heard(None, shared_rows=True) == {"provider", "acme", "globex"}
    assert heard(None, shared_rows=False) == {"provider"}
    # written past this session's cache (as another replica would): the next transaction sees it
    session.add(LccnSubscriptionRow(api="nsd", tenant_id=None, callback_uri="http://cb/late"))
    session.commit()
    assert heard(world.acme.tenant_id, shared_rows=True) == {"provider", "acme", "late"}
