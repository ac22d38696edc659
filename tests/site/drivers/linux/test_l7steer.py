"""Layer-7 steering over the fake kernel: the classify and dpi chains and the route map of
layer-7 classes, the application cache table, and the DPI classifier run, restarted with
back-off, reported, and stopped as the steering section says."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.model.applications import Applications
from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.dpi.cache import CACHE_MAP, CACHE_TABLE
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.l7classes import layer7
from edgewise.site.drivers.linux.steering import STEER_TABLE
from edgewise.site.drivers.linux.wanmarks import link_mark
from edgewise.site.drivers.linux.wanplan import FAMILY
from edgewise.site.reconcile import ChangeOp, ChangeReason, plan
from edgewise.site.sdwan.sections import WanFault
from tests.site.drivers.linux.conftest import SITE
from tests.site.drivers.linux.kit import reconcile
from tests.site.drivers.linux.test_wan import LINKS, add_uplinks, elements

pytestmark = pytest.mark.anyio
STEERING: dict[str, Any] = {
    "classes": [
        {"name": "voice", "protocol": "udp", "ports": [5060]},
        {"name": "saas", "hosts": ["*.saas.example"]},
        {"name": "remote", "protocol": "tcp", "applications": ["ssh", "rdp"]},
    ],
    "policies": [
        {"class": "voice", "links": ["mpls", "inet"]},
        {"class": "saas", "links": ["inet", "mpls"]},
        {"class": "remote", "links": ["mpls", "inet"]},
    ],
    "default_links": ["mpls", "inet"],
}
SAAS, REMOTE, PINNED, DONE = 0x20, 0x30, 0x8, 0x0100_0000
APPS = Applications.build({"saas": ("*.saas.example",)})


def app_bits(name: str) -> int:
    app = APPS.by_name(name)
    assert app is not None
    return app.app_id << 16


@pytest.fixture
def uplinks(kernel: FakeKernel) -> FakeKernel:
    return add_uplinks(kernel)


def site(**steering: Any) -> DesiredState:
    document: dict[str, Any] = {"services": [], "links": LINKS}
    document["steering"] = {**STEERING, **steering}
    return DesiredState.from_document(1, document)


def table(kernel: FakeKernel, name: str) -> list[dict[str, Any]]:
    return kernel.open_nftables(SITE.wan_netns).list_table(FAMILY, name) or []


def rules(kernel: FakeKernel, chain: str) -> list[list[dict[str, Any]]]:
    items = table(kernel, STEER_TABLE)
    return [i["rule"]["expr"] for i in items if i.get("rule", {}).get("chain") == chain]


def keeps_app_bits_sets_key(expr: list[dict[str, Any]], key: int) -> bool:
    value = expr[-2]["mangle"]["value"]
    return bool(value == {"|": [{"&": [{"ct": {"key": "mark"}}, 0xFFFF0000]}, key]})


def test_a_class_with_hosts_is_a_custom_application_named_after_it() -> None:
    classes = [*STEERING["classes"], {"name": "ssh", "hosts": ["a.example"]}]
    found = layer7(site(classes=classes).steering)
    assert found.custom == {"saas": ("*.saas.example",)}
    assert found.ids == {"saas": {app_bits("saas") >> 16},
                         "remote": {app_bits("ssh") >> 16, app_bits("rdp") >> 16},
                         "ssh": frozenset()}  # fmt: skip
    refused = "custom application 'ssh': the catalogue already names it"
    assert found.problems == (f"class ssh: its hosts are not steered: {refused}",)


async def test_layer7_classes_steer_by_the_ct_mark_application(
    uplinks: FakeKernel, driver: LinuxDriver
) -> None:
    await reconcile(driver, site())
    mpls, inet = link_mark(1), link_mark(2)
    classify = rules(uplinks, "classify")
    # a NEW flow the application cache names: the class's key, the application bits kept
    saas = classify[1]
    assert saas[0]["match"] == {"op": "==", "left": {"&": [{"ct": {"key": "mark"}}, 0xFF0000]},
                                "right": {"set": [app_bits("saas")]}}  # fmt: skip
    assert keeps_app_bits_sets_key(saas, SAAS)
    remote = classify[2]  # its layer 3/4 fields too
    assert remote[0]["match"]["right"] == "tcp"
    assert remote[1]["match"]["right"] == {"set": sorted([app_bits("ssh"), app_bits("rdp")])}
    # a flow named after its first packet: DONE and the application; pinned
    dpi = rules(uplinks, "dpi")
    assert [e[-3]["match"]["right"] for e in dpi] == [
        {"set": [DONE | app_bits("saas")]},
        {"set": sorted([DONE | app_bits("ssh"), DONE | app_bits("rdp")])},
    ]
    assert keeps_app_bits_sets_key(dpi[0], SAAS | PINNED)
    assert keeps_app_bits_sets_key(dpi[1], REMOTE | PINNED)
    # the route map: saas on inet; flows named late stay where default traffic goes (mpls)
    assert elements(uplinks) == {0: mpls, 0x10: mpls, SAAS: inet, SAAS | PINNED: mpls,
                                 REMOTE: mpls, REMOTE | PINNED: mpls}  # fmt: skip


async def test_the_application_cache_table_and_the_classifier_follow_layer7_classes(
    uplinks: FakeKernel, driver: LinuxDriver
) -> None:
    await reconcile(driver, site())
    cache = table(uplinks, CACHE_TABLE)
    assert [i["map"]["name"] for i in cache if "map" in i] == [CACHE_MAP]
    program = uplinks.programs[SITE.wan_netns]
    assert program.command.endswith("python") or "python" in program.command
    seen = await driver.observe()
    assert seen.wan.counters["dpi"]["running"] is True
    assert plan(site(), seen) == []
    # no layer-7 class left: the classifier stops and the cache table goes
    layer34 = {"classes": STEERING["classes"][:1], "policies": STEERING["policies"][:1]}
    await reconcile(driver, site(**layer34))
    assert SITE.wan_netns not in uplinks.programs
    assert table(uplinks, CACHE_TABLE) == []
    assert "dpi" not in (await driver.observe()).wan.counters


async def test_a_dead_classifier_is_restarted_with_back_off_without_reloading_steering(
    uplinks: FakeKernel, driver: LinuxDriver
) -> None:
    await reconcile(driver, site())
    classifier = driver._wan.classifier
    now = [1000.0]
    classifier.clock = lambda: now[0]
    space = uplinks.space(SITE.wan_netns)
    for restart, wait in ((1, 1.0), (2, 2.0), (3, 4.0)):
        uplinks.end_program(SITE.wan_netns, exit_code=-9)
        seen = await driver.observe()
        assert WanFault.DPI_BROKEN not in seen.wan.faults  # not yet: back-off
        assert any(f"restart {restart} in {wait:.1f} s" in n for n in seen.wan.notes)
        now[0] += wait
        seen = await driver.observe()
        assert seen.wan.faults == {WanFault.DPI_BROKEN}
        before = len(space.transactions)
        results = await reconcile(driver, site())
        assert [(r.change.op, r.change.reason) for r in results] == [
            (ChangeOp.UPDATE_STEERING, ChangeReason.UNHEALTHY)
        ]
        assert uplinks.programs[SITE.wan_netns].restarts == restart
        tables = [c for t in space.transactions[before:] for c in t
                  if "table" in c.get("add", {}) or "table" in c.get("delete", {})]  # fmt: skip
        assert all((c.get("add") or c["delete"])["table"]["name"] != STEER_TABLE for c in tables)
        assert plan(site(), await driver.observe()) == []


async def test_a_host_without_libndpi_is_told_and_layer34_steering_goes_on(
    uplinks: FakeKernel, driver: LinuxDriver
) -> None:
    await reconcile(driver, site())
    log = driver._wan.classifier.log_file
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("2026-12-07 16:00:00,000 ERROR dpi: nDPI library libndpi.so.4.2 not found: "
                   "install the Debian package libndpi4.2\n")  # fmt: skip
    uplinks.end_program(SITE.wan_netns, exit_code=3)
    seen = await driver.observe()
    assert seen.wan.faults == frozenset()  # another start would not mend it
    assert ("layer-7 classes are not steered: the DPI classifier cannot run: nDPI library "
            "libndpi.so.4.2 not found: install the Debian package libndpi4.2; layer 3/4 "
            "classes are steered as before") in seen.wan.notes  # fmt: skip
    assert plan(site(), seen) == []
    assert elements(uplinks)[0x10] == link_mark(1)  # voice still steered


async def test_a_deleted_cache_table_is_made_again_without_reloading_steering(
    uplinks: FakeKernel, driver: LinuxDriver
) -> None:
    await reconcile(driver, site())
    with uplinks.open_netlink(SITE.wan_netns):
        uplinks.open_nftables(SITE.wan_netns).run(
            [{"delete": {"table": {"family": FAMILY, "name": CACHE_TABLE}}}]
        )
    seen = await driver.observe()
    assert seen.wan.faults == {WanFault.DPI_BROKEN}
    pid = uplinks.programs[SITE.wan_netns].pid
    await reconcile(driver, site())
    assert table(uplinks, CACHE_TABLE) != []
    assert uplinks.programs[SITE.wan_netns].pid == pid  # the classifier ran on
    assert plan(site(), await driver.observe()) == []
