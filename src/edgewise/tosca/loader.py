"""Entry points: a path or uploaded bytes -> LoadResult, through package, YAML, types, model.

Never raises for bad input: every failure on the way becomes a Problem. By default a tolerated
deviation (`deviations.py`) is a warning and the descriptor loads; `strict` makes it an error.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path

from edgewise.tosca.build import DescriptorBuilder
from edgewise.tosca.cache import ParsedFile, TypeCache
from edgewise.tosca.errors import SourceError
from edgewise.tosca.limits import Limits
from edgewise.tosca.model import LoadResult
from edgewise.tosca.package import (
    META,
    DirectorySource,
    PackageSource,
    SingleFileSource,
    ZipSource,
    normalise,
    parse_meta,
)
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.registry import TypeRegistry
from edgewise.tosca.topology import Topology, check_topology
from edgewise.tosca.typedefs import ImportRef, TemplateFile, TypeDef
from edgewise.tosca.typeparse import parse_template
from edgewise.tosca.vnfautoscale import check_autoscale
from edgewise.tosca.vnfscaling import check_vnf_scaling
from edgewise.tosca.yamltree import compose, decode

ZIP_MAGIC = b"PK\x03\x04"
STANDARD_FILES = frozenset(
    {
        "etsi_nfv_sol001_common_types.yaml",
        "etsi_nfv_sol001_vnfd_types.yaml",
        "etsi_nfv_sol001_nsd_types.yaml",
        "etsi_nfv_sol001_pnfd_types.yaml",
        "edgewise_types.yaml",
        "tosca_simple_yaml_1_3.yaml",
        "tosca_definition_1_0.yaml",
    }
)
_YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_LIMITS = Limits()


def load_path(
    path: str | os.PathLike[str],
    limits: Limits = DEFAULT_LIMITS,
    cache: TypeCache | None = None,
    *,
    strict: bool = False,
) -> LoadResult:
    """Load a service template file, a CSAR directory or a CSAR zip file."""
    log = ProblemLog(strict=strict)
    target = Path(path)
    name = str(path)
    try:
        if target.is_dir():
            source: PackageSource = DirectorySource(target, limits)
            return _load(source, None, limits, cache, log)
        _check_size(target.stat().st_size, max(limits.max_file_bytes, limits.max_package_bytes))
        with target.open("rb") as handle:
            head = handle.read(4)
        if head == ZIP_MAGIC:
            return _load(ZipSource(target.read_bytes(), limits), None, limits, cache, log)
        return _load(DirectorySource(target.parent, limits), target.name, limits, cache, log)
    except SourceError as exc:
        log.add(Mark(name), "", exc.code, exc.message)
    except OSError as exc:
        log.add(Mark(name), "", "package.missing", f"'{name}' cannot be opened: {exc.strerror}")
    return LoadResult(None, tuple(log.problems), ())


def load_bytes(
    data: bytes,
    name: str = "upload",
    limits: Limits = DEFAULT_LIMITS,
    cache: TypeCache | None = None,
    *,
    strict: bool = False,
) -> LoadResult:
    """Load an upload: a CSAR zip, or else one YAML service template."""
    log = ProblemLog(strict=strict)
    try:
        if data[:4] == ZIP_MAGIC:
            _check_size(len(data), limits.max_package_bytes)
            return _load(ZipSource(data, limits), None, limits, cache, log)
        return _load(SingleFileSource(name, data, limits), name, limits, cache, log)
    except SourceError as exc:
        log.add(Mark(name), "", exc.code, exc.message)
    return LoadResult(None, tuple(log.problems), ())


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise SourceError("limit.size", f"the input is {size} bytes; the limit is {limit}")


def _entry(source: PackageSource, log: ProblemLog) -> str | None:
    if source.exists(META):
        text = decode(source.read(META), META, log)
        if text is None:
            return None
        fields = parse_meta(text)
        entry = fields.get("entry-definitions")
        if not entry:
            log.add(
                Mark(META, 1, 1),
                "Entry-Definitions",
                "package.meta",
                "TOSCA.meta names no Entry-Definitions (the service template to start from)",
            )
        return entry or None
    candidates = [f for f in source.root_files() if f.lower().endswith(_YAML_SUFFIXES)]
    if len(candidates) == 1:
        return candidates[0]
    log.add(
        Mark(META),
        "",
        "package.entry",
        "the package has no TOSCA-Metadata/TOSCA.meta and "
        + (
            f"{len(candidates)} YAML files at its root ({', '.join(candidates[:5])}); "
            if candidates
            else "no YAML file at its root; "
        )
        + "SOL004 needs exactly one, or TOSCA.meta naming Entry-Definitions",
    )
    return None


def _load(
    source: PackageSource,
    entry: str | None,
    limits: Limits,
    cache: TypeCache | None,
    log: ProblemLog,
) -> LoadResult:
    memo = cache if cache is not None else TypeCache()  # nothing kept beyond this load
    if entry is None:
        entry = _entry(source, log)
    if entry is None:
        return LoadResult(None, tuple(log.problems), ())
    reader = _Reader(source, limits, memo, log)
    reader.visit(normalise(entry), Mark(META), "Entry-Definitions")
    local: dict[tuple[str, str], TypeDef] = {}
    for template in reader.templates:
        for key, typedef in template.types.items():
            local.setdefault(key, typedef)
    registry = TypeRegistry(local, memo.builtins())
    registry.check(log)
    topologies: list[Topology] = [
        check_topology(t, registry, log) for t in reader.templates if t.topology is not None
    ]
    for topology in topologies:
        check_vnf_scaling(topology, log)
        check_autoscale(topology, log)
    descriptor = None
    builder = DescriptorBuilder(registry, topologies, log)
    if not log.has_errors and reader.templates:
        descriptor = builder.build(reader.templates[0].file)
    elif reader.templates:
        builder.check_functions()
    if log.has_errors:
        descriptor = None
    return LoadResult(descriptor, tuple(log.problems), tuple(reader.order), tuple(topologies))


class _Reader:
    """Reads the entry template and, depth first, everything it imports."""

    def __init__(
        self, source: PackageSource, limits: Limits, cache: TypeCache, log: ProblemLog
    ) -> None:
        self.source = source
        self.limits = limits
        self.cache = cache
        self.log = log
        self.templates: list[TemplateFile] = []
        self.order: list[str] = []
        self.stack: list[str] = []
        self.imports = 0

    def visit(self, relpath: str, mark: Mark, path: str) -> None:
        if relpath in self.stack:
            chain = " -> ".join([*self.stack[self.stack.index(relpath) :], relpath])
            self.log.add(mark, path, "import.cycle", f"imports form a cycle: {chain}")
            return
        if relpath in self.order:
            return
        try:
            data = self.source.read(relpath)
        except SourceError as exc:
            self.log.add(mark, path, exc.code, exc.message)
            return
        self.order.append(relpath)
        digest = hashlib.sha256(data).hexdigest()
        parsed = self.cache.get(digest, relpath)
        if parsed is None:
            file_log = ProblemLog()
            text = decode(data, relpath, file_log)
            root = compose(text, relpath, self.limits, file_log) if text is not None else None
            template = parse_template(root, relpath, file_log) if root is not None else None
            parsed = ParsedFile(template, tuple(file_log.problems))
            self.cache.put(digest, relpath, parsed)
        self.log.extend(parsed.problems)
        if parsed.template is None:
            return
        self.templates.append(parsed.template)
        self.stack.append(relpath)
        for index, ref in enumerate(parsed.template.imports):
            self._import(relpath, ref, f"imports[{index}]")
        self.stack.pop()

    def _import(self, importer: str, ref: ImportRef, path: str) -> None:
        self.imports += 1
        if self.imports > self.limits.max_imports:
            if self.imports == self.limits.max_imports + 1:
                self.log.add(
                    ref.mark, path, "limit.imports", f"more than {self.limits.max_imports} imports"
                )
            return
        target = ref.target
        basename = posixpath.basename(target.split("?")[0])
        if "://" in target:
            if basename not in STANDARD_FILES:
                self.log.add(
                    ref.mark,
                    path,
                    "import.remote",
                    f"'{target}' is a remote file; Edgewise loads offline and knows only the "
                    "standard TOSCA/ETSI type files by URL: put the file in the package",
                )
            return
        try:
            relpath = normalise(posixpath.join(posixpath.dirname(importer), target))
        except SourceError as exc:
            self.log.add(ref.mark, path, exc.code, exc.message)
            return
        if not self.source.exists(relpath) and basename in STANDARD_FILES:
            return
        self.visit(relpath, ref.mark, path)
