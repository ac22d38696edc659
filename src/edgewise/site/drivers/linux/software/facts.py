"""What the site knows of one third-party VNF and its package cannot (pure): its directories,
its legs (interface names, addresses, peers) and its service's LAN, as template variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path


@dataclass(frozen=True)
class VnfDirs:
    """A VNF's directories under the supervisor's base: `root` (the package's files, its
    `etc/<x>` and `var/lib/<x>`), `run` (its /run), `log` (programs' and hooks' output)."""

    base: Path

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def run(self) -> Path:
        return self.base / "run"

    @property
    def log(self) -> Path:
        return self.base / "log"

    @property
    def state(self) -> Path:
        return self.base / "state.json"


@dataclass(frozen=True)
class Leg:
    """One connection point of the VNF as the kernel has it."""

    name: str
    address: IPv4Interface | None = None

    @property
    def peer(self) -> str:
        """The other end of its /31 (the neighbour hop); '' on the LAN (hosts, no one hop)."""
        if self.address is None or self.address.network.prefixlen != 31:
            return ""
        other = [a for a in self.address.network if a != self.address.ip]
        return str(other[0]) if other else ""


@dataclass(frozen=True)
class VnfFacts:
    vnf: str
    service: str
    namespace: str
    dirs: VnfDirs
    lan_subnet: IPv4Network
    lan_gateway: IPv4Interface
    lan: Leg | None = None
    wan: Leg | None = None

    @property
    def wired(self) -> bool:
        """Both legs are there: the programs can be told their interfaces."""
        return self.lan is not None and self.wan is not None

    def variables(self) -> dict[str, str]:
        """model.software.TEMPLATE_VARIABLES, filled in."""
        lan, wan = self.lan or Leg(""), self.wan or Leg("")
        return {
            "vnf": self.vnf,
            "service": self.service,
            "root": str(self.dirs.root),
            "run": str(self.dirs.run),
            "namespace": self.namespace,
            "lan_if": lan.name,
            "lan_address": str(lan.address.ip) if lan.address else "",
            "lan_peer": lan.peer,
            "wan_if": wan.name,
            "wan_address": str(wan.address.ip) if wan.address else "",
            "wan_peer": wan.peer,
            "lan_subnet": str(self.lan_subnet),
            "lan_gateway": str(self.lan_gateway.ip),
            "lan_prefixlen": str(self.lan_subnet.prefixlen),
        }
