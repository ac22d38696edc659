"""The demo's stand-in for the world around a site: namespaces for its LAN and WAN sides, a LAN
host, an internet host with small TCP servers, and the probes that send real traffic.

Set-up uses the `ip` command (iproute2, which `./run` installs): this is scaffolding around
the site, not the site's data plane — the site controller's linux driver builds that itself.
Every name starts with the site's prefix; `close` removes every namespace with that prefix
(the services' VNF namespaces included) and ends the servers it started, by PID.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path

from edgewise.lab.errors import LabError

NETNS = Path("/run/netns")
LAN_PREFIX = IPv4Network("192.168.10.0/24")  # the vCPE sample's `lan_prefix` input default
LAN_HOST = IPv4Interface("192.168.10.10/24")
LAN_SERVER = IPv4Interface("192.168.10.20/24")  # the sample's port-forward target
UPLINK = IPv4Interface("203.0.113.1/24")  # the site's WAN side towards the internet host
INTERNET_HOST = "203.0.113.2"
ALLOWED_PORT = 80  # the sample's firewall lets TCP 80 out from the LAN
BLOCKED_PORT = 25  # ... and drops everything not listed, such as SMTP
FORWARDED_PORT = 8080  # the sample's NAT forwards it to LAN_SERVER:80
PAYLOAD = 256 * 1024

SERVER = """
import socket, sys, threading
def serve(c, peer):
    with c:
        c.sendall(peer[0].encode() + b"\\n")
        total = 0
        while data := c.recv(65536):
            total += len(data)
        c.sendall(str(total).encode())
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
while True:
    threading.Thread(target=serve, args=s.accept(), daemon=True).start()
"""

CLIENT = """
import socket, sys
address, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
try:
    s = socket.create_connection((address, port), timeout=1.5)
    s.settimeout(3)
    peer = s.makefile().readline().strip()
    s.sendall(b"x" * size)
    s.shutdown(socket.SHUT_WR)
    echoed = s.recv(100).decode()
    print("ok", peer, echoed)
except OSError as exc:
    print("failed", type(exc).__name__)
"""


def unavailable() -> str | None:
    """Why this machine cannot run the linux demo, or None when it can."""
    if os.geteuid() != 0:
        return "not running as root"
    if not Path("/proc/self/ns/net").exists():
        return "this kernel has no network namespaces"
    if importlib.util.find_spec("nftables") is None:
        return "the nftables Python module is not installed (./run installs python3-nftables)"
    for tool in ("ip", "nft"):
        if not any((Path(d) / tool).exists() for d in ("/usr/sbin", "/sbin", "/usr/bin")):
            return f"the {tool} command is missing"
    return None


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)  # noqa: S603, S607
    if done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass(frozen=True)
class Probe:
    """One flow's outcome: did it connect, what source the far end saw, bytes it received."""

    passed: bool
    seen_source: str = ""
    bytes_received: int = 0

    @classmethod
    def parse(cls, line: str) -> Probe:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ok" and parts[2].isdigit():
            return cls(passed=True, seen_source=parts[1], bytes_received=int(parts[2]))
        return cls(passed=False)


@dataclass
class SiteLab:
    """Namespaces `<prefix>-lan`, `-wan`, `-inet` (the internet host), `-host` and `-srv`
    (LAN hosts), and the servers running in them."""

    prefix: str
    servers: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def lan(self) -> str:
        return f"{self.prefix}-lan"

    @property
    def wan(self) -> str:
        return f"{self.prefix}-wan"

    @property
    def internet(self) -> str:
        return f"{self.prefix}-inet"

    @property
    def host(self) -> str:
        return f"{self.prefix}-host"

    @property
    def lan_server(self) -> str:
        return f"{self.prefix}-srv"

    def build(self) -> None:
        """The site's LAN and WAN sides and the internet host behind the WAN side."""
        for namespace in (self.lan, self.wan, self.internet):
            ip("netns", "add", namespace)
            ip("-n", namespace, "link", "set", "lo", "up")
        ip("netns", "exec", self.wan, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ip("-n", self.wan, "link", "add", "uplink", "type", "veth", "peer", "name", "eth0",
           "netns", self.internet)  # fmt: skip
        ip("-n", self.wan, "addr", "add", str(UPLINK), "dev", "uplink")
        ip("-n", self.wan, "link", "set", "uplink", "up")
        ip("-n", self.internet, "addr", "add", f"{INTERNET_HOST}/24", "dev", "eth0")
        ip("-n", self.internet, "link", "set", "eth0", "up")
        ip("-n", self.internet, "route", "add", "default", "via", str(UPLINK.ip))

    def plug_hosts(self, bridge: str, gateway: str) -> None:
        """A LAN host and a LAN server on the service's LAN bridge (which the driver built)."""
        for name, address, end in ((self.host, LAN_HOST, "h"), (self.lan_server, LAN_SERVER, "s")):
            ip("netns", "add", name)
            ip("-n", name, "link", "set", "lo", "up")
            ip("-n", name, "link", "add", "eth0", "type", "veth", "peer", "name",
               f"{self.prefix}{end}", "netns", self.lan)  # fmt: skip
            ip("-n", self.lan, "link", "set", f"{self.prefix}{end}", "master", bridge, "up")
            ip("-n", name, "addr", "add", str(address), "dev", "eth0")
            ip("-n", name, "link", "set", "eth0", "up")
            ip("-n", name, "route", "add", "default", "via", gateway)

    def serve(self, namespace: str, *ports: int) -> None:
        for port in ports:
            proc = subprocess.Popen(  # noqa: S603 - our interpreter, our code
                ["ip", "netns", "exec", namespace, sys.executable, "-c", SERVER, str(port)],  # noqa: S607
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self.servers.append(proc)
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the test server on port {port} in {namespace} did not start")

    def probe(self, namespace: str, address: str, port: int, size: int = PAYLOAD) -> Probe:
        argv = [sys.executable, "-c", CLIENT, address, str(port), str(size)]
        done = subprocess.run(  # noqa: S603
            ["ip", "netns", "exec", namespace, *argv],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return Probe.parse(done.stdout.strip())

    def close(self) -> None:
        for proc in self.servers:
            proc.kill()
            proc.wait()
        self.servers.clear()
        left: dict[str, str] = {}
        for attempt in range(5):  # a namespace still in use by a dying process: try again
            left = {}
            for path in NETNS.glob(f"{self.prefix}-*") if NETNS.is_dir() else ():
                done = subprocess.run(["ip", "netns", "del", path.name], capture_output=True,  # noqa: S603, S607
                                      text=True, check=False)  # fmt: skip
                if done.returncode != 0:
                    left[path.name] = done.stderr.strip()
            if not left:
                return
            time.sleep(0.2 * (attempt + 1))
        raise LabError(
            "could not remove the demo's namespaces: "
            + "; ".join(f"{name}: {why}" for name, why in left.items())
        )
