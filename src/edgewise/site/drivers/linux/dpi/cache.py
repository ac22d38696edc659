"""The application cache for first-packet steering: (server address, protocol, port) ->
application, learnt by the classifier and read by the kernel at a flow's first packet.

    table ip ew_appcache
      map apps { type ipv4_addr . inet_proto . inet_service : mark; flags timeout;
                 size 65536; timeout 10m }
      chain pre  prerouting, priority mangle - 10 (ahead of the steering table's):
        iifname != { <the links' interfaces> } ct state new meta l4proto { tcp, udp }
          ct mark set ip daddr . meta l4proto . th dport map @apps

The driver builds the table (`cache_batch`, pure; `add map` keeps the elements learnt); the
classifier adds an element when it names a flow (`CacheWriter`, libnftables in its namespace).
An element holds the application bits WITHOUT the decided bit: the new flow is steered by
them from its SYN and still inspected, and the classifier's answer replaces them (and the
element, when the service changed).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final

from edgewise.site.drivers.linux.dpi.marks import APP_SHIFT
from edgewise.site.drivers.linux.dpi.nfqmsg import Server

log = logging.getLogger(__name__)
Json = dict[str, Any]
CACHE_TABLE: Final = "ew_appcache"
CACHE_MAP: Final = "apps"
CACHE_SIZE: Final = 65_536  # elements at most (the kernel refuses more)
CACHE_TIMEOUT_S: Final = 600  # an element lives this long after it was last (re)learnt
CACHE_PRIORITY: Final = -160  # mangle (-150) - 10: ahead of the steering table's chain
PROTOCOLS: Final = {6: "tcp", 17: "udp"}
_TABLE: Final = {"family": "ip", "table": CACHE_TABLE}


def cache_batch(interfaces: Sequence[str]) -> list[Json]:
    """The cache table (made, or its chain refilled: the elements learnt stay)."""
    ct_mark = {"ct": {"key": "mark"}}
    key = {"concat": [{"payload": {"protocol": "ip", "field": "daddr"}},
                      {"meta": {"key": "l4proto"}},
                      {"payload": {"protocol": "th", "field": "dport"}}]}  # fmt: skip
    expr: list[Json] = []
    if interfaces:
        expr.append({"match": {"op": "!=", "left": {"meta": {"key": "iifname"}},
                               "right": {"set": sorted(interfaces)}}})  # fmt: skip
    expr += [
        {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "new"}},
        {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}},
                   "right": {"set": ["tcp", "udp"]}}},
        {"mangle": {"key": ct_mark, "value": {"map": {"key": key, "data": f"@{CACHE_MAP}"}}}},
    ]  # fmt: skip
    chain = {**_TABLE, "name": "pre", "type": "filter", "hook": "prerouting",
             "prio": CACHE_PRIORITY, "policy": "accept"}  # fmt: skip
    return [
        {"add": {"table": {"family": "ip", "name": CACHE_TABLE}}},
        {"add": {"map": {**_TABLE, "name": CACHE_MAP, "type": ["ipv4_addr", "inet_proto",
                 "inet_service"], "map": "mark", "flags": ["timeout"], "size": CACHE_SIZE,
                 "timeout": CACHE_TIMEOUT_S}}},
        {"add": {"chain": chain}},
        {"flush": {"chain": {**_TABLE, "name": "pre"}}},
        {"add": {"rule": {**_TABLE, "chain": "pre", "expr": expr}}},
    ]  # fmt: skip


def remove_batch() -> list[Json]:
    return [{"add": {"table": {"family": "ip", "name": CACHE_TABLE}}},
            {"delete": {"table": {"family": "ip", "name": CACHE_TABLE}}}]  # fmt: skip


def element_batch(server: Server, app_id: int) -> list[Json]:
    """The one command that (re)learns `server` as `app_id` (its timeout starts again)."""
    value = {"concat": [server.address, PROTOCOLS[server.proto], server.port]}
    elem = [[{"elem": {"val": value, "timeout": CACHE_TIMEOUT_S}}, app_id << APP_SHIFT]]
    return [{"add": {"element": {**_TABLE, "name": CACHE_MAP, "elem": elem}}}]


class CacheWriter:
    """Adds what the classifier names to the kernel's cache, once per server and application
    per half timeout (the kernel's element is refreshed before it expires). `run` is a
    libnftables context's json_cmd in the classifier's namespace (`open_nftables`)."""

    def __init__(self, run: Callable[[Json], tuple[int, Any, str]],
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._run = run
        self._clock = clock
        self._recent: OrderedDict[Server, tuple[int, float]] = OrderedDict()
        self.learnt = 0
        self.errors = 0
        self.last_error: str | None = None

    def learn(self, server: Server, app_id: int) -> bool:
        """Records that `server` serves `app_id`; True when the kernel's map was written."""
        if server.proto not in PROTOCOLS or app_id == 0:
            return False
        now = self._clock()
        known = self._recent.get(server)
        if known is not None and known[0] == app_id and now - known[1] < CACHE_TIMEOUT_S / 2:
            return False
        rc, _, error = self._run({"nftables": element_batch(server, app_id)})
        if rc != 0:
            self.errors += 1
            if error.strip() != self.last_error:
                log.warning("application cache: %s", error.strip())
            self.last_error = error.strip()
            return False
        self._recent[server] = (app_id, now)
        self._recent.move_to_end(server)
        while len(self._recent) > CACHE_SIZE:
            self._recent.popitem(last=False)
        self.learnt += 1
        return True

    def snapshot(self) -> dict[str, Any]:
        return {"cache_learnt": self.learnt, "cache_errors": self.errors,
                "cache_last_error": self.last_error}  # fmt: skip


def open_nftables() -> Callable[[Json], tuple[int, Any, str]]:
    """libnftables (python3-nftables) in this process's namespace, as CacheWriter's `run`."""
    context = importlib.import_module("nftables").Nftables()
    context.set_json_output(True)
    return context.json_cmd  # type: ignore[no-any-return]
