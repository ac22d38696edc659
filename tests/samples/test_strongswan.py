"""The strongSwan sample on the real path (read by tosca.software, run by the linux driver,
confined and limited): an IKEv2 tunnel from the VNF's WAN leg to a hand-configured strongSwan
peer beyond the WAN side carries a LAN host's traffic, and the wire beyond the WAN side shows
only ESP (in UDP, kernel-libipsec), no plaintext; a narrower remote subnet is loaded into the
running charon by the package's reload script."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.reconcile import ChangeOp
from tests.samples.conftest import need
from tests.samples.site import Peers, SampleVnf, check_limited, eventually, run
from tests.site.drivers.netlab import INTERNET_HOST, Lab

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
REMOTE = "10.99.0.1"  # behind the peer: reached only through the tunnel
REMOTE_SUBNET = "10.99.0.0/24"
PSK = "correct horse battery staple"
MARKER = "edgewise-plaintext-marker-7f3a"  # what the LAN host fetches; never on the wire in clear
# the peer's charon gets its own /run (charon's pid file there is fixed) by a mount namespace
PRIVATE_RUN = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount --bind "$0" /run && exec "$@"']  # fmt: skip
PEER_STRONGSWAN = """
charon {{
  load = random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 pubkey x509 kernel-libipsec \
    kernel-netlink socket-default vici updown
  plugins {{
    vici {{
      socket = unix://{run}/charon.vici
    }}
  }}
}}
"""
PEER_SWANCTL = """
connections {{
  edge {{
    version = 2
    local_addrs = {peer}
    remote_addrs = {site}
    proposals = aes256-sha256-modp2048
    local {{
      auth = psk
      id = {peer}
    }}
    remote {{
      auth = psk
      id = {site}
    }}
    children {{
      edge-lan {{
        local_ts = {remote_subnet}
        remote_ts = {lan}
        esp_proposals = aes256-sha256
      }}
    }}
  }}
}}
secrets {{
  ike-edge {{
    id-1 = {peer}
    id-2 = {site}
    secret = "{psk}"
  }}
}}
"""


def fetch(host: str) -> str:
    return run(host, "curl", "-s", "-m", "3", f"http://{REMOTE}:8080/marker.txt").stdout


def read(pcap: Path, *expression: str) -> list[str]:
    done = subprocess.run(
        ["tcpdump", "-n", "-r", str(pcap), *expression],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def missing_kernel_libipsec() -> str | None:
    if not Path("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so").exists():
        return "needs the Debian package libcharon-extra-plugins (kernel-libipsec)"
    if not Path("/dev/net/tun").exists():
        return "kernel-libipsec needs /dev/net/tun"
    return None


def start_peer(lab: Lab, peers: Peers, peer: Path, vnf: SampleVnf) -> None:
    """The hand-configured strongSwan beyond the WAN side, its connection loaded, and the web
    server behind it that serves MARKER."""
    (peer / "run").mkdir(parents=True)
    (peer / "strongswan.conf").write_text(PEER_STRONGSWAN.format(run=peer / "run"))
    swanctl = PEER_SWANCTL.format(peer=INTERNET_HOST, site=vnf.wan_address, psk=PSK,
                                  remote_subnet=REMOTE_SUBNET, lan=vnf.lan_subnet)  # fmt: skip
    (peer / "swanctl.conf").write_text(swanctl)
    (peer / "www").mkdir()
    (peer / "www" / "marker.txt").write_text(MARKER + "\n")
    run(lab.internet, "ip", "addr", "add", f"{REMOTE}/24", "dev", "lo")
    env = {"STRONGSWAN_CONF": str(peer / "strongswan.conf"), "PATH": "/usr/sbin:/usr/bin:/bin"}
    peers.spawn(lab.internet, ["/usr/lib/ipsec/charon"], "peer-charon", env=env,
                prefix=[*PRIVATE_RUN, str(peer / "run")])  # fmt: skip
    www = ["python3", "-m", "http.server", "8080", "--bind", REMOTE,
           "--directory", str(peer / "www")]  # fmt: skip
    peers.spawn(lab.internet, www, "peer-www")
    vici = peer / "run" / "charon.vici"
    deadline = time.monotonic() + 10
    while not vici.exists():
        assert time.monotonic() < deadline, f"the peer's charon: {peers.log('peer-charon')}"
        time.sleep(0.1)
    loaded = subprocess.run(
        ["ip", "netns", "exec", lab.internet, "swanctl", "--load-all", "--file",
         str(peer / "swanctl.conf"), "--uri", f"unix://{vici}"],
        capture_output=True, text=True, timeout=10, check=False, env=env,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


async def test_strongswan_tunnel_carries_lan_traffic_as_esp(
    lab: Lab, driver: LinuxDriver, peers: Peers, workdir: Path
) -> None:
    need("strongswan-charon", "/usr/lib/ipsec/charon")
    need("strongswan-swanctl", "swanctl")
    need("tcpdump", "tcpdump")
    need("curl", "curl")
    why = missing_kernel_libipsec()
    if why:
        pytest.skip(why)
    vnf = SampleVnf(lab, driver, "strongswan")
    start_peer(lab, peers, workdir / "peer", vnf)

    pcap = workdir / "wan.pcap"
    capture = peers.spawn(lab.internet, ["tcpdump", "--immediate-mode", "-U", "-Z", "root", "-n",
                                         "-i", "eth0", "-w", str(pcap)], "tcpdump")  # fmt: skip
    await eventually("tcpdump", pcap.exists, 5)
    status = await vnf.start({"peer_address": INTERNET_HOST, "psk": PSK,
                              "remote_subnets": REMOTE_SUBNET})  # fmt: skip
    check_limited(status, "charon", vnf.namespace, await vnf.pid("charon"))
    host = lab.add_host("h1", await vnf.attachment()).namespace
    await eventually(f"the tunnel (charon: {vnf.log('charon')[-600:]})",
                     lambda: fetch(host) == MARKER + "\n", 20)  # fmt: skip
    peers.stop(capture)

    esp = read(pcap, "esp or (udp port 4500 and udp[8:4] != 0)")  # raw, or in UDP (not IKE's)
    assert len(esp) >= 4, f"no ESP beyond the WAN side: {read(pcap)}"
    clear = read(pcap, f"net {vnf.lan_subnet} or host {REMOTE}")  # the tunnel's inner ends
    assert not clear, f"the LAN host's traffic crossed in clear: {clear}"
    assert MARKER.encode() not in pcap.read_bytes()
    uri = f"unix://{vnf.base / 'run' / 'charon.vici'}"
    sas = run(vnf.namespace, "swanctl", "--list-sas", "--uri", uri).stdout
    assert "ESTABLISHED" in sas, sas
    assert "INSTALLED" in sas, sas

    # Day 2: a narrower remote subnet; the reload script loads the re-rendered swanctl.conf
    # into the running charon (no restart: the same process)
    pid = await vnf.pid("charon")
    results = await vnf.modify({"peer_address": INTERNET_HOST, "psk": PSK,
                                "remote_subnets": "10.99.0.0/25"})  # fmt: skip
    assert [(r.change.op, r.error) for r in results] == [(ChangeOp.UPDATE_VNF_CONFIG, None)]
    conns = run(vnf.namespace, "swanctl", "--list-conns", "--uri", uri).stdout
    assert "10.99.0.0/25" in conns, conns
    assert await vnf.pid("charon") == pid
    await eventually("the tunnel after the reload", lambda: fetch(host) == MARKER + "\n", 20)
