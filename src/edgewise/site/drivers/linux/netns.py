"""Network namespaces for the linux driver: one worker thread that switches namespace per call.

`setns(2)` changes the namespace of the calling thread only, so every kernel call of the driver
runs in `NamespaceWorker`'s single thread: `inside(name)` switches it into a namespace and back
to the one it started in. Sockets (netlink, libnftables) opened while inside keep talking to
that namespace. Creating a namespace is `unshare(2)` in the worker plus a bind mount under
/run/netns (what `ip netns add` does), without forking a helper.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
MS_REC = 16384
MS_BIND = 4096
MS_SHARED = 1 << 20
MNT_DETACH = 2
T = TypeVar("T")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise DataPlaneError(f"{what}: {os.strerror(code)}", code=errno.errorcode.get(code))


def list_namespaces(prefix: str) -> list[str]:
    """Names of the namespaces under /run/netns that start with `prefix`, sorted."""
    try:
        return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []


def namespace_inode(name: str) -> int | None:
    """The inode of a named namespace (changes when it is rebuilt), None when it is absent."""
    try:
        return (NETNS_DIR / name).stat().st_ino
    except FileNotFoundError:
        return None


def check_host() -> None:
    """Raises DataPlaneUnavailable when this process cannot build namespaces."""
    if os.geteuid() != 0:
        raise DataPlaneUnavailable("the linux driver needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)")
    if not Path("/proc/self/ns/net").exists():
        raise DataPlaneUnavailable("this kernel has no network namespaces")


class NamespaceWorker:
    """Runs functions in one dedicated thread, switched into a namespace on request."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgewise-netns")
        self._home: int | None = None
        self._shared = False

    async def run(self, fn: Callable[[], T]) -> T:
        """Runs `fn` in the worker thread (which is in its home namespace between calls)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._call, fn)

    def call(self, fn: Callable[[], T]) -> T:
        """`run` for synchronous callers (tests, start-up)."""
        return self._pool.submit(self._call, fn).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._home is not None:
            os.close(self._home)
            self._home = None

    def _call(self, fn: Callable[[], T]) -> T:
        if self._home is None:
            self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        return fn()

    @contextlib.contextmanager
    def inside(self, name: str) -> Iterator[None]:
        """Switches the worker thread into namespace `name` for the block (worker thread only)."""
        try:
            fd = os.open(NETNS_DIR / name, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise DataPlaneError(f"namespace {name} does not exist", code="no-namespace") from exc
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), f"entering namespace {name}")
        finally:
            os.close(fd)
        try:
            yield
        finally:
            self._go_home()

    def create(self, name: str) -> None:
        """Creates namespace `name` (worker thread only); an existing one is an error."""
        if not self._shared:
            _share_netns_dir()
            self._shared = True
        path = NETNS_DIR / name
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
        except FileExistsError as exc:
            raise DataPlaneError(f"namespace {name} exists already", code="exists") from exc
        try:
            _check(_libc.unshare(CLONE_NEWNET), f"creating namespace {name}")
            try:
                source = b"/proc/thread-self/ns/net"
                _check(
                    _libc.mount(source, bytes(path), b"none", MS_BIND, None),
                    f"binding namespace {name}",
                )
            finally:
                self._go_home()
        except DataPlaneError:
            path.unlink(missing_ok=True)
            raise

    def _go_home(self) -> None:
        assert self._home is not None
        _check(_libc.setns(self._home, CLONE_NEWNET), "returning to the home namespace")


def remove_namespace(name: str) -> bool:
    """Unmounts and unlinks a named namespace; False when it was not there."""
    path = NETNS_DIR / name
    if not path.exists():
        return False
    _libc.umount2(bytes(path), MNT_DETACH)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise DataPlaneError(f"removing namespace {name}: {exc}") from exc
    return True


def _share_netns_dir() -> None:
    """Makes /run/netns a shared mount point, as `ip netns add` does (once per boot)."""
    NETNS_DIR.mkdir(parents=True, exist_ok=True)
    if _libc.mount(b"", bytes(NETNS_DIR), b"none", MS_SHARED | MS_REC, None) == 0:
        return
    _check(
        _libc.mount(bytes(NETNS_DIR), bytes(NETNS_DIR), b"none", MS_BIND | MS_REC, None),
        "binding /run/netns",
    )
    _check(
        _libc.mount(b"", bytes(NETNS_DIR), b"none", MS_SHARED | MS_REC, None), "sharing /run/netns"
    )
