"""A throwaway network lab for the linux driver's tests: site namespaces, hosts, real traffic.

Everything lives in namespaces named with a random prefix; `Lab.close` deletes them all. Hosts
are set up with `ip` (tests may shell out; the driver may not), and traffic is small Python
programs run inside a namespace with `ip netns exec`.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from edgewise.site.drivers.linux import LanAttachment, SiteNetwork
from edgewise.site.drivers.linux.processes import proc_start_time

NETNS = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
INTERNET = "203.0.113.1/24"  # the WAN side's address towards the internet host
INTERNET_HOST = "203.0.113.2"
INTERNET_GATEWAY = "203.0.113.1"

SERVER = """
import socket, sys, threading
def echo(c, peer):
    try:
        c.sendall(peer[0].encode() + b"\\n")
        while data := c.recv(100):
            c.sendall(data)
    except OSError:
        pass  # a probe that gave up
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
while True:
    threading.Thread(target=echo, args=s.accept(), daemon=True).start()
"""

CLIENT = """
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    s.settimeout(float(sys.argv[3]))
    print(s.recv(100).decode().strip() or "connected")
except OSError as exc:
    print("failed", exc)
"""

HOLD = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
print(s.recv(100).decode().strip(), flush=True)
for line in sys.stdin:
    try:
        s.sendall(b"x")
        print("echo" if s.recv(100) == b"x" else "closed", flush=True)
    except OSError as exc:
        print("lost", exc, flush=True)
"""

PING = """
import socket, struct, sys, time
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(float(sys.argv[2]))
ident = 0x4557
packet = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"edgewise"
packet = packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]
s.sendto(packet, (sys.argv[1], 0))
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        data, peer = s.recvfrom(2048)
    except OSError:
        break
    icmp = data[20:]
    if peer[0] == sys.argv[1] and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
        print("reply"); sys.exit(0)
print("timeout")
"""


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def in_ns(namespace: str, *argv: str, timeout: float = 10) -> str:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.stdout.strip()


