"""Reading a site's data plane back from the kernel (worker thread), and what the reconciler sees.

`read_site` lists the namespaces with the site's prefix and, in each and in the LAN and WAN
sides, the links with Edgewise labels and each VNF's ruleset marker; `observed_state` turns
that into the reconciler's ObservedState: a labelled VNF namespace is a VNF, and what is broken
in it is told as faults (ruleset marker missing or another function's, a link end down or
without carrier, a rate limiter's token buckets missing, a wanted program not running) for
`plan` to pick the repair; a chain is reported only when every link from the LAN side to the
WAN side is whole (both ends present).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from edgewise.model.desired import VnfSpec, scaled_digest
from edgewise.model.functions import FUNCTION_VALUES, VnfFunction
from edgewise.site.drivers.linux.counters import vnf_counters
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import ProcessStatus
from edgewise.site.drivers.linux.layout import (
    LAN_HOP,
    WAN_HOP,
    LinkLabel,
    SiteNetwork,
    VnfLabel,
    decode_label,
    split_member,
)
from edgewise.site.drivers.linux.nftjson import FAMILY, TABLE
from edgewise.site.drivers.linux.rtcodec import Link
from edgewise.site.drivers.linux.rulesets import read_marker, read_shaped_groups
from edgewise.site.drivers.linux.shaping import queue_counters, shaping_ok
from edgewise.site.drivers.linux.spread import SPREAD_TABLE, read_spread_marker
from edgewise.site.reconcile import ObservedService, ObservedState, ObservedVnf, VnfFault


@dataclass(frozen=True)
class LinkEnd:
    namespace: str
    hop: str  # LAN_HOP, WAN_HOP or the VNF's name
    link: Link
    label: LinkLabel  # label.token set from the name
    side: str  # "l" or "r"


@dataclass
class VnfView:
    namespace: str
    slot: int
    label: VnfLabel | None = None
    marker: tuple[str, str] | None = None  # (function, digest) of the running ruleset
    counters: dict[str, Any] = field(default_factory=dict)  # see counters.py
    ends: list[LinkEnd] = field(default_factory=list)
    legs_ok: bool = True
    shaping_ok: bool = True  # a rate limiter's token buckets are on its legs
    process_ok: bool = True  # a process VNF's program runs (or its restart policy lets it rest)
    spread: tuple[str, str] | None = None  # a neighbour's spreader: (marker, its legs) (spread.py)

    @property
    def ruleset_ok(self) -> bool:
        """Its ruleset is there, and of its function."""
        return (
            self.label is not None
            and self.marker is not None
            and self.marker[0] == self.label.function
        )

    @property
    def faults(self) -> frozenset[VnfFault]:
        found = {
            VnfFault.RULESET_MISSING: not self.ruleset_ok,
            VnfFault.LINK_DOWN: not self.legs_ok,
            VnfFault.SHAPING_MISSING: not self.shaping_ok,
            VnfFault.PROCESS_DOWN: not self.process_ok,
        }
        return frozenset(fault for fault, broken in found.items() if broken)

    @property
    def healthy(self) -> bool:
        return self.label is not None and not self.faults

    def running_config(self, spec: VnfSpec) -> bool:
        """Its ruleset was built from `spec`'s function and config."""
        return self.marker == (spec.function.value, spec.ruleset_digest())


