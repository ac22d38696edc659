"""The linux driver's seams: what it needs of the kernel, as Protocols (no I/O here).

`Kernel` is the one object the driver is given (`LinuxDriver(kernel=...)`, then `Host`): where
kernel calls run, the namespaces, and, inside a namespace, `Netlink` (links, addresses, routes,
qdiscs) and `Nftables` (a JSON batch, a listed table); also the `ProcessSupervisor` of process
VNFs and the `DriftWatcher`. The real one is `linuxkernel.LinuxKernel` (one worker thread,
pyroute2 messages and libnftables in-process); `fakekernel.FakeKernel` holds a kernel in memory
for tests that need no root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any, Protocol, TypeVar

from edgewise.model.functions import ProcessConfig
from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.rtcodec import Link
from edgewise.site.drivers.linux.software.facts import VnfDirs
from edgewise.site.drivers.linux.software.values import Deployment, SoftwareStatus

T = TypeVar("T")
Json = dict[str, Any]


@dataclass(frozen=True)
class Qdisc:
    index: int
    handle: int
    root: bool
    kind: str | None
    rate_bytes: int | None = None  # a token bucket's rate, bytes per second
    packets: int = 0
    bytes: int = 0
    drops: int = 0


MAIN_TABLE = 254


@dataclass(frozen=True)
class KernelRoute:
    destination: IPv4Network
    gateway: IPv4Address | None
    proto: int
    oif: int | None
    table: int = MAIN_TABLE
    unreachable: bool = False
    metric: int = 0


@dataclass(frozen=True)
class KernelRule:
    """A policy routing rule: packets whose mark & `fwmask` is `fwmark` look up `table`."""

    priority: int
    fwmark: int
    fwmask: int
    table: int
    proto: int


@dataclass(frozen=True)
class ProcessStatus:
    """What observe reports of a process VNF (`as_json` goes into its counters)."""

    running: bool
    wanted: bool  # the policy wants it running: dead and wanted is unhealthy
    pid: int | None = None
    restarts: int = 0
    exit_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.running or not self.wanted

    def as_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "restarts": self.restarts,
            "exit_code": self.exit_code,
        }


class Netlink(Protocol):
    """rtnetlink inside one namespace; failures raise DataPlaneError (errno name as its code)."""

    def links(self) -> list[Link]: ...

    def link(self, name: str) -> Link | None: ...

    def required(self, name: str) -> Link:
        """The link `name`; DataPlaneError (code "no-link") when it is missing."""
        ...

    def add_veth(self, name: str, peer: str, peer_netns_fd: int) -> None:
        """A veth pair: `name` here, `peer` in the namespace of `peer_netns_fd`
        (`Kernel.namespace_fd`)."""
        ...

    def add_bridge(self, name: str, alias: str) -> Link:
        """A bridge, labelled `alias` and up; returns it as read right after it was made."""
        ...

    def set_link(self, index: int, **attrs: Any) -> None:
        """Sets `ifalias`, `group`, `address`, `master` and `state` ("up"/"down") of a link."""
        ...

    def delete(self, index: int) -> None:
        """Deletes a link (a veth with its peer); one already gone is not an error."""
        ...

    def addresses(self, index: int) -> set[IPv4Interface]: ...

    def add_address(self, index: int, address: IPv4Interface) -> None:
        """Adds an address; one already there is not an error."""
        ...

    def routes(self, proto: int) -> list[KernelRoute]:
        """The main table's routes of protocol `proto`."""
        ...

    def replace_route(
        self,
        destination: IPv4Network,
        proto: int,
        *,
        gateway: IPv4Address | None = None,
        oif: int | None = None,
        metric: int | None = None,
        table: int = MAIN_TABLE,
        unreachable: bool = False,
    ) -> None: ...

    def delete_route(self, route: KernelRoute) -> None:
        """Deletes a route (of its table); one already gone is not an error."""
        ...

    def table_routes(self, table: int) -> list[KernelRoute]:
        """Every route of table `table` (any protocol, unreachable ones too)."""
        ...

    def rules(self, proto: int) -> list[KernelRule]:
        """The IPv4 policy routing rules of protocol `proto`."""
        ...

    def add_rule(self, rule: KernelRule) -> None:
        """Adds a rule; the same rule already there is not an error."""
        ...

    def delete_rule(self, rule: KernelRule) -> None:
        """Deletes a rule; one already gone is not an error."""
        ...

    def qdiscs(self) -> list[Qdisc]: ...

    def replace_tbf(
        self, index: int, handle: int, rate_bps: int, burst_bytes: int, latency_ms: int
    ) -> None:
        """Sets (or replaces) a token bucket filter as the root qdisc of link `index`."""
        ...

    def delete_root_qdisc(self, index: int) -> None:
        """Removes the root qdisc of link `index`; none there is not an error."""
        ...


