"""The strongSwan sample: an IKEv2 tunnel to a hand-configured strongSwan peer carries a LAN
host's traffic, and the WAN sees only ESP (UDP-encapsulated by kernel-libipsec), no plaintext."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.samples.conftest import need
from tests.samples.harness import start_vnf
from tests.samples.lab import LAN_SUBNET, WAN_PEER, WAN_VNF, Lab, wait_for

pytestmark = pytest.mark.slow
REMOTE = "10.99.0.1"  # behind the peer: reached only through the tunnel
REMOTE_SUBNET = "10.99.0.0/24"
PSK = "correct horse battery staple"
MARKER = "edgewise-plaintext-marker-7f3a"  # what the LAN host fetches; never on the WAN in clear
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
PEER_SWANCTL = f"""
connections {{
  edge {{
    version = 2
    local_addrs = {WAN_PEER}
    remote_addrs = {WAN_VNF}
    proposals = aes256-sha256-modp2048
    local {{
      auth = psk
      id = {WAN_PEER}
    }}
    remote {{
      auth = psk
      id = {WAN_VNF}
    }}
    children {{
      edge-lan {{
        local_ts = {REMOTE_SUBNET}
        remote_ts = {LAN_SUBNET}
        esp_proposals = aes256-sha256
      }}
    }}
  }}
}}
secrets {{
  ike-edge {{
    id-1 = {WAN_PEER}
    id-2 = {WAN_VNF}
    secret = "{PSK}"
  }}
}}
"""


def fetch(lab: Lab) -> str:
    done = lab.run(lab.lan, "curl", "-s", "-m", "3", f"http://{REMOTE}:8080/marker.txt", timeout=10)
    return done.stdout


def test_strongswan_tunnel_carries_lan_traffic_as_esp(
    lab: Lab, samples: Path, workdir: Path
) -> None:
    need("strongswan-charon", "/usr/lib/ipsec/charon")
    need("strongswan-swanctl", "swanctl")
    need("tcpdump", "tcpdump")
    need("curl", "curl")
    if not Path("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so").exists():
        pytest.skip("needs the Debian package libcharon-extra-plugins (kernel-libipsec)")
    if not Path("/dev/net/tun").exists():
        pytest.skip("kernel-libipsec needs /dev/net/tun")
    peer = workdir / "peer"
    (peer / "run").mkdir(parents=True)
    (peer / "strongswan.conf").write_text(PEER_STRONGSWAN.format(run=peer / "run"))
    (peer / "swanctl.conf").write_text(PEER_SWANCTL)
    (peer / "www").mkdir()
    (peer / "www" / "marker.txt").write_text(MARKER + "\n")
    lab.run(lab.wan, "ip", "addr", "add", f"{REMOTE}/24", "dev", "lo")
    env = {"STRONGSWAN_CONF": str(peer / "strongswan.conf"), "PATH": "/usr/sbin:/usr/bin:/bin"}
    lab.spawn(
        lab.wan, ["/usr/lib/ipsec/charon"], peer / "charon.log", run_dir=peer / "run", env=env
    )
    lab.spawn(
        lab.wan,
        [
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            REMOTE,
            "--directory",
            str(peer / "www"),
        ],
        peer / "www.log",
    )
    vici = f"unix://{peer / 'run' / 'charon.vici'}"
    wait_for("the peer's charon", (peer / "run" / "charon.vici").exists, 10)
    loaded = lab.run(
        lab.wan,
        "swanctl",
        "--load-all",
        "--file",
        str(peer / "swanctl.conf"),
        "--uri",
        vici,
        env=env,
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert fetch(lab) == "", "the peer's subnet answered without a tunnel: the proof proves nothing"

    pcap = workdir / "wan.pcap"
    capture = lab.spawn(
        lab.wan,
        ["tcpdump", "--immediate-mode", "-U", "-Z", "root", "-n", "-i", "eth0", "-w", str(pcap)],
        workdir / "tcpdump.log",
    )
    wait_for("tcpdump", pcap.exists, 5)
    vnf = start_vnf(
        lab,
        samples / "strongswan",
        {"peer_address": WAN_PEER, "psk": PSK, "remote_subnets": REMOTE_SUBNET},
        workdir / "vnf",
    )
    wait_for(f"the tunnel (charon: {vnf.log('charon')})", lambda: fetch(lab) == MARKER + "\n", 20)
    lab.stop(capture)

    def read(*expression: str) -> list[str]:
        done = subprocess.run(
            ["tcpdump", "-n", "-r", str(pcap), *expression],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    esp = read("esp or (udp port 4500 and udp[8:4] != 0)")  # raw, or in UDP (not IKE's 0 marker)
    assert len(esp) >= 4, f"no ESP on the WAN: {read()}"
    assert not read("tcp port 8080 or icmp"), "the LAN host's traffic crossed the WAN in clear"
    assert MARKER.encode() not in pcap.read_bytes()
    sas = vnf.call(("/usr/sbin/swanctl", "--list-sas", "--uri", "unix://${run}/charon.vici"))
    assert "ESTABLISHED" in sas.stdout, sas.stdout
    assert "INSTALLED" in sas.stdout, sas.stdout

    # Day 2: a narrower remote subnet; the reload script loads the re-rendered swanctl.conf
    # into the running charon (no restart: same process)
    pid = vnf.processes["charon"].pid
    narrower = {"peer_address": WAN_PEER, "psk": PSK, "remote_subnets": "10.99.0.0/25"}
    reloaded = vnf.modify(narrower)
    assert reloaded is not None
    assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
    conns = vnf.call(("/usr/sbin/swanctl", "--list-conns", "--uri", "unix://${run}/charon.vici"))
    assert "10.99.0.0/25" in conns.stdout, conns.stdout
    assert vnf.processes["charon"].poll() is None
    assert vnf.processes["charon"].pid == pid
    wait_for("the tunnel after the reload", lambda: fetch(lab) == MARKER + "\n", 20)
