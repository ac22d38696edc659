"""End to end over real processes: a third-party VNF's SOL004 package onboarded on a real
central, an NSD referencing its vnfd_id instantiated on a site controller (sim driver) over the
mTLS channel: the site applies the software VNF and the operation completes; a parameter change
by MODIFY_VNF_INFORMATION reaches the site as a new revision it applies too."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.central.api.test_software_vnfs import nsd_text
from tests.integration.harness import Central, enroll, start_controller, stop, wait_for
from tests.tosca.softpkg import package, vnfd


def onboard(central: Central, collection: str, content: str, data: bytes, media: str) -> str:
    created = central.api.post(collection, json={})
    assert created.status_code == 201, created.text
    item: str = created.json()["id"]
    uploaded = central.api.put(f"{collection}/{item}/{content}", content=data,
                               headers={"Content-Type": media})  # fmt: skip
    assert uploaded.status_code == 204, uploaded.text
    return item


def completed(central: Central, location: str) -> bool:
    op: dict[str, Any] = central.api.get(location).json()
    assert op["operationState"] not in ("FAILED_TEMP", "FAILED"), op
    return bool(op["operationState"] == "COMPLETED")


def test_a_package_s_vnf_runs_on_a_sim_site_and_takes_new_params(
    central: Central, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    vnfd_id = f"example-dns-{tag}"
    onboard(central, "vnfpkgm/v1/vnf_packages", "package_content",
            package(vnfd(vnfd_id=vnfd_id)), "application/zip")  # fmt: skip
    nsd = onboard(central, "nsd/v1/ns_descriptors", "nsd_content",
                  nsd_text(vnfd_id, f"dns-nsd-{tag}"), "text/plain")  # fmt: skip
    site_dir = tmp_path / "site"
    site_id = enroll(central, f"dns-{tag}", site_dir)
    controller = start_controller(site_dir)
    try:
        made = central.api.post("nslcm/v1/ns_instances", json={
            "nsdId": nsd, "nsName": f"dns-{tag}", "tenantId": central.tenant_id})  # fmt: skip
        assert made.status_code == 201, made.text
        ns = made.json()["id"]
        started = central.api.post(f"nslcm/v1/ns_instances/{ns}/instantiate", json={
            "nsFlavourId": "default", "additionalParamsForNs": {"sites": [site_id]},
            "additionalParamsForVnf": [{"vnfProfileId": "dns",
                                        "additionalParams": {"domain": "lan.example"}}],
        })  # fmt: skip
        assert started.status_code == 202, started.text
        wait_for(lambda: completed(central, started.headers["Location"]), 30,
                 "the instantiation to complete")  # fmt: skip
        assert central.status(site_id)["inSync"]

        changed = central.api.post(f"nslcm/v1/ns_instances/{ns}/update", json={
            "updateType": "MODIFY_VNF_INFORMATION",
            "modifyVnfInfoData": [{"vnfInstanceId": "dns",
                                   "vnfConfigurableProperties": {"port": 5353}}],
        })  # fmt: skip
        assert changed.status_code == 202, changed.text
        wait_for(lambda: completed(central, changed.headers["Location"]), 30,
                 "the update to complete")  # fmt: skip
        document = central.api.get(f"api/v1/sites/{site_id}/desired-state").json()
        status = central.status(site_id)
        assert status["inSync"], status
        assert status["appliedRevision"] == document["revision"]
        (entry,) = document["document"]["services"]
        (dns,) = [v for v in entry["vnfs"] if v["name"] == "dns"]
        assert dns["config"]["params"] == {"domain": "lan.example", "port": "5353"}
        assert entry["chain"] == ["dns", "firewall"]
    finally:
        stop(controller)
