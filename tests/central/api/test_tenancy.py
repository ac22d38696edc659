"""Tenant isolation: every route refuses a tenant's access to another tenant's objects.

The tests walk the application's own OpenAPI description, so a new route with a
path parameter fails here until it is covered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from edgewise.central.services import pm_collect, site_channel, subscriptions
from edgewise.central.services.alarm_terms import Kind
from edgewise.central.services.auth import authenticate
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.site_channel import ReportItem
from edgewise.central.services.subscriptions import Api
from edgewise.central.store.autoscale_tables import AutoScaleRuleRow
from edgewise.central.store.tables import utcnow
from tests.central.api.conftest import Central
from tests.central.api.nsfm_alarms import raise_alarm
from tests.central.api.test_catalog import NSDS, PKGS, onboard_nsd
from tests.central.api.test_nslcm import sessions

SEALER = Sealer(Sealer.new_key())

PARAM = re.compile(r"{([^}]+)}")
# The operator's fleet-wide objects every tenant reads (no tenant's: nothing to leak)
FLEET_READS = {
    ("GET", "/api/v1/sla-profiles/{profileName}"),
    ("GET", "/api/v1/app-classes/{className}"),
}


def operations(central: Central) -> Iterator[tuple[str, str, set[str]]]:
    """(method, path template, path parameter names) of every documented operation."""
    spec = central.client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method in item:
            yield method.upper(), path, set(PARAM.findall(path))


def test_every_route_refuses_cross_tenant_access(central: Central) -> None:
    acme = central.tenant("acme")
    globex = central.tenant("globex")
    client = central.client
    nsd = onboard_nsd(central, acme)
    package = client.post(PKGS, json={}, headers=acme.headers).json()["id"]
    site = client.post(
        "/api/v1/sites", json={"name": "hq", "kind": "on-premise"}, headers=acme.headers
    ).json()["id"]
    central.bring_online([site])
    link = {"name": "mpls", "kind": "mpls", "interface": "wan0", "dhcp": True}
    assert (
        client.post(f"/api/v1/sites/{site}/links", json=link, headers=central.admin.headers)
    ).status_code == 201
    admin = central.admin.headers
    client.post("/api/v1/sla-profiles", json={"name": "rt", "max_loss_percent": 1}, headers=admin)
    client.post("/api/v1/app-classes", json={"name": "voice", "dscp": 46}, headers=admin)
    policy = client.post(
        "/api/v1/steering-policies",
        json={"scope": "site", "siteId": site, "class": "voice", "links": ["mpls"]},
        headers=admin,
    ).json()["id"]
    rule = {
        "name": "mpls",
        "when": {"kind": "link_down", "link": "mpls"},
        "then": {"kind": "event"},
    }
    for owner in (f"sites/{site}", f"tenants/{acme.tenant_id}"):
        added = client.post(f"/api/v1/{owner}/policy-rules", json=rule, headers=acme.headers)
        assert added.status_code == 201, added.text
    group = client.post(
        "/api/v1/site-groups", json={"name": "all", "siteIds": [site]}, headers=acme.headers
    ).json()["id"]
    token = client.post("/api/v1/tokens", json={"name": "mine"}, headers=acme.headers).json()["id"]
    ns = client.post(
        "/nslcm/v1/ns_instances", json={"nsdId": nsd, "nsName": "n"}, headers=acme.headers
    ).json()["id"]
    op = (
        client.post(
            f"/nslcm/v1/ns_instances/{ns}/instantiate",
            json={"nsFlavourId": "default", "additionalParamsForNs": {"sites": [site]}},
            headers=acme.headers,
        )
        .headers["Location"]
        .rsplit("/", 1)[-1]
    )
    client.post(
        "/api/v1/sites",
        json={"name": "edge", "kind": "on-premise", "labels": {"rollout": "yes"}},
        headers=acme.headers,
    )
    central.bring_online()
    rollout = client.post(
        "/api/v1/rollouts",
        json={"name": "r", "nsdId": nsd, "labels": "rollout=yes", "batchSize": 1},
        headers=acme.headers,
    ).json()["id"]
    overlay = client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "o",
            "topology": "full-mesh",
            "prefix": "10.200.0.0/16",
            "sites": [site],
        },
        headers=admin,
    ).json()["id"]
    job = client.post(
        "/nspm/v1/pm_jobs",
        json={
            "objectInstanceIds": [ns],
            "criteria": {"performanceMetric": ["PacketCount"], "collectionPeriod": 10,
                         "reportingPeriod": 10},
        },
        headers=acme.headers,
    ).json()["id"]  # fmt: skip
    counted = {"services": {ns: {"firewall": {"rules": {"rule-0": {"packets": 1}}}}}}
    with sessions(central).begin() as session:  # its first report, on a clock of the test's
        site_channel.record_reports(session, site, [ReportItem("c", "counters", utcnow(), counted)])
        pm_collect.collect(session, utcnow() + timedelta(seconds=11))
    report = client.get(f"/nspm/v1/pm_jobs/{job}", headers=acme.headers).json()["reports"][0]
    threshold = client.post(
        "/nspm/v1/thresholds",
        json={
            "objectInstanceId": ns,
            "criteria": {"performanceMetric": "PacketCount", "thresholdType": "SIMPLE",
                         "simpleThresholdDetails": {"thresholdValue": 1, "hysteresis": 0}},
        },
        headers=acme.headers,
    ).json()["id"]  # fmt: skip
    # one subscription of each API's; no callback to test here: straight to the store
    subscription_ids: dict[str, str] = {}
    with sessions(central).begin() as session:
        for api in Api:
            subscription, _ = subscriptions.create(
                session,
                authenticate(session, acme.headers["Authorization"]),
                api,
                callback_uri="http://127.0.0.1:9/n",
                filter_={},
                authentication=None,
                sealer=SEALER,
            )
            subscription_ids[api.value] = subscription.id
    with sessions(central).begin() as session:  # the vCPE's VNFDs have no scaling aspect
        autoscale = AutoScaleRuleRow(
            tenant_id=acme.tenant_id, ns_instance_id=ns, vnf="firewall", aspect_id="instances",
            metric="PacketCount", scale_out_above=100, scale_in_below=10, cooldown_s=60,
            min_level=0, max_level=2,
        )  # fmt: skip
        session.add(autoscale)
        session.flush()
        autoscale_id = autoscale.id
    alarm = raise_alarm(central, Kind.SITE_OFFLINE, tenant_id=acme.tenant_id, site_id=site)
    acme_ids = {
        "alarmId": alarm,
        "nsdInfoId": nsd,
        "vnfPkgId": package,
        "siteId": site,
        "groupId": group,
        "tenantId": acme.tenant_id,
        "userId": acme.user_id,
        "tokenId": token,
        "nsInstanceId": ns,
        "nsLcmOpOccId": op,
        "subscriptionId": subscription_ids["nslcm"],
        "rolloutId": rollout,
        "artifactPath": "TOSCA-Metadata/TOSCA.meta",
        "name": "mpls",
        "profileName": "rt",
        "className": "voice",
        "policyId": policy,
        "overlayId": overlay,
        "pmJobId": job,
        "reportId": report["href"].rsplit("/", 1)[-1],
        "thresholdId": threshold,
        "autoscaleRuleId": autoscale_id,
    }
    checked = 0
    for method, template, params in operations(central):
        if not params or (method, template) in FLEET_READS:
            continue
        unknown = params - set(acme_ids)
        assert not unknown, f"{template}: add an object for {unknown} to this test"
        its_subscription = subscription_ids.get(template.split("/")[1])
        path = template.format(**acme_ids | {"subscriptionId": its_subscription})
        sent: list[object] | dict[str, object] = {}
        if template.endswith("/steering-bounds"):
            sent = []  # a list of bounds
        elif template.endswith("/members"):
            sent = {"siteIds": [site]}
        elif template.endswith("/password"):
            sent = {"password": "a-valid-password-1"}  # past the schema: to the lookup
        response = client.request(method, path, headers=globex.headers, json=sent)
        assert response.status_code in (403, 404), (method, path, response.status_code)
        checked += 1
    assert checked >= 20

    # Nothing of acme's changed, and globex's lists show none of it.
    assert (
        client.get(f"{NSDS}/{nsd}", headers=acme.headers).json()["nsdOperationalState"] == "ENABLED"
    )
    assert client.get(f"/api/v1/sites/{site}", headers=acme.headers).status_code == 200
    assert client.get(f"/api/v1/site-groups/{group}", headers=acme.headers).status_code == 200
    kept = client.get(f"/api/v1/autoscale-rules/{autoscale_id}", headers=acme.headers)
    assert kept.status_code == 200, kept.text
    whoami = client.get("/api/v1/whoami", headers=acme.headers)
    assert whoami.status_code == 200
    for listing in (
        NSDS,
        PKGS,
        "/api/v1/sites",
        "/api/v1/site-groups",
        "/api/v1/tenants",
        "/api/v1/users",
        "/api/v1/tokens",
        "/nslcm/v1/ns_instances",
        "/nslcm/v1/ns_lcm_op_occs",
        "/nslcm/v1/subscriptions",
        "/nsd/v1/subscriptions",
        "/vnfpkgm/v1/subscriptions",
        "/nsfm/v1/subscriptions",
        "/nsfm/v1/alarms",
        "/api/v1/rollouts",
        "/api/v1/overlays",
        "/api/v1/steering-policies",
        "/nspm/v1/pm_jobs",
        "/nspm/v1/thresholds",
        "/nspm/v1/subscriptions",
        f"/api/v1/tenants/{globex.tenant_id}/policy-rules",
    ):
        body = client.get(listing, headers=globex.headers, params={"all_fields": ""}).text
        ids = acme_ids | {f"{name} subscription": sub for name, sub in subscription_ids.items()}
        leaked = [name for name, value in ids.items() if value and value in body]
        assert not leaked, (listing, leaked)


def test_admin_only_actions_are_forbidden_to_tenants(central: Central) -> None:
    acme = central.tenant("acme")
    client = central.client
    assert (
        client.post("/api/v1/tenants", json={"name": "x"}, headers=acme.headers).status_code == 403
    )
    admin_user = client.post(
        "/api/v1/users", json={"name": "root2", "role": "admin"}, headers=acme.headers
    )
    assert admin_user.status_code == 403
    foreign = client.post(
        "/api/v1/sites",
        json={"name": "s", "kind": "cloud", "tenantId": central.admin.user_id},
        headers=acme.headers,
    )
    assert foreign.status_code == 403


def test_no_route_but_health_works_without_a_token(central: Central) -> None:
    client = central.client
    assert client.get("/health").status_code == 200
    for method, template, params in operations(central):
        if template == "/health" or template.endswith("/api_versions"):
            continue
        path = template.format(**dict.fromkeys(params, "x"))
        response = client.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
