"""Auto-scaling declared in the VNFD (`edgewise.policies.AutoScale`, docs/elastic-vnfs.md):
at instantiation the NS gets the policy as a rule marked as the descriptor's, which scales the
VNF by itself like an operator's rule; the operator may remove it or supersede it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.central.api.conftest import Central
from tests.central.api.test_autoscale import counted, decided
from tests.central.api.test_nslcm import settle_all
from tests.central.api.test_scale_vnf import elastic_ns, firewall_of


def test_the_vnfds_policy_becomes_a_rule_of_the_ns_that_scales_it(central: Central) -> None:
    acme, href, sites = elastic_ns(central)
    client, ns = central.client, href.rsplit("/", 1)[-1]
    at = f"/api/v1/ns-instances/{ns}/autoscale-rules"
    (rule,) = client.get(at, headers=acme.headers).json()
    assert {k: rule[k] for k in ("origin", "vnf", "aspectId", "metric", "scaleOutAbove",
            "scaleInBelow", "cooldownSeconds", "minLevel", "maxLevel")} == {
        "origin": "descriptor", "vnf": "firewall", "aspectId": "instances",
        "metric": "PacketCount", "scaleOutAbove": 20000.0, "scaleInBelow": 2000.0,
        "cooldownSeconds": 300, "minLevel": 0, "maxLevel": 3}  # fmt: skip
    start = datetime.now(UTC)
    counted(central, sites[0], ns, 0, start)
    first = decided(central, acme, rule["id"], None)
    assert first["decision"] == "baseline", first
    counted(central, sites[0], ns, 300_000, start + timedelta(seconds=10))
    out = decided(central, acme, rule["id"], first["at"])
    assert (out["decision"], out["ratePerSecond"]) == ("scale-out", 30000.0), out
    location = f"/nslcm/v1/ns_lcm_op_occs/{out['nsLcmOpOccId']}"
    op = client.get(location, headers=acme.headers).json()
    assert (op["lcmOperationType"], op["isAutomaticInvocation"]) == ("SCALE", True)
    assert [firewall_of(central, acme, site)["instances"] for site in sites] == [2, 2]
    settle_all(central, acme, location, *sites)
    gone = client.delete(f"/api/v1/autoscale-rules/{rule['id']}", headers=acme.headers)
    assert gone.status_code == 204, gone.text  # the operator may remove the VNFD's rule
    assert client.get(at, headers=acme.headers).json() == []
