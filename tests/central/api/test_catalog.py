"""SOL005 NSD and VNF package management over HTTP: life cycle, content, filters, conflicts."""

from __future__ import annotations

import functools
import io
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from edgewise.lab import samples
from tests.central.api.conftest import Caller, Central
from tests.central.api.sol005 import assert_schema
from tests.conftest import SHARED

NSD_YAML = samples.path("vcpe-nsd.yaml").read_bytes()
CORPUS = SHARED / "corpus" / "sol001"
NSDS = "/nsd/v1/ns_descriptors"
PKGS = "/vnfpkgm/v1/vnf_packages"


def zip_dir(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(path).as_posix())
    return buffer.getvalue()


def onboard_nsd(central: Central, caller: Caller, data: bytes = NSD_YAML) -> str:
    created = central.client.post(NSDS, json={}, headers=caller.headers)
    assert created.status_code == 201, created.text
    nsd_id: str = created.json()["id"]
    uploaded = central.client.put(
        f"{NSDS}/{nsd_id}/nsd_content",
        content=data,
        headers=caller.headers | {"Content-Type": "text/plain"},
    )
    assert uploaded.status_code == 204, uploaded.text
    return nsd_id


def test_nsd_life_cycle(central: Central) -> None:
    admin = central.admin.headers
    created = central.client.post(NSDS, json={"userDefinedData": {"team": "noc"}}, headers=admin)
    assert created.status_code == 201
    info = created.json()
    assert created.headers["Location"].endswith(f"{NSDS}/{info['id']}")
    assert created.headers["Version"] == "2.6.1"
    assert_schema("NsdInfo", info)
    assert (info["nsdOnboardingState"], info["nsdOperationalState"]) == ("CREATED", "DISABLED")

    content = f"{NSDS}/{info['id']}/nsd_content"
    assert central.client.get(content, headers=admin).status_code == 409
    upload = central.client.put(
        content, content=NSD_YAML, headers=admin | {"Content-Type": "text/plain"}
    )
    assert upload.status_code == 204, upload.text
    onboarded = central.client.get(f"{NSDS}/{info['id']}", headers=admin).json()
    assert_schema("NsdInfo", onboarded)
    assert (onboarded["nsdOnboardingState"], onboarded["nsdOperationalState"]) == (
        "ONBOARDED",
        "ENABLED",
    )
    assert onboarded["nsdId"]
    assert onboarded["nsdName"]

    fetched = central.client.get(content, headers=admin | {"Accept": "text/plain"})
    assert (fetched.status_code, fetched.content) == (200, NSD_YAML)
    as_zip = central.client.get(content, headers=admin | {"Accept": "application/zip"})
    assert as_zip.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(as_zip.content)) as archive:
        assert "TOSCA-Metadata/TOSCA.meta" in archive.namelist()

    again = central.client.put(
        content, content=NSD_YAML, headers=admin | {"Content-Type": "text/plain"}
    )
    assert again.status_code == 409
    assert_schema("ProblemDetails", again.json())
    assert again.headers["content-type"] == "application/problem+json"

    assert central.client.delete(f"{NSDS}/{info['id']}", headers=admin).status_code == 409
    patched = central.client.patch(
        f"{NSDS}/{info['id']}", json={"nsdOperationalState": "DISABLED"}, headers=admin
    )
    assert patched.status_code == 200
    assert_schema("NsdInfoModification", patched.json())
    # (ETSI's schema types userDefinedData in this response as an array, against SOL005's
    # KeyValuePairs object, so the merge patch below is checked by value only.)
    merged = central.client.patch(
        f"{NSDS}/{info['id']}", json={"userDefinedData": {"team": None, "x": 1}}, headers=admin
    )
    assert merged.json() == {"userDefinedData": {"team": None, "x": 1}}
    after = central.client.get(f"{NSDS}/{info['id']}", params={"all_fields": ""}, headers=admin)
    assert after.json()["userDefinedData"] == {"x": 1}
    assert central.client.delete(f"{NSDS}/{info['id']}", headers=admin).status_code == 204
    assert central.client.get(f"{NSDS}/{info['id']}", headers=admin).status_code == 404


