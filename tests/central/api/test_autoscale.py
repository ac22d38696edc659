"""Auto-scaling by telemetry (docs/elastic-vnfs.md): a rule bound to an NS instance starts
SCALE_VNF by itself when the rate of a VNF's counters leaves its band, with
isAutomaticInvocation true on the occurrence and its notifications; cool-down and levels hold."""

from __future__ import annotations

from tests.central.api.callbacks import Callback
from tests.central.api.conftest import Central
from tests.central.api.test_nslcm import settle_all
from tests.central.api.test_scale_vnf import elastic_ns, step

SUBS = "/nslcm/v1/subscriptions"


def test_an_automatic_invocation_is_carried_by_both_notifications(
    central: Central, callback: tuple[Callback, str]
) -> None:
    subscriber, uri = callback
    acme, href, sites = elastic_ns(central)
    made = central.client.post(SUBS, json={"callbackUri": uri, "filter": {"notificationTypes": [
        "NsLcmOperationOccurrenceNotification"], "operationTypes": ["SCALE"]}},
        headers=acme.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    out = central.client.post(f"{href}/scale", json=step("firewall", "SCALE_OUT")
                              | {"isAutomaticInvocation": True}, headers=acme.headers)  # fmt: skip
    assert out.status_code == 202, out.text
    settle_all(central, acme, out.headers["Location"], *sites)
    heard = subscriber.wait_for(2)
    assert sorted(n["notificationStatus"] for n in heard) == ["RESULT", "START"]
    assert all(n["isAutomaticInvocation"] is True for n in heard), heard
