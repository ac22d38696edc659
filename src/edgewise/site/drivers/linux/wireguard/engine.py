"""The overlay engine at the site: `ensure`, `observe`, `remove` of WireGuard devices, and
`steer` (moving prefixes to another device). The linux driver calls it; it calls wireguard-go
(process.py), its socket (uapi.py) and netlink (device.py), each blocking step in the
namespace worker's thread.

`ensure` is idempotent: a running device whose configuration holds is left alone (its
sessions too); only what differs is changed. A restarted controller adopts running devices.
"""

from __future__ import annotations

import logging
from ipaddress import IPv4Network
from pathlib import Path

from edgewise.site.drivers.linux.netlink import open_netlink
from edgewise.site.drivers.linux.netns import NamespaceWorker
from edgewise.site.drivers.linux.wireguard import device as kernel
from edgewise.site.drivers.linux.wireguard.config import OverlayDevice, check
from edgewise.site.drivers.linux.wireguard.genl import kernel_has_wireguard
from edgewise.site.drivers.linux.wireguard.keys import read_private_key
from edgewise.site.drivers.linux.wireguard.outcomes import DeviceState, Ensured
from edgewise.site.drivers.linux.wireguard.process import WireGuardGo, find_program
from edgewise.site.drivers.linux.wireguard.uapi import SOCKET_DIR, UapiSocket, set_request
from edgewise.site.drivers.linux.wireguard.underlay import Underlay, sync_rules

log = logging.getLogger(__name__)


class OverlayEngine:
    """WireGuard overlay devices of one site, their processes recorded under `run_dir`."""

    def __init__(
        self,
        run_dir: Path,
        worker: NamespaceWorker | None = None,
        socket_dir: Path = SOCKET_DIR,
    ) -> None:
        self.run_dir = run_dir
        self._own_worker = worker is None
        self.worker = worker or NamespaceWorker()
        self.socket_dir = socket_dir
        self.processes = WireGuardGo(run_dir, self.worker, socket_dir)
        self._backend: str | None = None

    def backend(self) -> str:
        """What runs the devices (wireguard-go), logged once with why (kernel WireGuard or not)."""
        if self._backend is None:
            find_program()
            if kernel_has_wireguard():
                log.info("kernel WireGuard present; overlay devices run on wireguard-go still")
            else:
                log.info("kernel WireGuard missing (no 'wireguard' genl family): wireguard-go")
            self._backend = "wireguard-go"
        return self._backend

    async def ensure(self, wanted: OverlayDevice) -> Ensured:
        check(wanted)
        private_key = read_private_key(wanted.private_key_file)
        return await self.worker.run(lambda: self._ensure(wanted, private_key))

    def _ensure(self, wanted: OverlayDevice, private_key: bytes) -> Ensured:
        self.backend()
        started = False
        if self.processes.running(wanted.name, wanted.namespace) is None:
            self.processes.start(wanted.name, wanted.namespace)
            started = True
        uapi = UapiSocket(wanted.name, self.socket_dir)
        request = set_request(wanted, private_key, uapi.get())
        if request is not None:
            uapi.set(request)
        with self.worker.inside(wanted.namespace), open_netlink(wanted.namespace) as net:
            index = kernel.configure_link(net, wanted.name, wanted.mtu, wanted.address)
            kernel.sync_routes(net, index, wanted.prefixes(), wanted.table, wanted.metric)
        return Ensured(wanted.name, started, request is not None)

    async def observe(self, name: str, namespace: str) -> DeviceState | None:
        """The device as it runs; None when its process does not run in `namespace`."""
        return await self.worker.run(lambda: self._observe(name, namespace))

    def _observe(self, name: str, namespace: str) -> DeviceState | None:
        pid = self.processes.running(name, namespace)
        if pid is None:
            return None
        dump = UapiSocket(name, self.socket_dir).get()
        return DeviceState(name, pid, dump.public_key, dump.listen_port, dump.fwmark, dump.peers)

    async def remove(self, name: str) -> bool:
        """Stops the device's process (its link and routes go with it); False if none ran."""
        return await self.worker.run(lambda: self.processes.stop(name))

    def devices(self) -> list[str]:
        """The devices this engine has a record of (to remove those no longer wanted)."""
        return self.processes.names()

    async def steer(
        self, namespace: str, device: str, prefixes: list[IPv4Network], table: int, metric: int = 0
    ) -> None:
        """Routes `prefixes` through overlay `device` in `table` of `namespace`, in place."""

        def move() -> None:
            with self.worker.inside(namespace), open_netlink(namespace) as net:
                kernel.steer_routes(net, device, prefixes, table, metric)

        await self.worker.run(move)

    async def route_peers(
        self, namespace: str, table: int, routes: dict[str, list[IPv4Network]]
    ) -> None:
        """Makes the steered routes of `table` in `namespace` exactly `routes` (device -> the
        prefixes it carries): `steer` for every device at once, removing what is not there."""

        def move() -> None:
            with self.worker.inside(namespace), open_netlink(namespace) as net:
                kernel.route_exactly(net, table, routes)

        await self.worker.run(move)

    async def underlay(self, namespace: str, wanted: Underlay | None) -> bool:
        """Sets the overlay's routing rules in `namespace` (underlay.py; None: removes them)."""

        def sync() -> bool:
            with self.worker.inside(namespace), open_netlink(namespace) as net:
                return sync_rules(net, wanted)

        return await self.worker.run(sync)

    def close(self) -> None:
        """Lets go of the worker; the devices keep running, to be adopted."""
        if self._own_worker:
            self.worker.close()
