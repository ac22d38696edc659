"""The classifier program: enters the namespace, loads nDPI with the custom applications, binds
the queue, installs its hook rules, then answers queued packets until told to stop (SIGTERM,
SIGINT), writing its status file every few seconds; on the way out it removes its rules. With
`cache`, each identified flow's server goes into the application cache (cache.py).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from edgewise.model.applications import Applications, CatalogueError
from edgewise.site.drivers.linux.dpi import hooks
from edgewise.site.drivers.linux.dpi.cache import CacheWriter, open_nftables
from edgewise.site.drivers.linux.dpi.classifier import GIVE_UP_AFTER, Classifier
from edgewise.site.drivers.linux.dpi.dnslearn import HostMatcher, dns_answer, learnt_servers
from edgewise.site.drivers.linux.dpi.errors import DpiConfigError, DpiUnavailable
from edgewise.site.drivers.linux.dpi.ndpi import Detector
from edgewise.site.drivers.linux.dpi.nfqmsg import QueuedPacket, packet_key
from edgewise.site.drivers.linux.dpi.nfqueue import NetfilterQueue, QueueStats
from edgewise.site.drivers.linux.dpi.status import write_status

log = logging.getLogger(__name__)
CLONE_NEWNET: Final = 0x40000000
NETNS_DIR: Final = Path("/run/netns")
POLL: Final = 0.2  # seconds a receive waits, so a stop request is seen within this


@dataclass(frozen=True)
class Options:
    """How one classifier runs. `argv()` is the command line that starts it."""

    queue: int = 0
    netns: str | None = None
    give_up_after: int = GIVE_UP_AFTER
    hooks: tuple[str, ...] = ("FORWARD",)
    status_file: Path | None = None
    status_every: float = 2.0
    max_flows: int = 16384
    idle: float = 30.0
    custom: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cache: bool = False  # learn identified servers into the application cache (cache.py)
    learn_dns: bool = False  # and the addresses DNS answers give for custom hosts (dnslearn.py)

    def argv(self, python: str = "python3") -> list[str]:
        args = [python, "-m", "edgewise.site.drivers.linux.dpi", "--queue", str(self.queue),
                "--give-up-after", str(self.give_up_after), "--max-flows", str(self.max_flows),
                "--idle", str(self.idle), "--status-every", str(self.status_every)]  # fmt: skip
        if self.netns:
            args += ["--netns", self.netns]
        if self.status_file:
            args += ["--status-file", str(self.status_file)]
        for hook in self.hooks:
            args += ["--hook", hook]
        for name, hosts in self.custom.items():
            args += ["--custom", f"{name}={','.join(hosts)}"]
        if self.cache:
            args.append("--cache")
        if self.learn_dns:
            args.append("--learn-dns")
        return args


def enter_namespace(name: str) -> None:
    """Moves this (still single-threaded) process into the named network namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        fd = os.open(NETNS_DIR / name, os.O_RDONLY)
    except OSError as exc:
        raise DpiUnavailable(f"network namespace {name}: {exc.strerror}") from exc
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise DpiUnavailable(f"entering network namespace {name}: {os.strerror(code)}")
    finally:
        os.close(fd)


