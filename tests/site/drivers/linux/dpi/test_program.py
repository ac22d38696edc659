"""The classifier program's edges without root: its rules as text, its command line both ways,
and its exit codes for bad arguments, a refused application and a missing library."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.dpi import __main__ as entry
from edgewise.site.drivers.linux.dpi import ndpi
from edgewise.site.drivers.linux.dpi.hooks import HookRules
from edgewise.site.drivers.linux.dpi.program import Options
from edgewise.site.drivers.linux.dpi.status import read_status, write_status


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
                      idle=10.0, custom=custom)  # fmt: skip
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
