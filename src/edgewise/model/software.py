"""Third-party VNFs from SOL004 packages, as the desired state carries them: the programs of
the VNF's VDUs, the Debian packages they come from, the package's files (configuration
templates, lifecycle scripts), readiness probes, resource limits and how a configuration
change is applied.

The central builds this from the VNFD of an onboarded package and the instantiation's
`additionalParams` (tosca/software.py); the site renders the templates with the addresses only
it knows (the TEMPLATE_VARIABLES below), confines and supervises the programs inside the VNF's
namespace. Templates are `string.Template` text (`${name}`): substitution only, no logic, so a
package can run code at a site only through its declared, confined programs and scripts.
Programs, readiness commands and hooks also get every variable in their environment, named in
upper case (`LAN_IF`, `PARAM_<KEY>`), so scripts need not be templates.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from string import Template
from typing import Final

from edgewise.model.fields import Broken, Record, Section, prop, unique
from edgewise.model.kinds import PORT, Boolean, Choice, Integer, ListOf, MapOf, Text
from edgewise.model.names import NAME

MAX_PROGRAMS: Final = 16  # VDUs of one VNF
MAX_FILES: Final = 64
MAX_FILE_BYTES: Final = 64 * 1024
MAX_FILES_BYTES: Final = 256 * 1024  # all files of one VNF
MAX_PACKAGES: Final = 32
MAX_PARAMS: Final = 128
MAX_ARGS: Final = 64
MAX_TIMEOUT_S: Final = 600

# The Vnflcm operations (SOL001 tosca.interfaces.nfv.Vnflcm) a package may implement with a
# script, in the order a site runs them around its own work.
HOOKS: Final = (
    "instantiate_start",
    "instantiate_end",
    "modify_information_start",
    "modify_information_end",
    "heal_start",
    "heal_end",
    "terminate_start",
    "terminate_end",
)
RELOAD_MODES: Final = ("restart", "signal", "script")
SIGNALS: Final = ("HUP", "USR1", "USR2", "TERM")
# Capabilities a program may keep (everything else is dropped); networking software needs these.
CAPABILITIES: Final = (
    "NET_ADMIN",
    "NET_RAW",
    "NET_BIND_SERVICE",
    "SETUID",
    "SETGID",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "KILL",
    "IPC_LOCK",
    "SYS_RESOURCE",
    "SYS_ADMIN",  # FRR's daemons refuse to start without it (their privilege set asks for it)
)

# What a template may name, with what the site puts there. `${param_<key>}` names an entry of
# `params` (the instantiation's additionalParams for this VNF).
TEMPLATE_VARIABLES: Final[Mapping[str, str]] = {
    "vnf": "the VNF's name in its service",
    "service": "the service's id",
    "root": "the directory the package's files are rendered into (absolute)",
    "run": "the VNF's private runtime directory (sockets, pid files; absolute)",
    "namespace": "the VNF's network namespace",
    "lan_if": "the interface of the connection point of order 0 (facing the LAN)",
    "lan_address": "its address, without prefix length",
    "lan_peer": "the address of the hop on the LAN side of it",
    "wan_if": "the interface of the connection point of order 1 (facing the WAN)",
    "wan_address": "its address, without prefix length",
    "wan_peer": "the address of the hop on the WAN side of it (the next hop out)",
    "lan_subnet": "the service's LAN subnet (e.g. 172.16.3.0/24)",
    "lan_gateway": "the LAN hosts' gateway (the first VNF's LAN address)",
    "lan_prefixlen": "the LAN subnet's prefix length",
}
PARAM_PREFIX: Final = "param_"
PARAM_KEY: Final = Text(64, r"[A-Za-z_][A-Za-z0-9_]*", "a parameter name (letters, digits, _)")
PACKAGE_NAME: Final = Text(128, r"[a-z0-9][a-z0-9+.-]+", "a Debian package name")
PACKAGE_VERSION: Final = Text(128, r"[A-Za-z0-9.+~:-]+", "a Debian version")
SHA256: Final = Text(64, r"[0-9a-f]{64}", "a SHA-256 digest in lowercase hex")
RELATIVE_PATH: Final = Text(
    255, r"[A-Za-z0-9_.+-][A-Za-z0-9_./+-]*", "a relative path of letters, digits, _ . / + -"
)
ARG: Final = Text(4096, what="a string", blank=True)


def template_names(text: str) -> set[str]:
    """The variables a template names (`${x}` and `$x`); an invalid placeholder raises
    ValueError saying where."""
    names: set[str] = set()
    for match in Template.pattern.finditer(text):
        if match.group("invalid") is not None:
            line = text.count("\n", 0, match.start()) + 1
            raise ValueError(f"line {line}: a '$' that starts no ${{name}} (write $$ for '$')")
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return names


def unknown_names(names: set[str], params: Mapping[str, str] | None = None) -> list[str]:
    """The names a template may not use: neither a TEMPLATE_VARIABLE nor `param_<key>` of a
    declared parameter (any `param_*` is accepted when `params` is None)."""
    bad = []
    for name in sorted(names):
        if name in TEMPLATE_VARIABLES:
            continue
        if name.startswith(PARAM_PREFIX) and (
            params is None or name[len(PARAM_PREFIX) :] in params
        ):
            continue
        bad.append(name)
    return bad


@dataclass(frozen=True)
class PackageFile(Section):
    """A file of the package, put under the VNF's `${root}` at `path`: a configuration
    template (rendered at the site) or a script or data file (copied as it is)."""

    path: str = prop(RELATIVE_PATH, required=True)
    content: str = prop(Text(MAX_FILE_BYTES, what="the file's text", blank=True), required=True)
    sha256: str = prop(SHA256, required=True)  # of `content` as the package carries it
    mode: int = prop(Integer(0o400, 0o755, "a file mode (0o400 to 0o755)"), default=0o644)
    template: bool = prop(Boolean(), default=False)

    def problems(self) -> Iterator[Broken]:
        normal = posixpath.normpath(self.path)
        if normal != self.path or normal.startswith("../") or normal == "..":
            yield Broken(("path",), f"{self.path!r} is not a plain relative path (no '..', no "
                         "'//', no trailing '/')")  # fmt: skip
        if hashlib.sha256(self.content.encode()).hexdigest() != self.sha256:
            yield Broken(("sha256",), "does not match the content: the file changed on its way")


@dataclass(frozen=True)
class Readiness(Section):
    """How the site tells that a program serves: a command that exits 0 (argv, templates
    allowed, run in the VNF's confinement), or a TCP port that accepts / a UDP port bound in
    the VNF's namespace."""

    kind: str = prop(Choice(("command", "tcp", "udp")), required=True)
    command: tuple[str, ...] = prop(ListOf(ARG, MAX_ARGS), factory=tuple)
    port: int | None = prop(PORT)
    interval_s: int = prop(Integer(1, 300, "seconds"), default=2)
    timeout_s: int = prop(Integer(1, 60, "seconds"), default=2)
    grace_s: int = prop(Integer(0, MAX_TIMEOUT_S, "seconds"), default=30)  # to first ready

    def problems(self) -> Iterator[Broken]:
        if self.kind == "command" and not self.command:
            yield Broken(("command",), "a command readiness probe needs a command", "missing")
        if self.kind != "command" and self.port is None:
            yield Broken(("port",), f"a {self.kind} readiness probe needs a port", "missing")


@dataclass(frozen=True)
class Program(Section):
    """One VDU: a program run in the foreground (argv; each a template), supervised with
    restarts and back-off, limited to its VDU's virtual compute."""

    name: str = prop(NAME, required=True)  # the VDU's name
    command: tuple[str, ...] = prop(ListOf(ARG, MAX_ARGS), required=True)
    restart: str = prop(Choice(("always", "on-failure", "never")), default="always")
    ready: Readiness | None = prop(Record(Readiness))
    cpu_millis: int | None = prop(Integer(10, 64_000, "thousandths of a CPU"))
    memory_mib: int | None = prop(Integer(4, 65_536, "MiB"))
    capabilities: tuple[str, ...] = prop(ListOf(Choice(CAPABILITIES), len(CAPABILITIES)),
                                         factory=tuple)  # fmt: skip

    def problems(self) -> Iterator[Broken]:
        if not self.command or not self.command[0].strip():
            yield Broken(("command",), "a program needs a command (argv[0])", "missing")


@dataclass(frozen=True)
class Hook(Section):
    """A lifecycle operation the package implements with a script (argv; templates allowed)."""

    operation: str = prop(Choice(HOOKS), required=True)
    command: tuple[str, ...] = prop(ListOf(ARG, MAX_ARGS), required=True)
    timeout_s: int = prop(Integer(1, MAX_TIMEOUT_S, "seconds"), default=60)


@dataclass(frozen=True)
class DebianPackage(Section):
    """A Debian package the programs come from (a software image of the VNFD), and the
    version the package asks for (None: any)."""

    name: str = prop(PACKAGE_NAME, required=True)
    version: str | None = prop(PACKAGE_VERSION)


@dataclass(frozen=True)
class SoftwareConfig(Section):
    """A third-party VNF: what its package is, what it runs and with what."""

    vnfd_id: str = prop(Text(256), required=True)
    vnfd_version: str = prop(Text(64), required=True)
    provider: str = prop(Text(256), required=True)
    product: str = prop(Text(256), required=True)
    programs: tuple[Program, ...] = prop(ListOf(Record(Program), MAX_PROGRAMS), required=True)
    packages: tuple[DebianPackage, ...] = prop(ListOf(Record(DebianPackage), MAX_PACKAGES),
                                               factory=tuple)  # fmt: skip
    files: tuple[PackageFile, ...] = prop(ListOf(Record(PackageFile), MAX_FILES), factory=tuple)
    hooks: tuple[Hook, ...] = prop(ListOf(Record(Hook), len(HOOKS)), factory=tuple)
    params: tuple[tuple[str, str], ...] = prop(MapOf(PARAM_KEY, ARG, MAX_PARAMS), factory=tuple)
    reload: str = prop(Choice(RELOAD_MODES), default="restart")
    reload_signal: str = prop(Choice(SIGNALS), default="HUP")
    # bumped by each heal of this VNF from the central: the site restarts the set (heal hooks
    # around it) even when every program looks fine; nothing else is reloaded
    heal: int = prop(Integer(0, 2**31 - 1, "a count of heals"), default=0)

    def problems(self) -> Iterator[Broken]:
        if not self.programs:
            yield Broken(("programs",), "a VNF runs at least one program (VDU)", "missing")
        yield from unique(self.programs, lambda p: p.name, "programs")
        yield from unique(self.files, lambda f: f.path, "files")
        yield from unique(self.hooks, lambda h: h.operation, "hooks")
        yield from unique(self.packages, lambda p: p.name, "packages")
        total = sum(len(f.content.encode()) for f in self.files)
        if total > MAX_FILES_BYTES:
            yield Broken(("files",), f"{total} bytes in all: at most {MAX_FILES_BYTES}", "limit")
        if self.reload == "script" and "modify_information_end" not in {
            h.operation for h in self.hooks
        }:
            yield Broken(("reload",), "reload by script needs a modify_information_end hook",
                         "missing")  # fmt: skip
        params = dict(self.params)
        for index, file in enumerate(self.files):
            if file.template:
                yield from _names(("files", index, "content"), [file.content], params)
        for index, program in enumerate(self.programs):
            yield from _names(("programs", index, "command"), program.command, params)
            if program.ready is not None:
                yield from _names(("programs", index, "ready", "command"),
                                  program.ready.command, params)  # fmt: skip
        for index, hook in enumerate(self.hooks):
            yield from _names(("hooks", index, "command"), hook.command, params)

    def settled(self) -> SoftwareConfig:
        """This config without its heal count: what tells a heal from a change."""
        return replace(self, heal=0)

    def variables(self) -> dict[str, str]:
        """The `param_<key>` variables of this VNF's parameters."""
        return {PARAM_PREFIX + key: value for key, value in self.params}


def _names(
    where: tuple[str | int, ...], texts: tuple[str, ...] | list[str], params: Mapping[str, str]
) -> Iterator[Broken]:
    for text in texts:
        try:
            bad = unknown_names(template_names(text), params)
        except ValueError as exc:
            yield Broken(where, str(exc))
            continue
        if bad:
            yield Broken(where, "names no template variable and no parameter of this VNF: "
                         + ", ".join(bad))  # fmt: skip
