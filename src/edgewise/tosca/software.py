"""An onboarded SOL004 package's VNFD -> the third-party VNF's software template: the
SoftwareConfig a site runs (edgewise.model.software) without its instance params, the
parameters it declares and the software image of each VDU. Pure: the catalog calls it at
onboarding (every problem positioned), the orchestrator at instantiation (the images it
cannot run refused there, per VDU) and to set params. The mapping is docs/vnf-packages.md.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from edgewise.model.fields import read
from edgewise.model.functions import TOSCA_TYPES
from edgewise.model.problems import DocumentError, Json
from edgewise.model.software import SIGNALS, SoftwareConfig, template_names, unknown_names
from edgewise.model.units import parse_scalar
from edgewise.tosca.build import effective
from edgewise.tosca.cache import TypeCache
from edgewise.tosca.limits import Limits
from edgewise.tosca.loader import load_bytes
from edgewise.tosca.model import LoadResult
from edgewise.tosca.package import PackageSource, ZipSource
from edgewise.tosca.problems import Mark, Problem, ProblemLog
from edgewise.tosca.softfiles import read_artifacts, read_hooks, unknown_message
from edgewise.tosca.topology import NodeTemplate, Topology
from edgewise.tosca.vnfparams import Input, check_params, read_inputs
from edgewise.tosca.yamltree import Node, plain

NFV = "tosca.nodes.nfv."
DEBIAN = "debian-package"  # the virtualisation environment of a VDU that runs a Debian package
VM_DISKS = ("qcow2", "vmdk", "vdi", "vhd", "vhdx", "iso", "ami", "aki", "ari")
VNF_METADATA = ("edgewise.reload",)
VDU_METADATA = ("edgewise.packages", "edgewise.ready", "edgewise.restart",
                "edgewise.capabilities", "edgewise.cpu_millis")  # fmt: skip


@dataclass(frozen=True)
class VduImage:
    """A VDU's software image (sw_image_data) as far as Edgewise tells what runs it."""

    vdu: str  # the VDU's node template name
    name: str
    version: str
    container_format: str
    disk_format: str
    environments: tuple[str, ...]

    @property
    def runnable(self) -> bool:
        return (self.container_format == "bare" and self.disk_format == "raw"
                and DEBIAN in self.environments)  # fmt: skip

    def refusal(self) -> str | None:
        """Why a site cannot run this image (the VDU, the format, what would run it), or None."""
        if self.runnable:
            return None
        form = f"container_format {self.container_format or '-'}, disk_format " + (
            self.disk_format or "-"
        )
        if not self.container_format and not self.disk_format:
            return (f"VDU {self.vdu}: no software image (sw_image_data); Edgewise runs a VDU "
                    f"from a Debian package (bare/raw image with '{DEBIAN}' among its "
                    "supported_virtualisation_environments)")  # fmt: skip
        if self.container_format == "docker":
            what = "a container image: no container runtime is configured on Edgewise sites"
        else:
            what = "a virtual machine disk image: Edgewise sites run no hypervisor"
        return (f"VDU {self.vdu}: image {self.name!r} ({form}) is {what}; Edgewise runs a "
                f"Debian package (bare/raw with '{DEBIAN}')")  # fmt: skip


@dataclass(frozen=True)
class SoftwareTemplate:
    """What a package makes of a VNF before it is instantiated: `document` is its
    SoftwareConfig without params; `inputs` the parameters an instantiation sets."""

    document: Mapping[str, Json]
    inputs: tuple[Input, ...]

    def params(
        self, given: Mapping[str, object], current: Mapping[str, str] | None = None
    ) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Checked params (see vnfparams.check_params) and the problems (input, why)."""
        return check_params(self.inputs, given, current)

    def config(self, params: Mapping[str, str]) -> SoftwareConfig:
        """The VNF's config with `params` (checked by `params`); DocumentError otherwise."""
        return read(SoftwareConfig, {**self.document, "params": dict(params)})