@dataclass
class ServiceView:
    service_id: str
    slot: int
    bridge: Link | None = None
    vnfs: dict[str, VnfView] = field(default_factory=dict)
    ends: list[LinkEnd] = field(default_factory=list)  # all ends, LAN, WAN and VNF sides

    def forget(self, name: str) -> None:
        """Drops a VNF about to be removed, with its links (both ends die with it)."""
        vnf = self.vnfs.pop(name, None)
        if vnf is not None:
            tokens = {end.label.token for end in vnf.ends}
            self.ends = [end for end in self.ends if end.label.token not in tokens]

    def expect(self, target: str, seen: VnfView | None, spec: VnfSpec) -> VnfView:
        """The VNF an in-place change of `target` works on; DataPlaneError when the kernel is
        not as planned."""
        if seen is None or seen.label is None:
            raise DataPlaneError(f"VNF {target} is not on the data plane")
        if seen.label.function != spec.function:
            raise DataPlaneError(
                f"VNF {target} runs {seen.label.function}, not {spec.function.value}: "
                f"not changed in place"
            )
        return seen

    def whole_links(self) -> dict[str, list[LinkEnd]]:
        """Ends by link token, for links whose two ends are where their label says."""
        by_token: dict[str, list[LinkEnd]] = {}
        for end in self.ends:
            by_token.setdefault(end.label.token, []).append(end)
        return {
            token: ends
            for token, ends in by_token.items()
            if {(e.side, e.hop) for e in ends}
            == {("l", ends[0].label.left), ("r", ends[0].label.right)}
        }

    def chain(self) -> tuple[str, ...]:
        """The hops from the LAN side to the WAN side (an elastic VNF's instances >= 1 are
        beside the chain, not in it)."""
        links = {
            ends[0].label.index: ends[0].label
            for ends in self.whole_links().values()
            if split_member(ends[0].label.left)[1] == 0
            and split_member(ends[0].label.right)[1] == 0
        }
        hops: list[str] = []
        at, index = LAN_HOP, 0
        while index in links and links[index].left == at:
            at = links[index].right
            if at == WAN_HOP:
                return tuple(hops) if self.bridge is not None else ()
            hops.append(at)
            index += 1
        return ()


@dataclass
class SiteView:
    services: dict[str, ServiceView] = field(default_factory=dict)
    strays: list[str] = field(default_factory=list)  # unlabelled namespaces with the prefix
    used_slots: set[int] = field(default_factory=set)


@dataclass
class VnfCache:
    """VNF namespaces as last read, with the inode they were read in, for `read_site` to reuse;
    the driver drops what may have changed since (see driver.py)."""

    inode: Callable[[str], int | None]  # the kernel's (Kernel.inode)
    entries: dict[str, tuple[int, VnfView]] = field(default_factory=dict)

    def get(self, namespace: str) -> VnfView | None:
        entry = self.entries.get(namespace)
        if entry is not None and self.inode(namespace) == entry[0]:
            return entry[1]
        self.entries.pop(namespace, None)
        return None

    def drop(self, namespaces: Iterable[str]) -> None:
        for namespace in namespaces:
            self.entries.pop(namespace, None)

    def drop_services(self, service_ids: set[str]) -> None:
        self.drop(
            [
                name
                for name, (_, vnf) in self.entries.items()
                if vnf.label is None or vnf.label.service_id in service_ids
            ]
        )

    def clear(self) -> None:
        self.entries.clear()


def read_site(
    host: Host,
    site: SiteNetwork,
    only: str | None = None,
    *,
    light: bool = False,
    cache: VnfCache | None = None,
) -> SiteView:
    """The site's kernel objects; with `only`, just that service's (and the used slots);
    `light` reads no VNF namespace (bridges, LAN/WAN link ends and used slots only); VNF
    namespaces found in `cache` are not read again (the others are read and put there)."""
    view = SiteView()
    side_ends: list[LinkEnd] = []
    for namespace, hop in ((site.lan_netns, LAN_HOP), (site.wan_netns, WAN_HOP)):
        with host.netlink(namespace) as nl:
            for link in nl.links():
                label = decode_label(link.alias)
                slot = bridge_slot(site, link.name)
                if isinstance(label, str) and slot is not None:
                    view.used_slots.add(slot)
                    if only in (None, label):
                        view.services[label] = ServiceView(label, slot, bridge=link)
                elif isinstance(label, LinkLabel) and only in (None, label.service_id):
                    end = link_end(site, namespace, hop, link, label)
                    if end is not None:
                        side_ends.append(end)
    for namespace in host.kernel.namespaces(site.namespace_prefix):
        slot = site.slot_of_namespace(namespace)
        if slot is None:
            continue
        view.used_slots.add(slot)
        mine = view.services.get(only) if only is not None else None
        if light or (mine is not None and mine.slot != slot):
            continue
        vnf = cache.get(namespace) if cache is not None else None
        if vnf is None:
            inode = host.kernel.inode(namespace)
            vnf = read_vnf(host, site, VnfView(namespace, slot))
            if vnf is not None and cache is not None and inode is not None:
                cache.entries[namespace] = (inode, vnf)
        if vnf is not None:
            place_vnf(view, vnf, only)
    for end in side_ends:
        service = view.services.get(end.label.service_id)
        if service is not None:
            service.ends.append(end)
    return view


