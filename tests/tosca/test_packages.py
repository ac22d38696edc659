"""Package variants: CSAR directory and zip, TOSCA.meta forms, missing type files, escapes."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from edgewise.tosca import ChainHop, Limits, Nsd, TypeCache, Vnfd, load_bytes, load_path

from .conftest import DATA, SAMPLES


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def directory_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_sample_csar_directory_and_zip_agree(cache: TypeCache, tmp_path: Path) -> None:
    from_dir = load_path(SAMPLES / "edgewise-router-vnf", cache=cache)
    data = zipped(directory_files(SAMPLES / "edgewise-router-vnf"))
    from_bytes = load_bytes(data, cache=cache)
    (tmp_path / "router.csar").write_bytes(data)
    from_file = load_path(tmp_path / "router.csar", cache=cache)
    assert from_dir.ok
    assert from_dir.descriptor == from_bytes.descriptor == from_file.descriptor
    assert from_dir.files == ("Definitions/router-vnfd.yaml",)


def test_zip_with_a_top_folder(cache: TypeCache) -> None:
    files = directory_files(SAMPLES / "edgewise-router-vnf")
    result = load_bytes(zipped({f"router/{k}": v for k, v in files.items()}), cache=cache)
    assert result.ok, result.problems


def test_meta_variants_and_root_template(cache: TypeCache, tmp_path: Path) -> None:
    vnfd = (DATA / "firewall-vnfd-v261.yaml").read_bytes()
    meta = b"TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nEntry-definitions: Defs/fw.yaml\n"
    meta += b"\nName: Defs/fw.yaml\nContent-Type: application/yaml\n"
    result = load_bytes(zipped({"TOSCA-Metadata/TOSCA.meta": meta, "Defs/fw.yaml": vnfd}))
    assert result.ok, result.problems
    assert isinstance(result.descriptor, Vnfd)
    root_only = load_bytes(zipped({"fw.yaml": vnfd, "Files/readme.txt": b"x"}), cache=cache)
    assert root_only.ok
    two = load_bytes(zipped({"a.yaml": vnfd, "b.yaml": vnfd}), cache=cache)
    assert {p.code for p in two.problems} == {"package.entry"}
    no_entry = load_bytes(zipped({"TOSCA-Metadata/TOSCA.meta": b"CSAR-Version: 1.1\n"}))
    assert {p.code for p in no_entry.problems} == {"package.meta"}


def test_package_missing_its_type_files_loads_offline(
    corpus: Path, cache: TypeCache, tmp_path: Path
) -> None:
    package = tmp_path / "pkg"
    shutil.copytree(corpus / "tacker-v1-functional", package)
    for etsi in (package / "Definitions").glob("etsi_nfv_sol001_*"):
        etsi.unlink()
    result = load_path(package, cache=cache)
    assert result.ok, [str(p) for p in result.problems]
    assert "Definitions/etsi_nfv_sol001_vnfd_types.yaml" not in result.files


def test_missing_import_and_cycle(cache: TypeCache, tmp_path: Path) -> None:
    head = "tosca_definitions_version: tosca_simple_yaml_1_3\n"
    (tmp_path / "a.yaml").write_text(head + "imports: [b.yaml, gone.yaml]\n")
    (tmp_path / "b.yaml").write_text(head + "imports: [a.yaml]\n")
    result = load_path(tmp_path / "a.yaml", cache=cache)
    problems = {p.code: p for p in result.problems}
    assert {"import.cycle", "import.missing"} <= set(problems)
    assert problems["import.cycle"].file == "b.yaml"


@pytest.mark.parametrize("target", ["../outside.yaml", "/etc/passwd", "Definitions/../../x.yaml"])
def test_imports_cannot_leave_the_package(cache: TypeCache, tmp_path: Path, target: str) -> None:
    (tmp_path / "outside.yaml").write_text("tosca_definitions_version: tosca_simple_yaml_1_3\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "main.yaml").write_text(
        f"tosca_definitions_version: tosca_simple_yaml_1_3\nimports: ['{target}']\n"
    )
    result = load_path(package, cache=cache)
    assert "package.unsafe-path" in {p.code for p in result.problems}


def test_symlink_out_of_the_package(cache: TypeCache, tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("tosca_definitions_version: tosca_simple_yaml_1_3\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (package / "TOSCA-Metadata").mkdir()
    (package / "TOSCA-Metadata" / "TOSCA.meta").write_text("Entry-Definitions: link.yaml\n")
    result = load_path(package, cache=cache)
    assert {p.code for p in result.problems} == {"package.unsafe-path"}


def test_zip_bomb_and_unsafe_members(cache: TypeCache) -> None:
    bomb = zipped({"main.yaml": b"#" * (20 * 1024 * 1024)})
    result = load_bytes(bomb, cache=cache)
    assert {p.code for p in result.problems} == {"limit.ratio"}
    many = zipped({f"f{i}.txt": b"x" for i in range(30)})
    assert {p.code for p in load_bytes(many, limits=Limits(max_files=10)).problems} == {
        "limit.files"
    }
    assert load_bytes(b"PK\x03\x04garbage", cache=cache).problems[0].code == "package.zip"


def test_missing_path(cache: TypeCache, tmp_path: Path) -> None:
    result = load_path(tmp_path / "nope.csar", cache=cache)
    assert [p.code for p in result.problems] == ["package.missing"]


def test_own_nsd_with_repeated_policies(cache: TypeCache) -> None:
    result = load_path(DATA / "branch-nsd-v331.yaml", cache=cache)
    assert result.ok
    assert [p.code for p in result.problems] == ["yaml.duplicate-key"]
    nsd = result.descriptor
    assert isinstance(nsd, Nsd)
    assert (nsd.node_count, nsd.policy_count, nsd.chain_count) == (13, 2, 1)
    assert nsd.chains[0].nodes == ("firewall", "wan_optimiser")
    assert nsd.chains[0].hops == (
        ChainHop("firewall", "fw_forwarding"),
        ChainHop("wan_optimiser", "opt_forwarding"),
    )
    assert nsd.scaling_aspects[0].max_scale_level == 2
    assert nsd.vnf_profiles[0].max_instances == 2