@dataclass(frozen=True)
class Reading:
    """What a package's VNFD says of its VNF as software: the VDUs' images (each refused at
    instantiation unless a site can run it), the template when the VNFD is written for
    Edgewise (a VDU with a Debian package, or edgewise.* metadata), and the problems found."""

    images: tuple[VduImage, ...] = ()
    template: SoftwareTemplate | None = None
    problems: tuple[Problem, ...] = ()
    for_edgewise: bool = False
    vnfd_id: str = ""

    def refusals(self) -> list[str]:
        """Why a site cannot run this VNF, one line each (empty: it can)."""
        refused = [why for image in self.images if (why := image.refusal()) is not None]
        if refused:
            return refused
        if not self.images:
            return [f"VNFD {self.vnfd_id} has no VDU (tosca.nodes.nfv.Vdu.Compute): nothing to run"]
        if self.template is None:
            return [str(p) for p in self.problems if p.severity == "error"] or [
                f"VNFD {self.vnfd_id} is not an Edgewise software VNF"
            ]
        return []


def read_package(
    data: bytes, limits: Limits | None = None, types: TypeCache | None = None
) -> Reading:
    """The Reading of a CSAR zip (loaded here, with the type files parsed before in `types`)."""
    limits = limits or Limits()
    result = load_bytes(data, "package.zip", limits, types)
    if not result.ok:
        return Reading(problems=result.problems)
    return derive(ZipSource(data, limits), result)


def derive(source: PackageSource, result: LoadResult) -> Reading:
    """The Reading of a loaded VNFD whose VNF is not an Edgewise native function (an empty
    one for a native VNF or an NSD)."""
    found = _vnf_node(result.topologies)
    if found is None:
        return Reading()
    topology, vnf = found
    props = effective(vnf, topology)
    vnfd_id = str(props.get("descriptor_id") or "")
    vdus = [n for t in result.topologies for n in t.nodes.values() if _is(n, NFV + "Vdu.Compute")]
    images = tuple(_image(v) for v in vdus)
    metadata = _metadata(vnf)
    for_edgewise = any(i.runnable for i in images) or any(
        k.startswith("edgewise.") for k in metadata
    )
    if not for_edgewise:
        return Reading(images, vnfd_id=vnfd_id)
    log = ProblemLog()
    file = topology.file
    inputs = read_inputs(file, topology.inputs, log)
    placeholders = {i.name: "" for i in inputs}
    programs = [_program(v, _topology_of(result.topologies, v), placeholders, log) for v in vdus]
    _check_connection_points(result.topologies, vnf, file, log)
    artifacts = read_artifacts(source, file, vnf.body.get("artifacts"), placeholders, log)
    hooks = read_hooks(file, vnf.body.get("interfaces"), artifacts, log)
    document: dict[str, Json] = {
        "vnfd_id": vnfd_id,
        "vnfd_version": str(props.get("descriptor_version") or ""),
        "provider": str(props.get("provider") or ""),
        "product": str(props.get("product_name") or ""),
        "programs": [p for p, _ in programs],
        "packages": _packages(images, vdus),
        "files": [a.document for a in artifacts],
        "hooks": [h for h, _ in hooks],
        **_reload(metadata, vnf, file, log),
    }
    for key in metadata:
        if key.startswith("edgewise.") and key not in VNF_METADATA:
            log.add(metadata[key].mark(file), f"{vnf.name}.metadata.{key}", "software.metadata",
                    f"not Edgewise VNF metadata; known: {', '.join(VNF_METADATA)}")  # fmt: skip
    marks = {"programs": [m for _, m in programs], "files": [a.mark for a in artifacts],
             "hooks": [m for _, m in hooks]}  # fmt: skip
    if not log.has_errors:
        try:
            read(SoftwareConfig, {**document, "params": placeholders})
        except DocumentError as exc:
            for problem in exc.problems:
                section, index = (*problem.path, None, None)[:2]
                listed = marks.get(str(section), [])
                at = listed[index] if isinstance(index, int) and index < len(listed) else None
                log.add(at or _mark(vnf, file), problem.where, "software.config", problem.message)
    template = None if log.has_errors else SoftwareTemplate(document, inputs)
    return Reading(images, template, tuple(log.problems), for_edgewise=True, vnfd_id=vnfd_id)


