"""NSD management and VNF package management subscriptions over HTTP (`nsd/v1/subscriptions`,
`vnfpkgm/v1/subscriptions`), and their notifications delivered to a real callback server."""

from __future__ import annotations

import copy
import time
from typing import Any

import jsonschema
import pytest

from tests.central.api.callbacks import Callback
from tests.central.api.conftest import Central
from tests.central.api.sol005 import assert_schema, schema
from tests.central.api.test_catalog import NSD_YAML, NSDS, PKGS
from tests.central.services.test_catalog_events import router_package

NSD_SUBS = "/nsd/v1/subscriptions"
PKG_SUBS = "/vnfpkgm/v1/subscriptions"


@pytest.mark.parametrize(("subs", "kind"), [(NSD_SUBS, "Nsdm"), (PKG_SUBS, "Pkgm")])
def test_subscriptions_are_created_once_read_listed_and_deleted(
    central: Central, callback: tuple[Callback, str], subs: str, kind: str
) -> None:
    _, uri = callback
    client, acme = central.client, central.tenant("acme")
    made = client.post(subs, json={"callbackUri": uri}, headers=acme.headers)
    assert made.status_code == 201, made.text
    document = made.json()
    assert_schema(f"{kind}Subscription", document)
    assert made.headers["Location"] == document["_links"]["self"]["href"]
    assert made.headers["Location"].endswith(f"{subs}/{document['id']}")
    assert made.headers["Version"] == "2.6.1"

    again = client.post(subs, json={"callbackUri": uri}, headers=acme.headers,
                        follow_redirects=False)  # fmt: skip
    assert (again.status_code, again.content) == (303, b"")
    assert again.headers["Location"] == made.headers["Location"]

    read = client.get(f"{subs}/{document['id']}", headers=acme.headers)
    assert (read.status_code, read.json()) == (200, document)
    listed = client.get(subs, headers=acme.headers, params={"callbackUri": uri}).json()
    assert_schema(f"{kind}Subscriptions", listed)
    assert [s["id"] for s in listed] == [document["id"]]
    assert client.get("/nslcm/v1/subscriptions", headers=acme.headers).json() == []
    other_api = PKG_SUBS if subs == NSD_SUBS else NSD_SUBS
    assert client.get(f"{other_api}/{document['id']}", headers=acme.headers).status_code == 404
    assert client.get(f"{subs}/{document['id']}", headers=central.tenant("b").headers
                      ).status_code == 404  # fmt: skip

    assert client.put(subs, headers=acme.headers).status_code == 405
    assert client.delete(f"{subs}/{document['id']}", headers=acme.headers).status_code == 204
    missing = client.get(f"{subs}/{document['id']}", headers=acme.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.delete(f"{subs}/{document['id']}", headers=acme.headers).status_code == 404


@pytest.mark.parametrize(
    ("subs", "body", "status", "needle"),
    [
        (NSD_SUBS, {"callbackUri": "ftp://x/y"}, 400, "http:// or https://"),
        (NSD_SUBS, {"filter": {"nsdName": "vCPE"}}, 400, "filter.nsdName"),
        (NSD_SUBS, {"filter": {"nsdColour": ["red"]}}, 400, "unknown filter attribute"),
        (NSD_SUBS, {"filter": {"notificationTypes": ["PnfdDeletionNotification"]}}, 422,
         "Edgewise has no PNF descriptors"),
        (NSD_SUBS, {"filter": {"pnfdName": ["p"]}}, 422, "filter.pnfdName"),
        (PKG_SUBS, {"filter": {"vnfProductsFromProviders": [{}]}}, 400,
         "filter.vnfProductsFromProviders[0].vnfProvider"),
        (PKG_SUBS, {"authentication": {"authType": ["TLS_CERT"]}}, 422, "BASIC only"),
        (PKG_SUBS, {"callbackUri": "http://127.0.0.1:9/closed"}, 422,
         "could not fetch from 127.0.0.1"),
        (PKG_SUBS, {"verbose": True}, 400, "verbose"),
    ],
)  # fmt: skip
def test_bad_subscriptions_are_refused_with_the_reason(
    central: Central,
    callback: tuple[Callback, str],
    subs: str,
    body: dict[str, Any],
    status: int,
    needle: str,
) -> None:
    _, uri = callback
    acme = central.tenant("acme")
    answer = central.client.post(subs, json={"callbackUri": uri} | body, headers=acme.headers)
    assert answer.status_code == status, answer.text
    assert needle in answer.text, answer.text
    assert_schema("ProblemDetails", answer.json())
    assert central.client.get(subs, headers=acme.headers).json() == []


def test_a_callback_that_fails_the_endpoint_test_is_not_subscribed(central: Central) -> None:
    subscriber, server, uri = Callback.serve()
    server.shutdown()
    server.server_close()
    answer = central.client.post(NSD_SUBS, json={"callbackUri": uri},
                                 headers=central.admin.headers)  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["where"] == "callbackUri"
    assert subscriber.received == []


def failure_schema() -> dict[str, Any]:
    """ETSI's schema requires "statussss" of the failure details (a typo for "status")."""
    fixed = copy.deepcopy(schema("NsdOnboardingFailureNotification"))
    details = fixed["properties"]["onboardingFailureDetails"]
    details["required"] = ["status" if r == "statussss" else r for r in details["required"]]
    return fixed


def test_subscribers_hear_onboarding_changes_and_deletions_of_what_they_see(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    client, acme, globex = central.client, central.tenant("acme"), central.tenant("globex")
    basic = {"authType": ["BASIC"], "paramsBasic": {"userName": "acme", "password": "s"}}
    nsd_sub = client.post(NSD_SUBS, json={"callbackUri": uri, "authentication": basic},
                          headers=acme.headers).json()  # fmt: skip
    pkg_sub = client.post(PKG_SUBS, json={"callbackUri": uri}, headers=acme.headers).json()
    assert client.post(NSD_SUBS, json={"callbackUri": uri + "?globex"},
                       headers=globex.headers).status_code == 201  # fmt: skip

    package = client.post(PKGS, json={}, headers=acme.headers).json()["id"]
    uploaded = client.put(f"{PKGS}/{package}/package_content", content=router_package(),
                          headers=acme.headers | {"Content-Type": "application/zip"})  # fmt: skip
    assert uploaded.status_code == 204, uploaded.text
    nsd = client.post(NSDS, json={}, headers=acme.headers).json()["id"]
    refused = client.put(f"{NSDS}/{nsd}/nsd_content", content=b"not: [valid",
                         headers=acme.headers | {"Content-Type": "text/plain"})  # fmt: skip
    assert refused.status_code == 400
    failed = client.get(f"{NSDS}/{nsd}", headers=acme.headers, params={"all_fields": ""}).json()
    assert failed["nsdOnboardingState"] == "CREATED"
    assert failed["onboardingFailureDetails"]["detail"] == refused.json()["detail"]
    assert_schema("NsdInfo", failed)
    uploaded = client.put(f"{NSDS}/{nsd}/nsd_content", content=NSD_YAML,
                          headers=acme.headers | {"Content-Type": "text/plain"})  # fmt: skip
    assert uploaded.status_code == 204, uploaded.text
    assert (
        "onboardingFailureDetails"
        not in client.get(f"{NSDS}/{nsd}", headers=acme.headers, params={"all_fields": ""}).json()
    )
    disabled = client.patch(f"{NSDS}/{nsd}", json={"nsdOperationalState": "DISABLED"},
                            headers=acme.headers)  # fmt: skip
    assert disabled.status_code == 200, disabled.text
    assert client.delete(f"{NSDS}/{nsd}", headers=acme.headers).status_code == 204

    heard = {n["notificationType"]: n for n in subscriber.wait_for(5)}
    assert sorted(heard) == [
        "NsdChangeNotification", "NsdDeletionNotification", "NsdOnboardingFailureNotification",
        "NsdOnboardingNotification", "VnfPackageOnboardingNotification",
    ]  # fmt: skip
    jsonschema.validate(heard.pop("NsdOnboardingFailureNotification"), failure_schema())
    for name, notification in heard.items():
        assert_schema(name, notification)
    onboarded = heard["NsdOnboardingNotification"]
    assert (onboarded["nsdInfoId"], onboarded["subscriptionId"]) == (nsd, nsd_sub["id"])
    assert onboarded["_links"]["subscription"]["href"] == f"{NSD_SUBS}/{nsd_sub['id']}"
    assert onboarded["_links"]["nsdInfo"]["href"] == f"{NSDS}/{nsd}"
    package_onboarded = heard["VnfPackageOnboardingNotification"]
    assert (package_onboarded["vnfPkgId"], package_onboarded["vnfdId"]) == (
        package, "edgewise-router",
    )  # fmt: skip
    assert package_onboarded["subscriptionId"] == pkg_sub["id"]
    assert package_onboarded["_links"]["vnfPackage"]["href"] == f"{PKGS}/{package}"
    assert heard["NsdChangeNotification"]["nsdOperationalState"] == "DISABLED"
    by_type = dict(zip([n["notificationType"] for n in subscriber.received],
                       subscriber.authorizations, strict=True))  # fmt: skip
    assert by_type["NsdOnboardingNotification"] == "Basic YWNtZTpz"
    assert by_type["VnfPackageOnboardingNotification"] is None
    time.sleep(0.5)
    assert len(subscriber.received) == 5  # nothing for globex's subscription: acme's items
