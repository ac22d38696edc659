"""A multi-link WAN lab for the SD-WAN tests and benchmark: a site's LAN and WAN sides, three
"providers" (MPLS, internet, LTE: one namespace each, a router) between the WAN side and a
common "data centre" namespace holding the servers, all named with the lab's random prefix.

    LAN host - chain - WAN side -- mpls0 198.51.100.2/30 -- <p>-mpls --\
                                -- inet0 203.0.113.2/30  -- <p>-inet ---- <p>-dc 192.0.2.10
                                -- lte0  100.64.0.2/30   -- <p>-lte  --/
A provider's carrier is lost by setting its side of the link down (`cut`). Programs that run in
a namespace: a UDP server answering each datagram with the address it came from (`who`), and a
UDP sink/stream pair measuring the longest gap of a paced stream (`stream_gap`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgewise.lab.flows import ASK, SINK, STREAM, WHO, StreamResult
from edgewise.model.desired import DesiredState
from tests.site.drivers.netlab import Lab, in_ns, ip, stop

DC_SERVER = "192.0.2.10"
CHAIN_SERVICE: dict[str, Any] = {  # the LAN host's way out: a firewall, then NAT
    "id": "svc-1", "name": "svc-1", "tenant": "t1",
    "vnfs": [
        {"name": "fw", "function": "firewall", "config": {"default_action": "accept"}},
        {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
    ],
    "chain": ["fw", "nat"],
}  # fmt: skip


@dataclass(frozen=True)
class Provider:
    link: str  # the link's name in the desired state, and its kind
    kind: str
    interface: str  # in the WAN side
    subnet: int  # third octet of its DC-side /30 (10.9.<subnet>.0/30)
    site_address: str
    gateway: str


PROVIDERS = (
    Provider("mpls", "mpls", "mpls0", 1, "198.51.100.2", "198.51.100.1"),
    Provider("inet", "internet", "inet0", 2, "203.0.113.2", "203.0.113.1"),
    Provider("lte", "lte", "lte0", 3, "100.64.0.2", "100.64.0.1"),
)


APPS = r"""
import socket, ssl, sys, threading
def serve(port, handle, wrap=None):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    def one(c, peer):
        try:
            c.settimeout(5)
            if wrap: c = wrap.wrap_socket(c, server_side=True)
            handle(c, peer[0].encode())
        except OSError:
            pass
        finally:
            c.close()
    def loop():
        while True:
            c, peer = s.accept()
            threading.Thread(target=one, args=(c, peer), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
def tls(c, who):
    c.recv(100); c.sendall(who)
def ssh(c, who):
    c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"); c.recv(100); c.sendall(who)
def http(c, who):
    c.recv(4096); c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(who), who))
def dns():  # every name is the data centre's server (an A record, the name by pointer)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 53))
    while True:
        q, peer = u.recvfrom(512)
        u.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:]
                 + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
                 + socket.inet_aton(sys.argv[3]), peer)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); context.load_cert_chain(sys.argv[1], sys.argv[2])
