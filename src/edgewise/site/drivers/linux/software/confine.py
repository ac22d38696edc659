"""The bubblewrap command line that confines a VNF's program, hook or readiness command (pure).

Its own mount namespace: the host's / read-only, a fresh /dev and /proc, a private /tmp and
/dev/shm (world-writable as the host's: a program that switched users makes its shared memory
there), the VNF's run dir as /run (and at its own path), its root read-only at its own path; the
root's
`etc/<x>` directories over `/etc/<x>` (read-only) and `var/lib/<x>` over `/var/lib/<x>`
(writable), so two instances of one program do not share config, sockets or state. Where the
host has no `/etc/<x>` to mount over, /etc becomes a read-only tmpfs holding the host's entries
and the VNF's own. Capabilities: `--cap-drop ALL`, then the program's own. The network namespace
is the one it is spawned in (the VNF's): bubblewrap is not asked for another. A program that may
administer that network gets /dev/net/tun (a tunnel device lives in its namespace only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from edgewise.site.drivers.linux.software.facts import VnfDirs

BWRAP = "bwrap"
TUN = "/dev/net/tun"
SHM = "/dev/shm"  # noqa: S108 - the confinement's own, a tmpfs
TMP = PurePosixPath("/tmp")  # noqa: S108 - the confinement's private /tmp


@dataclass(frozen=True)
class HostEntry:
    """One entry of a host directory, as the confinement copies it (a symlink as a symlink)."""

    name: str
    link: str | None = None  # the target of a symlink


HostLister = Callable[[str], Sequence[HostEntry] | None]  # None: the directory is not there


def confinement(
    dirs: VnfDirs, own: Sequence[str], capabilities: Sequence[str], host: HostLister
) -> list[str]:
    """`bwrap ... --` for a VNF whose root holds the `own` dirs (`etc/x`, `var/lib/x`)."""
    argv = [BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", str(TMP)]
    argv += ["--perms", "1777", "--tmpfs", SHM]  # as the host's: Squid's segments, as proxy
    if "NET_ADMIN" in capabilities:  # a TUN device of its own (strongSwan's kernel-libipsec)
        argv += ["--dev-bind-try", TUN, TUN]
    run = str(dirs.run)
    argv += ["--bind", run, "/run"]
    for parent in ("etc", "var/lib"):
        mine = [d for d in own if str(PurePosixPath(d).parent) == parent]
        if mine:
            argv += overlay(dirs, "/" + parent, [PurePosixPath(d).name for d in mine], host)
    argv += traversable(dirs)
    argv += ["--ro-bind", str(dirs.root), str(dirs.root), "--bind", run, run]
    argv += ["--cap-drop", "ALL"]
    for capability in sorted(capabilities):
        argv += ["--cap-add", f"CAP_{capability}"]
    return [*argv, "--"]


def traversable(dirs: VnfDirs) -> list[str]:
    """The VNF's directory and its parents made 0755 in the private /tmp, when the site keeps
    its VNFs under /tmp: bubblewrap would make them 0700, and a program that switched to its
    own user (FRR, Squid, HAProxy) could not reach `${root}` and `${run}`."""
    base = PurePosixPath(dirs.base)
    if TMP not in base.parents:
        return []
    inside = [p for p in reversed(base.parents) if TMP in p.parents]
    return [arg for path in [*inside, base] for arg in ("--perms", "0755", "--dir", str(path))]


def overlay(dirs: VnfDirs, parent: str, names: Sequence[str], host: HostLister) -> list[str]:
    """Binds the VNF's `<root><parent>/<name>` over `<parent>/<name>`: directly when the host
    has them all, else over a tmpfs `parent` that holds the host's other entries (read-only)."""
    bind = "--ro-bind" if parent == "/etc" else "--bind"  # state is written, config is not
    entries = host(parent) or []
    present = {e.name for e in entries}
    argv: list[str] = []
    if not all(name in present for name in names):
        argv += ["--tmpfs", parent]
        for entry in entries:
            path = f"{parent}/{entry.name}"
            if entry.name in names:
                continue
            if entry.link is not None:
                argv += ["--symlink", entry.link, path]
            else:
                argv += ["--ro-bind", path, path]
    for name in names:
        argv += [bind, str(dirs.root) + f"{parent}/{name}", f"{parent}/{name}"]
    if len(argv) > len(names) * 3:
        argv += ["--remount-ro", parent]
    return argv