def read_vnf(host: Host, site: SiteNetwork, vnf: VnfView) -> VnfView | None:
    """Reads a VNF namespace into `vnf`; None when the namespace is gone."""
    try:
        with host.netlink(vnf.namespace) as nl:
            links = nl.links()
            loopback = next((k for k in links if k.name == "lo"), None)
            label = decode_label(loopback.alias if loopback else None)
            vnf.label = label if isinstance(label, VnfLabel) else None
            hop = vnf.label.vnf if vnf.label else "?"
            for link in links:
                found = decode_label(link.alias)
                if isinstance(found, LinkLabel):
                    end = link_end(site, vnf.namespace, hop, link, found)
                    if end is not None:
                        vnf.ends.append(end)
                        vnf.legs_ok = vnf.legs_ok and link.up and link.carrier
        with host.nft(vnf.namespace) as nft:
            items = nft.list_table(FAMILY, TABLE)
            vnf.spread = read_spread_marker(nft.list_table(FAMILY, SPREAD_TABLE))
        groups = read_shaped_groups(items or [])
        queues: dict[str, Any] = {}
        if groups:
            with host.netlink(vnf.namespace) as nl:
                qdiscs = nl.qdiscs()
            vnf.shaping_ok = shaping_ok(qdiscs, links, groups)
            queues = {"queues": queue_counters(qdiscs, links)}
    except DataPlaneError as exc:
        if exc.code == "no-namespace":  # deleted while we looked: it is simply not there
            return None
        raise
    if items is not None:
        vnf.marker = read_marker(items)
    if vnf.label is None:
        return vnf
    vnf.counters = vnf_counters(vnf.label.function, items or [])
    vnf.counters.update(queues)
    if vnf.label.function == "process":
        status = host.processes.status(vnf.namespace)
        vnf.process_ok = status is not None and status.ok
        vnf.counters["process"] = (status or ProcessStatus(running=False, wanted=True)).as_json()
    return vnf


def place_vnf(view: SiteView, vnf: VnfView, only: str | None) -> None:
    """Puts a VNF read from the kernel into its service in `view` (or among the strays)."""
    if vnf.label is None:
        view.strays.append(vnf.namespace)
        return
    sid = vnf.label.service_id
    if only not in (None, sid):
        return
    service = view.services.setdefault(sid, ServiceView(sid, vnf.slot))
    if service.slot != vnf.slot:
        view.strays.append(vnf.namespace)
        return
    service.vnfs[vnf.label.vnf] = vnf
    service.ends.extend(vnf.ends)


def bridge_slot(site: SiteNetwork, name: str) -> int | None:
    head = f"{site.prefix}b"
    if not name.startswith(head) or len(name) != len(head) + 4:
        return None
    try:
        return int(name[len(head) :], 16)
    except ValueError:
        return None


def link_end(
    site: SiteNetwork, namespace: str, hop: str, link: Link, label: LinkLabel
) -> LinkEnd | None:
    name = link.name
    if not name.startswith(site.prefix) or name[-1] not in "lr":
        return None
    token = name[len(site.prefix) : -1]
    labelled = LinkLabel(label.service_id, label.index, label.left, label.right, token)
    return LinkEnd(namespace, hop, link, labelled, name[-1])


