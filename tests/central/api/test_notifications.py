"""NS LCM subscriptions and notifications, delivered to a real HTTP callback server on loopback:
the endpoint test, filters, START and RESULT, identifier creation and deletion, retries."""

from __future__ import annotations

import time

from tests.central.api.callbacks import Callback
from tests.central.api.conftest import Central
from tests.central.api.sol005 import assert_schema
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import FLAVOUR, NS, add_sites, desired, report

SUBS = "/nslcm/v1/subscriptions"


def test_a_subscriber_hears_the_whole_life_of_an_ns(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    client, acme = central.client, central.tenant("acme")
    made = client.post(SUBS, json={"callbackUri": uri}, headers=acme.headers)
    assert made.status_code == 201, made.text
    again = client.post(SUBS, json={"callbackUri": uri}, headers=acme.headers,
                        follow_redirects=False)  # fmt: skip
    assert again.status_code == 303
    assert again.headers["Location"].endswith(made.json()["id"])
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "hq")
    ns = client.post(NS, json={"nsdId": nsd, "nsName": "n"}, headers=acme.headers).json()
    started = client.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": [site]}},
        headers=acme.headers,
    )
    op_id = started.headers["Location"].rsplit("/", 1)[-1]
    report(central, site, desired(central, acme, site)["revision"],
           [{"id": ns["id"], "state": "ready", "vnfs": []}])  # fmt: skip
    heard = subscriber.wait_for(3)
    kinds = sorted((n["notificationType"], n.get("notificationStatus", "")) for n in heard)
    assert kinds == [
        ("NsIdentifierCreationNotification", ""),
        ("NsLcmOperationOccurrenceNotification", "RESULT"),
        ("NsLcmOperationOccurrenceNotification", "START"),
    ]
    for notification in heard:
        assert notification["subscriptionId"] == made.json()["id"]
        assert notification["nsInstanceId"] == ns["id"]
        if notification["notificationType"] == "NsIdentifierCreationNotification":
            assert_schema("NsIdentifierCreationNotification", notification)
        else:
            assert notification["nsLcmOpOccId"] == op_id
            assert_schema("NsLcmOperationOccurrenceNotification", notification)
    result = next(n for n in heard if n.get("notificationStatus") == "RESULT")
    assert result["operationState"] == "COMPLETED"
    assert len({n["id"] for n in heard}) == 3


def test_filters_and_tenants_decide_who_hears_what(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    client, acme, other = central.client, central.tenant("acme"), central.tenant("other")
    only_deletions = {"notificationTypes": ["NsIdentifierDeletionNotification"]}
    assert client.post(SUBS, json={"callbackUri": uri, "filter": only_deletions},
                       headers=acme.headers).status_code == 201  # fmt: skip
    assert client.post(SUBS, json={"callbackUri": uri + "?other"},
                       headers=other.headers).status_code == 201  # fmt: skip
    nsd = onboard_nsd(central, central.admin)
    ns = client.post(NS, json={"nsdId": nsd, "nsName": "n"}, headers=acme.headers).json()
    assert client.delete(f"{NS}/{ns['id']}", headers=acme.headers).status_code == 204
    (deleted,) = subscriber.wait_for(1)
    assert deleted["notificationType"] == "NsIdentifierDeletionNotification"
    time.sleep(1.0)
    assert len(subscriber.received) == 1  # not the creation, and nothing for the other tenant
    listed = client.get(SUBS, headers=other.headers).json()
    assert [s["callbackUri"] for s in listed] == [uri + "?other"]


def test_a_failing_callback_is_retried_with_backoff_until_it_takes_it(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    subscriber.failures = 2
    client, acme = central.client, central.tenant("acme")
    assert client.post(SUBS, json={"callbackUri": uri}, headers=acme.headers).status_code == 201
    nsd = onboard_nsd(central, central.admin)
    began = time.monotonic()
    client.post(NS, json={"nsdId": nsd, "nsName": "n"}, headers=acme.headers)
    (created,) = subscriber.wait_for(1, timeout=15)
    assert created["notificationType"] == "NsIdentifierCreationNotification"
    assert subscriber.answered_500 == 2
    assert time.monotonic() - began >= 2.5  # waited 1 s, then 2 s, between attempts


def test_bad_subscriptions_are_refused_with_the_reason(
    central: Central, callback: tuple[Callback, str]
) -> None:
    _, uri = callback
    client, acme = central.client, central.tenant("acme")
    cases = [
        ({"callbackUri": "ftp://x/y"}, 400, "http:// or https://"),
        ({"callbackUri": uri, "filter": {"notificationTypes": ["Nope"]}}, 400,
         "filter.notificationTypes[0]"),
        ({"callbackUri": uri, "filter": {"vnfdIds": ["x"]}}, 400, "unknown filter attribute"),
        ({"callbackUri": "http://127.0.0.1:9/closed"}, 422, "could not fetch from 127.0.0.1"),
    ]  # fmt: skip
    for body, status, needle in cases:
        answer = client.post(SUBS, json=body, headers=acme.headers)
        assert answer.status_code == status, answer.text
        assert needle in answer.text, answer.text
    assert client.get(SUBS, headers=acme.headers).json() == []
