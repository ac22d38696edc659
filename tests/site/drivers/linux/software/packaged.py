"""A dnsmasq VNF as a SOL004 package would give it to a site (DNS filter + DHCP for the LAN), as a
desired-state document, for the third-party VNF tests."""

from __future__ import annotations

import hashlib
from typing import Any

DNSMASQ_CONF = """\
keep-in-foreground
no-resolv
no-hosts
bind-interfaces
interface=${lan_if}
listen-address=${lan_address}
pid-file=${run}/dnsmasq.pid
dhcp-range=${param_pool_start},${param_pool_end},1h
dhcp-option=option:router,${lan_gateway}
dhcp-leasefile=/var/lib/dnsmasq/leases
addn-hosts=/etc/dnsmasq/hosts
local=/blocked.example/
log-facility=-
${param_extra}
"""
HOSTS = "${param_allowed_ip} allowed.example\n"
CAPABILITIES = ["NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW", "SETUID", "SETGID"]


def file(path: str, content: str, *, template: bool = True, mode: int = 0o644) -> dict[str, Any]:
    digest = hashlib.sha256(content.encode()).hexdigest()
    return {"path": path, "content": content, "sha256": digest, "mode": mode,
            "template": template}  # fmt: skip


def dnsmasq(
    params: dict[str, str], *, reload: str = "signal", packages: tuple[str, ...] = ("dnsmasq-base",)
) -> dict[str, Any]:
    return {
        "vnfd_id": "dnsmasq-vnf", "vnfd_version": "1.0", "provider": "tests",
        "product": "dnsmasq",
        "programs": [{
            "name": "dnsmasq",
            "command": ["dnsmasq", "--conf-file=/etc/dnsmasq/dnsmasq.conf"],
            "restart": "always",
            "ready": {"kind": "udp", "port": 53, "grace_s": 5},
            "cpu_millis": 250, "memory_mib": 64,
            "capabilities": CAPABILITIES,
        }],
        "packages": [{"name": name} for name in packages],
        "files": [
            file("etc/dnsmasq/dnsmasq.conf", DNSMASQ_CONF),
            file("etc/dnsmasq/hosts", HOSTS),
            file("var/lib/dnsmasq/.keep", "", template=False),
        ],
        "hooks": [
            {"operation": "instantiate_start", "command": ["/bin/sh", "-c",
             'echo "$$LAN_IF $$PARAM_ALLOWED_IP" > /var/lib/dnsmasq/instantiated'], "timeout_s": 5},
        ],
        "params": {"extra": "", **params},
        "reload": reload,
        "reload_signal": "HUP",
    }  # fmt: skip


def dns_service(sid: str, config: dict[str, Any]) -> dict[str, Any]:
    """dnsmasq first in the chain (the LAN's gateway), a NAT after it."""
    return {
        "id": sid, "name": sid, "tenant": "t1",
        "vnfs": [
            {"name": "dns", "function": "software", "config": config},
            {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
        ],
        "chain": ["dns", "nat"],
    }  # fmt: skip
