"""The bubblewrap command line (pure): the host read-only, the VNF's own dirs over the host's,
its run dir as /run, capabilities dropped to the program's."""

from __future__ import annotations

from pathlib import Path

from edgewise.site.drivers.linux.software.confine import HostEntry, confinement
from edgewise.site.drivers.linux.software.facts import VnfDirs

DIRS = VnfDirs(Path("/var/lib/edgewise/ew/software/ew-0001-dns"))
ROOT = str(DIRS.root)
HOST = {
    "/etc": [HostEntry("passwd"), HostEntry("mtab", "../proc/self/mounts"), HostEntry("frr")],
    "/var/lib": [HostEntry("dpkg"), HostEntry("edgewise")],
}


def pairs(argv: list[str], flag: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == flag]


def test_the_host_is_read_only_and_its_own_dirs_are_bound_over_it() -> None:
    argv = confinement(DIRS, ["etc/frr"], ["NET_ADMIN", "NET_RAW"], HOST.get)
    assert argv[:5] == ["bwrap", "--ro-bind", "/", "/", "--dev"]
    assert argv[-1] == "--"
    assert (argv[argv.index("--tmpfs")], argv[argv.index("--tmpfs") + 1]) == ("--tmpfs", "/tmp")
    assert (str(DIRS.run), "/run") in pairs(argv, "--bind")
    assert (str(DIRS.run), str(DIRS.run)) in pairs(argv, "--bind")
    assert (f"{ROOT}/etc/frr", "/etc/frr") in pairs(argv, "--ro-bind")  # the host has /etc/frr
    assert "/etc" not in [b for a, b in pairs(argv, "--ro-bind") if a == "/etc"]
    assert "--remount-ro" not in argv
    caps = [argv[i + 1] for i, a in enumerate(argv) if a == "--cap-add"]
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert caps == ["CAP_NET_ADMIN", "CAP_NET_RAW"]
    assert ("/dev/net/tun", "/dev/net/tun") in pairs(argv, "--dev-bind-try")  # may make tunnels


def test_a_dir_the_host_lacks_gets_a_tmpfs_parent_with_the_hosts_entries() -> None:
    argv = confinement(DIRS, ["etc/dnsmasq", "var/lib/dnsmasq"], [], HOST.get)
    assert ("/etc/passwd", "/etc/passwd") in pairs(argv, "--ro-bind")
    assert ("../proc/self/mounts", "/etc/mtab") in pairs(argv, "--symlink")
    assert (f"{ROOT}/etc/dnsmasq", "/etc/dnsmasq") in pairs(argv, "--ro-bind")
    assert (f"{ROOT}/var/lib/dnsmasq", "/var/lib/dnsmasq") in pairs(argv, "--bind")  # state
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--remount-ro"] == ["/etc", "/var/lib"]
    # the VNF's root and run dir come after the /var/lib overlay, or it would hide them
    assert argv.index("/var/lib/dnsmasq") < argv.index(ROOT, argv.index("/var/lib/dnsmasq"))
    assert "--cap-add" not in argv
    assert "/dev/net/tun" not in argv


def test_dev_shm_is_private_and_writable_by_a_program_that_switched_users() -> None:
    """Squid (as user proxy) makes its shared memory segments in /dev/shm: a tmpfs of the VNF's
    own, sticky and world-writable as the host's is (bubblewrap's fresh /dev has a root-only
    one)."""
    argv = confinement(DIRS, [], [], HOST.get)
    at = argv.index("/dev/shm")
    assert argv[at - 3 : at] == ["--perms", "1777", "--tmpfs"]
    assert at > argv.index("--dev")


def test_a_base_under_tmp_keeps_its_parents_traversable_in_the_private_tmp() -> None:
    """A site keeping its VNFs under /tmp: bubblewrap makes the parents of ${root} and ${run} in
    the private /tmp 0700 unless told, and FRR, Squid, HAProxy (switched to their own users)
    could not reach their files and sockets there."""
    dirs = VnfDirs(Path("/tmp/site-1/software/ew-0001-frr"))
    argv = confinement(dirs, [], [], HOST.get)
    made = [
        (argv[i + 1], argv[i + 3])
        for i in range(len(argv))
        if argv[i : i + 3 : 2] == ["--perms", "--dir"]
    ]
    assert made == [("0755", "/tmp/site-1"), ("0755", "/tmp/site-1/software"),
                    ("0755", "/tmp/site-1/software/ew-0001-frr")]  # fmt: skip
    assert argv.index("/tmp") < argv.index("--dir") < argv.index(str(dirs.root))
    assert "--dir" not in confinement(DIRS, [], [], HOST.get)  # /var/lib/...: the host's own