serve(443, tls, context); serve(22, ssh); serve(80, http)
threading.Thread(target=dns, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

APP_CLIENT = r"""
import socket, ssl, struct, sys
kind, server, arg = sys.argv[1:4]
try:
    if kind == "dns":  # what the data centre's DNS server answers for the name `arg`
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
        q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
        q += b"".join(bytes([len(p)]) + p.encode() for p in arg.split(".")) + b"\0\0\1\0\1"
        u.sendto(q, (server, 53)); print(socket.inet_ntoa(u.recv(512)[-4:])); sys.exit(0)
    c = socket.create_connection((server, {"tls": 443, "ssh": 22, "http": 80}[kind]), timeout=3)
    if kind == "tls":
        ctx = ssl.create_default_context(); ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = ctx.wrap_socket(c, server_hostname=arg); c.sendall(b"hello")
        print(c.recv(100).decode())
    elif kind == "ssh":
        c.recv(100); c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"); print(c.recv(100).decode())
    else:
        c.sendall(f"GET / HTTP/1.1\r\nHost: {arg}\r\n\r\n".encode())
        print(c.recv(4096).split(b"\r\n\r\n", 1)[1].decode())
except OSError as exc:
    print("failed", exc)
"""


class WanLab(Lab):
    """`Lab` with three providers to a data centre instead of one internet host."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.dc = f"{self.prefix}-dc"

    def provider(self, link: str) -> str:
        return f"{self.prefix}-{link}"

    def start(self) -> None:
        for namespace in (self.lan, self.wan, self.dc, *(self.provider(p.link) for p in PROVIDERS)):
            ip("netns", "add", namespace)
            ip("-n", namespace, "link", "set", "lo", "up")
        ip("-n", self.dc, "addr", "add", f"{DC_SERVER}/32", "dev", "lo")
        for p in PROVIDERS:
            router = self.provider(p.link)
            in_ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            ip("-n", self.wan, "link", "add", p.interface, "type", "veth", "peer", "name",
               "site", "netns", router)  # fmt: skip
            ip("-n", router, "addr", "add", f"{p.gateway}/30", "dev", "site")
            ip("-n", router, "link", "set", "site", "up")
            ip("-n", router, "link", "add", "dc", "type", "veth", "peer", "name",
               f"{p.link}", "netns", self.dc)  # fmt: skip
            ip("-n", router, "addr", "add", f"10.9.{p.subnet}.1/30", "dev", "dc")
            ip("-n", router, "link", "set", "dc", "up")
            ip("-n", router, "route", "add", "192.0.2.0/24", "via", f"10.9.{p.subnet}.2")
            ip("-n", self.dc, "addr", "add", f"10.9.{p.subnet}.2/30", "dev", p.link)
            ip("-n", self.dc, "link", "set", p.link, "up")
            ip("-n", self.dc, "route", "add", f"{p.site_address}/32", "via", f"10.9.{p.subnet}.1",
               "src", DC_SERVER)  # fmt: skip

    def cut(self, link: str, *, down: bool = True) -> None:
        """The provider's side of the link goes down (the WAN side loses carrier), or up."""
        ip("-n", self.provider(link), "link", "set", "site", "down" if down else "up")

    def state(
        self, steering: dict[str, Any], *, probe: dict[str, Any] | None = None, revision: int = 1
    ) -> DesiredState:
        """The site's desired state: the chain service, the three links (each with `probe`
        settings when given) and `steering`."""
        links = [{**link, "probe": probe} if probe else link for link in self.links_document()]
        document = {"services": [CHAIN_SERVICE], "links": links, "steering": steering}
        return DesiredState.from_document(revision, document)

    def links_document(self) -> list[dict[str, Any]]:
        return [
            {"name": p.link, "kind": p.kind, "interface": p.interface,
             "address": f"{p.site_address}/30", "gateway": p.gateway}
            for p in PROVIDERS
        ]  # fmt: skip

    def serve_udp(self, port: int) -> None:
        """A UDP server in the data centre answering each datagram with its source address."""
        self._spawn(self.dc, WHO, str(port))

    def serve_apps(self, certificate: str, key: str) -> None:
        """TLS (443, any SNI), SSH-like (22: a banner) and HTTP (80) servers in the data centre,
        each answering with the address the connection came from, and DNS (53) answering
        DC_SERVER for every name."""
        self._spawn(self.dc, APPS, certificate, key, DC_SERVER)

    def use_app(self, namespace: str, kind: str, name: str = "-") -> str:
        """A `kind` ("tls" with SNI `name`, "ssh", "http" with Host `name`) connection to the
        data centre: the address the server saw, or 'failed ...'; "dns": the address the data
        centre's DNS server gives for `name`."""
        return in_ns(namespace, sys.executable, "-c", APP_CLIENT, kind, DC_SERVER, name,
                     timeout=15)  # fmt: skip

    def ask(self, namespace: str, port: int, timeout: float = 1.0) -> str:
        """What the data centre's UDP server saw as our address, or 'failed ...'."""
        return in_ns(namespace, sys.executable, "-c", ASK, DC_SERVER, str(port), str(timeout),
                     timeout=timeout + 10)  # fmt: skip

    def _spawn(self, namespace: str, program: str, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", program, *args],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.servers.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() in ("ready", "started")
        return proc


def stream_gap(
    lab: WanLab,
    host: str,
    port: int,
    *,
    seconds: float,
    rate: float = 1000.0,
    during: Callable[[], object] | None = None,
    at: float = 0.5,
    source_port: int = 40_000,
) -> StreamResult:
    """Sends a paced UDP stream (`rate` packets/s for `seconds`) from `host` to the data
    centre's `port`, calls `during()` `at` seconds in, and returns what the sink measured."""
    sink = lab._spawn(lab.dc, SINK, str(port), str(seconds + 5))
    sender = lab._spawn(host, STREAM, DC_SERVER, str(port), str(source_port),
                        str(int(seconds * rate)), str(rate))  # fmt: skip
    try:
        if during is not None:
            time.sleep(at)
            during()
        sender.wait(timeout=seconds + 10)
        assert sink.stdout is not None
        return StreamResult.parse(sink.stdout.readline())
    finally:
        for proc in (sink, sender):
            stop(proc)
            lab.servers.remove(proc)
