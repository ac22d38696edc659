"""NS fault management subscriptions and notifications (`nsfm/v1/subscriptions`), delivered by
the shared outbox to a real HTTP callback server on loopback: AlarmNotification when an alarm is
raised, changed or acknowledged, AlarmClearedNotification, AlarmListRebuiltNotification;
filters and tenants decide who hears what. The alarm engine's calls are made here directly."""

from __future__ import annotations

import time

from edgewise.central.services import fault_notifications
from edgewise.central.services.alarm_terms import Kind, ManagedObject
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import utcnow
from tests.central.api.callbacks import Callback
from tests.central.api.conftest import Central
from tests.central.api.nsfm_alarms import assert_schema, raise_alarm
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import NS, add_sites, sessions

SUBS = "/nsfm/v1/subscriptions"


def test_subscribers_hear_what_their_filter_and_tenant_let_them(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    client, acme, globex = central.client, central.tenant("acme"), central.tenant("globex")
    nsd = onboard_nsd(central, central.admin)
    ns = client.post(NS, json={"nsdId": nsd, "nsName": "vcpe"}, headers=acme.headers).json()
    critical_of_vcpe = {
        "perceivedSeverities": ["CRITICAL", "MAJOR"],
        "nsInstanceSubscriptionFilter": {"nsInstanceNames": ["vcpe"]},
        "notificationTypes": ["AlarmNotification", "AlarmClearedNotification"],
    }
    made = client.post(SUBS, json={"callbackUri": f"{uri}?acme", "filter": critical_of_vcpe},
                       headers=acme.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["filter"] == critical_of_vcpe
    assert made.headers["Location"].endswith(f"{SUBS}/{made.json()['id']}")
    assert client.post(SUBS, json={"callbackUri": f"{uri}?globex"},
                       headers=globex.headers).status_code == 201  # fmt: skip
    assert client.post(SUBS, json={"callbackUri": f"{uri}?provider"},
                       headers=central.admin.headers).status_code == 201  # fmt: skip
    listed = client.get(SUBS, headers=acme.headers).json()
    assert [s["id"] for s in listed] == [made.json()["id"]]
    assert_schema("FmSubscriptions", listed)
    for dotted in ("filter.perceivedSeverities", "filter/perceivedSeverities"):  # SOL005, SOL013
        named = client.get(SUBS, params={dotted: "CRITICAL"}, headers=central.admin.headers)
        assert [s["id"] for s in named.json()] == [made.json()["id"]], named.text
    unknown = client.get(SUBS, params={"callbackUri.eqq": uri}, headers=acme.headers)
    assert unknown.status_code == 400

    (hq,) = add_sites(central, acme, "hq")
    vnf_down = raise_alarm(central, Kind.VNF_DOWN, tenant_id=acme.tenant_id, site_id=hq,
                           managed=(ManagedObject.NS, ns["id"]), vnf="fw")  # fmt: skip
    drift = raise_alarm(central, Kind.DRIFT_REPEATED, tenant_id=acme.tenant_id, site_id=hq,
                        managed=(ManagedObject.NS, ns["id"]), vnf="nat")  # MINOR  # fmt: skip
    offline = raise_alarm(central, Kind.SITE_OFFLINE, tenant_id=acme.tenant_id, site_id=hq)
    with sessions(central).begin() as session:
        for alarm_id in (vnf_down, drift, offline):
            row = session.get(AlarmRow, alarm_id)
            assert row is not None
            fault_notifications.alarm_raised(session, row)
        row = session.get(AlarmRow, vnf_down)
        assert row is not None
        row.cleared_at, row.active_key = utcnow(), None
        fault_notifications.alarm_cleared(session, row)
    # acme's: the VNF down (MAJOR, of vcpe) raised and cleared; not the MINOR drift, not the
    # site offline (no NS instance); the provider's hears all four; globex nothing
    heard = subscriber.wait_for(6)
    time.sleep(0.5)
    assert len(subscriber.received) == 6
    by_subscription: dict[str, list[tuple[str, str]]] = {}
    for notification in heard:
        alarm_id = notification.get("alarmId") or notification["alarm"]["id"]
        by_subscription.setdefault(notification["subscriptionId"], []).append(
            (notification["notificationType"], alarm_id)
        )
        schema = {"AlarmNotification": "alarmNotification",
                  "AlarmClearedNotification": "alarmClearedNotification"}  # fmt: skip
        assert_schema(schema[notification["notificationType"]], notification)
        assert notification["_links"]["subscription"]["href"].endswith(
            notification["subscriptionId"]
        )
        assert notification["_links"]["alarm"]["href"] == f"/nsfm/v1/alarms/{alarm_id}"
    assert sorted(by_subscription[made.json()["id"]]) == [
        ("AlarmClearedNotification", vnf_down), ("AlarmNotification", vnf_down),
    ]  # fmt: skip
    assert len(by_subscription) == 2  # acme's and the provider's


def test_acknowledging_is_heard_and_a_rebuilt_list_reaches_everyone(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    client, acme, globex = central.client, central.tenant("acme"), central.tenant("globex")
    for caller in (acme, globex):
        assert client.post(SUBS, json={"callbackUri": f"{uri}?{caller.tenant_id}"},
                           headers=caller.headers).status_code == 201  # fmt: skip
    only_alarms = {"notificationTypes": ["AlarmNotification"]}
    assert client.post(SUBS, json={"callbackUri": f"{uri}?only", "filter": only_alarms},
                       headers=globex.headers).status_code == 201  # fmt: skip
    (hq,) = add_sites(central, acme, "hq")
    operators = raise_alarm(central, Kind.SITE_REFUSING, tenant_id=None, site_id=hq)
    link = raise_alarm(central, Kind.LINK_DOWN, tenant_id=acme.tenant_id, site_id=hq,
                       root=operators)  # fmt: skip
    acked = client.patch(f"/nsfm/v1/alarms/{link}", json={"ackState": "ACKNOWLEDGED"},
                         headers=acme.headers)  # fmt: skip
    assert acked.status_code == 200, acked.text
    (heard,) = subscriber.wait_for(1)
    assert heard["alarm"]["ackState"] == "ACKNOWLEDGED"
    assert heard["alarm"]["correlatedAlarmIds"] == []  # the operator's root is not acme's
    with sessions(central).begin() as session:
        fault_notifications.alarm_list_rebuilt(session)
    rebuilt = [n for n in subscriber.wait_for(3) if n["notificationType"].endswith("Rebuilt"
               "Notification")]  # fmt: skip
    assert len(rebuilt) == 2  # both tenants' that take it, not the one only for alarms
    for notification in rebuilt:
        assert_schema("alarmListRebuiltNotification", notification)
        assert notification["_links"]["alarms"]["href"] == "/nsfm/v1/alarms"


def test_a_filter_edgewise_cannot_apply_is_refused_naming_its_part(
    central: Central, callback: tuple[Callback, str]
) -> None:
    _, uri = callback
    client, acme = central.client, central.tenant("acme")
    cases = {
        400: ({"perceivedSeverities": ["LOUD"]}, "filter.perceivedSeverities[0]"),
        422: ({"nsInstanceSubscriptionFilter": {"vnfdIds": ["x"]}},
              "filter.nsInstanceSubscriptionFilter.vnfdIds"),
    }  # fmt: skip
    for status, (filter_, where) in cases.items():
        refused = client.post(SUBS, json={"callbackUri": uri, "filter": filter_},
                              headers=acme.headers)  # fmt: skip
        assert refused.status_code == status, refused.text
        assert [p["where"] for p in refused.json()["problems"]] == [where]
        assert_schema("ProblemDetails", refused.json())
    # the suite's own request puts notificationTypes where SOL005 has no such attribute
    suite_request = {"nsInstanceSubscriptionFilter": {"notificationTypes": ["AlarmNotification"]}}
    refused = client.post(SUBS, json={"callbackUri": uri, "filter": suite_request},
                          headers=acme.headers)  # fmt: skip
    assert refused.status_code == 400
