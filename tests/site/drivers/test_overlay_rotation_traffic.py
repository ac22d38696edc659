"""Key rotation without a lost packet, end to end (root, namespaces, wireguard-go): two Edgewise
sites, two WAN links each, their overlay documents composed by the central's pure functions
(`topology.compose_overlays` with the rotation `keyrotation.step` says) and applied through the
real linux driver at each site, one end first and the other a moment later (a slow poll).
Four whole rotations — each site's key, each with the rotating site first at every step and
with the peer first — under a ping every 20 ms each way: none lost, none answered later than
LATE_S. The control, the same rotation with the drains left out, loses pings."""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import anyio
import pytest

from edgewise.central.orchestrator.keyrotation import Rotation, step
from edgewise.central.orchestrator.topology import Member, Topology, compose_overlays
from edgewise.model.desired import DesiredState
from edgewise.model.fields import read, write
from edgewise.model.links import WanLink
from edgewise.model.overlay import Endpoint, Overlay
from tests.site.drivers.chains import converge
from tests.site.drivers.overlaylab import INNER, WAN, OverlaySites
from tests.site.drivers.wireguard.overlab import overlay_reason, python_in, running
from tests.site.drivers.wireguard.traffic import PINGER, TIMED_PINGER

pytestmark = pytest.mark.anyio
REASON = overlay_reason()
SLOW_POLL_S = 1.0  # between the two ends applying one step
ROUND_TRIP_S = 0.3  # from the second end's report to the next step's first document
PREFIX = IPv4Network("10.99.0.0/24")
MAX_STEPS = 12  # a rotation of two links has five or six documents
LATE_S = 0.5  # a reply later than this counts against the rotation too (a stalled tunnel)


@pytest.fixture
async def sites(tmp_path: Path) -> AsyncIterator[OverlaySites]:
    if REASON:
        pytest.skip(REASON)
    made = OverlaySites()
    try:
        made.start(tmp_path / "run")
        yield made
    finally:
        await made.close()


class LabCentral:
    """What the central does for the two lab sites, with its pure functions: their members
    (links as the lab builds them, the keys they report), each step of a rotation, the
    documents composed and applied through each site's driver."""

    def __init__(self, sites: OverlaySites) -> None:
        self.sites = sites
        self.revisions = {1: 1, 2: 1}
        self.rotation: dict[int, Rotation] = {}
        self.documents = 0

    async def keys(self, number: int) -> dict[str, str]:
        return await self.sites.keys(number)

    async def members(self) -> list[Member]:
        found = []
        for number in (1, 2):
            links = tuple(read(WanLink, k) for k in self.sites.document(number, [])["links"])
            reached = {link: IPv4Address(WAN[(number, link)][0]) for link in ("a", "b")}
            keys = await self.keys(number)
            found.append(Member(f"site{number}", IPv4Address(INNER[number]), links, reached,
                                keys["public_key"], keys.get("next_public_key")))  # fmt: skip
        return found

    async def compose(self, *, drains: bool = True) -> dict[int, Overlay]:
        rotations = {f"site{n}": r for n, r in self.rotation.items()}
        topology = Topology("t1", "full-mesh", PREFIX, 51820, 1, (), tuple(await self.members()),
                            rotations)  # fmt: skip
        entries = compose_overlays(topology)
        found = {}
        for number in (1, 2):
            entry = entries[f"site{number}"]
            lan = self.sites.sites[3 - number].lan_subnet
            assert lan is not None  # the central does not know the LANs: the lab adds them
            peers = tuple(replace(p, prefixes=(*p.prefixes, lan)) for p in entry.peers)
            if not drains:  # the control: the keys move, the traffic stays
                entry = replace(entry, links=tuple(replace(k, draining=None) for k in entry.links))
                peers = tuple(replace(p, endpoints=undrained(p.endpoints)) for p in peers)
            found[number] = replace(entry, peers=peers)
        return found

    async def apply(self, number: int, entry: Overlay) -> None:
        document: dict[str, Any] = self.sites.document(number, [])
        document["overlays"] = [write(entry)]
        self.revisions[number] += 1
        state = DesiredState.from_document(self.revisions[number], document)
        await converge(self.sites.sites[number].driver, state)

    async def publish(self, *, first: int, drains: bool = True) -> None:
        """One step's documents: site `first`, a slow poll later the other."""
        entries = await self.compose(drains=drains)
        await self.apply(first, entries[first])
        await anyio.sleep(SLOW_POLL_S)
        await self.apply(3 - first, entries[3 - first])
        self.documents += 1

    async def rotate(self, number: int, *, first: int, drains: bool = True) -> list[str]:
        """Site `number`'s whole rotation (its next key reported), each step once both ends
        applied the last; the phases it went through."""
        phases = []
        for _ in range(MAX_STEPS):
            keys = await self.keys(number)
            current = self.rotation.get(number)
            new = step(current, next_key=keys.get("next_public_key"), links=["a", "b"],
                       applied=True)  # fmt: skip
            if new == current:
                break
            if new is None:
                del self.rotation[number]
                phases.append("done")
            else:
                self.rotation[number] = new
                phases.append(f"{new.phase} {new.link or ''}".strip())
            await anyio.sleep(ROUND_TRIP_S)
            await self.publish(first=first, drains=drains)
            if new is None:
                break
        return phases