def observed_state(view: SiteView) -> ObservedState:
    services = []
    for sid in sorted(view.services):
        service = view.services[sid]
        vnfs = []
        for name in sorted(service.vnfs):
            vnf = service.vnfs[name]
            assert vnf.label is not None
            if vnf.label.function not in FUNCTION_VALUES or split_member(name)[1]:
                continue  # instances >= 1 are reported with their VNF
            digest = vnf.marker[1] if vnf.marker and vnf.ruleset_ok else ""
            function = VnfFunction(vnf.label.function)
            software = vnf.counters.get("software")
            settling = isinstance(software, dict) and software.get("state") == "starting"
            faults, counters, count = vnf.faults, vnf.counters, 1
            found = instances_of(service, name)
            if found:
                faults, counters, digest, count = fold_instances(service, name, vnf, found, digest)
            vnfs.append(ObservedVnf(name, function, scaled_digest(digest, count), faults,
                                    counters, settling))  # fmt: skip
        services.append(ObservedService(sid, tuple(vnfs), service.chain()))
    return ObservedState(tuple(services))


def instances_of(service: ServiceView, vnf: str) -> dict[int, VnfView]:
    """An elastic VNF's instances >= 1 on the data plane, by number."""
    found = {}
    for name, view in service.vnfs.items():
        base, instance = split_member(name)
        if base == vnf and instance:
            found[instance] = view
    return found


def fold_instances(
    service: ServiceView, name: str, first: VnfView, more: dict[int, VnfView], digest: str
) -> tuple[frozenset[VnfFault], dict[str, Any], str, int]:
    """An elastic VNF as one: the faults of all its instances (a leg missing, or a neighbour
    not spreading over exactly its legs, is LINK_DOWN: the chain's to mend), counters per
    instance and summed, its digest ("" unless every instance runs the same config) and its
    instance count (a draining instance still counts, so passes come back until it is gone)."""
    everyone = {0: first, **more}
    faults = set(first.faults)
    for view in more.values():
        faults |= view.faults
        if view.marker is None or view.marker[1] != digest:
            digest = ""
    whole = service.whole_links()
    tokens = set(whole)
    for view in more.values():
        if len({end.label.token for end in view.ends} & tokens) < 2:
            faults.add(VnfFault.LINK_DOWN)
    for neighbour in neighbours(service, name):
        legs = sorted(end.link.name for end in neighbour.ends
                      if name in (split_member(end.label.left)[0],
                                  split_member(end.label.right)[0]))  # fmt: skip
        if neighbour.spread is None or neighbour.spread[1] != ",".join(legs):
            faults.add(VnfFault.LINK_DOWN)
    counters: dict[str, Any] = summed([view.counters for view in everyone.values()])
    counters["instances"] = {str(i): view.counters for i, view in sorted(everyone.items())}
    return frozenset(faults), counters, digest, len(everyone)


def neighbours(service: ServiceView, name: str) -> list[VnfView]:
    """The VNFs wired on either side of VNF `name`'s instance 0."""
    found = []
    for ends in service.whole_links().values():
        label = ends[0].label
        other = label.left if label.right == name else label.right if label.left == name else None
        if other is not None and other in service.vnfs:
            found.append(service.vnfs[other])
    return found


def summed(counters: list[dict[str, Any]]) -> dict[str, Any]:
    """Counters added up key by key (numbers summed, mappings merged the same way)."""
    total: dict[str, Any] = {}
    for one in counters:
        for key, value in one.items():
            if isinstance(value, bool) or not isinstance(value, int | dict):
                total.setdefault(key, value)
            elif isinstance(value, int):
                total[key] = total.get(key, 0) + value
            else:
                inner = total.get(key)
                total[key] = summed([inner, value] if isinstance(inner, dict) else [value])
    return total
