"""The Squid sample on the real path (read by tosca.software, run by the linux driver, confined
and limited): a LAN host fetches an object from an origin server beyond the WAN side through
the proxy twice; the second answer comes from the cache and the origin sees one request; a
smaller memory cache is applied by the package's reload mode (SIGHUP, the same process)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.reconcile import ChangeOp
from tests.samples.conftest import need
from tests.samples.site import Peers, SampleVnf, check_limited, eventually, run
from tests.site.drivers.netlab import INTERNET_HOST, Lab

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
URL = f"http://{INTERNET_HOST}:8080/object.txt"
BODY = "an object worth caching\n"


def fetch(host: str, proxy: str) -> tuple[str, str]:
    """(X-Cache header, body) of URL fetched by `host` through the proxy."""
    done = run(host, "curl", "-s", "-m", "5", "-D", "-", "-x", f"http://{proxy}:3128", URL)
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


async def test_squid_serves_the_second_fetch_from_its_cache(
    lab: Lab, driver: LinuxDriver, peers: Peers, workdir: Path
) -> None:
    need("squid", "squid")
    need("curl", "curl")
    www = workdir / "www"
    www.mkdir()
    (www / "object.txt").write_text(BODY)
    day_ago = time.time() - 86400  # Last-Modified a day back: fresh by Squid's heuristics
    os.utime(www / "object.txt", (day_ago, day_ago))
    peers.spawn(lab.internet, ["python3", "-m", "http.server", "8080", "--bind", INTERNET_HOST,
                               "--directory", str(www)], "origin")  # fmt: skip
    await eventually("the origin", lambda: run(lab.wan, "curl", "-s", "-m", "1", URL).stdout, 10)
    before = peers.log("origin").count("GET /object.txt")

    vnf = SampleVnf(lab, driver, "squid")
    status = await vnf.start({})
    check_limited(status, "squid", vnf.namespace, await vnf.pid("squid"))
    attachment = await vnf.attachment()
    host = lab.add_host("h1", attachment).namespace
    proxy = str(attachment.gateway.ip)  # the first VNF's LAN leg is the LAN's gateway
    first, body = fetch(host, proxy)
    assert first.startswith("MISS"), first
    assert body == BODY
    second, body = fetch(host, proxy)
    assert second.startswith("HIT"), second
    assert body == BODY
    assert peers.log("origin").count("GET /object.txt") == before + 1

    # Day 2: a smaller cache, applied by the package's reload mode (SIGHUP: Squid re-reads its
    # configuration, the same process goes on serving)
    pid = await vnf.pid("squid")
    results = await vnf.modify({"cache_mem_mib": 32})
    assert [(r.change.op, r.error) for r in results] == [(ChangeOp.UPDATE_VNF_CONFIG, None)]
    assert "cache_mem 32 MB" in (vnf.base / "root/etc/squid/squid.conf").read_text()
    await eventually("Squid reconfigured",
                     lambda: "Reconfiguring Squid Cache" in vnf.log("squid"), 10)  # fmt: skip
    await eventually("Squid serving again", lambda: fetch(host, proxy)[1] == BODY, 10)
    assert await vnf.pid("squid") == pid
