"""The WAN side of the linux driver (worker thread): the site-level changes UPDATE_LINKS and
UPDATE_STEERING applied, and the WAN namespace read back as the reconciler's ObservedWan.

Links are built by wan.py; steering is loaded and then driven by a WanSteerer (wansteer.py)
fed by a carrier watch of the WAN namespace, so a link's carrier loss moves traffic at once.
Layer-7 classes add the application cache table (dpi/cache.py) and the DPI classifier
(wandpi.py); a classifier due for restart, or the cache table gone, is a DPI_BROKEN fault,
mended by applying the steering again, which then only makes the cache table and starts the
classifier.
A steering table this driver did not load itself (a restarted driver) reports a digest no
desired state has, so the next pass loads it again and drives it.
"""

from __future__ import annotations

import contextlib
import time
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from edgewise.model.desired import DesiredState
from edgewise.model.functions import NatConfig
from edgewise.site.drivers.linux.dpi.cache import CACHE_TABLE, cache_batch, remove_batch
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import CarrierWatcher, Kernel
from edgewise.site.drivers.linux.l7classes import Layer7, layer7
from edgewise.site.drivers.linux.layout import SiteNetwork
from edgewise.site.drivers.linux.steering import (
    STEER_TABLE,
    WAITS_FOR_DPI,
    class_counters,
    waiting_for_dpi,
)
from edgewise.site.drivers.linux.survey import SiteView
from edgewise.site.drivers.linux.wan import apply_links, read_links
from edgewise.site.drivers.linux.wandpi import WanClassifier
from edgewise.site.drivers.linux.wanmarks import link_mark, link_table
from edgewise.site.drivers.linux.wanplan import FAMILY, LinkPlan, read_marker, table_spec
from edgewise.site.drivers.linux.wansteer import Loaded, WanSteerer
from edgewise.site.reconcile import Change, ChangeOp
from edgewise.site.sdwan.sections import (
    ObservedWan,
    WanFault,
    links_digest,
    steering_digest,
)

UNADOPTED = "unadopted"  # the digest of a steering table no steerer of this driver loaded