def run(options: Options, stop: threading.Event) -> None:
    """Runs the classifier until `stop` is set. Raises DpiUnavailable/DpiConfigError/QueueError."""
    if options.netns:
        enter_namespace(options.netns)
    try:
        applications = Applications.build(options.custom)
    except CatalogueError as exc:
        raise DpiConfigError(str(exc)) from exc
    custom = [(a.ndpi_names[0], a.hosts) for a in applications.custom()]
    detector = Detector(custom)
    classifier = Classifier(detector, applications, time.monotonic,
                            give_up_after=options.give_up_after, max_flows=options.max_flows,
                            idle=options.idle)  # fmt: skip
    learn_dns = options.cache and options.learn_dns
    rules = hooks.HookRules(options.queue, options.give_up_after, options.hooks, dns=learn_dns)
    cache = None
    if options.cache:
        try:
            cache = CacheWriter(open_nftables())
        except (ImportError, OSError) as exc:
            raise DpiUnavailable(f"the application cache needs libnftables (python3-nftables): "
                                 f"{exc}") from exc  # fmt: skip
    try:
        queue = NetfilterQueue(options.queue)
        try:
            hooks.install(rules)
            log.info("classifying in %s on queue %d (nDPI %s, %d applications, hooks %s)",
                     options.netns or "this namespace", options.queue, detector.version,
                     len(applications.entries), ",".join(options.hooks))  # fmt: skip
            hosts = HostMatcher({a.app_id: a.hosts for a in applications.custom()} if learn_dns
                                else {})  # fmt: skip
            Session(queue, classifier, options, detector.version, cache, hosts).serve(stop)
        finally:
            hooks.remove(rules)
            queue.close()
    finally:
        classifier.close()
        detector.close()


class PacketQueue(Protocol):
    """What the loop needs of the queue (nfqueue.NetfilterQueue; a fake in the tests)."""

    def receive(self, timeout: float) -> list[QueuedPacket]: ...

    def accept(self, packet_id: int, *, mark: int | None = None) -> None: ...

    def stats(self) -> QueueStats | None: ...


@dataclass
class Session:
    """One run's parts: the loop that answers the queue, and the status it writes."""

    queue: PacketQueue
    classifier: Classifier
    options: Options
    version: str
    cache: CacheWriter | None = None
    hosts: HostMatcher = field(default_factory=lambda: HostMatcher({}))
    started: float = field(default_factory=time.time)
    dns_learnt: int = 0  # DNS answers that named a custom application's host

    def serve(self, stop: threading.Event) -> None:
        next_status = 0.0
        while not stop.is_set():
            for queued in self.queue.receive(POLL):
                if self.learnt_from_dns(queued):
                    self.queue.accept(queued.packet_id)
                    continue
                verdict = self.classifier.packet(queued)
                self.queue.accept(queued.packet_id, mark=verdict.mark)
                if self.cache is not None and verdict.server is not None:
                    self.cache.learn(verdict.server, verdict.app_id)
            now = time.monotonic()
            if now >= next_status:
                self.classifier.expire()
                self.write_status()
                next_status = now + self.options.status_every
        self.write_status()

    def learnt_from_dns(self, queued: QueuedPacket) -> bool:
        """Whether `queued` is a DNS answer of a decided flow, learnt from (custom hosts'
        addresses into the cache); such a packet needs nothing else."""
        if self.cache is None or not self.hosts:
            return False
        answer = dns_answer(queued.payload)
        if answer is None:
            return False
        app_id = self.hosts.match(answer.name)
        if app_id is not None:
            self.dns_learnt += 1
            for server in learnt_servers(answer):
                self.cache.learn(server, app_id)
        key = packet_key(queued.payload)
        return key is not None and key not in self.classifier.flows

    def write_status(self) -> None:
        if self.options.status_file:
            write_status(self.options.status_file, self.status())

    def status(self) -> dict[str, Any]:
        kernel = self.queue.stats()
        flows = self.classifier.flows
        return {
            "pid": os.getpid(),
            "netns": self.options.netns,
            "queue": self.options.queue,
            "ndpi": self.version,
            "started_at": round(self.started, 3),
            "updated_at": round(time.time(), 3),
            "give_up_after": self.options.give_up_after,
            "flows_inspecting": len(flows),
            "flows_evicted": flows.evicted,
            "flows_expired": flows.expired,
            **self.classifier.counters.snapshot(),
            "queue_waiting": kernel.waiting if kernel else None,
            "queue_dropped": (kernel.dropped + kernel.user_dropped) if kernel else None,
            "cpu_seconds": round(time.process_time(), 3),
            **(self.cache.snapshot() if self.cache is not None else {}),
            **({"dns_learnt": self.dns_learnt} if self.hosts else {}),
        }


def stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
