"""SOL005 NS fault management (`nsfm/v1`): the alarms a caller sees, SOL013 filters on them,
reading and acknowledging one, each tenant seeing only its own."""

from __future__ import annotations

from edgewise.central.services.alarm_terms import Kind, ManagedObject
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import utcnow
from tests.central.api.conftest import Caller, Central
from tests.central.api.nsfm_alarms import assert_schema, raise_alarm
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import NS, add_sites, sessions

ALARMS = "/nsfm/v1/alarms"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def a_fleet(central: Central) -> tuple[Caller, Caller, dict[str, str]]:
    """acme: a site offline (a root) and a VNF of its NS down (correlated to it); globex: a
    WAN link down. Returns both tenants and the alarms' ids."""
    acme, globex = central.tenant("acme"), central.tenant("globex")
    (hq,) = add_sites(central, acme, "hq")
    (plant,) = add_sites(central, globex, "plant")
    nsd = onboard_nsd(central, central.admin)
    ns = central.client.post(
        NS, json={"nsdId": nsd, "nsName": "vcpe"}, headers=acme.headers
    ).json()["id"]
    offline = raise_alarm(central, Kind.SITE_OFFLINE, tenant_id=acme.tenant_id, site_id=hq)
    vnf_down = raise_alarm(
        central, Kind.VNF_DOWN, tenant_id=acme.tenant_id, site_id=hq,
        managed=(ManagedObject.NS, ns), vnf="fw", root=offline, details=("exit status 1",),
    )  # fmt: skip
    link_down = raise_alarm(central, Kind.LINK_DOWN, tenant_id=globex.tenant_id, site_id=plant)
    ids = {"offline": offline, "vnf_down": vnf_down, "link_down": link_down, "ns": ns, "hq": hq}
    return acme, globex, ids


def test_each_tenant_lists_its_own_alarms_with_their_root_cause(central: Central) -> None:
    acme, globex, ids = a_fleet(central)
    client = central.client
    mine = client.get(ALARMS, headers=acme.headers)
    assert mine.status_code == 200, mine.text
    assert mine.headers["Version"] == "2.6.1"
    assert_schema("alarms", mine.json())
    by_id = {a["id"]: a for a in mine.json()}
    assert set(by_id) == {ids["offline"], ids["vnf_down"]}
    root, child = by_id[ids["offline"]], by_id[ids["vnf_down"]]
    assert (root["isRootCause"], root["correlatedAlarmIds"]) == (True, [ids["vnf_down"]])
    assert (child["isRootCause"], child["correlatedAlarmIds"]) == (False, [ids["offline"]])
    assert child["managedObjectId"] == ids["ns"]
    assert child["rootCauseFaultyComponent"] == {"faultyVnfInstanceId": "fw"}
    assert child["rootCauseFaultyResource"]["faultyResourceType"] == "COMPUTE"
    assert child["rootCauseFaultyResource"]["faultyResource"]["vimId"] == ids["hq"]
    assert child["faultDetails"] == ["exit status 1"]
    assert child["_links"]["objectInstance"]["href"].endswith(f"/nslcm/v1/ns_instances/{ids['ns']}")
    assert root["_links"]["objectInstance"]["href"].endswith(f"/api/v1/sites/{ids['hq']}")
    assert (root["perceivedSeverity"], root["eventType"], root["ackState"]) == (
        "CRITICAL", "COMMUNICATIONS_ALARM", "UNACKNOWLEDGED",
    )  # fmt: skip
    assert (root["kind"], root["managedObjectType"], root["active"]) == (
        "SITE_OFFLINE",
        "SITE",
        True,
    )
    theirs = client.get(ALARMS, headers=globex.headers).json()
    assert [a["id"] for a in theirs] == [ids["link_down"]]
    assert theirs[0]["rootCauseFaultyResource"]["faultyResourceType"] == "NETWORK"
    every = client.get(ALARMS, headers=central.admin.headers).json()
    assert {a["id"] for a in every} == {ids["offline"], ids["vnf_down"], ids["link_down"]}


