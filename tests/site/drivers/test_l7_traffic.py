"""Layer-7 steering with real traffic (root, namespaces, nDPI): default traffic leaves by LTE;
the class `saas` (hosts *.saas.example, a custom application) prefers the internet link and
the class `remote` (the catalogue's ssh) MPLS. The first flow to a service is named by DPI
after its first packets (its ct mark shows the application) and stays on the link it started
on; the application cache then steers the next flows to that service from their SYN: the
server sees the class's link address, and the counters per class per link show both."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from edgewise.model.applications import Applications
from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.sdwan.sections import WanFault
from tests.site.drivers.chains import converge
from tests.site.drivers.linux.dpi.lab import make_certificate, skip_reason
from tests.site.drivers.netlab import in_ns, stop_processes, wait_until
from tests.site.drivers.wanlab import DC_SERVER, PROVIDERS, WanLab

pytestmark = pytest.mark.anyio
SKIP = skip_reason()
MPLS, INET, LTE = (p.site_address for p in PROVIDERS)
APPS = Applications.build({"saas": ("*.saas.example",)})
DONE, SAAS, REMOTE, PINNED = 0x0100_0000, 0x10, 0x20, 0x8
STEERING: dict[str, Any] = {
    "classes": [
        {"name": "saas", "hosts": ["*.saas.example"]},
        {"name": "remote", "protocol": "tcp", "applications": ["ssh"]},
    ],
    "policies": [
        {"class": "saas", "links": ["inet", "lte"]},
        {"class": "remote", "links": ["mpls", "inet"]},
    ],
    "default_links": ["lte", "mpls", "inet"],
}


def app_bits(name: str) -> int:
    app = APPS.by_name(name)
    assert app is not None
    return DONE | app.app_id << 16


def l7_site(lab: WanLab) -> DesiredState:
    return lab.state(STEERING)


@pytest.fixture
def wanlab(tmp_path: Path) -> Iterator[WanLab]:
    if SKIP:
        pytest.skip(SKIP)
    made = WanLab()
    try:
        made.start()
        cert, key = make_certificate(tmp_path)
        made.serve_apps(str(cert), str(key))
        yield made
    finally:
        made.close()


@pytest.fixture
async def driver(wanlab: WanLab, tmp_path: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(wanlab.site, tmp_path / "run")
    try:
        await converge(made, l7_site(wanlab))
        yield made
    finally:
        await made.close()
        stop_processes(tmp_path / "run")


def marks(lab: WanLab, port: int) -> list[int]:
    """The ct marks of the WAN side's flows to the data centre's `port`."""
    listed = in_ns(lab.wan, "conntrack", "-L", "-p", "tcp", "-d", DC_SERVER, "--dport", str(port))
    return [int(m) for m in re.findall(r"mark=(\d+)", listed)]


def cached(lab: WanLab, port: int) -> bool:
    listed = in_ns(lab.wan, "nft", "list", "map", "ip", "ew_appcache", "apps")
    return f"{DC_SERVER} . tcp . {port}" in listed


def flush_conntrack(lab: WanLab) -> None:
    in_ns(lab.wan, "conntrack", "-F")


async def test_layer7_classes_steer_real_flows(wanlab: WanLab, driver: LinuxDriver) -> None:
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    host = wanlab.add_host("h1", attachment).namespace
    status = (await driver.observe()).wan.counters.get("dpi", {})
    assert status.get("running"), status
    assert wait_until(lambda: "EDGEWISE-DPI" in in_ns(wanlab.wan, "iptables-nft-save"), 10)

    # an application no class lists (HTTP) stays default traffic, flow after flow
    assert wanlab.use_app(host, "http", "www.other.example") == LTE
    assert wanlab.use_app(host, "http", "www.other.example") == LTE

    for kind, name, port, key, link in (("tls", "app.saas.example", 443, SAAS, INET),
                                        ("ssh", "-", 22, REMOTE, MPLS)):  # fmt: skip
        app = app_bits("saas" if kind == "tls" else "ssh")
        # the first flow: default traffic at its SYN; named at its 4th packet; kept on LTE
        assert wanlab.use_app(host, kind, name) == LTE, kind
        assert marks(wanlab, port) == [app | key | PINNED], kind
        assert wait_until(lambda p=port: cached(wanlab, p), 5), kind  # type: ignore[misc]
        flush_conntrack(wanlab)
        # the next flow: named by the application cache at its SYN, out of the class's link
        assert wanlab.use_app(host, kind, name) == link, kind
        assert marks(wanlab, port) == [app | key], kind

    counters = (await driver.observe()).wan.counters
    classes = counters["classes"]
    assert classes["saas"]["inet"]["packets"] > 0
    assert classes["saas"]["lte"]["packets"] > 0  # the first flow, counted under its class
    assert classes["remote"]["mpls"]["packets"] > 0
    assert classes["remote"]["lte"]["packets"] > 0
    assert classes["saas"]["mpls"]["packets"] == classes["remote"]["inet"]["packets"] == 0
    assert classes["@default"]["inet"]["packets"] == 0
    dpi = counters["dpi"]
    assert wait_until(lambda: driver_classified(wanlab, driver), 5)
    assert dpi["cache_errors"] == 0


def driver_classified(lab: WanLab, driver: LinuxDriver) -> bool:
    """The classifier's status file counts the TLS and SSH flows (written every 2 s)."""
    found = driver._wan.classifier.status_file
    text = found.read_text() if found.exists() else ""
    return '"saas": 2' in text and '"ssh": 2' in text


