"""SOL005 SCALE_VNF through the API on SQLite: the elastic firewall's VNFD aspect `instances`
drives the instance count written into each site's document, an operation occurrence like any
other (COMPLETED when the sites report the revision applied); every refusal names its field."""

from __future__ import annotations

from typing import Any

from edgewise.lab import samples
from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import onboard_nsd, zip_dir
from tests.central.api.test_nslcm import (
    FLAVOUR,
    NS,
    assert_schema_without_params,
    create_ns,
    desired,
    settle_all,
)
from tests.central.api.test_software_vnfs import onboard_package

ELASTIC_NSD = samples.path("elastic-nsd.yaml").read_bytes()


def elastic_ns(central: Central) -> tuple[Caller, str, list[str]]:
    """The elastic vCPE instantiated on two sites of tenant acme."""
    onboard_package(central, zip_dir(samples.path("edgewise-firewall-vnf")))
    onboard_package(central, zip_dir(samples.path("edgewise-router-vnf")))
    nsd = onboard_nsd(central, central.admin, ELASTIC_NSD)
    acme = central.tenant("acme")
    sites = []
    for name, slots in (("e1", 20), ("e2", 5)):  # cloud sites: 5 slots hold gw, 3 fw, nat
        body = {"name": name, "kind": "cloud", "slots_per_node": slots}
        made = central.client.post("/api/v1/sites", json=body, headers=acme.headers)
        assert made.status_code == 201, made.text
        sites.append(made.json()["id"])
    central.bring_online(sites)
    ns = create_ns(central, acme, nsd, "elastic")
    href = f"{NS}/{ns['id']}"
    started = central.client.post(f"{href}/instantiate", json={
        "nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": ["e1", "e2"]}},
        headers=acme.headers)  # fmt: skip
    assert started.status_code == 202, started.text
    settle_all(central, acme, started.headers["Location"], *sites)
    return acme, href, sites


def step(vnf: str, kind: str, aspect: str = "instances", steps: int = 1) -> dict[str, Any]:
    return {"scaleType": "SCALE_VNF", "scaleVnfData": [{
        "vnfInstanceId": vnf, "scaleVnfType": kind,
        "scaleByStepData": {"aspectId": aspect, "numberOfSteps": steps}}]}  # fmt: skip


def firewall_of(central: Central, caller: Caller, site: str) -> dict[str, Any]:
    (entry,) = desired(central, caller, site)["document"]["services"]
    found: dict[str, Any] = next(v for v in entry["vnfs"] if v["name"] == "firewall")
    return found


def test_scale_vnf_out_and_in_along_the_vnfd_aspect(central: Central) -> None:
    acme, href, sites = elastic_ns(central)
    client = central.client
    assert "instances" not in firewall_of(central, acme, sites[0])  # 1: left out

    out = client.post(f"{href}/scale", json=step("firewall", "SCALE_OUT", steps=2)
                      | {"isAutomaticInvocation": True}, headers=acme.headers)  # fmt: skip
    assert out.status_code == 202, out.text
    op = client.get(out.headers["Location"], headers=acme.headers).json()
    assert (op["lcmOperationType"], op["operationState"], op["sitesTotal"]) == (
        "SCALE", "PROCESSING", 2)  # fmt: skip
    assert op["isAutomaticInvocation"] is True
    assert_schema_without_params(op)
    for site in sites:  # initial delta 1 + 2 steps of 1
        assert firewall_of(central, acme, site)["instances"] == 3
    settle_all(central, acme, out.headers["Location"], *sites)

    back = client.post(f"{href}/scale", json=step("firewall", "SCALE_IN"), headers=acme.headers)
    assert back.status_code == 202, back.text
    assert client.get(back.headers["Location"], headers=acme.headers).json()[
        "isAutomaticInvocation"] is False  # fmt: skip
    assert firewall_of(central, acme, sites[1])["instances"] == 2
    settle_all(central, acme, back.headers["Location"], *sites)

    home = client.post(f"{href}/scale", json=step("firewall", "SCALE_IN"), headers=acme.headers)
    settle_all(central, acme, home.headers["Location"], *sites)
    assert "instances" not in firewall_of(central, acme, sites[0])  # back to 1: left out


def test_scale_vnf_refusals_name_the_field_and_change_nothing(central: Central) -> None:
    acme, href, sites = elastic_ns(central)
    before = desired(central, acme, sites[0])["revision"]
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        (step("firewall", "SCALE_OUT", steps=4), 422,
         "scaleVnfData[0].scaleByStepData.numberOfSteps",
         "aspect 'instances' would go to level 4, outside 0..3 (it is at 0)"),
        (step("firewall", "SCALE_IN"), 422, "scaleVnfData[0].scaleByStepData.numberOfSteps",
         "would go to level -1"),
        (step("firewall", "SCALE_OUT", aspect="cpu"), 422,
         "scaleVnfData[0].scaleByStepData.aspectId",
         "aspect 'cpu' is not one of VNFD 'edgewise-elastic-firewall''s (it has instances)"),
        (step("fw", "SCALE_OUT"), 422, "scaleVnfData[0].vnfInstanceId",
         "'fw': the NS's VNFs are firewall, gw, nat"),
        (step("nat", "SCALE_OUT"), 422, "scaleVnfData[0].vnfInstanceId",
         "'edgewise-nat' is in no onboarded VNF package"),
        (step("gw", "SCALE_OUT", aspect="router_aspect"), 422, "scaleVnfData[0].vnfInstanceId",
         "'gw' is first or last in the chain"),
        (step("firewall", "SCALE_TO_INSTANTIATION_LEVEL"), 422, "scaleVnfData[0].scaleVnfType",
         "Edgewise scales a VNF by steps"),
        (step("firewall", "SCALE_UP"), 400, "scaleVnfData[0].scaleVnfType",
         "SCALE_OUT or SCALE_IN"),
        (step("firewall", "SCALE_OUT", steps=0), 400,
         "scaleVnfData[0].scaleByStepData.numberOfSteps", "an integer from 1 to 64"),
        ({"scaleType": "SCALE_VNF", "scaleVnfData": []}, 400, "scaleVnfData",
         "SCALE_VNF needs a non-empty array"),
        (step("firewall", "SCALE_OUT", steps=3), 422, "scaleVnfData",
         "site e2: 5 of 5 VNF slots free; the scaled NS needs 6 (a slot per instance)"),
    ]  # fmt: skip
    for body, status, field, text in cases:
        answer = central.client.post(f"{href}/scale", json=body, headers=acme.headers)
        assert answer.status_code == status, (body, answer.text)
        problem = answer.json()
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert any(field == p["where"] and text in p["message"]
                   for p in problem["problems"]), (body, problem)  # fmt: skip
    assert desired(central, acme, sites[0])["revision"] == before
    other = central.tenant("globex")
    hidden = central.client.post(f"{href}/scale", json=step("firewall", "SCALE_OUT"),
                                 headers=other.headers)  # fmt: skip
    assert hidden.status_code == 404
