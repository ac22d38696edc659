"""Descriptors for the run, made from Edgewise's samples: copies of the vCPE NSD and of
the router VNF package, each with its own descriptor id (a catalog onboards a descriptor id
once) and, for NSDs, a plain name that a query string carries unchanged. Pure: bytes in,
bytes out."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from conformance.errors import SetupError

NSD_SAMPLE = "vcpe-nsd.yaml"
VNF_SAMPLE = "edgewise-router-vnf"
_DESCRIPTOR_ID = re.compile(r"^(?P<indent>[ \t]+)descriptor_id:[ \t]*\S.*$", re.MULTILINE)
_NAME = re.compile(r"^(?P<indent>[ \t]+)name:[ \t]*\S.*$", re.MULTILINE)
_ENTRY = re.compile(r"^Entry-Definitions:[ \t]*(?P<path>\S+)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Nsd:
    descriptor_id: str
    name: str
    yaml: bytes

    def csar(self) -> bytes:
        """The same NSD as a CSAR zip (TOSCA-Metadata plus one Definitions file)."""
        return zip_files(
            {
                "TOSCA-Metadata/TOSCA.meta": (
                    b"TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\n"
                    b"Created-By: Edgewise conformance\nEntry-Definitions: Definitions/nsd.yaml\n"
                ),
                "Definitions/nsd.yaml": self.yaml,
            }
        )


@dataclass(frozen=True)
class VnfPackage:
    descriptor_id: str
    provider: str
    entry: str  # the VNFD's path inside the package
    zip: bytes


def zip_files(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return buffer.getvalue()


def nsd_variant(template: str, descriptor_id: str, name: str) -> Nsd:
    """The NSD with the NS node's `descriptor_id` and the `name` that follows it replaced."""
    found = _DESCRIPTOR_ID.search(template)
    if found is None:
        raise SetupError(f"the sample NSD has no descriptor_id line ({NSD_SAMPLE})")
    named = _NAME.search(template, found.end())
    if named is None:
        raise SetupError(f"the sample NSD has no name after its descriptor_id ({NSD_SAMPLE})")
    text = (
        template[: found.start()]
        + f"{found['indent']}descriptor_id: {descriptor_id}"
        + template[found.end() : named.start()]
        + f"{named['indent']}name: {name}"
        + template[named.end() :]
    )
    return Nsd(descriptor_id, name, text.encode())


def vnf_variant(files: dict[str, bytes], descriptor_id: str) -> VnfPackage:
    """The package with its VNFD's `descriptor_id` replaced, zipped as a CSAR."""
    meta = files.get("TOSCA-Metadata/TOSCA.meta", b"").decode()
    entry = _ENTRY.search(meta)
    if entry is None or entry["path"] not in files:
        raise SetupError(f"the sample VNF package names no Entry-Definitions file ({VNF_SAMPLE})")
    vnfd = files[entry["path"]].decode()
    found = _DESCRIPTOR_ID.search(vnfd)
    if found is None:
        raise SetupError(f"the sample VNFD has no descriptor_id line ({entry['path']})")
    provider = re.search(r"^[ \t]+provider:[ \t]*(?P<value>\S.*?)[ \t]*$", vnfd, re.MULTILINE)
    changed = vnfd[: found.start()] + f"{found['indent']}descriptor_id: {descriptor_id}"
    changed += vnfd[found.end() :]
    return VnfPackage(
        descriptor_id,
        provider["value"].strip("'\"") if provider else "",
        entry["path"],
        zip_files(files | {entry["path"]: changed.encode()}),
    )


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, by its POSIX path relative to it."""
    if not root.is_dir():
        raise SetupError(f"the sample VNF package is missing ({root})")
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
