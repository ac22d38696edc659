"""The engine on real nDPI (no root needed): real first messages (a TLS ClientHello from Python's
ssl, HTTP, SSH, DNS, SIP) become the catalogue's applications and the mark that keeps them;
custom host patterns; giving up; the library missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edgewise.model.applications import CATALOGUE, Applications
from edgewise.site.drivers.linux.dpi import marks, ndpi
from edgewise.site.drivers.linux.dpi.classifier import Classifier, Verdict
from edgewise.site.drivers.linux.dpi.errors import DpiUnavailable
from edgewise.site.drivers.linux.dpi.nfqmsg import QueuedPacket, Server
from tests.site.drivers.linux.dpi import packets as pk

try:
    ndpi.load_library()
    MISSING = None
except DpiUnavailable as exc:
    MISSING = exc.message
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

CUSTOM = {"corp": ("*.corp.example",), "erp": ("erp.example.net",)}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def applications() -> Applications:
    return Applications.build(CUSTOM)


@pytest.fixture
def detector(applications: Applications) -> Iterator[ndpi.Detector]:
    made = ndpi.Detector([(a.ndpi_names[0], a.hosts) for a in applications.custom()])
    yield made
    made.close()


@pytest.fixture
def classifier(detector: ndpi.Detector, applications: Applications) -> Iterator[Classifier]:
    made = Classifier(detector, applications, FakeClock(), give_up_after=10)
    yield made
    made.close()


def run(classifier: Classifier, packets: list[bytes], mark: int = 0) -> list[Verdict]:
    return [classifier.packet(QueuedPacket(i, p, mark)) for i, p in enumerate(packets)]


def decided(verdicts: list[Verdict]) -> tuple[str | None, int, int | None]:
    last = [v for v in verdicts if v.mark is not None]
    assert len(last) == 1, verdicts  # one verdict marks the flow, once
    return last[0].application, last[0].packets, marks.app_of(last[0].mark or 0)


@pytest.mark.parametrize(
    ("flow", "application", "packets"),
    [
        (lambda: pk.tls_flow("www.youtube.com"), "youtube", 4),
        (lambda: pk.tls_flow("teams.microsoft.com"), "teams", 4),
        (lambda: pk.tls_flow("login.salesforce.com"), "salesforce", 4),
        (lambda: pk.tls_flow("www.python.org"), "tls", 4),
        (lambda: pk.tls_flow("api.corp.example"), "corp", 4),
        (lambda: pk.tls_flow("corp.example"), "corp", 4),
        (lambda: pk.tls_flow("erp.example.net"), "erp", 4),
        (lambda: pk.tls_flow("noterp.example.net"), "tls", 4),
        (lambda: pk.http_flow("www.example.org"), "http", 4),
        (lambda: pk.http_flow("intranet.corp.example"), "corp", 4),
        (pk.ssh_flow, "ssh", 4),
        (lambda: pk.dns_flow("www.example.org"), "dns", 1),
        (lambda: pk.dns_flow("www.youtube.com"), "dns", 1),  # nDPI: DNS/YouTube
        (lambda: pk.dns_flow("api.corp.example"), "dns", 1),
        (pk.sip_flow, "sip", 1),
    ],
)
def test_real_first_messages_are_identified(
    classifier: Classifier, applications: Applications, flow: object, application: str,
    packets: int,
) -> None:  # fmt: skip
    got = decided(run(classifier, flow()))  # type: ignore[operator]
    app = applications.by_name(application)
    assert app is not None
    assert got == (application, packets, app.app_id)
    assert classifier.counters.classified == {application: 1}
    assert classifier.counters.snapshot()["packets_to_decide"] == {application: {str(packets): 1}}
    assert len(classifier.flows) == 0  # nothing kept of a decided flow but its key, briefly


def test_the_verdict_keeps_the_packet_s_other_mark_bits(classifier: Classifier) -> None:
    verdicts = run(classifier, pk.dns_flow("example.org"), mark=0xFE00_1234)
    assert verdicts[0].mark == 0xFE00_1234 | marks.DONE_BIT | (1 << marks.APP_SHIFT)


def test_an_unknown_flow_is_given_up_after_the_bound_as_unknown(classifier: Classifier) -> None:
    exchange = pk.TcpExchange(40100, 9000)
    for _ in range(6):
        exchange.send(b"hello").send(b"hello", from_server=True)
    verdicts = run(classifier, exchange.packets)
    assert decided(verdicts) == ("unknown", 10, 0)  # nDPI 4.2 crashed here with a NULL pointer
    assert classifier.counters.given_up == 1
    assert all(v.mark is None for v in verdicts[10:])  # later packets: let through untouched
    assert classifier.counters.late_packets == len(exchange.packets) - 10


def test_packets_queued_before_the_verdict_took_effect_change_nothing(
    classifier: Classifier,
) -> None:
    packets = pk.tls_flow("www.youtube.com")
    run(classifier, packets)
    again = run(classifier, packets[-1:])
    assert again == [Verdict()]
    assert classifier.counters.late_packets == 1


def test_a_new_connection_on_a_just_decided_5_tuple_is_classified_anew(
    classifier: Classifier,
) -> None:
    first = pk.http_flow("www.example.org", sport=40500)
    assert decided(run(classifier, first))[0] == "http"
    again = pk.tls_flow("www.youtube.com", sport=40500, dport=80)  # 5-tuple reused at once
    assert decided(run(classifier, again))[0] == "youtube"
    assert classifier.counters.late_packets == 0


def test_idle_flows_expire_on_the_clock(classifier: Classifier) -> None:
    run(classifier, pk.tls_flow("www.youtube.com")[:2])
    assert len(classifier.flows) == 1
    clock = classifier.clock
    assert isinstance(clock, FakeClock)
    clock.now += 31
    assert classifier.expire() == 1
    assert len(classifier.flows) == 0


def test_every_ndpi_name_of_the_catalogue_is_one_ndpi_4_2_knows(detector: ndpi.Detector) -> None:
    known = set(detector.names())
    missing = [(a.name, n) for a in CATALOGUE for n in a.ndpi_names if n not in known]
    assert missing == []
    assert {"EW_corp", "EW_erp"} <= known


def test_a_missing_library_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ndpi, "SONAME", "libndpi.so.0.0-not-here")
    with pytest.raises(DpiUnavailable, match=r"install the Debian package libndpi4\.2"):
        ndpi.load_library()


def test_a_closed_flow_is_refused_not_crashed(detector: ndpi.Detector) -> None:
    flow = detector.new_flow()
    flow.close()
    flow.close()  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        detector.process(flow, pk.dns_flow("example.org")[0], 0)


@pytest.mark.parametrize(
    ("flow", "port"),
    [(lambda: pk.tls_flow("api.corp.example"), 443), (pk.ssh_flow, 22)],
)
def test_an_identified_flow_names_the_server_its_first_packet_went_to(
    classifier: Classifier, flow: object, port: int
) -> None:
    """SSH is named at the server's banner (a reply): the server is still the SYN's target."""
    verdicts = run(classifier, flow())  # type: ignore[operator]
    last = next(v for v in verdicts if v.mark is not None)
    assert last.server == Server(pk.SERVER, 6, port)
    assert last.app_id == marks.app_of(last.mark or 0) != 0


def test_a_flow_given_up_names_no_server(classifier: Classifier) -> None:
    exchange = pk.TcpExchange(40009, 5555)
    for n in range(8):
        exchange.send(b"\x00\x01\x02" * (n + 1))
    verdicts = run(classifier, exchange.packets)
    last = next(v for v in verdicts if v.mark is not None)
    assert (last.application, last.server) == ("unknown", None)