def _vnf_node(topologies: tuple[Topology, ...]) -> tuple[Topology, NodeTemplate] | None:
    for topology in topologies:
        for node in topology.nodes.values():
            if _is(node, NFV + "VNF"):
                assert node.type is not None
                if any(name in TOSCA_TYPES for name in node.type.ancestors):
                    return None  # an Edgewise native function
                return topology, node
    return None


def _is(node: NodeTemplate, ancestor: str) -> bool:
    return node.type is not None and ancestor in node.type.ancestors


def _topology_of(topologies: tuple[Topology, ...], node: NodeTemplate) -> Topology:
    return next(t for t in topologies if t.nodes.get(node.name) is node)


def _mark(node: NodeTemplate, file: str) -> Mark:
    return node.mark or Mark(file)


def _metadata(node: NodeTemplate) -> dict[str, Node]:
    found = node.body.get("metadata")
    return dict(found.value) if found is not None and isinstance(found.value, dict) else {}


def _image(vdu: NodeTemplate) -> VduImage:
    data = plain(vdu.properties["sw_image_data"]) if "sw_image_data" in vdu.properties else {}
    image = data if isinstance(data, dict) else {}
    environments = image.get("supported_virtualisation_environments") or []
    return VduImage(
        vdu.name, str(image.get("name") or ""), str(image.get("version") or ""),
        str(image.get("container_format") or ""), str(image.get("disk_format") or ""),
        tuple(str(e) for e in environments) if isinstance(environments, list) else (),
    )  # fmt: skip


def _program(
    vdu: NodeTemplate, topology: Topology, params: Mapping[str, str], log: ProblemLog
) -> tuple[dict[str, Json], Mark]:
    file = topology.file
    at = _mark(vdu, file)
    path = f"topology_template.node_templates.{vdu.name}"
    props = effective(vdu, topology)
    program: dict[str, Json] = {"name": str(props.get("name") or vdu.name),
                                "command": _command(vdu, file, path, params, log)}  # fmt: skip
    metadata = _metadata(vdu)
    for key, node in metadata.items():
        value = str(node.value)
        where = f"{path}.metadata.{key}"
        if key == "edgewise.restart":
            program["restart"] = value
        elif key == "edgewise.capabilities":
            program["capabilities"] = value.split()
        elif key == "edgewise.cpu_millis":
            program["cpu_millis"] = int(value) if value.isdigit() else value
        elif key == "edgewise.ready":
            ready = _ready(value, node.mark(file), where, params, log)
            if ready is not None:
                program["ready"] = ready
        elif key.startswith("edgewise.") and key not in VDU_METADATA:
            log.add(node.mark(file), where, "software.metadata",
                    f"not Edgewise VDU metadata; known: {', '.join(VDU_METADATA)}")  # fmt: skip
    compute = vdu.capabilities.get("virtual_compute", {})
    cpu = plain(compute["virtual_cpu"]) if "virtual_cpu" in compute else None
    count = cpu.get("num_virtual_cpu") if isinstance(cpu, dict) else None
    if "cpu_millis" not in program and isinstance(count, int | float) and count:
        program["cpu_millis"] = int(count * 1000)
    memory = plain(compute["virtual_memory"]) if "virtual_memory" in compute else None
    size = memory.get("virtual_mem_size") if isinstance(memory, dict) else None
    scaled = parse_scalar("scalar-unit.size", size)
    if scaled:
        program["memory_mib"] = math.ceil(scaled / 2**20)
    return program, at


