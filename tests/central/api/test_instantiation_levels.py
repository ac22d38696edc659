"""An NS starts each elastic VNF at its VNFD's default instantiation level (SOL001
`InstantiationLevels` default_level), not always as one instance; sites without a slot per
instance are refused, naming the field, and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

from edgewise.lab import samples
from tests.central.api.conftest import Central
from tests.central.api.test_catalog import onboard_nsd, zip_dir
from tests.central.api.test_nslcm import FLAVOUR, NS, create_ns, settle_all
from tests.central.api.test_scale_vnf import ELASTIC_NSD, firewall_of, step
from tests.central.api.test_software_vnfs import onboard_package


def busy_firewall(tmp_path: Path) -> bytes:
    """The elastic firewall's package with default_level `busy` (aspect level 3: 4 instances)."""
    copy = tmp_path / "busy-firewall"
    shutil.copytree(samples.path("edgewise-firewall-vnf"), copy)
    vnfd = copy / "Definitions" / "firewall-vnfd.yaml"
    text = vnfd.read_text()
    assert "default_level: single" in text
    vnfd.write_text(text.replace("default_level: single", "default_level: busy"))
    return zip_dir(copy)


def test_an_ns_starts_at_the_default_instantiation_level(central: Central, tmp_path: Path) -> None:
    onboard_package(central, busy_firewall(tmp_path))
    onboard_package(central, zip_dir(samples.path("edgewise-router-vnf")))
    nsd = onboard_nsd(central, central.admin, ELASTIC_NSD)
    acme, client = central.tenant("acme"), central.client
    sites = {}
    for name, slots in (("big", 20), ("small", 5)):  # gw, 4 firewalls and nat need 6 slots
        body = {"name": name, "kind": "cloud", "slots_per_node": slots}
        made = client.post("/api/v1/sites", json=body, headers=acme.headers)
        assert made.status_code == 201, made.text
        sites[name] = made.json()["id"]
    central.bring_online(list(sites.values()))

    refused_ns = create_ns(central, acme, nsd, "cramped")
    refused = client.post(f"{NS}/{refused_ns['id']}/instantiate", json={
        "nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": ["small"]}},
        headers=acme.headers)  # fmt: skip
    assert refused.status_code == 400, refused.text
    assert refused.json()["problems"] == [{"where": "additionalParamsForNs.sites",
                                           "message": "small: 5 of 5 VNF slots free; the NS "
                                           "needs 6"}]  # fmt: skip
    assert client.get(f"{NS}/{refused_ns['id']}", headers=acme.headers).json()[
        "nsState"] == "NOT_INSTANTIATED"  # fmt: skip

    ns = create_ns(central, acme, nsd, "elastic")
    started = client.post(f"{NS}/{ns['id']}/instantiate", json={
        "nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": ["big"]}},
        headers=acme.headers)  # fmt: skip
    assert started.status_code == 202, started.text
    assert firewall_of(central, acme, sites["big"])["instances"] == 4
    settle_all(central, acme, started.headers["Location"], sites["big"])
    # level 3 is the aspect's max: SCALE_VNF reads it back from the count
    more = client.post(f"{NS}/{ns['id']}/scale", json=step("firewall", "SCALE_OUT"),
                       headers=acme.headers)  # fmt: skip
    assert more.status_code == 422, more.text
    assert "would go to level 4, outside 0..3 (it is at 3)" in more.text
