"""A VNF's programs start in the package's order, each one with a readiness probe ready before
the next starts (FRR's bgpd needs zebra's socket: started side by side, bgpd's first messages to
zebra were lost and its routes never installed): on the real linux driver, at the first start
and at a reload by restart."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.reconcile import ChangeOp
from tests.site.drivers.chains import converge, desired
from tests.site.drivers.linux.software.packaged import dns_service
from tests.site.drivers.linux.software.test_dnsmasq import SID, settle
from tests.site.drivers.netlab import Lab

pytestmark = pytest.mark.anyio
# the first program is ready only after a while; the second refuses to run before that
FIRST = 'sleep 1; echo "${param_round}" > "$$RUN/first.ready"; exec sleep 600'
SECOND = 'grep -qx "${param_round}" "$$RUN/first.ready" || exit 3; exec sleep 600'


def ordered(round_: str) -> dict[str, Any]:
    ready = {"kind": "command", "grace_s": 10, "timeout_s": 2,
             "command": ["grep", "-qx", "${param_round}", "${run}/first.ready"]}  # fmt: skip
    programs = [
        {"name": "first", "command": ["/bin/sh", "-c", FIRST], "restart": "never",
         "ready": ready},
        {"name": "second", "command": ["/bin/sh", "-c", SECOND], "restart": "never"},
    ]  # fmt: skip
    return {"vnfd_id": "ordered", "vnfd_version": "1", "provider": "tests", "product": "order",
            "programs": programs, "packages": [], "files": [], "hooks": [],
            "params": {"round": round_}, "reload": "restart"}  # fmt: skip


async def test_a_program_starts_once_the_one_before_it_is_ready(
    lab: Lab, swdriver: LinuxDriver
) -> None:
    status = await settle(swdriver, desired(1, dns_service(SID, ordered("1"))))
    assert status["state"] == "ready", status
    assert status["programs"]["second"]["last_exit"] is None, status

    # a reload by restart: the set stopped, then started in the same order
    results = await converge(swdriver, desired(2, dns_service(SID, ordered("2"))))
    assert [r.change.op for r in results] == [ChangeOp.UPDATE_VNF_CONFIG]
    status = await settle(swdriver, desired(2, dns_service(SID, ordered("2"))))
    assert status["state"] == "ready", status
