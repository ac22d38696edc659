"""dnsmasq as a third-party VNF on the real linux driver: DHCP and DNS for a LAN host, a blocked
domain, the confinement and limits, restarts with back-off, adoption, reload and rollback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.layout import pick_slot
from edgewise.site.drivers.linux.processes import proc_start_time
from edgewise.site.drivers.linux.software.spawn import program_pid
from edgewise.site.reconcile import ChangeOp, apply_plan, plan
from tests.site.drivers.chains import converge, desired
from tests.site.drivers.linux.software.conftest import stop_software
from tests.site.drivers.linux.software.packaged import dns_service, dnsmasq
from tests.site.drivers.netlab import Lab, in_ns, ip, wait_until

pytestmark = pytest.mark.anyio
SID = "svc-dns"
CAPS = {"NET_ADMIN": 12, "NET_BIND_SERVICE": 10, "NET_RAW": 13, "SETUID": 7, "SETGID": 6}


def params(lab: Lab, allowed: str = "192.0.2.7", extra: str = "") -> dict[str, str]:
    subnet = lab.site.lan_subnet(pick_slot(SID, set(), lab.site.slots))
    base = subnet.network_address
    return {"pool_start": str(base + 100), "pool_end": str(base + 150), "allowed_ip": allowed,
            "extra": extra}  # fmt: skip


async def software(driver: LinuxDriver) -> dict[str, Any]:
    observed = await driver.observe()
    service = observed.service(SID)
    assert service is not None
    vnf = service.vnf("dns")
    assert vnf is not None
    return dict(vnf.counters["software"])


async def settle(
    driver: LinuxDriver, state: Any, until: str = "ready", within: float = 15
) -> dict[str, Any]:
    """Reconcile passes until the VNF's state is `until` (bounded)."""
    deadline = time.monotonic() + within
    while True:
        await converge(driver, state)
        status = await software(driver)
        if status["state"] == until or time.monotonic() > deadline:
            return status
        await anyio.sleep(0.2)


def dig(lab: Lab, host: str, server: str, name: str) -> str:
    return in_ns(host, "dig", "+time=1", "+tries=2", f"@{server}", name, timeout=15)


def dhcp_host(lab: Lab, bridge: str, tmp: Path) -> tuple[str, str]:
    """A LAN host with no address on the service's bridge asks for a lease (busybox udhcpc, or
    dhclient); its namespace and the address it got."""
    host = f"{lab.prefix}-h1"
    ip("netns", "add", host)
    ip("-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", f"{lab.prefix}h1",
       "netns", lab.lan)  # fmt: skip
    ip("-n", lab.lan, "link", "set", f"{lab.prefix}h1", "master", bridge, "up")
    ip("-n", host, "link", "set", "eth0", "up")
    ip("-n", host, "link", "set", "lo", "up")
    script = tmp / "lease.sh"
    script.write_text('#!/bin/sh\n[ "$1" = bound ] && echo "LEASE $ip $router"\nexit 0\n')
    script.chmod(0o755)
    out = in_ns(host, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "5", "-T", "1",
                "-s", str(script), timeout=30)  # fmt: skip
    found = re.search(r"LEASE (\S+) (\S+)", out)
    assert found, out
    ip("-n", host, "addr", "add", f"{found.group(1)}/24", "dev", "eth0")
    return host, found.group(1)


def cap_bits(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"CapEff:\s+([0-9a-f]+)", status).group(1), 16)  # type: ignore[union-attr]


