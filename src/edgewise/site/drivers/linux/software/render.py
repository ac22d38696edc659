"""Rendering a third-party VNF (pure): SoftwareConfig + VnfFacts -> the files under its root,
each program's argv, readiness and limits, the hooks' argv, and the environment they all get.

Every file's SHA-256 is checked against the content before anything is rendered; templates are
`string.Template` (substitution only). The environment holds every variable in upper case
(`LAN_IF`, `PARAM_<KEY>`) and PATH; the rendering is kept in the VNF's state file as JSON, so a
restarted controller (and terminate, which has no config) runs what was rendered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from string import Template
from typing import Any

from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.software.errors import SoftwareFileError
from edgewise.site.drivers.linux.software.facts import VnfFacts

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative to the VNF's root
    content: bytes
    mode: int


@dataclass(frozen=True)
class ReadyRun:
    kind: str  # command | tcp | udp
    argv: tuple[str, ...] = ()
    port: int | None = None
    interval_s: int = 2
    timeout_s: int = 2
    grace_s: int = 30


@dataclass(frozen=True)
class ProgramRun:
    name: str
    argv: tuple[str, ...]
    restart: str
    ready: ReadyRun | None = None
    cpu_millis: int | None = None
    memory_mib: int | None = None
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class HookRun:
    operation: str
    argv: tuple[str, ...]
    timeout_s: int


@dataclass(frozen=True)
class Rendering:
    files: tuple[RenderedFile, ...]
    programs: tuple[ProgramRun, ...]
    hooks: tuple[HookRun, ...]
    env: dict[str, str] = field(default_factory=dict)
    reload: str = "restart"
    reload_signal: str = "HUP"

    def hook(self, operation: str) -> HookRun | None:
        return next((h for h in self.hooks if h.operation == operation), None)

    def capabilities(self) -> tuple[str, ...]:
        """What hooks and readiness commands keep: every capability of any program."""
        return tuple(sorted({c for p in self.programs for c in p.capabilities}))

    def own_dirs(self) -> list[str]:
        """The `etc/<x>` and `var/lib/<x>` directories its files live in (bound over the
        host's), sorted."""
        found = set()
        for file in self.files:
            parts = file.path.split("/")
            if parts[0] == "etc" and len(parts) > 2:
                found.add("/".join(parts[:2]))
            elif parts[:2] == ["var", "lib"] and len(parts) > 3:
                found.add("/".join(parts[:3]))
        return sorted(found)

    def to_json(self) -> dict[str, Any]:
        """What the state file keeps (files by path and mode: their content is on disk)."""
        return {
            "files": [[f.path, f.mode] for f in self.files],
            "programs": [_program_json(p) for p in self.programs],
            "hooks": [[h.operation, list(h.argv), h.timeout_s] for h in self.hooks],
            "env": self.env,
            "reload": self.reload,
            "reload_signal": self.reload_signal,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Rendering:
        return cls(
            files=tuple(RenderedFile(str(p), b"", int(m)) for p, m in value["files"]),
            programs=tuple(_program_of(p) for p in value["programs"]),
            hooks=tuple(HookRun(str(o), tuple(a), int(t)) for o, a, t in value["hooks"]),
            env={str(k): str(v) for k, v in value["env"].items()},
            reload=str(value["reload"]),
            reload_signal=str(value["reload_signal"]),
        )


def environment(variables: dict[str, str]) -> dict[str, str]:
    """Every variable in upper case, with PATH (programs, readiness commands, hooks)."""
    return {"PATH": PATH, **{name.upper(): value for name, value in variables.items()}}


def render(config: SoftwareConfig, facts: VnfFacts) -> Rendering:
    """The VNF's files and commands; SoftwareFileError naming the file or command that fails."""
    for file in config.files:
        digest = hashlib.sha256(file.content.encode()).hexdigest()
        if digest != file.sha256:
            raise SoftwareFileError(
                f"file {file.path}: its SHA-256 is {digest}, the package says {file.sha256}: "
                "not rendered"
            )
    variables = {**facts.variables(), **config.variables()}
    files = tuple(
        RenderedFile(
            f.path,
            (fill(f.content, variables, f"file {f.path}") if f.template else f.content).encode(),
            f.mode,
        )
        for f in config.files
    )
    programs = tuple(
        ProgramRun(
            p.name,
            fill_all(p.command, variables, f"program {p.name}"),
            p.restart,
            None
            if p.ready is None
            else ReadyRun(
                p.ready.kind,
                fill_all(p.ready.command, variables, f"program {p.name}'s readiness"),
                p.ready.port,
                p.ready.interval_s,
                p.ready.timeout_s,
                p.ready.grace_s,
            ),
            p.cpu_millis,
            p.memory_mib,
            tuple(p.capabilities),
        )
        for p in config.programs
    )
    hooks = tuple(
        HookRun(h.operation, fill_all(h.command, variables, f"hook {h.operation}"), h.timeout_s)
        for h in config.hooks
    )
    return Rendering(files, programs, hooks, environment(variables), config.reload,
                     config.reload_signal)  # fmt: skip


def fill(text: str, variables: dict[str, str], where: str) -> str:
    try:
        return Template(text).substitute(variables)
    except KeyError as exc:
        raise SoftwareFileError(f"{where}: names ${{{exc.args[0]}}}, which the site does not "
                                "know") from exc  # fmt: skip
    except ValueError as exc:
        raise SoftwareFileError(f"{where}: {exc}") from exc


def fill_all(texts: tuple[str, ...], variables: dict[str, str], where: str) -> tuple[str, ...]:
    return tuple(fill(text, variables, where) for text in texts)


def _program_json(program: ProgramRun) -> dict[str, Any]:
    ready = program.ready
    return {
        "name": program.name,
        "argv": list(program.argv),
        "restart": program.restart,
        "ready": None
        if ready is None
        else [
            ready.kind,
            list(ready.argv),
            ready.port,
            ready.interval_s,
            ready.timeout_s,
            ready.grace_s,
        ],
        "cpu_millis": program.cpu_millis,
        "memory_mib": program.memory_mib,
        "capabilities": list(program.capabilities),
    }


def _program_of(value: dict[str, Any]) -> ProgramRun:
    ready = value["ready"]
    return ProgramRun(
        str(value["name"]),
        tuple(value["argv"]),
        str(value["restart"]),
        None
        if ready is None
        else ReadyRun(ready[0], tuple(ready[1]), ready[2], ready[3], ready[4], ready[5]),
        value["cpu_millis"],
        value["memory_mib"],
        tuple(value["capabilities"]),
    )
