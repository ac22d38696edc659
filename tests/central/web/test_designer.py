"""The service designer, in process: the page and its typed palette, the live check by the
catalog's loader (problems with line and column, mapped to the form's field), publishing
through the catalog's onboarding (a new NSD, then a new version with the same invariant id),
and what is refused (no CSRF token, a version already published, an NSD the caller cannot
see)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from edgewise.lab.samples import __file__ as samples_init
from tests.central.web.conftest import ADMIN_PASSWORD, Portal
from tests.tosca.softpkg import package, vnfd

NSDS = "/nsd/v1/ns_descriptors"


def headers(csrf: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf, "X-Requested-With": "edgewise"}


def page_data(text: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="designer-data">(.*?)</script>', text)
    assert found, "the page carries no designer data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def chain(port: object = 8080, *, version: str = "1.0", based_on: str | None = None,
          invariant: str = "designed-vcpe") -> dict[str, Any]:  # fmt: skip
    return {
        "name": "Designed vCPE",
        "version": version,
        "designer": "admin",
        "invariantId": invariant,
        "descriptorId": f"designed-vcpe-{version}",
        "basedOn": based_on,
        "lan": {"enabled": True, "description": "LAN"},
        "wan": {"enabled": True, "description": "WAN"},
        "functions": [
            {
                "name": "firewall", "source": "native", "type": "edgewise.nodes.Firewall",
                "properties": {
                    "default_action": "drop",
                    "rules": [{"action": "accept", "protocol": "tcp", "port": port}],
                },
            },
            {"name": "nat", "source": "native", "type": "edgewise.nodes.Nat",
             "properties": {"mode": "masquerade"}},
        ],
    }  # fmt: skip


def nsd_count(client: TestClient, portal: Portal) -> int:
    return len(client.get(NSDS, headers=portal.admin.headers).json())


def test_the_page_offers_native_functions_with_typed_fields(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    answer = portal.client.get("/ui/designer")
    assert answer.status_code == 200
    assert '<a href="/ui/designer" aria-current="page">Designer</a>' in answer.text
    assert 'src="/ui/static/designer.js' in answer.text
    data = page_data(answer.text)
    natives = {n["type"]: n for n in data["palette"]["natives"]}
    assert set(natives) >= {
        "edgewise.nodes.Firewall", "edgewise.nodes.Nat", "edgewise.nodes.Router",
        "edgewise.nodes.RateLimiter", "edgewise.nodes.Classifier",
    }  # fmt: skip
    firewall = {f["key"]: f for f in natives["edgewise.nodes.Firewall"]["fields"]}
    assert "descriptor_id" not in firewall  # the VNF's identity is the type's, not a field
    assert firewall["default_action"]["widget"] == "enum"
    assert firewall["default_action"]["choices"] == ["accept", "drop", "reject"]
    rules = {f["key"]: f for f in firewall["rules"]["fields"]}
    assert firewall["rules"]["widget"] == "records"
    assert (rules["port"]["widget"], rules["port"]["min"], rules["port"]["max"]) == (
        "integer", 1, 65535,
    )  # fmt: skip
    assert data["design"]["functions"] == []
    assert data["design"]["designer"] == "admin"


def test_the_check_answers_the_nsd_and_the_loader_s_problems_by_line_and_field(
    portal: Portal,
) -> None:
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    good = portal.client.post("/ui/designer/check", json=chain(), headers=headers(csrf))
    assert good.status_code == 200, good.text
    body = good.json()
    assert body["valid"] is True, body["problems"]
    assert "type: edgewise.nodes.Firewall" in body["yaml"]
    assert "- nfp_position: at_firewall\n      - nfp_position: at_nat" in body["yaml"]
    wrong = portal.client.post("/ui/designer/check", json=chain(70000), headers=headers(csrf))
    checked = wrong.json()
    assert checked["valid"] is False
    (problem,) = checked["problems"]
    assert problem["path"] == "topology_template.node_templates.firewall.properties.rules[0].port"
    assert problem["field"] == "functions[0].properties.rules[0].port"
    assert "70000" in problem["message"]
    line = checked["yaml"].splitlines()[problem["line"] - 1]
    assert line[problem["column"] - 1 :] == "70000"  # the line and column of the value


def test_a_design_that_cannot_be_an_nsd_names_the_field(portal: Portal) -> None:
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    design = chain()
    design["functions"][1]["name"] = "firewall"
    design["version"] = ""
    answer = portal.client.post("/ui/designer/check", json=design, headers=headers(csrf))
    body = answer.json()
    assert body["yaml"] == ""
    assert {(p["field"], p["message"]) for p in body["problems"]} == {
        ("version", "must not be empty"),
        ("functions[1].name", "'firewall' is used twice"),
    }
    design["functions"] = "firewall"
    malformed = portal.client.post("/ui/designer/check", json=design, headers=headers(csrf))
    assert malformed.status_code == 400
    assert malformed.json()["problems"][0]["where"] == "functions"


def test_checking_and_publishing_need_the_session_s_csrf_token(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    for route in ("check", "publish"):
        answer = portal.client.post(
            f"/ui/designer/{route}", json=chain(), headers={"X-Requested-With": "edgewise"}
        )
        assert answer.status_code == 403, answer.text
        assert "security token" in answer.json()["detail"]


def test_publishing_onboards_an_nsd_and_then_a_new_version_of_it(portal: Portal) -> None:
    client = portal.client
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    wrong = client.post("/ui/designer/publish", json=chain(70000), headers=headers(csrf))
    assert wrong.status_code == 400
    assert "70000" in wrong.json()["detail"] + json.dumps(wrong.json()["problems"])
    assert nsd_count(client, portal) == 0  # a refused design leaves nothing behind

    first = client.post("/ui/designer/publish", json=chain(), headers=headers(csrf))
    assert first.status_code == 201, first.text
    nsd_id = first.json()["id"]
    info = client.get(f"{NSDS}/{nsd_id}", headers=portal.admin.headers).json()
    assert (info["nsdOnboardingState"], info["nsdOperationalState"]) == ("ONBOARDED", "ENABLED")
    assert (info["nsdInvariantId"], info["nsdVersion"]) == ("designed-vcpe", "1.0")

    page = client.get(f"/ui/designer/{nsd_id}")
    assert page.status_code == 200
    design = page_data(page.text)["design"]
    assert design["basedOn"] == nsd_id
    assert (design["invariantId"], design["version"]) == ("designed-vcpe", "1.1")
    assert design["descriptorId"] != info["nsdId"]
    assert [f["name"] for f in design["functions"]] == ["firewall", "nat"]
    assert design["functions"][0]["properties"]["rules"] == [
        {"action": "accept", "protocol": "tcp", "port": 8080}
    ]

    again = client.post("/ui/designer/publish", json=design, headers=headers(csrf))
    assert again.status_code == 201, again.text
    second = client.get(f"{NSDS}/{again.json()['id']}", headers=portal.admin.headers).json()
    assert second["nsdInvariantId"] == "designed-vcpe"
    assert second["nsdVersion"] == "1.1"
    assert second["nsdId"] != info["nsdId"]
    assert second["userDefinedData"]["previousVersion"] == nsd_id

    design["descriptorId"] = "yet-another-id"
    same_version = client.post("/ui/designer/publish", json=design, headers=headers(csrf))
    assert same_version.status_code == 409
    assert (
        "version '1.1' of 'designed-vcpe' is already in the catalog"
        in (same_version.json()["detail"])
    )
    design["version"], design["invariantId"] = "1.2", "another-invariant"
    moved = client.post("/ui/designer/publish", json=design, headers=headers(csrf))
    assert moved.status_code == 409
    assert "keeps its invariant id 'designed-vcpe'" in moved.json()["detail"]
    design["invariantId"], design["descriptorId"] = "designed-vcpe", info["nsdId"]
    clash = client.post("/ui/designer/publish", json=design, headers=headers(csrf))
    assert clash.status_code == 409  # the catalog's own refusal, after the item was created
    assert (
        f"descriptor {info['nsdId']!r} is already onboarded as {nsd_id}" in (clash.json()["detail"])
    )
    assert nsd_count(client, portal) == 2  # and rolled back with the request


def test_an_nsd_with_inputs_opens_with_the_inputs_defaults_in_place(portal: Portal) -> None:
    client = portal.client
    created = client.post(NSDS, json={}, headers=portal.admin.headers).json()
    sample = (Path(samples_init).parent / "vcpe-nsd.yaml").read_bytes()
    uploaded = client.put(
        f"{NSDS}/{created['id']}/nsd_content", content=sample,
        headers=portal.admin.headers | {"Content-Type": "text/plain"},
    )  # fmt: skip
    assert uploaded.status_code == 204, uploaded.text
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    design = page_data(client.get(f"/ui/designer/{created['id']}").text)["design"]
    assert [f["type"] for f in design["functions"]] == [
        "edgewise.nodes.Firewall", "edgewise.nodes.Nat",
    ]  # fmt: skip
    assert design["functions"][0]["properties"]["rules"][0]["source"] == "192.168.10.0/24"
    assert (design["lan"]["enabled"], design["wan"]["enabled"]) == (True, True)
    checked = client.post("/ui/designer/check", json=design, headers=headers(csrf)).json()
    assert checked["valid"], checked["problems"]


def test_a_package_s_vnf_joins_the_chain_and_the_nsd_links_the_package(portal: Portal) -> None:
    client = portal.client
    admin = portal.admin.headers
    made = client.post("/vnfpkgm/v1/vnf_packages", json={}, headers=admin).json()
    uploaded = client.put(
        f"/vnfpkgm/v1/vnf_packages/{made['id']}/package_content",
        content=package(vnfd(vnfd_id="designer-dns")),
        headers=admin | {"Content-Type": "application/zip"},
    )
    assert uploaded.status_code == 204, uploaded.text
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    (offered,) = page_data(client.get("/ui/designer").text)["palette"]["packages"]
    assert (offered["vnfd_id"], offered["flavours"]) == (
        "designer-dns",
        [["default", "one dnsmasq"]],
    )
    design = chain()
    design["functions"].append(
        {"name": "dns", "source": "package", "type": "designer-dns", "flavourId": "default"}
    )
    checked = client.post("/ui/designer/check", json=design, headers=headers(csrf)).json()
    assert checked["valid"], checked["problems"]
    assert "descriptor_id: designer-dns" in checked["yaml"]
    design["functions"][2]["flavourId"] = "huge"
    refused = client.post("/ui/designer/check", json=design, headers=headers(csrf)).json()
    assert refused["problems"][0]["field"] == "functions[2].flavour_id"
    design["functions"][2]["flavourId"] = "default"
    published = client.post("/ui/designer/publish", json=design, headers=headers(csrf))
    assert published.status_code == 201, published.text
    assert published.json()["vnfPkgIds"] == [made["id"]]


def test_an_nsd_the_caller_cannot_see_is_not_found_on_an_html_page(portal: Portal) -> None:
    tenant = portal.client.post(
        "/api/v1/tenants", json={"name": "acme"}, headers=portal.admin.headers
    ).json()
    own = portal.client.post(NSDS, json={"tenantId": tenant["id"]}, headers=portal.admin.headers)
    other = portal.client.post(
        "/api/v1/tenants", json={"name": "globex"}, headers=portal.admin.headers
    ).json()
    portal.user("bob", "bob-password-12", tenant_id=other["id"], role="tenant")
    portal.sign_in("bob@globex", "bob-password-12")
    answer = portal.client.get(f"/ui/designer/{own.json()['id']}")
    assert answer.status_code == 404
    assert "does not exist" in answer.text
    assert "<h1>Error 404</h1>" in answer.text


def test_the_page_lists_the_catalog_s_nsds_to_start_a_new_version_from(portal: Portal) -> None:
    client = portal.client
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    empty = client.get("/ui/designer").text
    assert "The catalog has no onboarded NS descriptor yet." in empty
    first = client.post("/ui/designer/publish", json=chain(), headers=headers(csrf)).json()
    other = chain(invariant="other-chain")
    other["name"] = "Other chain"
    client.post("/ui/designer/publish", json=other, headers=headers(csrf))
    listed = client.get("/ui/designer", params={"q": "VCPE"})
    assert listed.status_code == 200
    assert (
        f'<a href="/ui/designer/{first["id"]}" aria-label="New version of Designed vCPE 1.0">'
        in (listed.text)
    )
    assert "Other chain" not in listed.text
    assert "(1 matching)" in listed.text
    none = client.get("/ui/designer", params={"q": "nothing-like-it"})
    assert "No onboarded NS descriptor matches" in none.text
    too_long = client.get("/ui/designer", params={"q": "x" * 101})
    assert too_long.status_code == 422
    assert "q: String should have at most 100 characters" in too_long.text
    assert client.get("/ui/designer", params={"page": 0}).status_code == 422