class Nftables(Protocol):
    """nftables inside one namespace, through its JSON interface."""

    def run(self, commands: list[Json]) -> Json:
        """Runs a batch of commands in one transaction (all or nothing); DataPlaneError (code
        "nftables") when it fails."""
        ...

    def list_table(self, family: str, name: str) -> list[Json] | None:
        """The objects of a table (chains, rules with counters, named counters), without
        metainfo; None when it does not exist."""
        ...


class ProcessListener(Protocol):
    """Told of each program the supervisor starts, and before it stops one (the drift watch)."""

    def process_started(self, namespace: str, pid: int) -> None: ...

    def process_stopping(self, namespace: str) -> None: ...


class ProcessSupervisor(Protocol):
    """The programs of process VNFs, one per VNF namespace; a restarted driver adopts them."""

    def start(self, namespace: str, config: ProcessConfig, *, restart: bool) -> None:
        """Starts the program in `namespace`, stopping one started before; `restart` counts
        it as a restart (the program had died)."""
        ...

    def stop(self, namespace: str) -> bool:
        """Stops the program and forgets it; False when none ran."""
        ...

    def status(self, namespace: str) -> ProcessStatus | None:
        """The recorded program's state; None when no program is recorded for `namespace`."""
        ...

    def running(self) -> dict[str, int]:
        """The pid of every recorded program still running, by namespace."""
        ...

    def close(self) -> None: ...


class SoftwareRunner(Protocol):
    """The confined, supervised program sets of third-party VNFs (software/supervisor.py), one
    per VNF namespace, kept in a state file per VNF so a restarted driver adopts them."""

    def dirs(self, namespace: str) -> VnfDirs: ...

    def prepare(self, namespace: str, config: SoftwareConfig, digest: str) -> None:
        """At build: its Debian packages there (MissingPackages otherwise), its directories."""
        ...

    def start(self, deployment: Deployment) -> None:
        """Renders and (re)starts the set (only records it while the legs are not wired)."""
        ...

    def started_with(self, namespace: str) -> dict[str, str] | None:
        """The template variables the running set was rendered with; None: not started."""
        ...

    def reload(self, deployment: Deployment) -> None:
        """A new config by the package's reload mode; ReloadFailed with the old one back."""
        ...

    def heal(self, deployment: Deployment) -> None:
        """Restarts the set, between the heal hooks."""
        ...

    def status(self, namespace: str) -> SoftwareStatus | None:
        """The set's state; None when no third-party VNF is recorded for `namespace`."""
        ...

    def remove(self, namespace: str) -> bool:
        """Terminate hooks, then the programs, their cgroups and files; False if none."""
        ...

    def running(self) -> dict[str, int]:
        """A running program's pid (the first of its set) by namespace, for the drift watch."""
        ...

    def close(self) -> None: ...


class DriftWatcher(ProcessListener, Protocol):
    """Hears the kernel tell of drift (watch.DriftWatch); every call but `start` is a no-op
    while it does not run."""

    @property
    def running(self) -> bool: ...

    @property
    def watched(self) -> list[str]: ...

    def start(self, report: Callable[[str], None]) -> None: ...

    def stop(self) -> None: ...

    def track(self, namespace: str, *, vnf: bool, wan: bool = False) -> None: ...

    def forget(self, namespace: str) -> None: ...

    def expect_gone(self, names: Iterable[str]) -> None: ...

    def sync(
        self, namespaces: dict[str, bool], pids: dict[str, int], *, wan: str | None = None
    ) -> None: ...

    def take_dirty(self) -> set[str] | None:
        """Namespaces told of since the last call; None: read everything again."""
        ...


