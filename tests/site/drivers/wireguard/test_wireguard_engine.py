"""The engine's life cycle on real wireguard-go: `ensure` is idempotent and adopts what a
restarted controller left running, repairs a dead process, changes only what differs, refuses a
name another process holds and a key file others may read; `remove` ends the process by pid."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from ipaddress import IPv4Interface
from pathlib import Path

import anyio
import pytest

from edgewise.site.drivers.linux.processes import proc_start_time
from edgewise.site.drivers.linux.wireguard import OverlayEngine
from edgewise.site.drivers.linux.wireguard.errors import OverlayConfigError
from tests.site.drivers.netlab import ip
from tests.site.drivers.wireguard.overlab import OverlayLab, lan_prefix

pytestmark = pytest.mark.anyio


async def test_ensure_is_idempotent_and_a_restarted_engine_adopts(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    device = overlay_lab.device(1, "a", tmp_path / "keys")
    first = await engine.ensure(device)
    assert first.started
    assert first.reconfigured
    again = await engine.ensure(device)
    assert not again.changed
    state = await engine.observe(device.name, device.namespace)
    assert state is not None
    pid = state.pid

    restarted = OverlayEngine(engine.run_dir)
    try:
        adopted = await restarted.ensure(device)
        assert not adopted.changed
        state = await restarted.observe(device.name, device.namespace)
        assert state is not None
        assert state.pid == pid

        moved = replace(device, address=IPv4Interface("10.255.1.4/31"), listen_port=51899)
        assert (await restarted.ensure(moved)).reconfigured
        shown = ip("-n", device.namespace, "-o", "addr", "show", "dev", device.name)
        assert "10.255.1.4/31" in shown
        assert "10.255.1.0/31" not in shown  # exactly one inner address
        state = await restarted.observe(device.name, device.namespace)
        assert state is not None
        assert state.listen_port == 51899
        assert state.pid == pid  # changed in place

        routes = ip("-n", device.namespace, "route", "show", "table", str(device.table))
        assert str(lan_prefix(2)) in routes
        elsewhere = replace(moved, table=777)
        assert not (await restarted.ensure(elsewhere)).changed  # nothing for wireguard-go
        routes = ip("-n", device.namespace, "route", "show", "table", str(device.table))
        assert str(lan_prefix(2)) not in routes  # moved to the new table
        assert str(lan_prefix(2)) in ip("-n", device.namespace, "route", "show", "table", "777")
        alone = replace(elsewhere, peers=())
        assert (await restarted.ensure(alone)).reconfigured
        routes = ip("-n", device.namespace, "route", "show", "table", "777")
        assert str(lan_prefix(2)) not in routes  # the peer's prefixes went with it

        os.kill(pid, signal.SIGKILL)
        for _ in range(300):  # 3 s at most: until it is gone (a dying one answers nothing)
            if proc_start_time(pid) is None:
                break
            await anyio.sleep(0.01)
        repaired = await restarted.ensure(alone)
        assert repaired.started
        assert await restarted.remove(device.name)
        assert await restarted.observe(device.name, device.namespace) is None
        assert not await restarted.remove(device.name)
        assert proc_start_time(pid) is None
        assert not (engine.socket_dir / f"{device.name}.sock").exists()
    finally:
        restarted.close()


async def test_a_name_another_process_holds_is_refused(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    device = overlay_lab.device(1, "a", tmp_path / "keys")
    overlay_lab.hand_peer(overlay_lab.site(2), device.name, tmp_path / "other.key", [])
    with pytest.raises(OverlayConfigError, match=f"overlay device name {device.name} is taken"):
        await engine.ensure(device)


async def test_a_key_file_others_may_read_is_refused(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    device = overlay_lab.device(1, "a", tmp_path / "keys")
    device.private_key_file.chmod(0o644)
    with pytest.raises(OverlayConfigError, match="mode 644: others may read it") as caught:
        await engine.ensure(device)
    assert device.private_key_file.read_text().strip() not in str(caught.value)
    assert engine.devices() == []  # nothing was started


async def test_wireguard_go_shares_the_controllers_session_in_a_group_of_its_own(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    """A session of its own is a scheduler autogroup of its own: in 7 of 12 measured runs it
    cost 11-43% more CPU per GB than a wireguard-go started by hand (docs/overlay.md). A process
    group of its own is what keeps the controller's Ctrl-C and job control away from it."""
    device = overlay_lab.device(1, "a", tmp_path / "keys")
    await engine.ensure(device)
    state = await engine.observe(device.name, device.namespace)
    assert state is not None
    assert os.getsid(state.pid) == os.getsid(0)
    assert os.getpgid(state.pid) == state.pid != os.getpgid(0)
    assert autogroup(state.pid) == autogroup("self")


def autogroup(pid: int | str) -> str | None:
    """The scheduler autogroup of a process (None without CONFIG_SCHED_AUTOGROUP)."""
    path = Path(f"/proc/{pid}/autogroup")
    return path.read_text() if path.exists() else None