def check_confined(program: int, root: Path) -> None:
    """The program sees its own /etc/dnsmasq, cannot write /etc, keeps only its capabilities,
    and its instantiate hook ran confined with the variables in its environment."""
    mounts = ["nsenter", "-t", str(program), "-m", "--"]
    seen = subprocess.run([*mounts, "cat", "/etc/dnsmasq/hosts"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert seen.stdout == "192.0.2.7 allowed.example\n"
    wrote = subprocess.run([*mounts, "touch", "/etc/edgewise-test"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert wrote.returncode != 0
    assert "Read-only" in wrote.stderr
    assert not Path("/etc/edgewise-test").exists()
    lan_if = (root / "etc/dnsmasq/dnsmasq.conf").read_text().split("interface=")[1].split()[0]
    assert (root / "var/lib/dnsmasq/instantiated").read_text() == f"{lan_if} 192.0.2.7\n"
    allowed = sum(1 << bit for bit in CAPS.values())
    assert cap_bits(program) & ~allowed == 0
    assert cap_bits(program) != 0


def kill(program: int, bwrap: int) -> None:
    os.kill(program, signal.SIGKILL)
    assert wait_until(lambda: proc_start_time(bwrap) is None)  # bubblewrap follows it


def read(path: str) -> str:
    return Path(path).read_text()


def exists(path: str) -> bool:
    return Path(path).exists()


async def test_dnsmasq_serves_the_lan_confined_limited_supervised_and_adopted(
    lab: Lab, swdriver: LinuxDriver, tmp_path: Path
) -> None:
    state = desired(1, dns_service(SID, dnsmasq(params(lab))))
    status = await settle(swdriver, state)
    assert status["state"] == "ready", status
    attachment = await swdriver.attachment(SID)
    assert attachment is not None
    gateway = str(attachment.gateway.ip)

    host, leased = dhcp_host(lab, attachment.bridge, tmp_path)
    assert leased.startswith(str(attachment.subnet.network_address)[:-1])
    assert int(leased.rsplit(".", 1)[1]) in range(100, 151)
    assert "192.0.2.7" in dig(lab, host, gateway, "allowed.example")
    assert "NXDOMAIN" in dig(lab, host, gateway, "blocked.example")

    # the confinement: its own /etc/dnsmasq, /etc read-only, only its capabilities, its limits
    namespace = lab.site.vnf_namespace(pick_slot(SID, set(), lab.site.slots), "dns")
    program = program_pid(status["programs"]["dnsmasq"]["pid"])
    assert program is not None
    check_confined(program, swdriver.runtime_dir / "software" / namespace / "root")
    assert status["programs"]["dnsmasq"]["limits"] == {
        "cpu_quota_us": 25_000, "cpu_period_us": 100_000, "memory_limit_bytes": 64 << 20
    }  # fmt: skip
    assert f"/edgewise/{namespace}/dnsmasq" in read(f"/proc/{program}/cgroup")

    # killed: restarted after its back-off by the reconcile passes, counted
    kill(program, status["programs"]["dnsmasq"]["pid"])
    dead = await software(swdriver)
    assert dead["state"] == "failed", dead
    assert "restart in" in dead["reason"], dead
    status = await settle(swdriver, state)
    assert status["state"] == "ready", status
    assert status["programs"]["dnsmasq"]["restarts"] == 1, status
    assert "192.0.2.7" in dig(lab, host, gateway, "allowed.example")

    # a restarted controller adopts it: nothing to do, the same pid
    pid = status["programs"]["dnsmasq"]["pid"]
    await swdriver.close()
    again = LinuxDriver(lab.site, tmp_path / "run")
    try:
        assert plan(state, await again.observe()) == []
        assert (await software(again))["programs"]["dnsmasq"]["pid"] == pid

        # new params: re-rendered, SIGHUP re-reads the hosts file; same namespace, same pid
        changed = desired(2, dns_service(SID, dnsmasq(params(lab, allowed="192.0.2.9"))))
        results = await converge(again, changed)
        assert [r.change.op for r in results] == [ChangeOp.UPDATE_VNF_CONFIG]
        assert "192.0.2.9" in dig(lab, host, gateway, "allowed.example")
        assert (await software(again))["programs"]["dnsmasq"]["pid"] == pid
    finally:
        await again.close()
        stop_software(tmp_path / "run" / "software")


async def test_a_broken_config_rolls_back_and_a_missing_package_is_named(
    lab: Lab, swdriver: LinuxDriver
) -> None:
    state = desired(1, dns_service(SID, dnsmasq(params(lab), reload="restart")))
    assert (await settle(swdriver, state))["state"] == "ready"
    attachment = await swdriver.attachment(SID)
    assert attachment is not None
    host = lab.add_host("h2", attachment)

    broken = desired(
        2,
        dns_service(
            SID, dnsmasq(params(lab, allowed="192.0.2.9", extra="no-such-option"), reload="restart")
        ),
    )
    results = await apply_plan(swdriver, plan(broken, await swdriver.observe()))
    assert [r.failed for r in results] == [True]
    assert "reload by restart failed: program dnsmasq died" in (results[0].error or "")
    assert "the previous configuration is back" in (results[0].error or "")
    status = await software(swdriver)
    assert status["state"] == "ready"
    assert "reload by restart failed" in status["reload_error"]
    assert "192.0.2.7" in dig(lab, host.namespace, str(attachment.gateway.ip), "allowed.example")

    # terminated: the program, its cgroups and its files are gone
    namespace = lab.site.vnf_namespace(pick_slot(SID, set(), lab.site.slots), "dns")
    pid = status["programs"]["dnsmasq"]["pid"]
    await converge(swdriver, desired(3))
    assert not exists(f"/proc/{pid}")
    assert not exists(str(swdriver.runtime_dir / "software" / namespace))
    assert not exists(str(swdriver.runtime_dir / "software"))  # the last one: nothing left
    assert not exists(f"/sys/fs/cgroup/cpu/edgewise/{namespace}")
    assert not exists(f"/sys/fs/cgroup/memory/edgewise/{namespace}")

    missing = desired(
        4, dns_service("svc-2", dnsmasq(params(lab), packages=("edgewise-no-such-pkg",)))
    )
    results = await apply_plan(swdriver, plan(missing, await swdriver.observe()))
    errors = [r.error for r in results if r.failed]
    assert any(
        e
        and e.startswith(
            "missing Debian packages: edgewise-no-such-pkg (the site may not "
            "install packages: start the site controller with"
        )
        for e in errors
    ), errors


async def test_reload_by_script_with_a_command_probe_and_its_rollback(
    lab: Lab, swdriver: LinuxDriver
) -> None:
    def scripted(allowed: str) -> dict[str, Any]:
        config = dnsmasq(params(lab, allowed=allowed), reload="script")
        program = config["programs"][0]
        program["capabilities"] = [*program["capabilities"], "KILL"]  # dnsmasq runs as nobody
        program["ready"] = {"kind": "command", "grace_s": 5, "timeout_s": 3,
                            "command": ["dig", "+time=1", "+tries=1", "@${lan_address}",
                                        "allowed.example"]}  # fmt: skip
        reload = ("grep -q '^[0-9]' /etc/dnsmasq/hosts || exit 3; "
                  "kill -HUP $$(cat /run/dnsmasq.pid)")  # fmt: skip
        config["hooks"].append({"operation": "modify_information_end",
                                "command": ["/bin/sh", "-c", reload], "timeout_s": 5})  # fmt: skip
        return dns_service(SID, config)

    status = await settle(swdriver, desired(1, scripted("192.0.2.7")))
    assert status["state"] == "ready", status
    attachment = await swdriver.attachment(SID)
    assert attachment is not None
    host, gateway = lab.add_host("h3", attachment).namespace, str(attachment.gateway.ip)
    pid = status["programs"]["dnsmasq"]["pid"]

    results = await converge(swdriver, desired(2, scripted("192.0.2.9")))
    assert [r.change.op for r in results] == [ChangeOp.UPDATE_VNF_CONFIG]
    assert "192.0.2.9" in dig(lab, host, gateway, "allowed.example")

    results = await apply_plan(swdriver, plan(desired(3, scripted("nowhere")),
                                              await swdriver.observe()))  # fmt: skip
    assert [r.failed for r in results] == [True]
    assert "reload by script failed: hook modify_information_end exited with 3" in (
        results[0].error or ""
    )
    assert "192.0.2.9" in dig(lab, host, gateway, "allowed.example")  # the previous hosts
    status = await software(swdriver)
    assert status["state"] == "ready"
    assert status["programs"]["dnsmasq"]["pid"] == pid  # never restarted


async def test_a_heal_from_the_central_restarts_the_set_between_its_heal_hooks(
    lab: Lab, swdriver: LinuxDriver
) -> None:
    def healed(heal: int, allowed: str = "192.0.2.7") -> dict[str, Any]:
        config = dnsmasq(params(lab, allowed=allowed))
        config["heal"] = heal
        config["hooks"] += [
            {"operation": operation, "command": ["/bin/sh", "-c",
             f"echo {operation} >> /var/lib/dnsmasq/heals"], "timeout_s": 5}
            for operation in ("heal_start", "heal_end")
        ]  # fmt: skip
        return dns_service(SID, config)

    status = await settle(swdriver, desired(1, healed(0)))
    assert status["state"] == "ready", status
    pid = status["programs"]["dnsmasq"]["pid"]
    namespace = lab.site.vnf_namespace(pick_slot(SID, set(), lab.site.slots), "dns")
    heals = swdriver.runtime_dir / "software" / namespace / "root" / "var/lib/dnsmasq/heals"

    # only the heal count moved: the healthy set is restarted, the hooks around it
    results = await converge(swdriver, desired(2, healed(1)))
    assert [r.change.op for r in results] == [ChangeOp.UPDATE_VNF_CONFIG]
    status = await settle(swdriver, desired(2, healed(1)))
    assert status["state"] == "ready", status
    assert status["programs"]["dnsmasq"]["pid"] != pid
    assert heals.read_text().split() == ["heal_start", "heal_end"]

    # the same revision again: nothing to do; a params change is a reload (no restart)
    assert plan(desired(2, healed(1)), await swdriver.observe()) == []
    pid = status["programs"]["dnsmasq"]["pid"]
    await converge(swdriver, desired(3, healed(1, allowed="192.0.2.9")))
    assert (await software(swdriver))["programs"]["dnsmasq"]["pid"] == pid
    assert heals.read_text().split() == ["heal_start", "heal_end"]
