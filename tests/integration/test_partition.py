"""A site cut off from the central: a controller in its own network namespace, over a veth pair.

While the link is down the desired state changes; the site keeps running and reconciling from
its journal alone (restarted while cut off, it rebuilds its data plane and queues its reports),
and once the link is back it converges on the new revision within a bounded time.
Needs root and `ip netns`; the namespace and veth pair are removed even when the test fails.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.harness import (
    CentralProcess,
    document,
    enroll,
    read_journal,
    start_controller,
    stop,
    wait_for,
)


def ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    assert result.returncode == 0, f"ip {' '.join(args)}: {result.stderr}"


def netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    if shutil.which("ip") is None:
        return "the `ip` tool (iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, timeout=10, check=False)
    if probe.returncode != 0:
        return "`ip netns` is not available here"
    return None


@dataclass(frozen=True)
class Link:
    """A namespace and the veth pair to it: `host_ip` on our side, `site_ip` inside."""

    namespace: str
    host_if: str
    host_ip: str
    site_ip: str

    def down(self) -> None:
        ip("link", "set", self.host_if, "down")

    def up(self) -> None:
        ip("link", "set", self.host_if, "up")

    @property
    def exec_in(self) -> list[str]:
        return ["ip", "netns", "exec", self.namespace]


@pytest.fixture
def link() -> Iterator[Link]:
    if reason := netns_unavailable():
        pytest.skip(reason)
    prefix = f"ewtp{secrets.token_hex(2)}"
    base = random.randrange(0, 256 * 64) * 4  # a random /30 within 10.213.0.0/16
    host_ip = f"10.213.{base // 256}.{base % 256 + 1}"
    site_ip = f"10.213.{base // 256}.{base % 256 + 2}"
    namespace, host_if, site_if = prefix, f"{prefix}h", f"{prefix}s"
    try:
        ip("netns", "add", namespace)
        ip("link", "add", host_if, "type", "veth", "peer", "name", site_if, "netns", namespace)
        ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("-n", namespace, "addr", "add", f"{site_ip}/30", "dev", site_if)
        ip("-n", namespace, "link", "set", site_if, "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        yield Link(namespace, host_if, host_ip, site_ip)
    finally:
        for args in (["link", "del", host_if], ["netns", "del", namespace]):
            subprocess.run(["ip", *args], capture_output=True, timeout=10, check=False)


@pytest.mark.slow
def test_a_cut_off_site_keeps_reconciling_and_converges_after(link: Link, tmp_path: Path) -> None:
    data_dir = tmp_path / "central"
    data_dir.mkdir()
    hostnames = f"localhost,127.0.0.1,{link.host_ip}"
    env = {"EDGEWISE_SOUTHBOUND_HOST": link.host_ip, "EDGEWISE_SOUTHBOUND_HOSTNAMES": hostnames}
    with CentralProcess(data_dir, env=env).running() as central:
        assert central.southbound.startswith(f"https://{link.host_ip}:")
        site_dir = tmp_path / "site"
        site_id = enroll(central, "cut-off", site_dir)
        journal = site_dir / "journal.db"
        assert central.put_desired(site_id, document(1)) == 1
        controller = start_controller(site_dir, prefix=link.exec_in)
        try:
            wait_for(lambda: central.status(site_id)["inSync"], 20, "revision 1 over the veth")

            link.down()
            cut_at = time.monotonic()
            assert central.put_desired(site_id, document(2)) == 2
            time.sleep(1.0)
            assert controller.poll() is None, "the controller should outlive the cut"

            # Restarted while cut off: it rebuilds its (in-memory) data plane from the journal
            # alone, and the status of that pass waits in the outbox.
            before = {item_id for item_id, *_ in read_journal(journal).outbox}
            stop(controller)
            controller = start_controller(site_dir, prefix=link.exec_in)

            def reconciled_offline() -> bool:
                view = read_journal(journal)
                return any(
                    item_id not in before and kind == "status" and not sent
                    and body["revision"] == 1 and body["state"] == "converged"
                    for item_id, kind, body, sent in view.outbox
                )  # fmt: skip

            wait_for(reconciled_offline, 15, "a reconcile pass while cut off")
            assert controller.poll() is None
            view = read_journal(journal)
            assert (view.desired_revision, view.applied) == (1, 1)
            status = central.status(site_id)
            assert (status["desiredRevision"], status["appliedRevision"]) == (2, 1)
            assert not status["inSync"]
            time.sleep(max(0.0, 4.0 - (time.monotonic() - cut_at)))

            link.up()
            wait_for(
                lambda: (
                    central.status(site_id)["appliedRevision"] == 2
                    and central.status(site_id)["inSync"]
                ),
                30,
                "the site to converge on revision 2 after the cut",
            )
            wait_for(lambda: read_journal(journal).pending == 0, 15, "the outbox to drain")
        finally:
            stop(controller)
    view = read_journal(journal)
    assert (view.desired_revision, view.applied) == (2, 2)
    assert "Traceback" not in (site_dir / "controller.log").read_text()
