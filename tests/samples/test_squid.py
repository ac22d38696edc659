"""The Squid sample: a LAN host fetches an object from an origin server beyond the WAN through
the proxy twice; the second answer comes from the cache and the origin sees one request."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.samples.conftest import need
from tests.samples.harness import start_vnf
from tests.samples.lab import LAN_VNF, WAN_PEER, Lab, wait_for

pytestmark = pytest.mark.slow
ORIGIN = "203.0.113.80"


def fetch(lab: Lab, url: str) -> tuple[str, str]:
    """(X-Cache header, body) of `url` fetched by the LAN host through the proxy."""
    done = lab.run(
        lab.lan, "curl", "-s", "-m", "5", "-D", "-", "-x", f"http://{LAN_VNF}:3128", url, timeout=10
    )
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    cache = next(
        (
            line.split(":", 1)[1].strip()
            for line in head.splitlines()
            if line.lower().startswith("x-cache:")
        ),
        "",
    )
    return cache, body


def test_squid_serves_the_second_fetch_from_its_cache(
    lab: Lab, samples: Path, workdir: Path
) -> None:
    need("squid", "squid")
    need("curl", "curl")
    www = workdir / "www"
    www.mkdir()
    (www / "object.txt").write_text("an object worth caching\n")
    day_ago = time.time() - 86400  # Last-Modified a day back: fresh by Squid's heuristics
    os.utime(www / "object.txt", (day_ago, day_ago))
    lab.run(lab.wan, "ip", "addr", "add", f"{ORIGIN}/32", "dev", "lo")
    lab.run(lab.vnf, "ip", "route", "add", "default", "via", WAN_PEER)
    origin_log = workdir / "origin.log"
    lab.spawn(
        lab.wan,
        ["python3", "-m", "http.server", "8080", "--bind", ORIGIN, "--directory", str(www)],
        origin_log,
    )
    url = f"http://{ORIGIN}:8080/object.txt"
    wait_for("the origin", lambda: lab.run(lab.vnf, "curl", "-s", "-m", "1", url).stdout, 10)
    requests_before = origin_log.read_text().count("GET /object.txt")

    vnf = start_vnf(lab, samples / "squid", {}, workdir / "vnf")
    first, body = fetch(lab, url)
    assert first.startswith("MISS"), first
    assert body == "an object worth caching\n"
    second, body = fetch(lab, url)
    assert second.startswith("HIT"), second
    assert body == "an object worth caching\n"
    assert origin_log.read_text().count("GET /object.txt") == requests_before + 1

    # Day 2: a smaller cache, applied by the package's reload mode (SIGHUP: Squid re-reads its
    # configuration, the same process goes on serving)
    pid = vnf.processes["squid"].pid
    vnf.modify({"cache_mem_mib": "32"})
    assert "cache_mem 32 MB" in (Path(vnf.variables["root"]) / "etc/squid/squid.conf").read_text()
    wait_for("Squid reconfigured", lambda: "Reconfiguring Squid Cache" in vnf.log("squid"), 10)
    wait_for("Squid serving again", lambda: fetch(lab, url)[1] == "an object worth caching\n", 10)
    assert vnf.processes["squid"].poll() is None
    assert vnf.processes["squid"].pid == pid