async def test_a_dns_answer_for_a_class_host_steers_the_first_flow(
    wanlab: WanLab, driver: LinuxDriver
) -> None:
    """DNS-based learning: the answer for cdn.saas.example fills the cache for the answered
    address, so even the first TLS flow to it leaves by the internet link from its SYN."""
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    host = wanlab.add_host("h1", attachment).namespace
    assert wait_until(lambda: "EDGEWISE-DPI" in in_ns(wanlab.wan, "iptables-nft-save"), 10)
    assert wanlab.use_app(host, "dns", "cdn.saas.example") == DC_SERVER
    assert wait_until(lambda: cached(wanlab, 443), 5)
    assert wanlab.use_app(host, "tls", "cdn.saas.example") == INET
    assert marks(wanlab, 443) == [app_bits("saas") | SAAS]
    # a name no class lists teaches nothing: SSH (port 22) is not cached by DNS
    assert wanlab.use_app(host, "dns", "www.other.example") == DC_SERVER
    assert not cached(wanlab, 22)


async def test_a_killed_classifier_is_restarted_and_classifies_again(
    wanlab: WanLab, driver: LinuxDriver
) -> None:
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    host = wanlab.add_host("h1", attachment).namespace
    assert wait_until(driver._wan.classifier.status_file.exists, 10)
    pid = (await driver.observe()).wan.counters["dpi"]["pid"]
    os.kill(pid, signal.SIGKILL)  # its hook rules stay: the queue lets packets by meanwhile
    for _ in range(50):  # bounded: 5 s (the supervisor reaps it when asked)
        seen = await driver.observe()
        if not seen.wan.counters["dpi"]["running"]:
            break
        await asyncio.sleep(0.1)
    assert any("the DPI classifier ended" in n for n in seen.wan.notes), seen
    assert wanlab.use_app(host, "tls", "app.saas.example") == LTE  # fail-open, not classified
    await asyncio.sleep(1.1)  # the first restart's back-off
    seen = await driver.observe()
    assert seen.wan.faults == {WanFault.DPI_BROKEN}
    await converge(driver, l7_site(wanlab))
    seen = await driver.observe()
    assert seen.wan.counters["dpi"]["running"] is True
    assert seen.wan.counters["dpi"]["pid"] not in (pid, None)
    assert wait_until(driver._wan.classifier.status_file.exists, 10)  # it serves the queue
    flush_conntrack(wanlab)
    assert wanlab.use_app(host, "tls", "app.saas.example") == LTE
    assert marks(wanlab, 443) == [app_bits("saas") | SAAS | PINNED]
