"""A third-party VNF's files and lifecycle scripts, from its VNFD's artifacts and Vnflcm
interface (tosca/software.py reads the rest): each file read from the package, checked against
the artifact's checksum and the SOL004 manifest, templates checked for the names they use."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from edgewise.model.software import HOOKS, MAX_FILE_BYTES, template_names, unknown_names
from edgewise.tosca.errors import SourceError
from edgewise.tosca.package import META, PackageSource, normalise, parse_meta
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.yamltree import Node

# artifact type -> (rendered at the site, file mode)
ARTIFACT_TYPES = {
    "tosca.artifacts.template": (True, 0o644),
    "tosca.artifacts.File": (False, 0o644),
    "tosca.artifacts.Implementation.Bash": (False, 0o755),
}
ALGORITHMS = {"md5": "md5", "sha1": "sha1", "sha224": "sha224", "sha256": "sha256",
              "sha384": "sha384", "sha512": "sha512"}  # fmt: skip


@dataclass(frozen=True)
class Artifact:
    """One file of the VNF as the config carries it, and where its artifact is written."""

    name: str
    source: str  # its path in the package
    document: dict[str, object]  # a PackageFile of the contract
    mark: Mark


def read_artifacts(
    source: PackageSource, file: str, artifacts: Node | None, params: Mapping[str, str],
    log: ProblemLog,
) -> list[Artifact]:  # fmt: skip
    """The VNF node's file artifacts (template, File, Bash script; others are not files a
    site puts in place and are left out), each read and checked."""
    if artifacts is None or not isinstance(artifacts.value, dict):
        return []
    manifest = _manifest(source, log)
    found = []
    for name, node in artifacts.value.items():
        path = f"artifacts.{name}"
        body = node.value if isinstance(node.value, dict) else {"file": node}
        kind_node = body.get("type")
        kind = str(kind_node.value) if kind_node is not None else "tosca.artifacts.File"
        if kind not in ARTIFACT_TYPES:
            continue
        file_node = body.get("file")
        if file_node is None or not isinstance(file_node.value, str):
            log.add(node.mark(file), path, "software.artifact", "an artifact needs 'file'")
            continue
        at = file_node.mark(file)
        located = _locate(source, file, file_node.value)
        if located is None:
            log.add(at, f"{path}.file", "software.artifact-missing",
                    f"'{file_node.value}' is not in the package (looked beside {file} "
                    "and at the package root)")  # fmt: skip
            continue
        try:
            data = source.read(located)
        except SourceError as exc:
            log.add(at, f"{path}.file", exc.code, exc.message)
            continue
        if not _checksum_ok(data, body, file, path, log) or not _manifest_ok(
            data, located, manifest, log
        ):
            continue
        if len(data) > MAX_FILE_BYTES:
            log.add(
                at,
                f"{path}.file",
                "software.artifact-size",
                f"'{located}' is {len(data)} bytes: a VNF's file is at most {MAX_FILE_BYTES}",
            )
            continue  # fmt: skip
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            log.add(
                at,
                f"{path}.file",
                "software.artifact-text",
                f"'{located}' is not UTF-8 text: a VNF's files are configuration and scripts",
            )
            continue  # fmt: skip
        template, mode = ARTIFACT_TYPES[kind]
        if template:
            _check_template(text, located, params, log)
        deploy = body.get("deploy_path")
        found.append(Artifact(name, located, {
            "path": str(deploy.value) if deploy is not None else located,
            "content": text,
            "sha256": hashlib.sha256(data).hexdigest(),
            "mode": mode,
            "template": template,
        }, node.mark(file)))  # fmt: skip
    return found


def _locate(source: PackageSource, file: str, target: str) -> str | None:
    """The package path of an artifact's file: beside the VNFD file, else from the root."""
    for base in (posixpath.dirname(file), ""):
        try:
            relpath = normalise(posixpath.join(base, target))
        except SourceError:
            continue
        if source.exists(relpath):
            return relpath
    return None


def _checksum_ok(data: bytes, body: dict[str, Node], file: str, path: str,
                 log: ProblemLog) -> bool:  # fmt: skip
    """TOSCA 1.3 artifact `checksum` / `checksum_algorithm`, when the artifact has them."""
    checksum = body.get("checksum")
    if checksum is None:
        return True
    algorithm_node = body.get("checksum_algorithm")
    wanted = str(algorithm_node.value) if algorithm_node is not None else ""
    algorithm = ALGORITHMS.get(wanted.lower().replace("-", ""))
    if algorithm is None:
        log.add((algorithm_node or checksum).mark(file), f"{path}.checksum_algorithm",
                "software.checksum", f"checksum_algorithm {wanted!r}: one of SHA-256, "
                "SHA-512, SHA-384, SHA-224, SHA-1, MD5")  # fmt: skip
        return False
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != str(checksum.value).strip().lower():
        log.add(
            checksum.mark(file),
            f"{path}.checksum",
            "software.checksum",
            f"the file's {wanted} is {actual}, not the checksum the artifact declares",
        )
        return False  # fmt: skip
    return True


