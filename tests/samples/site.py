"""The path a sample package takes at a real site, for the samples' traffic proofs: the package
zipped as vnfpkgm/v1 takes it, read by tosca.software, its params checked as additionalParams
are, its VNF first in a chain on the real LinuxDriver (the service's LAN bridge -> the VNF -> the
site's WAN namespace), confined, limited and supervised by the site runtime. Day 2 is a new
revision with new params, applied by the package's reload mode (restart, signal or script).

The hand-configured peers (BIRD, strongSwan, origin servers, an upstream resolver) run beyond
the WAN side, on netlab's internet host; `Peers` starts them and ends them by pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import anyio

from edgewise.model.desired import DesiredState
from edgewise.model.functions import config_document
from edgewise.site.drivers.linux import LanAttachment, LinuxDriver
from edgewise.site.drivers.linux.layout import left_end, pick_slot
from edgewise.site.drivers.linux.software.spawn import program_pid
from edgewise.site.reconcile import ChangeResult, apply_plan, plan
from edgewise.tosca.software import Reading, read_package
from tests.samples.csar import SAMPLES
from tests.samples.test_onboarding import zipped
from tests.site.drivers.chains import converge
from tests.site.drivers.netlab import Lab

SID = "svc-sample"
READY_S = 30.0  # no sample takes longer to be ready
STOP_S = 5.0


def reading(name: str) -> Reading:
    """samples/<name> as the central reads it at onboarding (no problem, nothing refused)."""
    found = read_package(zipped(SAMPLES / name))
    assert found.template is not None, [str(p) for p in found.problems]
    assert found.refusals() == []
    return found


@dataclass
class SampleVnf:
    """One sample package's VNF, alone in a service's chain, on the real linux driver."""

    lab: Lab
    driver: LinuxDriver
    package: str
    reading: Reading = field(init=False)
    params: dict[str, object] = field(default_factory=dict)
    revision: int = 0

    def __post_init__(self) -> None:
        self.reading = reading(self.package)

    @property
    def slot(self) -> int:
        return pick_slot(SID, set(), self.lab.site.slots)

    @property
    def namespace(self) -> str:
        return self.lab.site.vnf_namespace(self.slot, self.package)

    @property
    def lan_subnet(self) -> IPv4Network:
        return self.lab.site.lan_subnet(self.slot)

    @property
    def wan_address(self) -> str:
        """The VNF's WAN leg: the left end of the chain's first transit link."""
        return str(left_end(self.lab.site.transit_link(self.slot, 1)).ip)

    @property
    def base(self) -> Path:
        return self.driver.runtime_dir / "software" / self.namespace

    def next_state(self, params: Mapping[str, object]) -> DesiredState:
        """The next revision of the site's desired state, the VNF with `params` (checked)."""
        template = self.reading.template
        assert template is not None
        checked, wrong = template.params(params)
        assert wrong == [], wrong
        self.revision += 1
        config = config_document(template.config(checked))
        vnf = {"name": self.package, "function": "software", "config": config}
        service = {"id": SID, "name": SID, "tenant": "t1", "chain": [self.package], "vnfs": [vnf]}
        return DesiredState.from_document(self.revision, {"services": [service]})

    async def start(self, params: Mapping[str, object]) -> dict[str, Any]:
        """Instantiates the VNF with `params`: reconcile passes until it is ready (bounded)."""
        self.params = dict(params)
        return await self.settle(self.next_state(params))

    async def settle(self, state: DesiredState) -> dict[str, Any]:
        deadline = time.monotonic() + READY_S
        while True:
            await converge(self.driver, state)
            status = await self.status()
            if status["state"] == "ready":
                return status
            logs = {name: self.log(name)[-600:] for name in [*status.get("programs", {}), "hooks"]}
            assert time.monotonic() < deadline, f"not ready within {READY_S} s: {status} {logs}"
            await anyio.sleep(0.2)

    async def modify(self, params: Mapping[str, object]) -> list[ChangeResult]:
        """Day 2 (MODIFY_VNF_INFORMATION): a revision with new params, one reconcile pass; the
        results (a failed reload among them, not asserted here)."""
        state = self.next_state(params)
        results = await apply_plan(self.driver, plan(state, await self.driver.observe()))
        if not any(r.failed for r in results):
            self.params = dict(params)
        return results

    async def status(self) -> dict[str, Any]:
        """The VNF's `software` counters as the site reports them."""
        observed = await self.driver.observe()
        service = observed.service(SID)
        assert service is not None
        vnf = service.vnf(self.package)
        assert vnf is not None
        return dict(vnf.counters["software"])

    async def attachment(self) -> LanAttachment:
        found = await self.driver.attachment(SID)
        assert found is not None
        return found

    async def pid(self, program: str) -> int:
        """The confined program's pid (the child of its bubblewrap)."""
        bwrap = (await self.status())["programs"][program]["pid"]
        assert bwrap is not None
        found = program_pid(bwrap)
        assert found is not None
        return found

    def log(self, name: str) -> str:
        """The tail of a program's (or `hooks`') log."""
        with contextlib.suppress(OSError):
            return (self.base / "log" / f"{name}.log").read_text(errors="replace")[-2000:]
        return ""


def confined(pid: int) -> tuple[int, str]:
    """A program's effective capabilities and its cgroups, to show it runs confined, limited."""
    status = Path(f"/proc/{pid}/status").read_text()
    caps = next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:"))
    return int(caps, 16), Path(f"/proc/{pid}/cgroup").read_text()


def check_limited(status: dict[str, Any], program: str, namespace: str, pid: int) -> None:
    """The program is in its own cgroups with the VDU's limits, and holds fewer capabilities
    than root (its bubblewrap dropped the rest)."""
    caps, cgroups = confined(pid)
    everything = int(Path("/proc/self/status").read_text().split("CapEff:")[1].split()[0], 16)
    assert caps != everything, f"{program} holds every capability"
    limits = status["programs"][program]["limits"]
    if limits is not None:  # a host with the cgroup v1 controllers
        assert limits["cpu_quota_us"] > 0
        assert limits["memory_limit_bytes"] > 0
        assert f"/edgewise/{namespace}/{program}" in cgroups


@dataclass
class Peers:
    """Hand-configured programs beyond the WAN side (or on LAN hosts), ended by pid."""

    lab: Lab
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(
        self,
        namespace: str,
        argv: Sequence[str],
        name: str,
        *,
        env: Mapping[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> subprocess.Popen[bytes]:
        """`argv` in `namespace` (after `prefix`, e.g. an unshare), in a session of its own."""
        with (self.logs / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", namespace, *prefix, *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=None if env is None else dict(env),
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]
        return ""

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """Ends `process` and its session: SIGTERM, then SIGKILL after STOP_S."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # what it left in its session

    def close(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)


def run(namespace: str, *argv: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    """`argv` run to its end in `namespace`."""
    return subprocess.run(
        ["ip", "netns", "exec", namespace, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


async def eventually(what: str, check: Callable[[], object], within: float) -> None:
    """Polls `check()` (blocking, in a thread) until it is true, at most `within` seconds."""
    interval = 0.2
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await anyio.to_thread.run_sync(check):
            return
        await anyio.sleep(interval)
    raise AssertionError(f"{what}: not within {within} s")
