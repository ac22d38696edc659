"""The classifier program's edges without root: its rules as text, its command line both ways,
and its exit codes for bad arguments, a refused application and a missing library."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from edgewise.model.applications import Applications
from edgewise.site.drivers.linux.dpi import __main__ as entry
from edgewise.site.drivers.linux.dpi import marks, ndpi
from edgewise.site.drivers.linux.dpi.classifier import Classifier
from edgewise.site.drivers.linux.dpi.errors import DpiUnavailable
from edgewise.site.drivers.linux.dpi.hooks import HookRules
from edgewise.site.drivers.linux.dpi.nfqmsg import QueuedPacket
from edgewise.site.drivers.linux.dpi.nfqueue import QueueStats
from edgewise.site.drivers.linux.dpi.program import Options, Session
from edgewise.site.drivers.linux.dpi.status import read_status, write_status
from tests.site.drivers.linux.dpi import packets as pk


def test_the_rules_save_a_verdict_mark_then_queue_only_undecided_flows() -> None:
    text = HookRules(7, 10).restore_input()
    assert text.splitlines() == [
        "*mangle",
        ":EDGEWISE-DPI-7 - [0:0]",
        (
            "-A EDGEWISE-DPI-7 -m mark --mark 0x1000000/0x1000000 -m connmark --mark 0/0x1000000"
            " -j CONNMARK --save-mark --nfmask 0x1ff0000 --ctmask 0x1ff0000"
        ),
        (
            "-A EDGEWISE-DPI-7 -p tcp -m connmark --mark 0/0x1000000 -m connbytes --connbytes 0:10"
            " --connbytes-dir both --connbytes-mode packets -j NFQUEUE --queue-num 7 --queue-bypass"
        ),
        (
            "-A EDGEWISE-DPI-7 -p udp -m connmark --mark 0/0x1000000 -m connbytes --connbytes 0:10"
            " --connbytes-dir both --connbytes-mode packets -j NFQUEUE --queue-num 7 --queue-bypass"
        ),
        "COMMIT",
    ]


def test_options_make_a_command_line_that_reads_back_the_same() -> None:
    custom = {"corp": ("*.corp.example", "corp.example.net")}
    options = Options(queue=3, netns="site-wan", give_up_after=8, hooks=("FORWARD", "OUTPUT"),
                      status_file=Path("/run/dpi.json"), status_every=1.0, max_flows=100,
                      idle=10.0, custom=custom, cache=True, learn_dns=True)  # fmt: skip
    argv = options.argv()
    assert argv[:3] == ["python3", "-m", "edgewise.site.drivers.linux.dpi"]
    assert entry.parse(argv[3:]) == options


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--custom", "corp"], "expected NAME=HOST"),
        (["--queue", "70000"], "expected 0 to 65535"),
        (["--give-up-after", "0"], "expected 1 to 255"),
        (["--hook", "NOWHERE"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_saying_which(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        entry.parse(argv)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_a_refused_custom_application_exits_2(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert entry.main(["--custom", "dns=dns.example"]) == 2
    assert "the catalogue already names it" in caplog.text


def test_a_missing_ndpi_exits_3_naming_the_package(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ndpi, "SONAME", "libndpi.so.0.0-not-here")
    with caplog.at_level(logging.ERROR):
        assert entry.main([]) == 3
    assert "install the Debian package libndpi4.2" in caplog.text


def test_the_status_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "run" / "dpi.json"
    assert read_status(path) is None
    write_status(path, {"packets": 1})
    write_status(path, {"packets": 2})
    assert read_status(path) == {"packets": 2}
    assert [p.name for p in path.parent.iterdir()] == ["dpi.json"]


def test_a_missing_namespace_exits_3_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert entry.main(["--netns", "edgewise-no-such-namespace"]) == 3
    assert "network namespace edgewise-no-such-namespace" in caplog.text


class FakeQueue:
    """Hands out prepared datagrams, records verdicts, stops the loop when it runs dry."""

    def __init__(self, batches: list[list[QueuedPacket]], stop: threading.Event) -> None:
        self.batches, self.stop = batches, stop
        self.verdicts: list[tuple[int, int | None]] = []

    def receive(self, timeout: float) -> list[QueuedPacket]:
        if not self.batches:
            self.stop.set()
            return []
        return self.batches.pop(0)

    def accept(self, packet_id: int, *, mark: int | None = None) -> None:
        self.verdicts.append((packet_id, mark))

    def stats(self) -> QueueStats | None:
        return QueueStats(waiting=0, dropped=1, user_dropped=2, last_id=9)


def _ndpi_missing() -> str | None:
    try:
        ndpi.load_library()
    except DpiUnavailable as exc:
        return exc.message
    return None


@pytest.mark.skipif(_ndpi_missing() is not None, reason=_ndpi_missing() or "")
def test_the_loop_answers_every_packet_and_writes_the_status(tmp_path: Path) -> None:
    applications = Applications.build()
    detector = ndpi.Detector()
    classifier = Classifier(detector, applications, time.monotonic)
    stop = threading.Event()
    tls = pk.tls_flow("www.youtube.com")
    batches = [[QueuedPacket(i, p, 0x5)] for i, p in enumerate(tls)]
    batches.append([QueuedPacket(9, pk.dns_flow("example.org")[0])])
    queue = FakeQueue(batches, stop)
    options = Options(status_file=tmp_path / "dpi.json")
    try:
        Session(queue, classifier, options, detector.version).serve(stop)
    finally:
        classifier.close()
        detector.close()
    youtube = 0x5 | marks.verdict_mark(14)
    assert queue.verdicts == [(0, None), (1, None), (2, None), (3, youtube),
                              (9, marks.verdict_mark(1))]  # fmt: skip
    status = read_status(tmp_path / "dpi.json")
    assert status is not None
    assert status["flows_classified"] == {"dns": 1, "youtube": 1}
    assert status["queue_dropped"] == 3
    assert status["packets_to_decide"] == {"dns": {"1": 1}, "youtube": {"4": 1}}
