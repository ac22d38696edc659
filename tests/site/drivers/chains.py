"""Desired-state documents and the real reconcile loop (plan + apply_plan) for the driver tests."""

from __future__ import annotations

from typing import Any

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.layout import left_end
from edgewise.site.reconcile import ChangeResult, apply_plan, plan

FIREWALL: dict[str, Any] = {
    "default_action": "drop",
    "rules": [
        {"action": "accept", "protocol": "tcp", "port": 8080, "direction": "outbound"},
        {"action": "accept", "protocol": "tcp", "port_range": [9000, 9010]},
        {"action": "accept", "protocol": "icmp", "direction": "outbound"},
        {"action": "accept", "protocol": "tcp", "port": 2222, "direction": "inbound"},
    ],
}


def vcpe(sid: str, firewall: dict[str, Any] | None = None, **nat: Any) -> dict[str, Any]:
    return {
        "id": sid, "name": sid, "tenant": "t1",
        "vnfs": [
            {"name": "fw", "function": "firewall", "config": firewall or FIREWALL},
            {"name": "nat", "function": "nat", "config": {"mode": "masquerade", **nat}},
        ],
        "chain": ["fw", "nat"],
    }  # fmt: skip


def desired(revision: int, *services: dict[str, Any]) -> DesiredState:
    return DesiredState.from_document(revision, {"services": list(services)})


async def converge(driver: LinuxDriver, state: DesiredState) -> list[ChangeResult]:
    """One reconcile pass; fails the test when a change fails."""
    results = await apply_plan(driver, plan(state, await driver.observe()))
    failed = [f"{r.change}: {r.error}" for r in results if r.failed]
    assert not failed, failed
    return results


async def nat_address(driver: LinuxDriver, sid: str, position: int = 2) -> str:
    """The address the service's NAT (at `position` in the chain) masquerades to."""
    view = await driver.view(sid)
    link = driver.site.transit_link(view.services[sid].slot, position)
    return str(left_end(link).ip)


def with_program(sid: str, command: str = "sleep", *args: str) -> dict[str, Any]:
    """Firewall -> process VNF `app` (by default `sleep 86400`) -> NAT."""
    program = {"command": command, "args": list(args or ("86400",)), "restart": "always"}
    return {
        "id": sid, "name": sid, "tenant": "t1",
        "vnfs": [
            {"name": "fw", "function": "firewall", "config": FIREWALL},
            {"name": "app", "function": "process", "config": program},
            {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
        ],
        "chain": ["fw", "app", "nat"],
    }  # fmt: skip
