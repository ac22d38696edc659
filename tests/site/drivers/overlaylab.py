"""A lab for the overlays through the linux driver: two Edgewise sites of one tenant, each with
two WAN links (a, b) through two ISP namespaces, a service (a firewall letting the tenant's
other sites in, no NAT) and a LAN host;
plus a remote office configured by hand (`wg` + wireguard-go, no Edgewise code) behind ISP b.

    h1 - fw - site 1 WAN -- a0 198.51.100.2/30 -- ispa -- 198.51.100.6/30 a0 -- site 2 WAN - fw - h2
                         -- b0 203.0.113.2/30   -- ispb -- 203.0.113.6/30   b0 --
                                                   ispb -- 203.0.113.10/30 -- office (by hand)

Both sites are driven by their desired states through the real LinuxDriver; the overlays
sections are written as the central would: first without peers (the sites make their keys and
report them), then with each other as peers, the public keys taken from what they reported.
Every namespace carries the lab's random prefix; `close` deletes them and ends what it started.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver, SiteNetwork
from edgewise.site.drivers.linux.wireguard import OverlayEngine
from tests.site.drivers.chains import converge
from tests.site.drivers.netlab import Lab, LanHost, in_ns, ip, stop_processes
from tests.site.drivers.overlay.docs import overlay, peer
from tests.site.drivers.wireguard.overlab import OverlayLab, veth

PORTS = {"a": 51820, "b": 51821}
WAN = {  # (site, link) -> (site's address, ISP's address), each a /30
    (1, "a"): ("198.51.100.2", "198.51.100.1"),
    (2, "a"): ("198.51.100.6", "198.51.100.5"),
    (1, "b"): ("203.0.113.2", "203.0.113.1"),
    (2, "b"): ("203.0.113.6", "203.0.113.5"),
}
INNER = {1: "10.99.0.1", 2: "10.99.0.2"}
OFFICE_WAN, OFFICE_ISP = "203.0.113.10", "203.0.113.9"
OFFICE_INNER, OFFICE_LAN = "10.99.0.9", "192.168.50.1"
OFFICE_PORT = 51830
# what each site's firewall lets in from the WAN side: the tenant's other sites over the overlay
OVERLAY_SOURCES = ("172.16.0.0/12", "192.168.50.0/24", "10.99.0.0/24")


@dataclass
class EdgeSite:
    number: int
    lab: Lab
    driver: LinuxDriver
    runtime: Path
    host: LanHost | None = None
    lan_subnet: IPv4Network | None = None


@dataclass
class OverlaySites:
    """Namespaces: <p>-ispa, <p>-ispb, and per site <p><n>-lan, <p><n>-wan, its VNFs, host."""

    base: str = field(default_factory=lambda: "o" + secrets.token_hex(2))
    sites: dict[int, EdgeSite] = field(default_factory=dict)
    published: dict[int, list[DesiredState]] = field(default_factory=dict)  # by site
    hand: OverlayLab | None = None

    def ns(self, name: str) -> str:
        return f"{self.base}-{name}"

    def start(self, runtime: Path) -> None:
        for isp in ("ispa", "ispb"):
            ip("netns", "add", self.ns(isp))
            ip("-n", self.ns(isp), "link", "set", "lo", "up")
            in_ns(self.ns(isp), "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for number in (1, 2):
            prefix = f"{self.base}{number}"
            lab = Lab(prefix=prefix)
            lab.site = SiteNetwork(prefix, lab.lan, lab.wan,
                                   lan_pool=IPv4Network(f"172.{15 + number}.0.0/16"))  # fmt: skip
            for namespace in (lab.lan, lab.wan):
                ip("netns", "add", namespace)
                ip("-n", namespace, "link", "set", "lo", "up")
            for link in ("a", "b"):
                own, isp = WAN[(number, link)]
                veth(lab.wan, f"{link}0", f"{own}/30", self.ns(f"isp{link}"), f"s{number}",
                     f"{isp}/30")  # fmt: skip
            self.sites[number] = EdgeSite(number, lab, LinuxDriver(lab.site, runtime / prefix),
                                          runtime / prefix)  # fmt: skip

    def cut(self, link: str, *, down: bool = True) -> None:
        """ISP `link` fails: both its ports go down (each site's link loses carrier)."""
        for number in (1, 2):
            ip("-n", self.ns(f"isp{link}"), "link", "set", f"s{number}", "down" if down else "up")

    def document(self, number: int, peers: list[dict[str, Any]]) -> dict[str, Any]:
        links = [
            {"name": link, "kind": "mpls" if link == "a" else "internet",
             "interface": f"{link}0", "address": f"{WAN[(number, link)][0]}/30",
             "gateway": WAN[(number, link)][1]}
            for link in ("a", "b")
        ]  # fmt: skip
        service = {
            "id": "svc-1", "name": "svc-1", "tenant": "t1",
            "vnfs": [{"name": "fw", "function": "firewall", "config": {
                "default_action": "accept",
                "rules": [{"action": "accept", "direction": "inbound", "source": source}
                          for source in OVERLAY_SOURCES]}}],
            "chain": ["fw"],
        }  # fmt: skip
        mine = overlay("t1", f"{INNER[number]}/24", list(PORTS.items()), peers)
        return {"services": [service], "links": links, "overlays": [mine]}

    async def build(self, extra_peers: dict[int, list[dict[str, Any]]] | None = None) -> None:
        """Revision 1 without peers (keys made, LAN subnets known), then revision 2 with each
        other (and `extra_peers`) as the central computes them."""
        for number, site in self.sites.items():
            await converge(site.driver, DesiredState.from_document(1, self.document(number, [])))
            attachment = await site.driver.attachment("svc-1")
            assert attachment is not None
            site.lan_subnet = attachment.subnet
            site.host = site.lab.add_host("h", attachment)
        await self.publish(2, extra_peers or {})

    async def keys(self, number: int) -> dict[str, str]:
        seen = await self.sites[number].driver.observe()
        return dict(seen.wan.overlay_keys["t1"])

    async def publish(self, revision: int, extra_peers: dict[int, list[dict[str, Any]]]) -> None:
        for number, site in self.sites.items():
            other = 3 - number
            there = self.sites[other]
            assert there.lan_subnet is not None
            key = (await self.keys(other))["public_key"]
            ends = [(link, WAN[(other, link)][0], port) for link, port in PORTS.items()]
            peers = [peer(f"site{other}", key, INNER[other], [str(there.lan_subnet)], ends)]
            peers += extra_peers.get(number, [])
            state = DesiredState.from_document(revision, self.document(number, peers))
            self.published.setdefault(number, []).append(state)
            await converge(site.driver, state)

    def host(self, number: int) -> LanHost:
        found = self.sites[number].host
        assert found is not None
        return found

    def office(self, site_key: str) -> str:
        """The remote office behind ISP b, configured by hand; its public key."""
        self.hand = OverlayLab(prefix=f"{self.base}h")
        office = self.hand.ns("office")
        ip("netns", "add", office)
        ip("-n", office, "link", "set", "lo", "up")
        veth(office, "wan0", f"{OFFICE_WAN}/30", self.ns("ispb"), "office", f"{OFFICE_ISP}/30")
        ip("-n", office, "route", "add", "default", "via", OFFICE_ISP)
        ip("-n", office, "addr", "add", f"{OFFICE_LAN}/32", "dev", "lo")  # its LAN's server
        site1 = self.sites[1]
        assert site1.lan_subnet is not None
        name = f"{self.base}of"
        key_file = site1.runtime.parent / "office.key"
        hand = self.hand.hand_peer(office, name, key_file, [
            "listen-port", str(OFFICE_PORT), "peer", site_key,
            "endpoint", f"{WAN[(1, 'b')][0]}:{PORTS['b']}",
            "allowed-ips", f"{INNER[1]}/32,{site1.lan_subnet}",
            "persistent-keepalive", "25",
        ])  # fmt: skip
        ip("-n", office, "addr", "add", f"{OFFICE_INNER}/24", "dev", name)
        ip("-n", office, "link", "set", name, "up")
        ip("-n", office, "route", "add", str(site1.lan_subnet), "dev", name)
        return hand.public_key

    async def close(self) -> None:
        for site in self.sites.values():
            await site.driver.close()
            engine = OverlayEngine(site.runtime / "overlay")  # its wireguard-go, by pid
            for name in engine.devices():
                engine.processes.stop(name)
            engine.close()
            stop_processes(site.runtime)
            site.lab.close()
        if self.hand is not None:
            self.hand.close()
        for name in sorted(p for p in ip("netns", "list").split() if p.startswith(self.base)):
            ip("netns", "del", name, check=False)