class Conntrack(Protocol):
    """Conntrack entries inside one namespace (conntrack.CtnetlinkSocket)."""

    def delete_marked(self, mark: int, mask: int) -> None:
        """Deletes the entries whose ct mark & `mask` is `mark`."""
        ...

    def count_marked(self, mark: int, mask: int) -> int:
        """How many entries whose ct mark & `mask` is `mark` are of a connection not over."""
        ...

    def close(self) -> None: ...


class CarrierWatcher(Protocol):
    """Tells the carrier of a namespace's links as it changes (wancarrier.CarrierWatch)."""

    def stop(self) -> None: ...


class Kernel(Protocol):
    """The host's kernel as the linux driver uses it.

    Every method but `run` and `close` is called from inside `run` (the real kernel switches
    namespace per thread, so all its calls run in one worker thread).
    """

    def run(self, fn: Callable[[], T]) -> Awaitable[T]:
        """Runs `fn` where kernel calls may be made."""
        ...

    def close(self) -> None:
        """Ends `run`'s worker; the kernel's objects (namespaces, programs) stay."""
        ...

    def check(self) -> None:
        """Raises DataPlaneUnavailable when this process cannot build namespaces."""
        ...

    def namespaces(self, prefix: str) -> list[str]:
        """Names of the named namespaces starting with `prefix`, sorted."""
        ...

    def inode(self, namespace: str) -> int | None:
        """The namespace's inode (new when it is made anew); None when it does not exist."""
        ...

    def create_namespace(self, namespace: str) -> None:
        """A new namespace (loopback down, index 1); DataPlaneError (code "exists") if taken."""
        ...

    def remove_namespace(self, namespace: str) -> bool:
        """Removes a named namespace (its veths and their peers go); False when not there."""
        ...

    def write_sysctl(self, namespace: str, settings: dict[str, str]) -> None:
        """Writes net sysctls (`net.ipv4.ip_forward`...) as seen from inside `namespace`."""
        ...

    def namespace_fd(self, namespace: str) -> AbstractContextManager[int]:
        """A handle on `namespace` for `Netlink.add_veth`, valid inside the block."""
        ...

    def open_netlink(self, namespace: str) -> AbstractContextManager[Netlink]:
        """Netlink inside `namespace` (entered inside it; closed when the block ends)."""
        ...

    def open_nftables(self, namespace: str) -> Nftables:
        """An nftables context inside `namespace` (it keeps talking to that namespace)."""
        ...

    def open_conntrack(self, namespace: str) -> Conntrack:
        """Conntrack inside `namespace` (it keeps talking to it)."""
        ...

    def supervisor(self, runtime_dir: Path, listener: ProcessListener) -> ProcessSupervisor:
        """The supervisor of process VNFs, keeping its state under `runtime_dir`."""
        ...

    def software(
        self, base: Path, listener: ProcessListener, *, may_install: bool
    ) -> SoftwareRunner:
        """The runner of third-party VNFs, keeping their files and state under `base`, telling
        `listener` of the programs it starts and stops; `may_install`: missing Debian packages
        are installed (else refused)."""
        ...

    def drift_watch(self, prefix: str) -> DriftWatcher:
        """A (stopped) drift watch of the site's objects named with `prefix`."""
        ...

    def watch_carrier(
        self,
        namespace: str,
        report: Callable[[str, bool], None],
        tick: Callable[[], float | None],
        interfaces: Callable[[], list[str]],
    ) -> CarrierWatcher:
        """Starts telling `report(interface, carrier)` of `namespace`'s `interfaces()` as their
        carrier changes, calling `tick()` between (it answers the seconds until it wants calling
        again)."""
        ...
