"""A third-party VNF through the linux driver over the fake kernel: built, started once wired,
restarted (healed) when a program is down, reloaded on new params, a failed reload reported and
not retried, missing packages named, removed with its service."""

from __future__ import annotations

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.layout import pick_slot
from edgewise.site.reconcile import ChangeOp, ChangeReason
from tests.site.drivers.chains import desired
from tests.site.drivers.linux.conftest import SITE
from tests.site.drivers.linux.kit import reconcile, steps
from tests.site.drivers.linux.software.packaged import dns_service, dnsmasq

pytestmark = pytest.mark.anyio
SID = "svc-dns"
PARAMS = {"pool_start": "172.16.0.100", "pool_end": "172.16.0.150", "allowed_ip": "192.0.2.7"}


def namespace_of(kernel: FakeKernel) -> str:
    return next(name for name in kernel.software_sets.sets)


async def status(driver: LinuxDriver) -> dict[str, object]:
    service = (await driver.observe()).service(SID)
    assert service is not None
    vnf = service.vnf("dns")
    assert vnf is not None
    return dict(vnf.counters["software"])


async def test_started_once_wired_healed_reloaded_and_removed(
    driver: LinuxDriver, kernel: FakeKernel
) -> None:
    state = desired(1, dns_service(SID, dnsmasq(PARAMS)))
    results = await reconcile(driver, state)
    assert not [r.error for r in results if r.failed]
    assert steps(results)[-1][0] is ChangeOp.UPDATE_CHAIN
    kept = kernel.software_sets.sets[namespace_of(kernel)]
    assert kept.variables is not None
    assert kept.variables["lan_if"].startswith(SITE.prefix)  # rendered with its wired legs
    assert kept.variables["lan_address"] == kept.variables["lan_gateway"]  # first in the chain
    assert kept.variables["wan_peer"]
    assert kept.hooks == ["instantiate_start"]
    assert (await status(driver))["state"] == "ready"
    assert await reconcile(driver, state) == []  # adopted as it is

    kernel.software_sets.kill(namespace_of(kernel), "dnsmasq")
    assert (await status(driver))["state"] == "failed"
    results = await reconcile(driver, state)
    assert steps(results) == [(ChangeOp.RESTART_VNF, "dns", ChangeReason.UNHEALTHY)]
    assert kept.restarts == {"dnsmasq": 1}
    assert kept.hooks[-2:] == ["heal_start", "heal_end"]

    changed = desired(2, dns_service(SID, dnsmasq({**PARAMS, "allowed_ip": "192.0.2.9"})))
    results = await reconcile(driver, changed)
    assert steps(results) == [(ChangeOp.UPDATE_VNF_CONFIG, "dns", ChangeReason.CONFIG_CHANGED)]
    assert not results[0].failed
    assert kept.variables["lan_if"]  # the same namespace and legs: not rebuilt

    kernel.software_sets.broken_reloads.add(namespace_of(kernel))
    broken = desired(3, dns_service(SID, dnsmasq({**PARAMS, "extra": "no-such-option"})))
    first = await reconcile(driver, broken)
    assert [r.failed for r in first] == [True]
    assert "the previous config is back" in (first[0].error or "")
    again = await reconcile(driver, broken)  # still planned (the old config runs), not retried
    assert again[0].error == first[0].error
    assert (await status(driver))["reload_error"] == first[0].error

    await reconcile(driver, desired(4))
    assert kernel.software_sets.sets == {}


async def test_missing_packages_are_named_and_nothing_is_left(
    driver: LinuxDriver, kernel: FakeKernel
) -> None:
    kernel.software_sets.installed = {"dnsmasq-base": "2.90-4"}
    state = desired(1, dns_service(SID, dnsmasq(PARAMS, packages=("dnsmasq-base", "frr"))))
    results = await reconcile(driver, state)
    errors = [r.error for r in results if r.failed]
    assert errors[0] == (
        "missing Debian packages: frr (the site may not install packages: start the site "
        "controller with --allow-package-install or EDGEWISE_SITE_INSTALL_PACKAGES=1, or "
        "install them on the host)"
    )
    assert not [name for name in kernel.spaces if name.endswith("-dns")]
    assert kernel.software_sets.sets == {}


async def test_a_set_that_failed_to_start_once_wired_is_started_by_a_later_pass(
    driver: LinuxDriver, kernel: FakeKernel
) -> None:
    state = desired(1, dns_service(SID, dnsmasq(PARAMS)))
    namespace = SITE.vnf_namespace(pick_slot(SID, set(), SITE.slots), "dns")
    kernel.refuse("spawn", namespace)
    results = await reconcile(driver, state)
    assert [r.change.op for r in results if r.failed] == [ChangeOp.UPDATE_CHAIN]
    assert (await status(driver))["state"] == "starting"
    kernel.allow("spawn", namespace)
    results = await reconcile(driver, state)  # the chain is whole: the set is repaired alone
    assert steps(results) == [(ChangeOp.RESTART_VNF, "dns", ChangeReason.UNHEALTHY)]
    assert not results[0].failed
    assert (await status(driver))["state"] == "ready"
    assert kernel.software_sets.sets[namespace].hooks == ["instantiate_start"]
    assert await reconcile(driver, state) == []
