"""Third-party VNFs through the API: a SOL004 package onboarded (vnfpkgm/v1), an NSD that
references its vnfd_id instantiated on a site with additionalParamsForVnf, the site's desired
state carrying the software VNF with its params in the NSD's chain order; its params changed by
MODIFY_VNF_INFORMATION; and every refusal a 4xx naming what is wrong, with nothing written."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import NSDS, PKGS, onboard_nsd
from tests.central.api.test_nslcm import NS, add_sites, create_ns, desired, follow, report
from tests.central.api.test_rollouts import ROLLOUTS, fleet, run_until
from tests.samples.csar import packages as sample_packages
from tests.samples.test_onboarding import zipped
from tests.tosca.softpkg import package, vnfd

NSD = """\
tosca_definitions_version: tosca_simple_yaml_1_3
topology_template:
  node_templates:
    ns:
      type: tosca.nodes.nfv.NS
      properties: {descriptor_id: {nsd_id}, designer: tests, version: "1", name: dns then fw,
                   invariant_id: dns-then-fw, flavour_id: default}
    lan_link: &link
      type: tosca.nodes.nfv.NsVirtualLink
      properties:
        connectivity_type: {layer_protocols: [ipv4]}
        vl_profile:
          max_bitrate_requirements: {root: 1000000000}
          min_bitrate_requirements: {root: 1000000}
    inner_link: *link
    firewall:
      type: edgewise.nodes.Firewall
      properties:
        default_action: {action}
      requirements:
        - inside: inner_link
    dns:
      type: tosca.nodes.nfv.VNF
      properties:
        descriptor_id: {vnfd_id}
        descriptor_version: "1.2"
        provider: Example
        product_name: DNS forwarder
        software_version: "2.89"
        vnfm_info: [edgewise]
        flavour_id: default
        flavour_description: one dnsmasq
      requirements:
        - virtual_link: lan_link
    path:
      type: tosca.nodes.nfv.NFP
      requirements:
        - nfp_position: at_dns
        - nfp_position: at_firewall
    at_dns:
      type: tosca.nodes.nfv.NfpPosition
      requirements: [{element: dns_element}]
    dns_element:
      type: tosca.nodes.nfv.NfpPositionElement
      requirements: [{profile_element: dns}]
    at_firewall:
      type: tosca.nodes.nfv.NfpPosition
      requirements: [{element: firewall_element}]
    firewall_element:
      type: tosca.nodes.nfv.NfpPositionElement
      requirements: [{profile_element: firewall}]
