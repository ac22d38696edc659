"""The site's overlay keys, one per tenant (every device of a tenant has the tenant's key: its
peers know the site by one public key), kept under the driver's run directory; what the site
reports of them (`overlay_keys` in its status) and its side of a key rotation.

A private key never leaves its file (wireguard/keys.py: 0600 in a 0700 directory); nothing
here logs or returns it. Rotation (docs/overlay.md, "Rotation of a tenant's key"): `prepare`
makes the next key once the current one is older than the tenant's `key_rotation_h`, and
reports its public key as `next_public_key`; the central then moves the links' devices to it
one at a time (each link's `public_key`: `file_for` names the file of the key it uses), and
`switch` promotes it once every link uses it (`rotation_step`, pure).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection
from enum import StrEnum
from pathlib import Path

from edgewise.site.drivers.linux.wireguard.keys import (
    ensure_key,
    key_made_at,
    next_key_file,
    prepare_rotation,
    promote_rotation,
    public_key_of,
    read_private_key,
)


class RotationStep(StrEnum):
    NONE = "none"
    PREPARE = "prepare"  # make the next key and report it
    SWITCH = "switch"  # every link uses the next key: it becomes the key


def rotation_step(
    age_s: float, period_h: int, next_key: str | None, links_use: str | None
) -> RotationStep:
    """The site's next step for one tenant's key (pure).

    age_s: how old the current key is; period_h: the overlay's `key_rotation_h` (0: never);
    next_key: the public key prepared (None: none); links_use: the public key every link of
    the tenant's overlay is told to use (None: the current key, or not the same on all).
    """
    if next_key is not None:
        return RotationStep.SWITCH if links_use == next_key else RotationStep.NONE
    if period_h > 0 and age_s >= period_h * 3600:
        return RotationStep.PREPARE
    return RotationStep.NONE


class TenantKeys:
    """The key files of the tenants' overlays under `directory` (made 0700 on first need)."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self._clock = clock

    def file(self, tenant: str) -> Path:
        return self.directory / f"{tenant}.key"

    def ensure(self, tenant: str) -> str:
        """The tenant's public key, its key made first when there is none."""
        return ensure_key(self.file(tenant))

    def next_public(self, tenant: str) -> str | None:
        following = next_key_file(self.file(tenant))
        return public_key_of(read_private_key(following)) if following.exists() else None

    def current_public(self, tenant: str) -> str:
        return public_key_of(read_private_key(self.file(tenant)))

    def file_for(self, tenant: str, public_key: str | None) -> Path:
        """The file of the tenant's key whose public part is `public_key`: the next key's
        while it is prepared and named, else the current one (None, or a key not held here:
        `holds` tells the latter apart)."""
        if public_key is not None and public_key == self.next_public(tenant):
            return next_key_file(self.file(tenant))
        return self.file(tenant)

    def holds(self, tenant: str, public_key: str) -> bool:
        """Whether `public_key` is the tenant's current or next key here."""
        path = self.file(tenant)
        if not path.exists():
            return False
        return public_key in (self.current_public(tenant), self.next_public(tenant))

    def rotate(
        self, tenant: str, period_h: int, links_use: str | None, *, promote: bool = True
    ) -> RotationStep:
        """Takes the rotation's next step for `tenant` (its key exists); what it did (a SWITCH
        is only said, not done, unless `promote`)."""
        path = self.file(tenant)
        step = rotation_step(
            self._clock() - key_made_at(path), period_h, self.next_public(tenant), links_use
        )
        if step is RotationStep.PREPARE:
            prepare_rotation(path)
        elif step is RotationStep.SWITCH and promote:
            promote_rotation(path)
        return step

    def tenants(self) -> list[str]:
        """The tenants with a key here."""
        if not self.directory.is_dir():
            return []
        return sorted(p.name.removesuffix(".key") for p in self.directory.glob("*.key"))

    def report(self, tenants: Collection[str]) -> dict[str, dict[str, str]]:
        """`overlay_keys` of the status: per tenant with a key, its public key (and the next)."""
        found: dict[str, dict[str, str]] = {}
        for tenant in sorted(tenants):
            if not self.file(tenant).exists():
                continue
            entry = {"public_key": self.current_public(tenant)}
            following = self.next_public(tenant)
            if following is not None:
                entry["next_public_key"] = following
            found[tenant] = entry
        return found

    def forget(self, keep: Collection[str]) -> list[str]:
        """Removes the key files of tenants not in `keep` (their overlay is gone); their names.
        A tenant given an overlay again later gets a new key (reported as it is made)."""
        gone: list[str] = []
        if not self.directory.is_dir():
            return gone
        for path in sorted(self.directory.glob("*.key")):
            tenant = path.name.removesuffix(".key")
            if tenant not in keep:
                with contextlib.suppress(FileNotFoundError):
                    next_key_file(path).unlink()
                path.unlink(missing_ok=True)
                gone.append(tenant)
        return gone