def test_invalid_content_is_refused_with_every_problem_and_changes_nothing(
    central: Central,
) -> None:
    admin = central.admin.headers
    nsd_id = central.client.post(NSDS, json={}, headers=admin).json()["id"]
    broken = (
        b"tosca_definitions_version: tosca_simple_yaml_1_3\n"
        b"topology_template:\n  node_templates: [1, 2\n"
    )
    refused = central.client.put(
        f"{NSDS}/{nsd_id}/nsd_content",
        content=broken,
        headers=admin | {"Content-Type": "text/plain"},
    )
    assert refused.status_code == 400
    body = refused.json()
    assert_schema("ProblemDetails", body)
    assert body["problems"], body
    assert all(":" in p["where"] for p in body["problems"])
    state = central.client.get(f"{NSDS}/{nsd_id}", headers=admin).json()
    assert state["nsdOnboardingState"] == "CREATED"
    retry = central.client.put(
        f"{NSDS}/{nsd_id}/nsd_content",
        content=NSD_YAML,
        headers=admin | {"Content-Type": "text/plain"},
    )
    assert retry.status_code == 204


def test_vnf_package_from_a_real_csar(central: Central) -> None:
    package = CORPUS / "tacker-v1-functional"
    if not package.is_dir():
        pytest.skip("the SOL001 corpus is not available")
    admin = central.admin.headers
    created = central.client.post(PKGS, json={}, headers=admin)
    assert created.status_code == 201
    pkg_id = created.json()["id"]
    assert_schema("VnfPkgInfo", created.json())
    data = zip_dir(package)
    yaml_refused = central.client.put(
        f"{PKGS}/{pkg_id}/package_content",
        content=b"a: 1",
        headers=admin | {"Content-Type": "text/plain"},
    )
    assert yaml_refused.status_code == 400
    upload = central.client.put(
        f"{PKGS}/{pkg_id}/package_content",
        content=data,
        headers=admin | {"Content-Type": "application/zip"},
    )
    assert upload.status_code == 204, upload.text
    info = central.client.get(f"{PKGS}/{pkg_id}", params={"all_fields": ""}, headers=admin).json()
    assert_schema("VnfPkgInfo", info)
    assert info["onboardingState"] == "ONBOARDED"
    assert info["vnfdId"]
    assert info["vnfProvider"]
    assert info["checksum"]["algorithm"] == "SHA-256"

    content = central.client.get(f"{PKGS}/{pkg_id}/package_content", headers=admin)
    assert content.content == data
    vnfd = central.client.get(
        f"{PKGS}/{pkg_id}/vnfd", headers=admin | {"Accept": "application/zip"}
    )
    assert vnfd.status_code == 200
    with zipfile.ZipFile(io.BytesIO(vnfd.content)) as archive:
        assert any(name.endswith(".yaml") for name in archive.namelist())
    only_text = central.client.get(
        f"{PKGS}/{pkg_id}/vnfd", headers=admin | {"Accept": "text/plain"}
    )
    assert only_text.status_code == 406
    meta = central.client.get(f"{PKGS}/{pkg_id}/artifacts/TOSCA-Metadata/TOSCA.meta", headers=admin)
    assert meta.status_code == 200
    assert b"Entry-Definitions" in meta.content
    missing = central.client.get(f"{PKGS}/{pkg_id}/artifacts/no/such/file", headers=admin)
    assert missing.status_code == 404


def test_a_vnfd_uploaded_as_an_nsd_says_what_it_is(central: Central) -> None:
    package = CORPUS / "tacker-v1-functional"
    if not package.is_dir():
        pytest.skip("the SOL001 corpus is not available")
    admin = central.admin.headers
    nsd_id = central.client.post(NSDS, json={}, headers=admin).json()["id"]
    refused = central.client.put(
        f"{NSDS}/{nsd_id}/nsd_content",
        content=zip_dir(package),
        headers=admin | {"Content-Type": "application/zip"},
    )
    assert refused.status_code == 400
    assert "VNF package" in refused.text


def test_unsupported_methods_are_405_problems(central: Central) -> None:
    admin = central.admin.headers
    nsd_id = onboard_nsd(central, central.admin)
    for method, path in [
        ("PUT", NSDS),
        ("DELETE", NSDS),
        ("POST", f"{NSDS}/{nsd_id}"),
        ("PUT", f"{NSDS}/{nsd_id}"),
        ("POST", f"{NSDS}/{nsd_id}/nsd_content"),
        ("PATCH", PKGS),
        ("POST", f"{PKGS}/x/vnfd"),
    ]:
        response = central.client.request(method, path, headers=admin)
        assert response.status_code == 405, (method, path)
        assert_schema("ProblemDetails", response.json())


