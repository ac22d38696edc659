"""The checksums of the sample packages (samples/<name>/): each artifact's `checksum` in the
VNFD and the SOL004 manifest `<name>.mf` listing every file with its SHA-256.

`python -m tests.samples.csar samples/NAME...` writes them anew after a package file changed;
test_packages.py fails while one is stale.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import yaml

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ALGORITHM = "SHA-256"
_CHECKSUM = re.compile(
    r"^(?P<indent>\s+)file: (?P<file>\S+)\n(?P<between>(?:(?!\s+file:).*\n)*?)"
    r"(?P=indent)checksum: [0-9a-f]{64}$",
    re.MULTILINE,
)


def packages() -> list[Path]:
    """The sample packages, by name."""
    return sorted(p for p in SAMPLES.iterdir() if (p / "TOSCA-Metadata" / "TOSCA.meta").is_file())


def meta(package: Path) -> dict[str, str]:
    """TOSCA.meta's first block."""
    fields: dict[str, str] = {}
    for line in (package / "TOSCA-Metadata" / "TOSCA.meta").read_text().splitlines():
        key, _, value = line.partition(":")
        if not key.strip():
            break
        fields[key.strip()] = value.strip()
    return fields


def vnfd_path(package: Path) -> Path:
    return package / meta(package)["Entry-Definitions"]


def manifest_path(package: Path) -> Path:
    return package / meta(package)["ETSI-Entry-Manifest"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(package: Path) -> list[str]:
    """Every file of the package but its manifest, as CSAR paths."""
    manifest = manifest_path(package)
    return sorted(
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p != manifest
    )


def manifest_text(package: Path) -> str:
    """The manifest as it should read: its metadata block kept, every file's hash anew."""
    metadata = manifest_path(package).read_text().split("\n\n", 1)[0]
    blocks = [metadata]
    blocks += [
        f"Source: {name}\nAlgorithm: {ALGORITHM}\nHash: {sha256(package / name)}"
        for name in files(package)
    ]
    return "\n\n".join(blocks) + "\n"


def manifest_entries(package: Path) -> dict[str, tuple[str, str]]:
    """What the manifest says: CSAR path -> (algorithm, hash)."""
    entries: dict[str, tuple[str, str]] = {}
    for block in manifest_path(package).read_text().split("\n\n")[1:]:
        fields = dict(line.split(": ", 1) for line in block.strip().splitlines())
        entries[fields["Source"]] = (fields["Algorithm"], fields["Hash"])
    return entries


def artifacts(package: Path) -> dict[str, dict[str, str]]:
    """The VNF node's artifacts (name -> definition)."""
    vnfd = yaml.safe_load(vnfd_path(package).read_text())
    found: dict[str, dict[str, str]] = {}
    for node in vnfd["topology_template"]["node_templates"].values():
        found.update(node.get("artifacts", {}))
    return found


def refresh(package: Path) -> None:
    """Writes each artifact's checksum into the VNFD, then the manifest."""
    path = vnfd_path(package)

    def fill(match: re.Match[str]) -> str:
        digest = sha256(package / match["file"])
        return match[0][:-64] + digest

    path.write_text(_CHECKSUM.sub(fill, path.read_text()))
    manifest_path(package).write_text(manifest_text(package))


if __name__ == "__main__":
    for name in sys.argv[1:]:
        refresh(Path(name).resolve())
