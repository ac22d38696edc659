"""The site's WireGuard keys: X25519 pairs made here, base64 as `wg` writes them.

A private key lives in one file (mode 0600 from its creation, in a 0700 directory under the
site's run directory) and never leaves the site: nothing here logs or returns it except
`read_private_key`, whose only caller hands it to wireguard-go's socket. The public key is
what the site reports, for the central to give to the peers. Rotation keeps the next key in
`<file>.next` until it is promoted (docs/overlay.md: the schedule and the protocol).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import stat
from pathlib import Path

from edgewise.site.drivers.linux.wireguard.errors import OverlayConfigError

KEY_BYTES = 32


def decode_key(text: str) -> bytes:
    """The 32 bytes of a base64 key; OverlayConfigError saying why when it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise OverlayConfigError("not base64 (a WireGuard key as `wg genkey` prints it)") from exc
    if len(raw) != KEY_BYTES:
        raise OverlayConfigError(f"{len(raw)} bytes, a WireGuard key has {KEY_BYTES}")
    return raw


def encode_key(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# cryptography is imported where a key is made or read, not with the driver: a site without
# overlays never loads it (tests/benchmarks/test_controller_idle_footprint.py).


def public_key_of(private: bytes) -> str:
    """The base64 public key of a raw private key (what `wg pubkey` prints)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = X25519PrivateKey.from_private_bytes(private).public_key()
    return encode_key(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def new_private_key() -> bytes:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    return X25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )


def write_private_key(path: Path, private: bytes) -> None:
    """Writes a key file atomically, 0600 from its creation, its directory 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # left by a write this pid's predecessor did not end
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, (encode_key(private) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    temporary.replace(path)


def read_private_key(path: Path) -> bytes:
    """The raw private key of a key file; OverlayConfigError when it is missing, malformed
    or readable by others (the message names the file, never its content)."""
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except FileNotFoundError as exc:
        raise OverlayConfigError(f"private key file {path} does not exist") from exc
    except OSError as exc:
        raise OverlayConfigError(f"private key file {path}: {exc.strerror}") from exc
    if stat.S_IMODE(mode) & 0o077:
        raise OverlayConfigError(
            f"private key file {path} is mode {stat.S_IMODE(mode):o}: others may read it (0600)"
        )
    try:
        return decode_key(text)
    except OverlayConfigError as exc:
        raise OverlayConfigError(f"private key file {path}: {exc.message}") from exc


def ensure_key(path: Path) -> str:
    """The public key of the key in `path`, made first when there is none."""
    if not path.exists():
        write_private_key(path, new_private_key())
    return public_key_of(read_private_key(path))


def next_key_file(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def prepare_rotation(path: Path) -> str:
    """Makes the next key beside the current one (once; again it returns the same): its
    public key is what the site reports for the central to hand to the peers."""
    return ensure_key(next_key_file(path))


def promote_rotation(path: Path) -> str:
    """Makes the prepared next key the current one; its public key. The old key is gone."""
    following = next_key_file(path)
    public = public_key_of(read_private_key(following))
    following.replace(path)
    return public


def discard_rotation(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        next_key_file(path).unlink()


def key_made_at(path: Path) -> float:
    """When the key in `path` was made (its file's modification time), for the schedule."""
    return path.stat().st_mtime
