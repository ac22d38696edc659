"""The lab the sample packages are proven in: a LAN host, the VNF and a WAN peer, each a
network namespace named with a random prefix, wired LAN host - VNF - WAN peer by veth pairs.

The hand-configured peers (BIRD, strongSwan, origin servers, a DNS upstream) are started with
`spawn` and, like everything in the namespaces, ended by pid in `close`, which then deletes the
namespaces.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LAN_SUBNET = "172.16.3.0/24"
LAN_VNF = "172.16.3.1"  # the VNF's LAN leg: the LAN hosts' gateway
LAN_HOST = "172.16.3.10"
WAN_VNF = "192.0.2.1"
WAN_PEER = "192.0.2.2"
PREFIXLEN = 24
STOP_S = 5.0
# runs argv with the runtime directory $0 over /run in a mount namespace of its own, as the
# site's confinement does: charon's /run/charon.pid is fixed, so two charons need two /runs
PRIVATE_RUN = 'mount --bind "$0" /run && exec "$@"'


def why_not() -> str | None:
    """Why the lab cannot be built here, or None."""
    if os.geteuid() != 0:
        return "needs root (the lab builds network namespaces)"
    if not Path("/proc/self/ns/net").exists():
        return "this kernel has no network namespaces"
    for tool in ("ip", "unshare", "ss"):
        if shutil.which(tool) is None:
            return f"needs {tool} (iproute2, util-linux)"
    return None


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def in_namespace(namespace: str, argv: Sequence[str], run_dir: Path | None = None) -> list[str]:
    """The argv that runs `argv` in `namespace` (with `run_dir` over /run when given)."""
    wrapped = list(argv)
    if run_dir is not None:
        wrapped = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            PRIVATE_RUN,
            str(run_dir),
            *wrapped,
        ]
    return ["ip", "netns", "exec", namespace, *wrapped]


@dataclass
class Lab:
    """Three namespaces: `lan` (a host at LAN_HOST), `vnf` (legs lan0 and wan0) and `wan` (the
    peer at WAN_PEER); forwarding on in `vnf` and `wan`."""

    prefix: str = field(default_factory=lambda: "vp" + secrets.token_hex(3))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lan = f"{self.prefix}-lan"
        self.vnf = f"{self.prefix}-vnf"
        self.wan = f"{self.prefix}-wan"

    def start(self) -> None:
        for namespace in (self.lan, self.vnf, self.wan):
            ip("netns", "add", namespace)
            ip("-n", namespace, "link", "set", "lo", "up")
        for leg, other, address, peer in (
            ("lan0", self.lan, LAN_VNF, LAN_HOST),
            ("wan0", self.wan, WAN_VNF, WAN_PEER),
        ):
            ip(
                "-n",
                self.vnf,
                "link",
                "add",
                leg,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                other,
            )
            ip("-n", self.vnf, "addr", "add", f"{address}/{PREFIXLEN}", "dev", leg)
            ip("-n", self.vnf, "link", "set", leg, "up")
            ip("-n", other, "addr", "add", f"{peer}/{PREFIXLEN}", "dev", "eth0")
            ip("-n", other, "link", "set", "eth0", "up")
        ip("-n", self.lan, "route", "add", "default", "via", LAN_VNF)
        for namespace in (self.vnf, self.wan):
            self.run(namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def variables(self, vnf: str, root: Path, run_dir: Path) -> dict[str, str]:
        """The template variables a site would fill in for a VNF on the `vnf` namespace."""
        return {
            "vnf": vnf,
            "service": f"{self.prefix}-service",
            "root": str(root),
            "run": str(run_dir),
            "namespace": self.vnf,
            "lan_if": "lan0",
            "lan_address": LAN_VNF,
            "lan_peer": LAN_HOST,
            "wan_if": "wan0",
            "wan_address": WAN_VNF,
            "wan_peer": WAN_PEER,
            "lan_subnet": LAN_SUBNET,
            "lan_gateway": LAN_VNF,
            "lan_prefixlen": str(PREFIXLEN),
        }

    def run(
        self, namespace: str, *argv: str, timeout: float = 10, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`argv` run to its end in `namespace`."""
        return subprocess.run(
            in_namespace(namespace, argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )

    def spawn(
        self,
        namespace: str,
        argv: Sequence[str],
        log: Path,
        *,
        run_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """`argv` started in `namespace` in a session of its own, output to `log`; ended by
        `stop` or `close`."""
        with log.open("ab") as out:
            process = subprocess.Popen(
                in_namespace(namespace, argv, run_dir),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """Ends `process` and its process group: SIGTERM, then SIGKILL after STOP_S."""
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
            os.killpg(process.pid, signal.SIGKILL)  # what it left in its group

    def close(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)
        for namespace in (self.lan, self.vnf, self.wan):
            # anything still in the lab's namespaces (a helper that left the group) by pid
            pids = subprocess.run(
                ["ip", "netns", "pids", namespace],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(
                ["ip", "netns", "del", namespace], capture_output=True, timeout=10, check=False
            )


def wait_for(what: str, check: Callable[[], object], timeout: float, interval: float = 0.2) -> None:
    """Polls `check()` until it is true, at most `timeout` seconds; raises naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")