def undrained(endpoints: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
    return tuple(replace(e, draining=None) for e in endpoints)


def age_key(sites: OverlaySites, number: int) -> None:
    """The site's key is two hours old: with `key_rotation_h` 1 it prepares the next."""
    (key_file,) = sites.sites[number].runtime.rglob("overlay-keys/t1.key")
    made = time.time() - 2 * 3600
    os.utime(key_file, (made, made))


async def built(sites: OverlaySites) -> LabCentral:
    """Revision 1 without peers (the keys made and reported), then the central's documents."""
    for number, site in sites.sites.items():
        await converge(site.driver, DesiredState.from_document(1, sites.document(number, [])))
        attachment = await site.driver.attachment("svc-1")
        assert attachment is not None
        site.lan_subnet = attachment.subnet
        site.host = site.lab.add_host("h", attachment)
    central = LabCentral(sites)
    entries = await central.compose()
    for number in (1, 2):
        await central.apply(number, entries[number])
    h1, h2 = sites.host(1), sites.host(2)
    assert await anyio.to_thread.run_sync(lambda: _pings(sites, h1.namespace, h2.address))
    return central


def _pings(sites: OverlaySites, namespace: str, address: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sites.sites[1].lab.ping(namespace, address):
            return True
        time.sleep(0.2)
    return False


def counted(result: str) -> tuple[int, int, list[int]]:
    found = re.fullmatch(r"sent (\d+) received (\d+) lost \[([\d, ]*)\]", result)
    assert found, result
    lost = [int(n) for n in found[3].split(",") if n.strip()]
    return int(found[1]), int(found[2]), lost


def late_or_lost(result: str) -> tuple[int, list[int], list[int]]:
    found = re.fullmatch(r"sent (\d+) lost \[([\d, ]*)\] late \[([\d, ]*)\]", result)
    assert found, result
    lost = [int(n) for n in found[2].split(",") if n.strip()]
    late = [int(n) for n in found[3].split(",") if n.strip()]
    return int(found[1]), lost, late


async def test_rotations_in_both_orders_lose_no_ping(sites: OverlaySites) -> None:
    central = await built(sites)
    keys_before = {n: (await central.keys(n))["public_key"] for n in (1, 2)}
    h1, h2 = sites.host(1), sites.host(2)
    ping_s = 60.0
    args = ("0.02", str(ping_s), str(LATE_S))
    started = time.monotonic()
    with (
        running(python_in(h1.namespace, TIMED_PINGER, h2.address, *args)) as there,
        running(python_in(h2.namespace, TIMED_PINGER, h1.address, *args)) as back,
    ):
        assert there.stdout is not None
        assert back.stdout is not None
        assert there.stdout.readline().strip() == back.stdout.readline().strip() == "started"
        await anyio.sleep(0.5)
        phases = []
        for rotating, first in ((1, 1), (1, 2), (2, 1), (2, 2)):  # (whose key, who applies first)
            age_key(sites, rotating)
            phases.append(await central.rotate(rotating, first=first))
            assert "next_public_key" not in await central.keys(rotating)
        took = time.monotonic() - started
        assert took < ping_s - 1.0, f"the rotations took {took:.1f} s"  # all under the ping
        results = [
            (await anyio.to_thread.run_sync(out.readline)).strip()
            for out in (there.stdout, back.stdout)
        ]
    # the last switch tells every link the next key: the site promotes as it applies it, and
    # its report ends the rotation (no settle step needed)
    assert phases == [["drain a", "switch a", "drain b", "switch b", "done"]] * 4
    for number in (1, 2):
        assert (await central.keys(number))["public_key"] != keys_before[number]
    counts = [late_or_lost(result) for result in results]
    ways = [f"{way}: {sent} sent, {len(lost)} lost, {len(late)} later than {LATE_S} s"
            for way, (sent, lost, late) in zip(("1->2", "2->1"), counts, strict=True)]  # fmt: skip
    print(f"four rotations ({central.documents} steps, each end {SLOW_POLL_S} s apart, "
          f"{took:.1f} s), pings every 20 ms each way: " + "; ".join(ways))  # fmt: skip
    for (sent, lost, late), result in zip(counts, results, strict=True):
        assert (lost, late) == ([], []), result
        assert sent >= ping_s / 0.02 * 0.8


async def test_the_control_switching_without_draining_loses_pings(sites: OverlaySites) -> None:
    central = await built(sites)
    h1, h2 = sites.host(1), sites.host(2)
    ping_s = 20.0
    with running(python_in(h1.namespace, PINGER, h2.address, "0.02", str(ping_s))) as pinger:
        assert pinger.stdout is not None
        assert pinger.stdout.readline().strip() == "started"
        await anyio.sleep(0.5)
        age_key(sites, 1)
        phases = await central.rotate(1, first=2, drains=False)  # the peer first
        result = (await anyio.to_thread.run_sync(pinger.stdout.readline)).strip()
    sent, _, lost = counted(result)
    print(f"control (no drains, the peer first, {SLOW_POLL_S} s apart): {len(lost)} of {sent} "
          "pings lost")  # fmt: skip
    assert phases[-1] == "done"
    assert lost, result