class WanSide:
    def __init__(self, kernel: Kernel, host: Host, site: SiteNetwork, runtime_dir: Path) -> None:
        self._kernel = kernel
        self._host = host
        self._site = site
        self.classifier = WanClassifier(host, site.wan_netns, runtime_dir)
        self._stack = contextlib.ExitStack()
        self.steerer: WanSteerer | None = None
        self._watch: CarrierWatcher | None = None

    @property
    def wan(self) -> str:
        return self._site.wan_netns

    def observe(self) -> ObservedWan:
        links = read_links(self._host, self.wan)
        with self._host.nft(self.wan) as nft:
            items = nft.list_table(FAMILY, STEER_TABLE)
        faults = {WanFault.LINKS_BROKEN} if links.broken else set()
        steerer = self.steerer
        loaded = steerer.loaded if steerer is not None else None
        digest = ""
        if items is not None:
            digest = read_marker(items, "steering") if loaded is not None else UNADOPTED
            if steerer is not None and loaded is not None and steerer.drifted(items):
                faults.add(WanFault.STEERING_BROKEN)
        elif loaded is not None:
            faults.add(WanFault.STEERING_BROKEN)
        counters: dict[str, Any] = {}
        notes = list(links.broken)
        if links.labels:
            counters["links"] = {
                name: {
                    "interface": links.interfaces[name].name,
                    "carrier": links.interfaces[name].up and links.interfaces[name].carrier,
                    "mark": link_mark(label.slot),
                    "table": link_table(label.slot),
                    "gateway": None if label.gateway is None else str(label.gateway),
                    "nat": links.nat.get(name, {}),
                }
                for name, label in links.labels.items()
            }
            notes += [f"link {n}: no gateway known (yet)" for n, lab in links.labels.items()
                      if lab.gateway is None]  # fmt: skip
        if items is not None:
            counters["classes"] = class_counters(items)
        if steerer is not None and loaded is not None:
            counters.update(steerer.report())
            l7 = layer7(loaded.steering)
            notes += l7.problems
            if waiting_for_dpi(loaded.steering) and not l7.wanted:
                notes.append(WAITS_FOR_DPI)
            dpi = self.classifier.report()
            notes += dpi.notes
            if dpi.counters:
                counters["dpi"] = dpi.counters
            if dpi.restart or (l7.wanted and not self._cache_table()):
                faults.add(WanFault.DPI_BROKEN)
        return ObservedWan(links.digest, digest, frozenset(faults), counters, tuple(notes))

    def apply(self, change: Change, view: SiteView) -> bool:
        desired = change.desired
        assert isinstance(desired, DesiredState)
        if change.op is ChangeOp.UPDATE_LINKS:
            apply_links(self._host, self.wan, desired, links_digest(desired))
            return True
        if not desired.links:
            return self._remove_steering()
        seen = change.observed
        loaded = self.steerer.loaded if self.steerer is not None else None
        only_dpi = (isinstance(seen, ObservedWan) and seen.faults == {WanFault.DPI_BROKEN}
                    and loaded is not None
                    and loaded.digest == steering_digest(desired))  # fmt: skip
        if not only_dpi:
            self._load_steering(desired, view)
        self._ensure_dpi(layer7(desired.steering))
        return True

    def _cache_table(self) -> bool:
        with self._host.nft(self.wan) as nft:
            return nft.list_table(FAMILY, CACHE_TABLE) is not None

    def _ensure_dpi(self, l7: Layer7) -> None:
        """The application cache table and the classifier, as the layer-7 classes want."""
        with self._host.nft(self.wan) as nft:
            if l7.wanted:
                steerer = self.steerer
                plans = steerer.loaded.plans if steerer and steerer.loaded else {}
                nft.run(cache_batch([p.link.interface for p in plans.values()]))
            elif nft.list_table(FAMILY, CACHE_TABLE) is not None:
                nft.run(remove_batch())
        self.classifier.ensure(l7)

    def _load_steering(self, desired: DesiredState, view: SiteView) -> None:
        links = read_links(self._host, self.wan)
        plans: dict[str, LinkPlan] = {}
        for link in desired.links:
            label = links.labels.get(link.name)
            if label is None or links.interfaces[link.name].name != link.interface:
                raise DataPlaneError(f"link {link.name} is not built in {self.wan}: "
                                     "update-links first")  # fmt: skip
            plans[link.name] = LinkPlan(link, label.slot, label.gateway)
        oifs = {name: links.interfaces[name].index for name in plans}
        steerer = self._steerer()
        if self._watch is None:  # first: the steerer reads the carrier after it started
            self._watch = self._kernel.watch_carrier(
                self.wan, self._carrier, self._tick, self._interfaces
            )
        loaded = Loaded(desired.steering, plans, oifs, steering_digest(desired))
        steerer.load(loaded, tenant_sources(desired, view, self._site))

    def _remove_steering(self) -> bool:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self.steerer is not None:
            self.steerer.unload()
        self._ensure_dpi(Layer7())
        with self._host.nft(self.wan) as nft:
            if nft.list_table(FAMILY, STEER_TABLE) is None:
                return False
            nft.run([{"delete": {"table": table_spec(STEER_TABLE)}}])
        return True

    def _steerer(self) -> WanSteerer:
        if self.steerer is None:
            nft = self._kernel.open_nftables(self.wan)
            nl = self._stack.enter_context(self._kernel.open_netlink(self.wan))
            conntrack = self._kernel.open_conntrack(self.wan)
            self._stack.callback(conntrack.close)
            self.steerer = WanSteerer(nft, nl, conntrack)
        return self.steerer

    def _carrier(self, interface: str, carrier: bool) -> None:
        """The carrier watch's thread: a link's carrier changed."""
        steerer = self.steerer
        if steerer is not None:
            link = steerer.interface_links().get(interface)
            if link is not None:
                steerer.set_carrier(link, carrier)

    def _interfaces(self) -> list[str]:
        steerer = self.steerer
        return [] if steerer is None else sorted(steerer.interface_links())

    def _tick(self) -> float | None:
        steerer = self.steerer
        if steerer is None:
            return None
        steerer.tick()
        due = steerer.due()
        return None if due is None else due - time.monotonic()

    def close(self) -> None:
        """Stops the carrier watch and closes the steerer's socket (worker thread)."""
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        self._stack.close()
        self.steerer = None


def tenant_sources(
    desired: DesiredState, view: SiteView, site: SiteNetwork
) -> dict[str, list[IPv4Network]]:
    """Where each tenant's flows come from into the WAN namespace: per service of the tenant
    on the data plane, its LAN subnet, its transit block, and its NATs' fixed addresses."""
    found: dict[str, list[IPv4Network]] = {}
    for service in desired.services:
        seen = view.services.get(service.id)
        if seen is None:
            continue
        sources = found.setdefault(service.tenant, [])
        sources += [site.lan_subnet(seen.slot), site.transit_block(seen.slot)]
        for vnf in service.vnfs:
            config = vnf.config
            if isinstance(config, NatConfig) and config.source_address is not None:
                sources.append(IPv4Network(config.source_address))
    return found
