"""The demo's world around one site's WAN links: two more providers (MPLS, LTE) beside its
internet uplink, each a router namespace between the site's WAN side and the internet host,
which stands for the data centre the branch talks to; faults injected on a provider's side.

    LAN host - chain - WAN side -- uplink 203.0.113.1/24 ------------------ <p>-inet 203.0.113.2
                                -- mpls0 198.51.100.2/30 -- <p>-mpls -- 10.9.1.0/30 --/
                                -- lte0  100.64.0.2/30   -- <p>-lte  -- 10.9.3.0/30 --/
Every namespace carries the site's prefix, so `SiteLab.close` removes them with the rest.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field

from edgewise.lab import flows
from edgewise.lab.demo.sitelab import INTERNET_HOST, UPLINK, SiteLab, ip


@dataclass(frozen=True)
class Provider:
    link: str  # the link's name at the site, and the provider namespace's suffix
    kind: str
    interface: str  # in the site's WAN namespace
    address: str  # the site's address on it (with its prefix length)
    gateway: str
    transit: int  # third octet of 10.9.<transit>.0/30 towards the internet host (0: direct)


PROVIDERS = (
    Provider("mpls", "mpls", "mpls0", "198.51.100.2/30", "198.51.100.1", 1),
    Provider("inet", "internet", "uplink", str(UPLINK), INTERNET_HOST, 0),
    Provider("lte", "lte", "lte0", "100.64.0.2/30", "100.64.0.1", 3),
)
FAULT = """table ip ew_demo_fault {
    chain f { type filter hook forward priority 0; policy drop; }
}
"""
LINK_OF_ADDRESS = {p.address.split("/")[0]: p.link for p in PROVIDERS}


def link_of(source: str) -> str:
    """The link a flow left by, from the source address the far end saw (per-link NAT)."""
    return LINK_OF_ADDRESS.get(source, source or "-")


@dataclass
class WanWorld:
    lab: SiteLab
    programs: list[subprocess.Popen[str]] = field(default_factory=list)

    def namespace(self, provider: Provider) -> str:
        return self.lab.internet if provider.transit == 0 else f"{self.lab.prefix}-{provider.link}"

    def build(self) -> None:
        """The MPLS and LTE providers; the internet uplink is the site lab's own."""
        for p in PROVIDERS:
            if p.transit == 0:
                continue
            router = self.namespace(p)
            ip("netns", "add", router)
            ip("-n", router, "link", "set", "lo", "up")
            ip("netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            ip("-n", self.lab.wan, "link", "add", p.interface, "type", "veth", "peer", "name",
               "site", "netns", router)  # fmt: skip
            ip("-n", self.lab.wan, "link", "set", p.interface, "up")
            ip("-n", router, "addr", "add", f"{p.gateway}/30", "dev", "site")
            ip("-n", router, "link", "set", "site", "up")
            ip("-n", router, "link", "add", "dc", "type", "veth", "peer", "name", p.link,
               "netns", self.lab.internet)  # fmt: skip
            ip("-n", router, "addr", "add", f"10.9.{p.transit}.1/30", "dev", "dc")
            ip("-n", router, "link", "set", "dc", "up")
            ip("-n", router, "route", "add", f"{INTERNET_HOST}/32", "via", f"10.9.{p.transit}.2")
            ip("-n", self.lab.internet, "addr", "add", f"10.9.{p.transit}.2/30", "dev", p.link)
            ip("-n", self.lab.internet, "link", "set", p.link, "up")
            ip("-n", self.lab.internet, "route", "add", p.address.split("/")[0], "via",
               f"10.9.{p.transit}.1", "src", INTERNET_HOST)  # fmt: skip

    def blackout(self, link: str, *, on: bool = True) -> None:
        """A silent blackout: the provider drops everything it would forward, its carrier up."""
        provider = next(p for p in PROVIDERS if p.link == link)
        router = self.namespace(provider)
        if on:
            script = FAULT
            subprocess.run(["ip", "netns", "exec", router, "nft", "-f", "-"], input=script,  # noqa: S603, S607
                           text=True, check=True)  # fmt: skip
        else:
            subprocess.run(["ip", "netns", "exec", router, "nft", "delete", "table", "ip",  # noqa: S603, S607
                            "ew_demo_fault"], check=False, capture_output=True)  # fmt: skip

    def spawn(self, namespace: str, program: str, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(  # noqa: S603 - our interpreter, our program
            ["ip", "netns", "exec", namespace, sys.executable, "-c", program, *args],  # noqa: S607
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.programs.append(proc)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() not in ("ready", "started"):
            raise RuntimeError(f"a traffic program did not start in {namespace}")
        return proc

    def serve_udp(self, *ports: int) -> None:
        for port in ports:
            self.spawn(self.lab.internet, flows.WHO, str(port))

    def ask(self, port: int, timeout: float = 1.0) -> str:
        """The source address the internet host saw for a UDP datagram from the LAN host."""
        done = subprocess.run(  # noqa: S603
            ["ip", "netns", "exec", self.lab.host, sys.executable, "-c", flows.ASK,  # noqa: S607
             INTERNET_HOST, str(port), str(timeout)],
            capture_output=True, text=True, timeout=timeout + 10, check=False,
        )  # fmt: skip
        return done.stdout.strip()

    def stream(
        self, port: int, *, seconds: float, rate: float = 1000.0, fault: str, at: float = 1.0
    ) -> flows.StreamResult:
        """A paced UDP stream from the LAN host to the internet host's `port`; `fault` (a link)
        blacks out `at` seconds in. What the sink measured."""
        sink = self.spawn(self.lab.internet, flows.SINK, str(port), str(seconds + 5))
        sender = self.spawn(self.lab.host, flows.STREAM, INTERNET_HOST, str(port), "40000",
                            str(int(seconds * rate)), str(rate))  # fmt: skip
        time.sleep(at)
        self.blackout(fault)
        sender.wait(timeout=seconds + 10)
        assert sink.stdout is not None
        return flows.StreamResult.parse(sink.stdout.readline())

    def close(self) -> None:
        for proc in self.programs:
            proc.kill()
            proc.wait()
        self.programs.clear()