def test_filters_selectors_and_paging(central: Central) -> None:
    admin = central.admin.headers
    onboarded = onboard_nsd(central, central.admin)
    empty = [central.client.post(NSDS, json={}, headers=admin).json()["id"] for _ in range(3)]

    def ids(**params: str) -> set[str]:
        response = central.client.get(NSDS, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return {d["id"] for d in response.json()}

    assert ids(nsdOnboardingState="ONBOARDED") == {onboarded}
    assert ids(filter="(neq,nsdOnboardingState,ONBOARDED)") == set(empty)
    assert ids(filter="(eq,_links/self/href,nope)") == set()
    for bad in (
        {"wrongName": "x"},
        {"filter": "(eq,nope,1)"},
        {"filter": "(zz,id,1)"},
        {"filter": "eq"},
    ):
        response = central.client.get(NSDS, params=bad, headers=admin)
        assert response.status_code == 400, bad
        assert_schema("ProblemDetails", response.json())

    default = central.client.get(NSDS, headers=admin).json()
    assert all("userDefinedData" not in d for d in default)
    full = central.client.get(NSDS, params={"all_fields": ""}, headers=admin).json()
    assert all("userDefinedData" in d for d in full)
    assert_schema("NsdInfos", full)
    lean = central.client.get(NSDS, params={"exclude_fields": "_links"}, headers=admin).json()
    assert all("_links" not in d for d in lean)

    seen: list[str] = []
    response = central.client.get(NSDS, params={"limit": "3"}, headers=admin)
    while True:
        seen.extend(d["id"] for d in response.json())
        following = response.links.get("next", {}).get("url")
        if not following:
            break
        response = central.client.get(following, headers=admin)
    assert sorted(seen) == sorted([onboarded, *empty])


def test_tenants_read_the_shared_catalog_but_cannot_change_it(central: Central) -> None:
    shared = onboard_nsd(central, central.admin)
    acme = central.tenant("acme")
    assert central.client.get(f"{NSDS}/{shared}", headers=acme.headers).status_code == 200
    patch = central.client.patch(
        f"{NSDS}/{shared}", json={"nsdOperationalState": "DISABLED"}, headers=acme.headers
    )
    assert patch.status_code == 403
    own = onboard_nsd(central, acme)
    listed = {d["id"] for d in central.client.get(NSDS, headers=acme.headers).json()}
    assert listed == {shared, own}
    globex = central.tenant("globex")
    assert central.client.get(f"{NSDS}/{own}", headers=globex.headers).status_code == 404


def test_content_is_served_by_byte_range(central: Central) -> None:
    nsd = onboard_nsd(central, central.admin)
    url, headers = f"{NSDS}/{nsd}/nsd_content", central.admin.headers | {"Accept": "text/plain"}
    whole = central.client.get(url, headers=headers)
    size = len(whole.content)
    assert whole.headers["Accept-Ranges"] == "bytes"
    cases = [
        ("bytes=0-9", 206, whole.content[:10], f"bytes 0-9/{size}"),
        ("bytes=-5", 206, whole.content[-5:], f"bytes {size - 5}-{size - 1}/{size}"),
        (f"bytes=10-{size + 50}", 206, whole.content[10:], f"bytes 10-{size - 1}/{size}"),
        ("bytes=0-1,5-9", 200, whole.content, None),  # several ranges: all of it
        ("lines=1-2", 200, whole.content, None),
    ]
    for byte_range, status, body, content_range in cases:
        answer = central.client.get(url, headers=headers | {"Range": byte_range})
        assert answer.status_code == status, byte_range
        assert answer.content == body, byte_range
        assert answer.headers.get("Content-Range") == content_range, byte_range
    past = central.client.get(url, headers=headers | {"Range": "bytes=100000-200000"})
    assert past.status_code == 416
    assert past.headers["Content-Range"] == f"bytes */{size}"
    assert "outside the" in past.json()["detail"]


def test_a_vnf_package_is_onboarded_from_a_uri(central: Central, tmp_path: Path) -> None:
    (tmp_path / "router.zip").write_bytes(zip_dir(samples.path("edgewise-router-vnf")))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        admin = central.admin.headers
        package = central.client.post(PKGS, json={}, headers=admin).json()["id"]
        route = f"{PKGS}/{package}/package_content/upload_from_uri"
        missing = central.client.post(route, json={"addressInformation": f"{base}/nope.zip"},
                                      headers=admin)  # fmt: skip
        assert missing.status_code == 422
        assert "answered 404, not 200" in missing.text
        wrong = central.client.post(route, json={"addressInformation": "file:///etc/passwd"},
                                    headers=admin)  # fmt: skip
        assert wrong.status_code == 400
        fetched = central.client.post(route, json={"addressInformation": f"{base}/router.zip"},
                                      headers=admin)  # fmt: skip
        assert fetched.status_code == 202, fetched.text
        info = central.client.get(f"{PKGS}/{package}", headers=admin).json()
        assert info["onboardingState"] == "ONBOARDED"
        assert central.client.get(route, headers=admin).status_code == 405
    finally:
        server.shutdown()
        server.server_close()
