"""Onboarding tolerates what SOL001's letter does not (with `onboardingWarnings` in the NsdInfo
and VnfPkgInfo), and refuses it when the central is strict (EDGEWISE_STRICT_DESCRIPTORS)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edgewise.central.api.app import create_app
from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime
from edgewise.lab import samples
from edgewise.tosca.deviations import DANGLING_SUBSTITUTION_MAPPING, MISSING_DESCRIPTION
from tests.central.api.sol005 import assert_schema

NSDS = "/nsd/v1/ns_descriptors"
PKGS = "/vnfpkgm/v1/vnf_packages"
NSD = samples.path("vcpe-nsd.yaml").read_text()
VNFFG_DESCRIPTION = "      properties:\n        description: LAN to WAN through firewall and NAT\n"
VNFD = (
    Path(__file__).resolve().parents[2] / "tosca" / "data" / "firewall-vnfd-v261.yaml"
).read_text()
MAPPING = "      virtual_link_trusted: [trusted_cp, external_virtual_link]\n"
DANGLING = "      virtual_link_mgmt: [mgmt_cp, external_virtual_link]\n"


def _csar(vnfd: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta",
            "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: test\n"
            "Entry-Definitions: Definitions/vnfd.yaml\n",
        )
        archive.writestr("Definitions/vnfd.yaml", vnfd)
    return buffer.getvalue()


class Catalog:
    """The catalog API of a central as its admin uses it."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def upload(
        self, collection: str, content: bytes, media_type: str
    ) -> tuple[str, int, dict[str, Any]]:
        item_id = self.client.post(collection, json={}, headers=self.headers).json()["id"]
        part = "nsd_content" if collection == NSDS else "package_content"
        answer = self.client.put(
            f"{collection}/{item_id}/{part}",
            content=content,
            headers=self.headers | {"Content-Type": media_type},
        )
        body = answer.json() if answer.content else {}
        return item_id, answer.status_code, body

    def info(self, collection: str, item_id: str) -> dict[str, Any]:
        answer = self.client.get(f"{collection}/{item_id}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        info: dict[str, Any] = answer.json()
        return info


@pytest.fixture(params=[False, True], ids=["tolerant", "strict"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Catalog, bool]]:
    strict: bool = request.param
    settings = CentralSettings(data_dir=tmp_path, strict_descriptors=strict)
    runtime = CentralRuntime.open(settings)
    try:
        with TestClient(create_app(settings, runtime)) as client:
            yield Catalog(client, settings.admin_token_file.read_text().strip()), strict
    finally:
        runtime.close()


def test_a_deviant_vnf_package_onboards_with_warnings_unless_strict(
    catalog: tuple[Catalog, bool],
) -> None:
    api, strict = catalog
    text = VNFD.replace(MAPPING, MAPPING + DANGLING)
    before = text[: text.index("mgmt_cp")]
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    package, status, body = api.upload(PKGS, _csar(text), "application/zip")
    info = api.info(PKGS, package)
    where = f"Definitions/vnfd.yaml:{line}:"
    if strict:
        assert status == 400, body
        assert_schema("ProblemDetails", body)
        [problem] = body["problems"]
        assert problem["where"].startswith(where)
        assert "mgmt_cp" in problem["message"]
        assert info["onboardingState"] == "CREATED"
        assert "onboardingWarnings" not in info
        return
    assert status == 204, body
    assert info["onboardingState"] == "ONBOARDED"
    [warning] = info["onboardingWarnings"]
    assert warning["code"] == DANGLING_SUBSTITUTION_MAPPING.code
    assert warning["where"] == (
        f"{where}{column} topology_template.substitution_mappings.requirements.virtual_link_mgmt[0]"
    )
    assert "mgmt_cp" in warning["message"]


def test_a_deviant_nsd_onboards_with_warnings_unless_strict(
    catalog: tuple[Catalog, bool],
) -> None:
    api, strict = catalog
    nsd, status, body = api.upload(NSDS, NSD.replace(VNFFG_DESCRIPTION, "").encode(), "text/plain")
    info = api.info(NSDS, nsd)
    if strict:
        assert status == 400, body
        assert info["nsdOnboardingState"] == "CREATED"
        [problem] = info["onboardingFailureDetails"]["problems"]
        assert problem["where"].endswith(
            "topology_template.groups.vcpe_graph.properties.description"
        )
        return
    assert status == 204, body
    [warning] = info["onboardingWarnings"]
    assert warning["code"] == MISSING_DESCRIPTION.code
    assert warning["where"].startswith("descriptor.yaml:")
    listed = api.client.get(NSDS, headers=api.headers).json()
    assert "onboardingWarnings" not in listed[0]  # excluded by default, as failure details are
    chosen = api.client.get(NSDS, params={"fields": "onboardingWarnings"}, headers=api.headers)
    assert chosen.json()[0]["onboardingWarnings"] == [warning]


def test_conforming_content_has_no_warnings(catalog: tuple[Catalog, bool]) -> None:
    api, _ = catalog
    nsd, status, _ = api.upload(NSDS, NSD.encode(), "text/plain")
    package, status_pkg, _ = api.upload(PKGS, _csar(VNFD), "application/zip")
    assert (status, status_pkg) == (204, 204)
    assert "onboardingWarnings" not in api.info(NSDS, nsd)
    assert "onboardingWarnings" not in api.info(PKGS, package)


@pytest.mark.parametrize(
    ("value", "strict"),
    [("", False), ("0", False), ("false", False), ("1", True), ("TRUE", True), ("yes", True)],
)
def test_the_strict_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, strict: bool
) -> None:
    monkeypatch.setenv("EDGEWISE_STRICT_DESCRIPTORS", value)
    assert CentralSettings.from_environment(tmp_path).strict_descriptors is strict


def test_a_strict_setting_that_is_no_yes_or_no_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EDGEWISE_STRICT_DESCRIPTORS", "maybe")
    with pytest.raises(ValueError, match="EDGEWISE_STRICT_DESCRIPTORS='maybe'"):
        CentralSettings.from_environment(tmp_path)
