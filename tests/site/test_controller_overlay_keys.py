"""The site reports its overlay keys in its status (`overlay_keys`), as the central reads them:
per tenant the public key, and the next one while a rotation is prepared; nothing else."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from edgewise.site.drivers.sim import SimDriver
from edgewise.site.reconcile import ObservedState
from tests.site.drivers.overlay.docs import a_public_key
from tests.site.fakes import FakeChannel, eventually
from tests.site.test_controller import FAST, controller, document

pytestmark = pytest.mark.anyio
KEYS = {"t1": {"public_key": a_public_key()},
        "t2": {"public_key": a_public_key(), "next_public_key": a_public_key()}}  # fmt: skip


class KeysDriver(SimDriver):
    """The sim driver, with keys as the linux driver's observe reports them."""

    async def observe(self) -> ObservedState:
        seen = await super().observe()
        return replace(seen, wan=replace(seen.wan, overlay_keys=KEYS))


async def test_the_overlay_keys_are_in_the_status(tmp_path: Path) -> None:
    channel = FakeChannel()
    channel.publish(document("s1"))
    async with controller(tmp_path, KeysDriver(), channel, FAST) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        await eventually(lambda: bool(channel.bodies("status")))
        status = channel.bodies("status")[-1]
        assert status["overlay_keys"] == KEYS
        assert all(len(k) == 44 for entry in KEYS.values() for k in entry.values())


async def test_no_keys_no_field(tmp_path: Path) -> None:
    channel = FakeChannel()
    channel.publish(document("s1"))
    async with controller(tmp_path, SimDriver(), channel, FAST) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        await eventually(lambda: bool(channel.bodies("status")))
        assert "overlay_keys" not in channel.bodies("status")[-1]