def can_build_namespaces() -> str | None:
    """Why the linux driver's tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (the linux driver builds network namespaces)"
    if not Path("/proc/self/ns/net").exists():
        return "this kernel has no network namespaces"
    if importlib.util.find_spec("nftables") is None:
        return "python3-nftables is not visible in this environment (./run links it)"
    return None


@dataclass
class Lab:
    """A site's LAN and WAN sides, an internet host behind the WAN side, and LAN hosts."""

    prefix: str = field(default_factory=lambda: "t" + secrets.token_hex(2))
    servers: list[subprocess.Popen[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lan = f"{self.prefix}-lan"
        self.wan = f"{self.prefix}-wan"
        self.internet = f"{self.prefix}-inet"
        self.site = SiteNetwork(self.prefix, self.lan, self.wan)

    def start(self) -> None:
        for namespace in (self.lan, self.wan, self.internet):
            ip("netns", "add", namespace)
            ip("-n", namespace, "link", "set", "lo", "up")
        in_ns(self.wan, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ip("-n", self.wan, "link", "add", "uplink", "type", "veth", "peer", "name", "eth0",
           "netns", self.internet)  # fmt: skip
        ip("-n", self.wan, "addr", "add", INTERNET, "dev", "uplink")
        ip("-n", self.wan, "link", "set", "uplink", "up")
        ip("-n", self.internet, "addr", "add", f"{INTERNET_HOST}/24", "dev", "eth0")
        ip("-n", self.internet, "link", "set", "eth0", "up")
        ip("-n", self.internet, "route", "add", "default", "via", INTERNET_GATEWAY)

    def add_host(self, name: str, attachment: LanAttachment, number: int = 10) -> LanHost:
        """A LAN host namespace plugged into a service's LAN bridge."""
        host = f"{self.prefix}-{name}"
        address = attachment.subnet.network_address + number
        ip("netns", "add", host)
        ip("-n", host, "link", "set", "lo", "up")
        lan_end = f"{self.prefix}{name}"
        ip(
            "-n",
            host,
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            lan_end,
            "netns",
            self.lan,
        )
        ip("-n", self.lan, "link", "set", f"{self.prefix}{name}", "master", attachment.bridge, "up")
        ip("-n", host, "addr", "add", f"{address}/{attachment.subnet.prefixlen}", "dev", "eth0")
        ip("-n", host, "link", "set", "eth0", "up")
        ip("-n", host, "route", "add", "default", "via", str(attachment.gateway.ip))
        return LanHost(host, str(address))

    def serve(self, namespace: str, port: int) -> None:
        """A TCP server in `namespace` that answers each connection with the peer's address."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", SERVER, str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.servers.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"

    def connect(self, namespace: str, address: str, port: int, timeout: float = 1.0) -> str:
        """What the server at `address` saw as our address, or 'failed ...'."""
        argv = (sys.executable, "-c", CLIENT, address, str(port), str(timeout))
        return in_ns(namespace, *argv, timeout=timeout + 10)

    def connect_many(self, probes: list[tuple[str, str, int]], timeout: float = 1.0) -> list[str]:
        """`connect` for many (namespace, address, port) at once, side by side."""
        procs = [
            subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, a, str(p), str(timeout)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for ns, a, p in probes
        ]
        answers = []
        for proc in procs:
            out, _ = proc.communicate(timeout=timeout + 20)
            answers.append(out.strip())
        return answers

    def ping(self, namespace: str, address: str, timeout: float = 1.0) -> bool:
        argv = (sys.executable, "-c", PING, address, str(timeout))
        return in_ns(namespace, *argv, timeout=timeout + 10) == "reply"

    @contextlib.contextmanager
    def held_connection(self, namespace: str, address: str, port: int) -> Iterator[HeldFlow]:
        """An established TCP connection kept open while the block runs."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", HOLD, address, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            yield HeldFlow(proc, proc.stdout.readline().strip())
        finally:
            stop(proc)

    def namespaces(self) -> list[str]:
        return sorted(p.name for p in NETNS.iterdir() if p.name.startswith(self.prefix))

    def links(self, namespace: str) -> list[str]:
        return sorted(
            line.split(":")[1].strip().split("@")[0]
            for line in ip("-n", namespace, "-o", "link", "show").splitlines()
        )

    def close(self) -> None:
        for proc in self.servers:
            stop(proc)
        for name in self.namespaces():
            ip("netns", "del", name, check=False)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


@dataclass(frozen=True)
class LanHost:
    namespace: str
    address: str


@dataclass
class HeldFlow:
    proc: subprocess.Popen[str]
    seen_as: str

    def still_flows(self) -> bool:
        """Sends a byte on the open connection and waits (2 s at most) for its echo."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("x\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip() == "echo"


def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def iperf_bps(
    lab: Lab, client: str, server: str, address: str, *, reverse: bool, seconds: int
) -> float:
    """Bits per second received in an iperf3 TCP run from `client` to the server in `server`."""
    port = 5201 + secrets.randbelow(2000)
    proc = subprocess.Popen(
        ["ip", "netns", "exec", server, "iperf3", "-s", "-1", "-p", str(port), "-B", address],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        argv = ["iperf3", "-c", address, "-p", str(port), "-t", str(seconds), "-J", "-O", "1"]
        for _ in range(50):  # the server needs a moment to listen
            out = in_ns(client, *argv, *(["-R"] if reverse else []), timeout=seconds + 15)
            report = json.loads(out or "{}")
            if "error" not in report and "end" in report:
                return float(report["end"]["sum_received"]["bits_per_second"])
            time.sleep(0.1)
        raise RuntimeError(f"iperf3 from {client} to {address} failed: {out[-300:]}")
    finally:
        proc.kill()
        proc.wait(timeout=5)


def enter_namespace(namespace: str) -> None:
    """Moves the calling thread into `namespace` (setns is per thread)."""
    fd = os.open(NETNS / namespace, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
    finally:
        os.close(fd)


@contextlib.contextmanager
def prober(namespace: str) -> Iterator[ThreadPoolExecutor]:
    """A thread that lives in `namespace`, for in-process TCP probes (no subprocess each)."""
    pool = ThreadPoolExecutor(1, initializer=enter_namespace, initargs=(namespace,))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


def connects(address: str, port: int, timeout: float) -> bool:
    """Whether a TCP connection to a `Lab.serve` server opens and its first line comes back."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            return bool(conn.recv(100))
    except OSError:
        return False


def probe_until(
    pool: ThreadPoolExecutor, address: str, port: int, *, within: float, attempt: float = 0.02
) -> float | None:
    """Connects from the prober's namespace until one connection works: when it did
    (time.perf_counter()), or None after `within` seconds. Each try waits `attempt` at most."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if pool.submit(connects, address, port, attempt).result():
            return time.perf_counter()
    return None


def link_up(namespace: str, name: str) -> bool:
    """Whether link `name` is up with carrier (what `ip link` shows as UP,LOWER_UP)."""
    shown = ip("-n", namespace, "-o", "link", "show", "dev", name, check=False)
    flags = shown.split("<", 1)[-1].split(">", 1)[0].split(",") if "<" in shown else []
    return "UP" in flags and "LOWER_UP" in flags


def has_ruleset(namespace: str) -> bool:
    """Whether a VNF's table (`inet edgewise`) is in `namespace`."""
    return "table inet edgewise" in in_ns(namespace, "nft", "list", "tables")


def stop_processes(runtime_dir: Path) -> None:
    """Kills the programs of process VNFs left running (they outlive drivers), by recorded pid."""
    for state in runtime_dir.glob("*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            record = json.loads(state.read_text())
            if proc_start_time(record["pid"]) == record["start_time"]:
                os.killpg(record["pid"], signal.SIGKILL)
