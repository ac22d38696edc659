"""The in-memory overlay answers as the real engine does: one scenario of `ensure`, `observe`
and `remove` calls on both (the real one on wireguard-go, root), the same answers."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.wireguard import Overlay, OverlayEngine
from edgewise.site.drivers.linux.wireguard.fake import FakeOverlay
from edgewise.site.drivers.linux.wireguard.keys import (
    ensure_key,
    prepare_rotation,
    promote_rotation,
)
from tests.site.drivers.wireguard.overlab import OverlayLab

pytestmark = pytest.mark.anyio


async def scenario(overlay: Overlay, lab: OverlayLab, keys: Path, kill: object) -> list[object]:
    """The answers of `overlay` to a fixed sequence of calls (`kill(name)` ends a device)."""
    device = lab.device(1, "a", keys)
    seen: list[object] = []
    seen.append(await overlay.ensure(device))
    seen.append(await overlay.ensure(device))
    moved = replace(device, listen_port=51870)
    seen.append(await overlay.ensure(moved))
    wider = replace(moved, peers=(replace(moved.peers[0], allowed=(IPv4Network("10.0.0.0/8"),)),))
    seen.append(await overlay.ensure(wider))
    prepare_rotation(device.private_key_file)
    promote_rotation(device.private_key_file)
    seen.append(await overlay.ensure(wider))
    state = await overlay.observe(device.name, device.namespace)
    assert state is not None
    current = ensure_key(device.private_key_file)
    seen.append((state.public_key == current, state.listen_port, state.fwmark, len(state.peers)))
    seen.append(state.peers[0].allowed)
    assert callable(kill)
    kill(device.name)
    seen.append(await overlay.observe(device.name, device.namespace))
    seen.append(await overlay.ensure(wider))
    seen.append(overlay.devices())
    seen.append(await overlay.remove(device.name))
    seen.append(await overlay.remove(device.name))
    seen.append(await overlay.observe(device.name, device.namespace))
    return seen


async def test_the_fake_answers_as_the_engine_does(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    def end(name: str) -> None:
        record = engine.processes.record(name)
        assert record is not None
        os.kill(record.pid, signal.SIGKILL)
        for _ in range(300):  # 3 s at most; running() reaps it
            if engine.processes.running(name, overlay_lab.site(1)) is None:
                return
            time.sleep(0.01)
        raise AssertionError(f"wireguard-go of {name} outlived SIGKILL")

    real = await scenario(engine, overlay_lab, tmp_path / "real", end)
    fake_overlay = FakeOverlay()
    fake = await scenario(fake_overlay, overlay_lab, tmp_path / "fake", fake_overlay.kill)
    assert real == fake
