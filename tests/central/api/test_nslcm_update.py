"""SOL005 UPDATE_NS over the API: configs changed in place and sites healed, a bad config
value refused naming its field with nothing written, an update to a new NSD version and back by
rollback, and updates of an NS not instantiated refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.central.api.conftest import Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import (
    NS,
    OPS,
    add_sites,
    create_ns,
    desired,
    follow,
    instantiate_on,
    report,
    settle_all,
)


def test_update_configs_and_sites_heal_and_what_is_not_supported(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    first, second = add_sites(central, acme, "first", "second")
    ns = create_ns(central, acme, nsd)

    def settle(location: str, *sites: str) -> None:
        for site in sites:
            document = desired(central, acme, site)
            entries = [{"id": e["id"], "state": "ready", "vnfs": []}
                       for e in document["document"]["services"]]  # fmt: skip
            report(central, site, document["revision"], entries)
        follow(central, acme, location, "COMPLETED")

    settle(instantiate_on(central, acme, ns["id"], first), first)
    update = f"{NS}/{ns['id']}/update"
    accept_all = {
        "updateType": "MODIFY_VNF_INFORMATION",
        "modifyVnfInfoData": [
            {"vnfInstanceId": "firewall", "vnfConfigurableProperties": {"default_action": "accept"}}
        ],
    }
    changed = client.post(update, json=accept_all, headers=acme.headers)
    assert changed.status_code == 202, changed.text
    (entry,) = desired(central, acme, first)["document"]["services"]
    firewall = next(v for v in entry["vnfs"] if v["name"] == "firewall")
    assert firewall["config"]["default_action"] == "accept"
    assert len(firewall["config"]["rules"]) == 5  # merged over, not replaced
    settle(changed.headers["Location"], first)

    moved = client.post(update, json={"updateType": "CHANGE_SITES", "changeSitesData": {
        "add": ["second"], "remove": [first]}}, headers=acme.headers)  # fmt: skip
    assert moved.status_code == 202, moved.text
    assert desired(central, acme, first)["document"]["services"] == []
    (entry,) = desired(central, acme, second)["document"]["services"]
    assert entry["tenant"] == acme.tenant_id
    assert next(v for v in entry["vnfs"] if v["name"] == "firewall")["config"][
        "default_action"] == "accept"  # fmt: skip
    settle(moved.headers["Location"], first, second)
    assert client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()["sites"] == [second]

    before = desired(central, acme, second)["revision"]
    healed = client.post(f"{NS}/{ns['id']}/heal", json={"degreeHealing": "HEAL_RESTORE"},
                         headers=acme.headers)  # fmt: skip
    assert healed.status_code == 202, healed.text
    assert desired(central, acme, second)["revision"] == before + 1
    settle(healed.headers["Location"], second)

    wrong = [
        ({"updateType": "CHANGE_NS_DF"}, 422, "supports MODIFY_VNF_INFORMATION, INSTANTIATE_VNF"),
        ({"updateType": "ADD_VNF"}, 422, "joins a running NS by INSTANTIATE_VNF"),
        ({"updateType": "MODIFY_VNF_INFORMATION", "modifyVnfInfoData": [
            {"vnfInstanceId": "ids", "vnfConfigurableProperties": {}}]}, 422,
         "'ids': the NS's VNFs are firewall, nat"),
        ({"updateType": "CHANGE_SITES", "changeSitesData": {"remove": ["first"]}}, 400,
         "not a site of this NS instance"),
        ({"updateType": "CHANGE_SITES", "changeSitesData": {"add": [second]}}, 400,
         "already a site of it"),
    ]  # fmt: skip
    for body, status, needle in wrong:
        answer = client.post(update, json=body, headers=acme.headers)
        assert answer.status_code == status, (body, answer.text)
        assert needle in answer.text, answer.text


@pytest.mark.parametrize(
    ("vnf", "properties", "field", "reason"),
    [
        ("firewall", {"default_action": "alow"}, "default_action",
         "'alow' is not one of accept, drop, reject"),
        ("firewall", {"rules": [{"action": "acept"}]}, "rules[0].action",
         "'acept' is not one of accept, drop, reject"),
        ("firewall", {"rules": [{"protocol": "tpc"}]}, "rules[0].protocol",
         "'tpc' is not one of tcp, udp, icmp, any"),
        ("firewall", {"rules": [{"protocol": "tcp", "port": "eighty"}]}, "rules[0].port",
         "'eighty' is not a port number from 1 to 65535"),
        ("nat", {"mode": "snat"}, "source_address", "mode 'snat' needs source_address"),
        ("nat", {"shape": "round"}, "shape", "not a property of this object"),
    ],
)  # fmt: skip
def test_a_bad_config_value_is_422_naming_the_field_and_nothing_is_written(
    central: Central, vnf: str, properties: dict[str, Any], field: str, reason: str
) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "only")
    ns = create_ns(central, acme, nsd)
    settle_all(central, acme, instantiate_on(central, acme, ns["id"], site), site)
    before = desired(central, acme, site)
    body = {
        "updateType": "MODIFY_VNF_INFORMATION",
        "modifyVnfInfoData": [
            {"vnfInstanceId": "nat" if vnf == "firewall" else "firewall",
             "vnfConfigurableProperties": {}},
            {"vnfInstanceId": vnf, "vnfConfigurableProperties": properties},
        ],
    }  # fmt: skip
    answer = client.post(f"{NS}/{ns['id']}/update", json=body, headers=acme.headers)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    where = f"modifyVnfInfoData[1].vnfConfigurableProperties.{field}"
    assert any(
        p["where"] == where and p["message"].startswith(reason) for p in problem["problems"]
    ), problem
    assert desired(central, acme, site) == before  # nothing reached the site's document
    ops = client.get(OPS, params={"nsInstanceId": ns["id"]}, headers=acme.headers).json()
    assert [op["lcmOperationType"] for op in ops] == ["INSTANTIATE"]


def test_update_to_a_new_nsd_version_and_back_by_rollback(central: Central) -> None:
    from tests.central.api.test_rollouts import second_version

    client, acme = central.client, central.tenant("acme")
    first = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "solo")
    ns = create_ns(central, acme, first)
    settle_all(central, acme, instantiate_on(central, acme, ns["id"], site), site)
    second = onboard_nsd(central, central.admin, second_version("reject"))
    update = f"{NS}/{ns['id']}/update"
    wrong = [
        ({"updateType": "ASSOC_NEW_NSD_VERSION"}, 400, "assocNewNsdVersionData.newNsdId"),
        ({"updateType": "ASSOC_NEW_NSD_VERSION", "assocNewNsdVersionData": {"newNsdId": "x"}},
         400, "'x': no onboarded NSD has this NsdInfo id or nsdId"),
        ({"updateType": "ASSOC_NEW_NSD_VERSION", "assocNewNsdVersionData": {"newNsdId": first}},
         400, "the NS already runs"),
    ]  # fmt: skip
    for body, status, needle in wrong:
        answer = client.post(update, json=body, headers=acme.headers)
        assert answer.status_code == status, (body, answer.text)
        assert needle in answer.text, answer.text

    def to_version(ref: str) -> dict[str, Any]:
        return {"updateType": "ASSOC_NEW_NSD_VERSION", "assocNewNsdVersionData": {"newNsdId": ref}}

    moved = client.post(
        update, json=to_version("5b2d6f3e-7c8a-4d1e-9f00-edgewise0002"), headers=acme.headers
    )
    assert moved.status_code == 202, moved.text
    (entry,) = desired(central, acme, site)["document"]["services"]
    assert next(v for v in entry["vnfs"] if v["name"] == "firewall")["config"][
        "default_action"] == "reject"  # fmt: skip
    assert client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()["nsdInfoId"] == first
    report(central, site, desired(central, acme, site)["revision"],
           [{"id": ns["id"], "state": "failed", "vnfs": []}])  # fmt: skip
    location = moved.headers["Location"]
    follow(central, acme, location, "FAILED_TEMP")
    assert client.post(f"{location}/rollback", headers=acme.headers).status_code == 202
    (entry,) = desired(central, acme, site)["document"]["services"]
    assert next(v for v in entry["vnfs"] if v["name"] == "firewall")["config"][
        "default_action"] == "drop"  # fmt: skip
    report(central, site, desired(central, acme, site)["revision"],
           [{"id": ns["id"], "state": "ready", "vnfs": []}])  # fmt: skip
    follow(central, acme, location, "ROLLED_BACK")
    nsds = "/nsd/v1/ns_descriptors"
    assert client.get(f"{nsds}/{second}", headers=acme.headers).json()["nsdUsageState"] == (
        "NOT_IN_USE")  # fmt: skip

    again = client.post(update, json=to_version(second), headers=acme.headers)
    assert again.status_code == 202, again.text
    settle_all(central, acme, again.headers["Location"], site)
    instance = client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()
    assert (instance["nsdInfoId"], instance["nsdId"]) == (
        second, "5b2d6f3e-7c8a-4d1e-9f00-edgewise0002")  # fmt: skip
    assert client.get(f"{nsds}/{first}", headers=acme.headers).json()["nsdUsageState"] == (
        "NOT_IN_USE")  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {"updateType": "ADD_VNF"},
        {"updateType": "MODIFY_VNF_INFORMATION", "modifyVnfInfoData": []},
        {},
    ],
)
def test_an_update_of_an_ns_not_instantiated_is_409_whatever_the_update(
    central: Central, body: dict[str, Any]
) -> None:
    """SOL005 checks the NS instance's state (409) before the request's update type (422)."""
    acme = central.tenant("acme")
    ns = create_ns(central, acme, onboard_nsd(central, central.admin))
    answer = central.client.post(f"{NS}/{ns['id']}/update", json=body, headers=acme.headers)
    assert answer.status_code == 409, answer.text
    assert "NOT_INSTANTIATED" in answer.json()["detail"]
