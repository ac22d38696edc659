"""The demo's alarms step, run by the demo itself (sim driver, two sites: no namespaces): the
last site's controller stopped by its pid, SITE_OFFLINE raised as a root and listed by
`edgewise alarm list`, the controller started again and the alarm cleared; no process left."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.test_demo import demo

pytestmark = pytest.mark.slow


def test_a_silent_site_raises_a_root_alarm_that_its_return_clears() -> None:
    result = demo("--driver", "sim", "--sites", "2")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    stopped = re.search(r"branch-2's site controller \(pid (\d+)\) stopped", out)
    assert stopped, out
    assert re.search(r"SITE_OFFLINE of branch-2 raised [\d.]+ s after its controller stopped", out)
    listed = out[out.index("SITE_OFFLINE of branch-2 raised") :]
    assert re.search(r"CRITICAL +SITE_OFFLINE +site:[0-9a-f-]+ .* UNACKNOWLEDGED +root", listed)
    started = re.search(r"branch-2's site controller started again \(pid (\d+)\)", out)
    assert started, out
    assert re.search(r"its alarm cleared [\d.]+ s later, by its first report", out)
    cleared = listed[listed.index("cleared alarms too") :]
    stamp = r"\d{4}-\d\d-\d\dT[\d:.]+Z"
    assert re.search(rf"SITE_OFFLINE +site:[0-9a-f-]+ +{stamp} +{stamp} +UNACK", cleared), cleared
    assert "demo complete" in out
    for pid in (stopped[1], started[1]):  # both controllers gone once the demo ends
        assert not running(int(pid)), pid


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, ended but not yet reaped, is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status