def _command(
    vdu: NodeTemplate, file: str, path: str, params: Mapping[str, str], log: ProblemLog
) -> list[Json]:
    """boot_data as argv: a string split like a shell would, or a list of strings."""
    node = vdu.properties.get("boot_data")
    where = f"{path}.properties.boot_data"
    if node is None:
        log.add(
            _mark(vdu, file),
            where,
            "software.boot-data",
            "missing: boot_data is the command the VDU runs (a string or a list of strings)",
        )
        return []  # fmt: skip
    argv: list[str] = []
    if isinstance(node.value, str):
        try:
            argv = shlex.split(node.value)
        except ValueError as exc:
            log.add(node.mark(file), where, "software.boot-data", f"cannot be split: {exc}")
    elif isinstance(node.value, list) and all(
        isinstance(a.value, str | int | float) and not isinstance(a.value, bool) for a in node.value
    ):
        argv = [str(a.value) for a in node.value]
    else:
        log.add(node.mark(file), where, "software.boot-data",
                "expected the command as a string or a list of strings")  # fmt: skip
        return []
    _check_names(argv, node.mark(file), where, params, log)
    return list(argv)


def _check_names(
    texts: list[str], mark: Mark, where: str, params: Mapping[str, str], log: ProblemLog
) -> None:
    for text in texts:
        try:
            bad = unknown_names(template_names(text), params)
        except ValueError as exc:
            log.add(mark, where, "software.template", f"{text!r}: {exc}")
            continue
        for name in bad:
            log.add(mark, where, "software.template", unknown_message(name))


def _ready(
    value: str, mark: Mark, where: str, params: Mapping[str, str], log: ProblemLog
) -> dict[str, Json] | None:
    """`tcp:179`, `udp:53` or `command:<command line>`."""
    kind, _, rest = value.partition(":")
    if kind in ("tcp", "udp") and rest.isdigit():
        return {"kind": kind, "port": int(rest)}
    if kind == "command" and rest.strip():
        try:
            argv = shlex.split(rest)
        except ValueError as exc:
            log.add(mark, where, "software.ready", f"cannot be split: {exc}")
            return None
        _check_names(argv, mark, where, params, log)
        return {"kind": "command", "command": list(argv)}
    log.add(mark, where, "software.ready",
            f"{value!r}: expected tcp:<port>, udp:<port> or command:<command line>")  # fmt: skip
    return None


def _packages(images: tuple[VduImage, ...], vdus: list[NodeTemplate]) -> list[Json]:
    """The Debian packages: each runnable VDU's image, then those its metadata adds."""
    wanted: dict[str, str | None] = {}
    for image in images:
        if image.runnable and image.name:
            wanted.setdefault(image.name, None if image.version in ("", "any") else image.version)
    for vdu in vdus:
        extra = _metadata(vdu).get("edgewise.packages")
        if extra is not None:
            for name in str(extra.value).split():
                wanted.setdefault(name, None)
    return [{"name": n} | ({"version": v} if v else {}) for n, v in wanted.items()]


def _reload(metadata: dict[str, Node], vnf: NodeTemplate, file: str,
            log: ProblemLog) -> dict[str, Json]:  # fmt: skip
    node = metadata.get("edgewise.reload")
    value = str(node.value) if node is not None else "restart"
    if value in ("restart", "script"):
        return {"reload": value}
    kind, _, signal = value.partition(":")
    if kind == "signal" and signal in SIGNALS:
        return {"reload": "signal", "reload_signal": signal}
    log.add(node.mark(file) if node is not None else _mark(vnf, file),
            f"{vnf.name}.metadata.edgewise.reload", "software.reload",
            f"{value!r}: restart, script or signal:<{'|'.join(SIGNALS)}>")  # fmt: skip
    return {}


def _check_connection_points(
    topologies: tuple[Topology, ...], vnf: NodeTemplate, file: str, log: ProblemLog
) -> None:
    orders = set()
    for topology in topologies:
        for node in topology.nodes.values():
            if _is(node, NFV + "VduCp") and "order" in node.properties:
                orders.add(plain(node.properties["order"]))
    for order, side in ((0, "LAN (${lan_if})"), (1, "WAN (${wan_if})")):
        if order not in orders:
            log.add(
                _mark(vnf, file),
                f"{vnf.name}",
                "software.connection-point",
                f"no VduCp of order {order}: the connection point of order {order} faces "
                f"the {side}; a site wires a VNF's two legs to the CPs of order 0 and 1",
            )