def test_a_tenant_is_not_told_the_id_of_an_operators_root_alarm(central: Central) -> None:
    acme, _, ids = a_fleet(central)
    operators = raise_alarm(central, Kind.SITE_REFUSING, tenant_id=None, site_id=ids["hq"])
    theirs = raise_alarm(central, Kind.LINK_DOWN, tenant_id=acme.tenant_id, site_id=ids["hq"],
                         root=operators)  # fmt: skip
    seen = central.client.get(f"{ALARMS}/{theirs}", headers=acme.headers).json()
    assert (seen["isRootCause"], seen["correlatedAlarmIds"]) == (False, [])
    listed = central.client.get(ALARMS, params={"id": theirs}, headers=acme.headers).json()
    assert listed[0]["correlatedAlarmIds"] == []
    admin = central.client.get(f"{ALARMS}/{theirs}", headers=central.admin.headers).json()
    assert admin["correlatedAlarmIds"] == [operators]


def test_sol013_filters_select_alarms(central: Central) -> None:
    _, _, ids = a_fleet(central)
    admin = central.admin.headers

    def listed(**params: str) -> set[str]:
        answer = central.client.get(ALARMS, params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        return {a["id"] for a in answer.json()}

    assert listed(id=ids["link_down"]) == {ids["link_down"]}
    assert listed(managedObjectId=ids["ns"]) == {ids["vnf_down"]}
    assert listed(**{"rootCauseFaultyResource.faultyResourceType": "NETWORK"}) == {ids["link_down"]}
    assert listed(**{"rootCauseFaultyResource/faultyResourceType": "COMPUTE"}) == {
        ids["offline"], ids["vnf_down"],
    }  # fmt: skip
    assert listed(**{"rootCauseFaultyComponent.faultyVnfInstanceId": "fw"}) == {ids["vnf_down"]}
    assert listed(eventType="COMMUNICATIONS_ALARM") == {ids["offline"], ids["link_down"]}
    assert listed(perceivedSeverity="MAJOR") == {ids["vnf_down"], ids["link_down"]}
    assert listed(probableCause="linkDown") == {ids["link_down"]}
    assert listed(ackState="UNACKNOWLEDGED") == set(ids.values()) - {ids["ns"], ids["hq"]}
    assert listed(filter="(neq,perceivedSeverity,CRITICAL,MAJOR)") == set()
    assert listed(siteId=ids["hq"], kind="VNF_DOWN") == {ids["vnf_down"]}
    assert listed(**{"perceivedSeverity.neq": "CRITICAL"}) == {ids["vnf_down"], ids["link_down"]}
    page = central.client.get(ALARMS, params={"limit": "1"}, headers=admin)
    assert len(page.json()) == 1
    assert 'rel="next"' in page.headers["Link"]
    for bad in ({"nsInstanceId": "x"}, {"perceivedSeverity.lke": "x"}):
        refused = central.client.get(ALARMS, params=bad, headers=admin)
        assert refused.status_code == 400, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["problems"][0]["where"] == next(iter(bad))


def test_an_alarm_is_read_and_acknowledged_once(central: Central) -> None:
    acme, globex, ids = a_fleet(central)
    client, alarm = central.client, f"{ALARMS}/{ids['offline']}"
    read = client.get(alarm, headers=acme.headers)
    assert read.status_code == 200
    assert_schema("alarm", read.json())
    tag = read.headers["ETag"]
    for caller in (globex.headers, acme.headers):  # another tenant's, and one of nothing
        path = alarm if caller is globex.headers else f"{ALARMS}/no-such-alarm"
        assert client.get(path, headers=caller).status_code == 404
        missing = client.patch(path, json={"ackState": "ACKNOWLEDGED"}, headers=caller)
        assert missing.status_code == 404
    for wrong_body in ({"ackState": "UNACKNOWLEDGED"}, {}, {"ackState": "ACKNOWLEDGED", "x": 1}):
        wrong = client.patch(alarm, json=wrong_body, headers=acme.headers)
        assert wrong.status_code == 400, wrong.text
        assert wrong.json()["problems"][0]["where"] in ("ackState", "x")
    stale = client.patch(alarm, json={"ackState": "ACKNOWLEDGED"},
                         headers=acme.headers | MERGE_PATCH | {"If-Match": '"stale"'})  # fmt: skip
    assert stale.status_code == 412
    acked = client.patch(alarm, json={"ackState": "ACKNOWLEDGED"},
                         headers=acme.headers | MERGE_PATCH | {"If-Match": tag})  # fmt: skip
    assert acked.status_code == 200, acked.text
    assert acked.json() == {"ackState": "ACKNOWLEDGED"}
    now = client.get(alarm, headers=acme.headers)
    assert now.json()["ackState"] == "ACKNOWLEDGED"
    assert "alarmAcknowledgedTime" in now.json()
    assert now.headers["ETag"] == acked.headers["ETag"] != tag
    again = client.patch(alarm, json={"ackState": "ACKNOWLEDGED"}, headers=acme.headers)
    assert again.status_code == 409
    assert "already acknowledged" in again.json()["detail"]
    assert client.put(alarm, json={}, headers=acme.headers).status_code == 405
    assert client.delete(ALARMS, headers=acme.headers).status_code == 405


def test_cleared_alarms_are_listed_apart_from_active_ones(central: Central) -> None:
    _, _, ids = a_fleet(central)
    with sessions(central).begin() as session:
        row = session.get(AlarmRow, ids["link_down"])
        assert row is not None
        row.cleared_at, row.active_key = utcnow(), None
    admin = central.admin.headers
    active = central.client.get(ALARMS, params={"active": "true"}, headers=admin).json()
    assert {a["id"] for a in active} == {ids["offline"], ids["vnf_down"]}
    cleared = central.client.get(ALARMS, params={"active": "false"}, headers=admin).json()
    assert [a["id"] for a in cleared] == [ids["link_down"]]
    assert "alarmClearedTime" in cleared[0]


def walk(central: Central, caller: Caller, params: dict[str, str]) -> list[list[str]]:
    """Every page of the alarm list, following each Link header: the ids of each page."""
    pages: list[list[str]] = []
    url: str | None = ALARMS
    while url is not None and len(pages) < 20:
        answer = central.client.get(url, params=params if not pages else None,
                                    headers=caller.headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
        pages.append([a["id"] for a in answer.json()])
        link = answer.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    return pages


def test_pages_are_read_in_the_store_unless_a_filter_asks_for_more(central: Central) -> None:
    """Without a SOL013 filter a page is read in the store (ordered by id, from the marker); with
    one, the filtered list is paged in memory: the same alarms either way, each once."""
    acme = central.tenant("acme")
    sites = add_sites(central, acme, *(f"p{n}" for n in range(7)))
    ids = sorted(raise_alarm(central, Kind.SITE_OFFLINE, tenant_id=acme.tenant_id, site_id=site)
                 for site in sites)  # fmt: skip
    stored = walk(central, acme, {"limit": "3", "active": "true"})
    assert stored == [ids[0:3], ids[3:6], ids[6:]]
    filtered = walk(central, acme, {"limit": "3", "perceivedSeverity": "CRITICAL"})
    assert filtered == stored
    selected = walk(central, acme, {"limit": "5", "fields": "perceivedSeverity"})
    assert [len(page) for page in selected] == [5, 2]
    bad = central.client.get(ALARMS, params={"nextpage_opaque_marker": "nonsense"},
                             headers=acme.headers)  # fmt: skip
    assert bad.status_code == 400, bad.text
