"""The fake kernel's third-party VNFs: a `kernel.SoftwareRunner` over sets of pretend programs
that live in the kernel (a driver made again adopts them). Rendering and the package check are
the real, pure ones; `kill` ends a program, `break_reload` makes the next reload fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.fakekernel.netlink import Refusals
from edgewise.site.drivers.linux.software import packages
from edgewise.site.drivers.linux.software.errors import ReloadFailed
from edgewise.site.drivers.linux.software.facts import VnfDirs
from edgewise.site.drivers.linux.software.health import worst
from edgewise.site.drivers.linux.software.render import render
from edgewise.site.drivers.linux.software.values import WAITING, Deployment, SoftwareStatus


@dataclass
class FakeSet:
    digest: str
    variables: dict[str, str] | None = None
    instantiated: bool = False
    alive: dict[str, bool] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    reload_error: str | None = None
    refused_digest: str | None = None
    hooks: list[str] = field(default_factory=list)  # the hooks run, in order


@dataclass
class FakeSoftwareState:
    """What the fake kernel keeps of third-party VNFs (shared by every runner made over it)."""

    sets: dict[str, FakeSet] = field(default_factory=dict)
    installed: dict[str, str] | None = None  # package -> version; None: every one is
    broken_reloads: set[str] = field(default_factory=set)

    def kill(self, namespace: str, program: str) -> None:
        self.sets[namespace].alive[program] = False


class FakeSoftware:
    def __init__(
        self,
        state: FakeSoftwareState,
        base: Path,
        inode: Callable[[str], int | None],
        refusals: Refusals,
        *,
        may_install: bool,
    ) -> None:
        self.state = state
        self.base = base
        self._inode = inode
        self._refusals = refusals
        self.may_install = may_install

    def dirs(self, namespace: str) -> VnfDirs:
        return VnfDirs(self.base / namespace)

    def prepare(self, namespace: str, config: SoftwareConfig, digest: str) -> None:
        installed = self.state.installed
        packages.ensure(config.packages, may_install=self.may_install,
                        query=lambda name: "1" if installed is None else installed.get(name),
                        install=lambda _names: None)  # fmt: skip
        self.state.sets.setdefault(namespace, FakeSet(digest))

    def start(self, deployment: Deployment) -> None:
        namespace = deployment.facts.namespace
        kept = self.state.sets.setdefault(namespace, FakeSet(deployment.digest))
        kept.digest = deployment.digest
        if not deployment.facts.wired:
            return
        if self._inode(namespace) is None:
            raise DataPlaneError(f"namespace {namespace} does not exist", code="no-namespace")
        self._refusals.check("spawn", namespace)
        rendering = render(deployment.config, deployment.facts)
        if not kept.instantiated:
            kept.hooks += [h.operation for h in rendering.hooks
                           if h.operation == "instantiate_start"]  # fmt: skip
        kept.alive = {p.name: True for p in rendering.programs}
        kept.variables = deployment.facts.variables()
        if not kept.instantiated:
            kept.instantiated = True
            kept.hooks += [h.operation for h in rendering.hooks if h.operation == "instantiate_end"]

    def started_with(self, namespace: str) -> dict[str, str] | None:
        kept = self.state.sets.get(namespace)
        return None if kept is None else kept.variables

    def reload(self, deployment: Deployment) -> None:
        namespace = deployment.facts.namespace
        kept = self.state.sets.get(namespace)
        if kept is None or kept.variables is None:
            self.start(deployment)
            return
        if kept.refused_digest == deployment.digest:
            raise ReloadFailed(kept.reload_error or "failed before")
        render(deployment.config, deployment.facts)
        if namespace in self.state.broken_reloads:
            kept.reload_error = "reload failed: broken by the test; the previous config is back"
            kept.refused_digest = deployment.digest
            raise ReloadFailed(kept.reload_error)
        kept.digest, kept.variables = deployment.digest, deployment.facts.variables()
        kept.reload_error = kept.refused_digest = None

    def heal(self, deployment: Deployment) -> None:
        namespace = deployment.facts.namespace
        kept = self.state.sets.get(namespace)
        if kept is None or kept.variables is None:
            self.start(deployment)
            return
        for name, alive in kept.alive.items():
            if not alive:
                kept.restarts[name] = kept.restarts.get(name, 0) + 1
            kept.alive[name] = True
        kept.hooks += ["heal_start", "heal_end"]

    def status(self, namespace: str) -> SoftwareStatus | None:
        kept = self.state.sets.get(namespace)
        if kept is None:
            return None
        if kept.variables is None:
            return SoftwareStatus("starting", WAITING, reload_error=kept.reload_error)
        programs = {
            name: {"state": "ready" if alive else "failed", "restarts": kept.restarts.get(name, 0)}
            for name, alive in kept.alive.items()
        }
        state = worst([str(p["state"]) for p in programs.values()])
        return SoftwareStatus(state, "", not all(kept.alive.values()), programs, kept.reload_error)

    def remove(self, namespace: str) -> bool:
        return self.state.sets.pop(namespace, None) is not None

    def running(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        """Nothing to reap: the sets stay, to be adopted."""