@dataclass(frozen=True)
class _Entry:
    algorithm: str
    digest: str
    mark: Mark


def _manifest(source: PackageSource, log: ProblemLog) -> dict[str, _Entry]:
    """The SOL004 manifest's Source/Algorithm/Hash entries, by package path."""
    name = None
    if source.exists(META):
        try:
            name = parse_meta(source.read(META).decode("utf-8", "replace")).get(
                "etsi-entry-manifest"
            )
        except SourceError:
            name = None
    if name is None:
        name = next((f for f in source.root_files() if f.endswith(".mf")), None)
    if name is None or not source.exists(name):
        return {}
    try:
        text = source.read(name).decode("utf-8", "replace")
    except SourceError as exc:
        log.add(Mark(name), "", exc.code, exc.message)
        return {}
    entries: dict[str, _Entry] = {}
    current: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in ("source", "algorithm", "hash"):
            continue
        if key == "source":
            current = {"source": value.strip()}
            continue
        current[key] = value.strip()
        if {"source", "algorithm", "hash"} <= current.keys():
            try:
                path = normalise(current["source"])
            except SourceError:
                continue
            entries[path] = _Entry(current["algorithm"], current["hash"], Mark(name, number, 1))
    return entries


def _manifest_ok(data: bytes, path: str, manifest: Mapping[str, _Entry], log: ProblemLog) -> bool:
    entry = manifest.get(path)
    if entry is None:
        return True
    algorithm = ALGORITHMS.get(entry.algorithm.lower().replace("-", ""))
    if algorithm is None:
        log.add(
            entry.mark,
            "Algorithm",
            "software.manifest",
            f"{entry.algorithm!r} for '{path}': not an algorithm Edgewise checks",
        )
        return False  # fmt: skip
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != entry.digest.lower():
        log.add(
            entry.mark,
            "Hash",
            "software.manifest",
            f"'{path}' has {entry.algorithm} {actual}, not the manifest's Hash",
        )
        return False  # fmt: skip
    return True


def _check_template(text: str, file: str, params: Mapping[str, str], log: ProblemLog) -> None:
    """Every name the template uses is a variable the site fills in or a parameter."""
    try:
        names = template_names(text)
    except ValueError as exc:
        number = str(exc).split(":", 1)[0].removeprefix("line ")
        log.add(Mark(file, int(number) if number.isdigit() else 0, 1), "", "software.template",
                str(exc))  # fmt: skip
        return
    for bad in unknown_names(names, params):
        offset = max(text.find("${" + bad + "}"), text.find("$" + bad))
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        log.add(Mark(file, line, column), "", "software.template", unknown_message(bad))


def unknown_message(name: str) -> str:
    return (f"${{{name}}} is neither a variable the site fills in (${{root}}, ${{lan_if}}, "
            "${wan_address}, ...) nor a parameter (param_<input> of an input the VNFD "
            "declares)")  # fmt: skip


def read_hooks(
    file: str, interfaces: Node | None, artifacts: list[Artifact], log: ProblemLog
) -> list[tuple[dict[str, object], Mark]]:
    """The Vnflcm operations, each run as the script artifact it names (by artifact name or
    its file): a Hook of the contract and where it is written."""
    if interfaces is None or not isinstance(interfaces.value, dict):
        return []
    lcm = interfaces.value.get("Vnflcm")
    if lcm is None or not isinstance(lcm.value, dict):
        return []
    ops = lcm.value
    if isinstance(ops.get("operations"), Node) and isinstance(ops["operations"].value, dict):
        ops = ops["operations"].value
    hooks = []
    for op, node in ops.items():
        if op in ("type", "inputs", "description", "notifications"):
            continue
        path = f"interfaces.Vnflcm.{op}"
        if op not in HOOKS:
            log.add(
                node.mark(file),
                path,
                "software.hook",
                f"Edgewise runs scripts for {', '.join(HOOKS)}; not for {op!r}",
            )
            continue  # fmt: skip
        target, timeout = _implementation(node)
        artifact = next((a for a in artifacts if target in (a.name, a.source)), None)
        if artifact is None:
            log.add(node.mark(file), path, "software.hook",
                    f"implementation {target!r} is no file artifact of the VNF (by name or "
                    "file)")  # fmt: skip
            continue
        artifact.document["mode"] = 0o755
        hook: dict[str, object] = {
            "operation": op,
            "command": ["${root}/" + str(artifact.document["path"])],
        }
        if timeout is not None:
            hook["timeout_s"] = timeout
        hooks.append((hook, node.mark(file)))
    return hooks


def _implementation(node: Node) -> tuple[str | None, object]:
    """(artifact or file, timeout) of `op: x`, `op: {implementation: x}` or
    `op: {implementation: {primary: x, timeout: n}}`."""
    value = node.value
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict) or "implementation" not in value:
        return None, None
    implementation = value["implementation"].value
    if isinstance(implementation, dict):
        primary = implementation.get("primary")
        timeout = implementation.get("timeout")
        return (str(primary.value) if primary is not None else None,
                timeout.value if timeout is not None else None)  # fmt: skip
    return str(implementation), None
