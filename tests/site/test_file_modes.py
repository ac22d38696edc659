"""The site's state is its owner's alone: directories 0700, files 0600, from their creation
(whatever the umask), and a data directory left readable by an older controller is mended."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from edgewise.site.__main__ import RunOptions, build_controller, open_journal
from edgewise.site.journal import SiteIdentity
from edgewise.site.uplink import CentralTrust, enroll
from tests.site.central import running_central
from tests.site.pki import ThrowawayCa, key_pem, pem


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(data_dir: Path) -> dict[str, int]:
    """The mode of the data directory and of everything below it, by relative path."""
    found = {".": stat.S_IMODE(data_dir.stat().st_mode)}
    for path in sorted(data_dir.rglob("*")):
        found[str(path.relative_to(data_dir))] = stat.S_IMODE(path.lstat().st_mode)
    return found


PRIVATE = {
    ".": 0o700,
    "pki": 0o700,
    "pki/site.key": 0o600,
    "pki/site.crt": 0o600,
    "pki/ca.crt": 0o600,
    "journal.db": 0o600,
    "journal.db-wal": 0o600,
    "journal.db-shm": 0o600,
}


@pytest.mark.anyio
async def test_enrollment_and_the_journal_create_private_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    pki = data_dir / "pki"
    async with running_central(tmp_path) as central:
        central.tokens.add("token-1")
        identity = await enroll(
            central.url,
            "token-1",
            CentralTrust(ca_pem=central.ca.pem.decode()),
            key_path=pki / "site.key",
            cert_path=pki / "site.crt",
            ca_path=pki / "ca.crt",
        )
    with open_journal(data_dir) as journal:
        journal.save_identity(identity)
        journal.enqueue("status", {"revision": 1})
        assert modes(data_dir) == PRIVATE


def test_a_readable_data_directory_is_mended_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    pki = data_dir / "pki"
    pki.mkdir(parents=True, mode=0o755)
    data_dir.chmod(0o755)
    ca = ThrowawayCa.create()
    key = ec.generate_private_key(ec.SECP256R1())
    (pki / "site.key").write_bytes(key_pem(key))
    (pki / "site.crt").write_bytes(pem(ca.issue("site-1", key.public_key())))
    (pki / "ca.crt").write_bytes(ca.pem)
    identity = SiteIdentity(
        "site-1", "https://127.0.0.1:1/", pki / "site.key", pki / "site.crt", pki / "ca.crt"
    )
    with open_journal(data_dir) as journal:
        journal.save_identity(identity)
    for path in (data_dir, pki, *data_dir.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (data_dir / "journal.db-wal").touch(mode=0o644)
    (data_dir / "journal.db-shm").touch(mode=0o644)

    controller = build_controller(RunOptions(data_dir))
    try:
        assert modes(data_dir) == PRIVATE
    finally:
        controller.journal.close()
