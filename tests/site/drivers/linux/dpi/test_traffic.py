"""The classifier program with real traffic (root, namespaces): client → router (classifier) →
server. Each flow's conntrack mark carries its application; a decided flow's packets stay in
the kernel; the rules go on SIGTERM, survive a crash idempotently, and traffic passes while the
classifier is dead."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise.model.applications import Applications
from edgewise.site.drivers.linux.dpi import marks
from tests.site.drivers.linux.dpi.lab import DpiLab, skip_reason

REASON = skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]
APPS = Applications.build({"corp": ("*.corp.example",)})


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[DpiLab]:
    made = DpiLab(tmp_path)
    try:
        made.start()
        yield made
    finally:
        made.close()


def app_mark(name: str) -> int:
    app = APPS.by_name(name)
    return marks.verdict_mark(app.app_id if app else 0)


def test_each_flow_s_conntrack_mark_carries_its_application(lab: DpiLab) -> None:
    lab.start_classifier("--custom", "corp=*.corp.example")
    flows = {
        ("tcp", 42001): ("tls 42001 www.youtube.com 3", "youtube"),
        ("tcp", 42002): ("tls 42002 api.corp.example 3", "corp"),
        ("tcp", 42003): ("tls 42003 www.python.org 3", "tls"),
        ("tcp", 42004): ("http 42004 www.example.org", "http"),
        ("tcp", 42005): ("ssh 42005", "ssh"),
        ("udp", 42006): ("dns 42006 www.example.org", "dns"),
        ("udp", 42007): ("sip 42007", "sip"),
        ("tcp", 42008): ("short 42008", "unknown"),
    }
    results = lab.flows([line for line, _ in flows.values()])
    assert len(results) == len(flows), results
    assert all(r.endswith(" ok") for r in results), results
    got = {key: mark & marks.DPI_MASK for key, mark in lab.ct_marks().items() if key in flows}
    assert got == {key: app_mark(app) for key, (_, app) in flows.items()}, lab.log()
    status = _status_when(lab, lambda s: sum(s["flows_classified"].values()) == len(flows))
    assert status["flows_classified"] == {
        "corp": 1, "dns": 1, "http": 1, "sip": 1, "ssh": 1, "tls": 1, "unknown": 1, "youtube": 1,
    }  # fmt: skip
    assert status["flows_given_up"] == 1
    assert status["queue_dropped"] == 0
    assert "youtube (nDPI TLS/YouTube) after 4 packets" in lab.log()


def test_a_decided_flow_is_no_longer_queued_while_it_goes_on(lab: DpiLab) -> None:
    lab.start_classifier()
    before = lab.queue_last_id()
    assert lab.flows(["tls 42101 www.youtube.com 300"]) == ["tls 42101 ok"]
    queued = lab.queue_last_id() - before
    assert 4 <= queued <= 6, queued  # the handshake and the ClientHello, of ~600 packets
    assert lab.ct_marks()["tcp", 42101] & marks.DPI_MASK == app_mark("youtube")


def test_rules_go_on_sigterm_and_a_crashed_classifier_s_rules_are_taken_over(
    lab: DpiLab,
) -> None:
    lab.start_classifier()
    assert "EDGEWISE-DPI-7" in lab.hook_rules()
    assert lab.classifier_process is not None
    lab.classifier_process.send_signal(signal.SIGKILL)  # a crash: its rules stay behind
    lab.classifier_process.wait(5)
    assert lab.flows(["tls 42201 www.youtube.com 3"]) == ["tls 42201 ok"]  # fail-open
    assert lab.ct_marks()["tcp", 42201] & marks.DONE_BIT == 0  # nobody classified it

    lab.start_classifier()  # the next one takes the rules over: one jump, one chain
    rules = lab.hook_rules()
    assert rules.count("-A FORWARD -j EDGEWISE-DPI-7") == 1
    assert rules.count("-A EDGEWISE-DPI-7 ") == 3
    assert lab.flows(["dns 42202 example.org"]) == ["dns 42202 ok"]
    assert lab.ct_marks()["udp", 42202] & marks.DPI_MASK == app_mark("dns")
    assert lab.stop_classifier() == 0
    assert "EDGEWISE-DPI" not in lab.hook_rules()
    assert lab.flows(["dns 42203 example.org"]) == ["dns 42203 ok"]


def _status_when(lab: DpiLab, ready: object, timeout: float = 5) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    status = lab.status()
    while time.monotonic() < deadline:
        status = lab.status()
        if status and ready(status):  # type: ignore[operator]
            return status
        time.sleep(0.1)
    return status
