"""The sample packages onboard through SOL005 VNF package management as they are: each tree
zipped is a CSAR that `vnfpkgm/v1` takes, with the VNFD's identity and every artifact served."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from edgewise.central.config import CentralSettings
from tests.central.api.conftest import LOOPBACK, running
from tests.samples.csar import artifacts, files, packages

PKGS = "/vnfpkgm/v1/vnf_packages"


def zipped(package: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in [*files(package), f"{package.name}.mf"]:
            archive.write(package / name, name)
    return buffer.getvalue()


def test_every_sample_onboards_as_a_vnf_package(tmp_path: Path) -> None:
    settings = CentralSettings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'e.db'}",
        page_size=50,
        fetch_allowed=LOOPBACK,
    )
    with running(settings) as central:
        admin = central.admin.headers
        for package in packages():
            created = central.client.post(PKGS, json={}, headers=admin)
            assert created.status_code == 201, created.text
            pkg = f"{PKGS}/{created.json()['id']}"
            upload = central.client.put(
                f"{pkg}/package_content",
                content=zipped(package),
                headers=admin | {"Content-Type": "application/zip"},
            )
            assert upload.status_code == 204, f"{package.name}: {upload.text}"
            info = central.client.get(pkg, headers=admin).json()
            assert info["onboardingState"] == "ONBOARDED", package.name
            assert info["vnfdId"] == f"edgewise-sample-{package.name}"
            assert info["vnfProvider"] == "Edgewise samples"
            for artifact in artifacts(package).values():
                served = central.client.get(f"{pkg}/artifacts/{artifact['file']}", headers=admin)
                assert served.status_code == 200, f"{package.name}: {artifact['file']}"
                assert served.content == (package / artifact["file"]).read_bytes()
