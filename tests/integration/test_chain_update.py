"""End to end over real processes: a VNF package's VNF put into a running NS's chain by an NS
update (INSTANTIATE_VNF) and taken out again (REMOVE_VNF) on a real central, with a site
controller (sim driver) applying each new revision over the mTLS channel; the package is
IN_USE while the NS runs its VNF and NOT_IN_USE once the site applied the removal."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.central.api.test_software_vnfs import nsd_text
from tests.integration.harness import Central, enroll, start_controller, stop, wait_for
from tests.integration.test_software_vnf import completed, onboard
from tests.tosca.softpkg import package, vnfd

PKGS = "vnfpkgm/v1/vnf_packages"


def applied(central: Central, site_id: str, location: str, what: str) -> dict[str, Any]:
    """Waits for the operation to complete; the site's document, which it runs."""
    wait_for(lambda: completed(central, location), 30, what)
    document: dict[str, Any] = central.api.get(f"api/v1/sites/{site_id}/desired-state").json()
    status = central.status(site_id)
    assert status["inSync"], status
    assert status["appliedRevision"] == document["revision"]
    return document


def test_a_package_s_vnf_joins_a_running_chain_on_a_sim_site_and_leaves_it(
    central: Central, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    vnfd_id, cache_id = f"example-dns-{tag}", f"example-cache-{tag}"
    onboard(central, PKGS, "package_content", package(vnfd(vnfd_id=vnfd_id)), "application/zip")
    cache = onboard(central, PKGS, "package_content", package(vnfd(vnfd_id=cache_id)),
                    "application/zip")  # fmt: skip
    nsd = onboard(central, "nsd/v1/ns_descriptors", "nsd_content",
                  nsd_text(vnfd_id, f"dns-nsd-{tag}"), "text/plain")  # fmt: skip
    site_dir = tmp_path / "site"
    site_id = enroll(central, f"chain-{tag}", site_dir)
    roomy = central.api.patch(f"api/v1/sites/{site_id}", json={"slotsPerNode": 4})
    assert roomy.status_code == 200, roomy.text
    controller = start_controller(site_dir)
    try:
        made = central.api.post("nslcm/v1/ns_instances", json={
            "nsdId": nsd, "nsName": f"chain-{tag}", "tenantId": central.tenant_id})  # fmt: skip
        assert made.status_code == 201, made.text
        ns = made.json()["id"]
        started = central.api.post(f"nslcm/v1/ns_instances/{ns}/instantiate", json={
            "nsFlavourId": "default", "additionalParamsForNs": {"sites": [site_id]},
            "additionalParamsForVnf": [{"vnfProfileId": "dns",
                                        "additionalParams": {"domain": "lan.example"}}],
        })  # fmt: skip
        assert started.status_code == 202, started.text
        applied(central, site_id, started.headers["Location"], "the instantiation to complete")

        added = central.api.post(f"nslcm/v1/ns_instances/{ns}/update", json={
            "updateType": "INSTANTIATE_VNF",
            "instantiateVnfData": [{"vnfdId": cache_id, "vnfFlavourId": "default",
                                    "vnfInstanceName": "cache", "chainPosition": {"after": "dns"},
                                    "additionalParams": {"domain": "cache.example"}}],
        })  # fmt: skip
        assert added.status_code == 202, added.text
        document = applied(central, site_id, added.headers["Location"], "the VNF to be added")
        (entry,) = document["document"]["services"]
        assert entry["chain"] == ["dns", "cache", "firewall"]
        assert central.api.get(f"{PKGS}/{cache}").json()["usageState"] == "IN_USE"
        shown = central.api.get(f"nslcm/v1/ns_instances/{ns}").json()["vnfInstance"]
        assert [(v["id"], v["vnfPkgId"]) for v in shown][1] == ("cache", cache)

        removed = central.api.post(f"nslcm/v1/ns_instances/{ns}/update", json={
            "updateType": "REMOVE_VNF", "removeVnfInstanceId": ["cache"]})  # fmt: skip
        assert removed.status_code == 202, removed.text
        document = applied(central, site_id, removed.headers["Location"], "the VNF to go")
        (entry,) = document["document"]["services"]
        assert entry["chain"] == ["dns", "firewall"]
        assert central.api.get(f"{PKGS}/{cache}").json()["usageState"] == "NOT_IN_USE"
    finally:
        stop(controller)
