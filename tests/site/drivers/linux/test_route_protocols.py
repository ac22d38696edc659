"""The route protocols the site's kernel objects carry are numbers no routing software on the
host names: FRR's zebra takes a route whose protocol it names (186-198) for its own daemons'
(a chain route with 186 was "bgp" to an FRR VNF: ignored for its next hops, and its learnt routes
went with the chain's)."""

from __future__ import annotations

from pathlib import Path

from edgewise.site.drivers.linux.layout import PROTO_CHAIN, PROTO_STATIC

# FRR's own list (frr's /etc/iproute2/rt_protos.d/frr.conf), whether or not FRR is installed here
FRR_NAMED = frozenset(range(186, 199))


def named_protocols() -> set[int]:
    """The numbers iproute2's tables on this host name."""
    files = [Path("/etc/iproute2/rt_protos"), Path("/usr/share/iproute2/rt_protos")]
    for folder in (Path("/etc/iproute2/rt_protos.d"), Path("/usr/share/iproute2/rt_protos.d")):
        files += sorted(folder.glob("*.conf")) if folder.is_dir() else []
    found = set()
    for file in files:
        for line in file.read_text().splitlines() if file.is_file() else []:
            word = line.split("#", 1)[0].split()
            if word and word[0].isdigit():
                found.add(int(word[0]))
    return found


def test_the_chain_s_route_protocols_are_named_by_nobody() -> None:
    ours = {PROTO_CHAIN, PROTO_STATIC}
    assert not ours & FRR_NAMED
    assert not ours & named_protocols()
    assert len(ours) == 2