"""
PARAMS = [{"vnfProfileId": "dns", "additionalParams": {"domain": "lan.example", "port": 5353}}]


def nsd_text(
    vnfd_id: str = "example-dns", nsd_id: str = "dns-nsd", action: str = "accept"
) -> bytes:
    text = NSD.replace("{vnfd_id}", vnfd_id).replace("{nsd_id}", nsd_id)
    return text.replace("{action}", action).encode()


def onboard_package(central: Central, data: bytes, status: int = 204) -> tuple[str, Any]:
    admin = central.admin.headers
    created = central.client.post(PKGS, json={}, headers=admin)
    assert created.status_code == 201, created.text
    package_id: str = created.json()["id"]
    uploaded = central.client.put(
        f"{PKGS}/{package_id}/package_content",
        content=data,
        headers=admin | {"Content-Type": "application/zip"},
    )
    assert uploaded.status_code == status, uploaded.text
    return package_id, uploaded.json() if uploaded.content else None


def package_info(central: Central, package_id: str) -> dict[str, Any]:
    info: dict[str, Any] = central.client.get(
        f"{PKGS}/{package_id}", headers=central.admin.headers
    ).json()
    return info


def instantiate(
    central: Central, caller: Caller, ns_id: str, site: str, vnf_params: list[Any]
) -> Any:
    return central.client.post(
        f"{NS}/{ns_id}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"sites": [site]},
              "additionalParamsForVnf": vnf_params},
        headers=caller.headers,
    )  # fmt: skip


def software_vnf(central: Central, caller: Caller, site: str) -> dict[str, Any]:
    (entry,) = desired(central, caller, site)["document"]["services"]
    vnf: dict[str, Any] = next(v for v in entry["vnfs"] if v["name"] == "dns")
    return vnf


def settle(central: Central, caller: Caller, location: str, site: str) -> None:
    document = desired(central, caller, site)
    entries = [{"id": e["id"], "state": "ready", "vnfs": []}
               for e in document["document"]["services"]]  # fmt: skip
    report(central, site, document["revision"], entries)
    follow(central, caller, location, "COMPLETED")


def test_a_package_s_vnf_is_instantiated_with_its_params_and_modified(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin, nsd_text())
    package_id, _ = onboard_package(central, package())
    assert package_info(central, package_id)["usageState"] == "NOT_IN_USE"
    (site,) = add_sites(central, acme, "branch")
    ns = create_ns(central, acme, nsd, "dns")
    started = instantiate(central, acme, ns["id"], site, PARAMS)
    assert started.status_code == 202, started.text
    assert package_info(central, package_id)["usageState"] == "IN_USE"
    (entry,) = desired(central, acme, site)["document"]["services"]
    assert entry["chain"] == ["dns", "firewall"]  # the forwarding path's order
    vnf = software_vnf(central, acme, site)
    assert vnf["function"] == "software"
    config = vnf["config"]
    assert config["params"] == {"domain": "lan.example", "port": "5353"}
    assert (config["vnfd_id"], config["reload"]) == ("example-dns", "script")
    assert config["programs"][0]["command"][0] == "dnsmasq"
    assert [f["path"] for f in config["files"]] == ["etc/dnsmasq.conf", "Scripts/reload.sh"]
    settle(central, acme, started.headers["Location"], site)

    update = f"{NS}/{ns['id']}/update"
    before = desired(central, acme, site)["revision"]
    changed = client.post(update, json={
        "updateType": "MODIFY_VNF_INFORMATION",
        "modifyVnfInfoData": [{"vnfInstanceId": "dns", "vnfConfigurableProperties": {"port": None,
                               "domain": "corp.example"}}],
    }, headers=acme.headers)  # fmt: skip
    assert changed.status_code == 202, changed.text
    assert desired(central, acme, site)["revision"] == before + 1
    assert software_vnf(central, acme, site)["config"]["params"] == {
        "domain": "corp.example", "port": "53",
    }  # fmt: skip
    settle(central, acme, changed.headers["Location"], site)

    healed = client.post(f"{NS}/{ns['id']}/heal", json={}, headers=acme.headers)
    assert healed.status_code == 202, healed.text
    assert software_vnf(central, acme, site)["config"]["heal"] == 1
    assert software_vnf(central, acme, site)["config"]["params"]["domain"] == "corp.example"
    (entry,) = desired(central, acme, site)["document"]["services"]
    assert "heal" not in next(v for v in entry["vnfs"] if v["name"] == "firewall")["config"]
    settle(central, acme, healed.headers["Location"], site)
    before += 1

    for properties, field, reason in [
        ({"port": "fifty"}, "port", "'fifty' is not an integer"),
        ({"port": 70000}, "port", "70000 does not satisfy in_range [1, 65535]"),
        ({"upstream": "9.9.9.9"}, "upstream", "not a parameter of this VNF"),
    ]:
        wrong = client.post(update, json={
            "updateType": "MODIFY_VNF_INFORMATION",
            "modifyVnfInfoData": [{"vnfInstanceId": "dns",
                                   "vnfConfigurableProperties": properties}],
        }, headers=acme.headers)  # fmt: skip
        assert wrong.status_code == 422, wrong.text
        assert {
            "where": f"modifyVnfInfoData[0].vnfConfigurableProperties.{field}",
            "message": wrong.json()["problems"][0]["message"],
        } in wrong.json()["problems"]
        assert wrong.json()["problems"][0]["message"].startswith(reason), wrong.text
    assert desired(central, acme, site)["revision"] == before + 1  # nothing written


@pytest.mark.parametrize(
    ("vnf_params", "status", "where", "reason"),
    [
        ([], 422, "additionalParamsForVnf[dns].additionalParams.domain",
         "missing: the VNFD requires it (string: the LAN's DNS domain)"),
        ([{"vnfProfileId": "dns", "additionalParams": {"domain": "x", "port": "53"}}], 422,
         "additionalParamsForVnf[0].additionalParams.port", "'53' is not an integer"),
        ([{"vnfProfileId": "dsn", "additionalParams": {"domain": "x"}}], 422,
         "additionalParamsForVnf[0].vnfProfileId", "'dsn' is no VNF profile of the NSD"),
        ([{"vnfProfileId": "firewall", "additionalParams": {}}, *PARAMS], 422,
         "additionalParamsForVnf[0].vnfProfileId", "'firewall' is an Edgewise native VNF"),
        ([{"vnfProfileId": "dns", "additionalParams": ["domain"]}], 400,
         "additionalParamsForVnf[0].additionalParams", "expected an object"),
        ([{"additionalParams": {}}], 400, "additionalParamsForVnf[0].vnfProfileId", "missing"),
    ],
)  # fmt: skip
def test_bad_vnf_params_are_refused_naming_the_field(
    central: Central, vnf_params: list[Any], status: int, where: str, reason: str
) -> None:
    acme = central.tenant("acme")
    nsd = onboard_nsd(central, central.admin, nsd_text())
    onboard_package(central, package())
    (site,) = add_sites(central, acme, "branch")
    ns = create_ns(central, acme, nsd, "dns")
    refused = instantiate(central, acme, ns["id"], site, vnf_params)
    assert refused.status_code == status, refused.text
    problems = refused.json()["problems"]
    assert any(p["where"] == where and p["message"].startswith(reason) for p in problems), problems
    assert desired(central, acme, site)["revision"] == 0
    state = central.client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()["nsState"]
    assert state == "NOT_INSTANTIATED"


@pytest.mark.parametrize(
    ("vnfd_id", "container", "disk", "disable", "needles"),
    [
        ("no-such-vnfd", "bare", "raw", False,
         ["VNF dns: VNFD 'no-such-vnfd' is in no onboarded VNF package"]),
        ("example-dns", "bare", "raw", True, ["(VNFD 'example-dns') is DISABLED: enable it"]),
        ("example-dns", "docker", "raw", False,
         ["VDU dnsmasq: image 'dnsmasq-base' (container_format docker, disk_format raw)",
          "no container runtime is configured on Edgewise sites"]),
        ("example-dns", "bare", "qcow2", False,
         ["VDU dnsmasq: image 'dnsmasq-base' (container_format bare, disk_format qcow2)",
          "a virtual machine disk image: Edgewise sites run no hypervisor"]),
    ],
)  # fmt: skip
def test_a_vnf_a_site_cannot_run_is_refused_at_instantiation(
    central: Central, vnfd_id: str, container: str, disk: str, disable: bool, needles: list[str]
) -> None:
    acme = central.tenant("acme")
    nsd = onboard_nsd(central, central.admin, nsd_text(vnfd_id))
    package_id, _ = onboard_package(central, package(vnfd(container=container, disk=disk)))
    if disable:
        patched = central.client.patch(f"{PKGS}/{package_id}", json={
            "operationalState": "DISABLED"}, headers=central.admin.headers)  # fmt: skip
        assert patched.status_code == 200, patched.text
    (site,) = add_sites(central, acme, "branch")
    ns = create_ns(central, acme, nsd, "dns")
    refused = instantiate(central, acme, ns["id"], site, PARAMS)
    assert refused.status_code == 422, refused.text
    problems = refused.json()["problems"]
    assert any(all(n in p["message"] for n in needles) for p in problems), problems
    assert all(p["where"] == "nsdId" for p in problems), problems
    assert desired(central, acme, site)["revision"] == 0


def test_a_broken_package_is_refused_at_onboarding_with_positions(central: Central) -> None:
    _, body = onboard_package(central, package(vnfd(config_sha="0" * 64)), status=400)
    text = vnfd()
    line = text[: text.index("checksum: ")].count("\n") + 1
    assert any(
        p["where"].startswith(f"Definitions/vnfd.yaml:{line}:")
        and "not the checksum the artifact declares" in p["message"]
        for p in body["problems"]
    ), body
    assert central.client.get(NSDS, headers=central.admin.headers).status_code == 200


def test_a_new_nsd_version_keeps_the_params_its_vnfd_still_declares(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    first = onboard_nsd(central, central.admin, nsd_text())
    onboard_nsd(central, central.admin, nsd_text(nsd_id="dns-nsd-2", action="reject"))
    onboard_package(central, package())
    (site,) = add_sites(central, acme, "branch")
    ns = create_ns(central, acme, first, "dns")
    started = instantiate(central, acme, ns["id"], site, PARAMS)
    assert started.status_code == 202, started.text
    settle(central, acme, started.headers["Location"], site)
    moved = client.post(f"{NS}/{ns['id']}/update", json={
        "updateType": "ASSOC_NEW_NSD_VERSION", "assocNewNsdVersionData": {"newNsdId": "dns-nsd-2"},
    }, headers=acme.headers)  # fmt: skip
    assert moved.status_code == 202, moved.text
    (entry,) = desired(central, acme, site)["document"]["services"]
    firewall = next(v for v in entry["vnfs"] if v["name"] == "firewall")
    assert firewall["config"]["default_action"] == "reject"
    params = software_vnf(central, acme, site)["config"]["params"]
    assert params == {"domain": "lan.example", "port": "5353"}


def test_a_rollout_checks_its_vnfs_at_creation_and_pauses_when_a_package_is_disabled(
    central: Central,
) -> None:
    client, acme = central.client, central.tenant("acme")
    sites = fleet(central, acme, eu=2)
    unknown = onboard_nsd(central, central.admin, nsd_text("no-such-vnfd", "lost-nsd"))
    refused = client.post(ROLLOUTS, json={"name": "lost", "nsdId": unknown, "labels": "region=eu",
                                          "batchSize": 1}, headers=acme.headers)  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert "VNFD 'no-such-vnfd' is in no onboarded VNF package" in refused.text
    nsd = onboard_nsd(central, central.admin, nsd_text())
    package_id, _ = onboard_package(
        central, package(vnfd().replace("      required: true\n", "      default: lan\n"))
    )
    made = client.post(ROLLOUTS, json={"name": "dns", "nsdId": nsd, "labels": "region=eu",
                                       "batchSize": 1}, headers=acme.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    rollout = made.json()["id"]
    deadline = time.monotonic() + 20
    while not any(desired(central, acme, s)["revision"] for s in sites.values()):
        assert time.monotonic() < deadline, "the first wave did not start"
        time.sleep(0.1)
    patched = client.patch(f"{PKGS}/{package_id}", json={"operationalState": "DISABLED"},
                           headers=central.admin.headers)  # fmt: skip
    assert patched.status_code == 200, patched.text
    paused = run_until(central, acme, rollout, sites, {"PAUSED"})
    assert "is DISABLED: enable it" in paused["reason"], paused["reason"]
    started = [s for s in sites.values() if desired(central, acme, s)["revision"]]
    assert len(started) == 1
    (entry,) = desired(central, acme, started[0])["document"]["services"]
    assert software_vnf(central, acme, started[0])["config"]["params"] == {
        "domain": "lan", "port": "53",
    }  # fmt: skip
    assert entry["chain"] == ["dns", "firewall"]


def test_the_dnsmasq_sample_onboards_and_instantiates(central: Central) -> None:
    """samples/dnsmasq (the issue's DNS filter + DHCP package) as an operator would use it."""
    acme = central.tenant("acme")
    sample = next(p for p in sample_packages() if p.name == "dnsmasq")
    package_id, _ = onboard_package(central, zipped(sample))
    assert package_info(central, package_id)["vnfdId"] == "edgewise-sample-dnsmasq"
    nsd = onboard_nsd(central, central.admin, nsd_text("edgewise-sample-dnsmasq"))
    (site,) = add_sites(central, acme, "branch")
    ns = create_ns(central, acme, nsd, "dns")
    pool = {"dhcp_first": "172.16.3.100", "dhcp_last": "172.16.3.150"}
    started = instantiate(central, acme, ns["id"], site,
                          [{"vnfProfileId": "dns", "additionalParams": pool}])  # fmt: skip
    assert started.status_code == 202, started.text
    config = software_vnf(central, acme, site)["config"]
    assert config["vnfd_id"] == "edgewise-sample-dnsmasq"
    assert {k: config["params"][k] for k in pool} == pool
    assert config["params"]["upstream_dns"] == "9.9.9.9"  # the input's default
    assert config["programs"][0]["name"] == "dnsmasq"
