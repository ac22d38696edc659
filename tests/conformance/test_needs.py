"""The runner derives each test's resources from what the `.robot` files declare (requests,
expected status, documented pre-conditions), not from test names: the same test gets the same
resources under another name, in another order, in another copy. Pure; no robot, no central."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance.declared import parse, read_api
from conformance.fixtures import Made
from conformance.needs import MISSING, OWNER, Kind, Need, api_needs, state_for
from conformance.plan import API_NAMES, APIS, NSFM, NSPM
from conformance.provision import SUBSCRIPTION_STATE, provision

from tests.conformance.suite_copies import (
    DELETING_SUITE,
    DELETING_TEST,
    NSLCM,
    modified_copy,
    original_name,
    reversed_and_renamed,
)
from tests.conftest import SHARED

SUITE = SHARED / "conformance" / "etsi-sol005"

KEYWORDS = """*** Keywords ***
POST Instantiate nsInstance
    Run Keyword If    ${AUTH_USAGE} == 1    Set Headers    {"Authorization":"${AUTHORIZATION}"}
    ${body}=    Get File    jsons/InstantiateNsRequest.json
    Post    ${apiRoot}/nslcm/v1/ns_instances/${nsInstanceId}/instantiate    ${body}

POST Fail operation task
\tPost    ${apiRoot}/nslcm/v1/ns_lcm_op_occs/${nsLcmOpOccId}/fail

GET NS instance
    Get    ${apiRoot}/nslcm/v1/ns_instances/${nsInstanceId}

Check resource existence
    GET NS instance

POST subscriptions
    ${body}=    Get File    jsons/LccnSubscriptionRequest.json
    Post    ${apiRoot}/${apiName}/${apiVersion}/subscriptions    ${body}

GET NS instances with fields
    GET    ${apiRoot}/nslcm/v1/ns_instances?fields=${fields}

GET subscriptions with a filter
    GET    ${apiRoot}/${apiName}/${apiVersion}/subscriptions?${filter_ok}

Send PATCH to enable an NSD
    Set Headers    {"If-Match": "${original_etag}"}
    ${body}=    Get File    jsons/NsdInfoModificationEnable.json
    PATCH    ${apiRoot}/nsd/v1/ns_descriptors/${nsdInfoId}    ${body}
"""
SUITE_TEXT = """*** Settings ***
Resource    keywords.robot
Suite Setup    Check resource existence

*** Test Cases ***
Instantiate one
    [Documentation]    Test ID: 1
    ...    Pre-conditions: none
    POST Instantiate nsInstance
    Check HTTP Response Status Code Is    202

Instantiate conflict
    [Documentation]    Pre-conditions: the resource is in INSTANTIATED state
    POST Instantiate nsInstance
    Check HTTP Response Status Code Is    409

Fail a failed operation
    [Documentation]    Pre-conditions: NS instance status equal to FAILED_TEMP
    POST Fail operation task
    Check HTTP Response Status Code Is    202
    GET NS instance

Fail nothing
    POST Fail operation task
    Check HTTP Response Status Code Is    404

Subscribe again
    [Documentation]    Pre-conditions: a subscription shall already exist
    POST subscriptions
    Check HTTP Response Status Code Is    303

List subscriptions
    [Documentation]    Pre-conditions: At least one NSD Management subscription is available
    GET subscriptions with a filter
    Check HTTP Response Status Code Is    200

Select fields
    GET NS instances with fields
    Check HTTP Response Status Code Is    200

Enable under If-Match
    Send PATCH to enable an NSD
    Check HTTP Response Status Code Is    200
"""


def write_api(directory: Path, suite_text: str = SUITE_TEXT) -> Path:
    directory.mkdir(parents=True)
    (directory / "keywords.robot").write_text(KEYWORDS)
    (directory / "Tasks.robot").write_text(suite_text)
    return directory


@pytest.mark.parametrize(
    ("kind", "action", "expected", "precondition", "variable", "state"),
    [
        (Kind.NS, "POST instantiate", 202, "none", "nsInstanceId", "NOT_INSTANTIATED"),
        (Kind.NS, "POST instantiate", 409, "none", "nsInstanceId", "INSTANTIATED"),
        (Kind.NS, "POST terminate", 202, "", "nsInstanceId", "INSTANTIATED"),
        (Kind.NS, "POST heal", 409, "", "nsInstanceId", "NOT_INSTANTIATED"),
        (Kind.NS, "DELETE", 204, "", "nsInstanceId", "NOT_INSTANTIATED"),
        (Kind.NS, "DELETE", 409, "", "ConflictNsInstanceId", "INSTANTIATED"),
        (Kind.NS, "GET", 200, "NS instance is in INSTANTIATED state", "x", "INSTANTIATED"),
        (Kind.NS, "GET", 404, "", "nsInstanceId", MISSING),
        (Kind.OP, "POST rollback", 202, "", "nsLcmOpOccId", "FAILED_TEMP"),
        (Kind.OP, "POST retry", 409, "", "nsLcmOpOccId", "COMPLETED"),
        (Kind.OP, "GET", 200, "NS instance status not equal to FAILED_TEMP", "id", "COMPLETED"),
        (Kind.OP, "PUT fail", 405, "", "nsLcmOpOccId", "COMPLETED"),
        (Kind.NSD, "DELETE", 204, "", "nsdInfoId", "DISABLED"),
        (Kind.NSD, "DELETE", 409, "", "nsdInfoId", "ONBOARDED"),
        (Kind.NSD, "PUT nsd_content", 202, "", "nsdInfoIdZip", "CREATED"),
        (Kind.NSD, "PUT nsd_content", 409, "", "nsdInfoIdZip", "ONBOARDED"),
        (Kind.NSD, "GET nsd_content", 409, "", "x", "CREATED"),
        (Kind.NSD, "GET nsd_content", 200, "", "x", "ONBOARDED"),
        (Kind.NSD, "GET", 200, "", "notOnboardedNsdInfoId", "CREATED"),
        (Kind.PKG, "PATCH", 200, "", "vnfPackageId", "DISABLED"),  # enables it
        (Kind.PKG, "PATCH", 409, "", "vnfPackageId", "ONBOARDED"),
        (Kind.PKG, "POST package_content", 202, "", "vnfPkgViaUriId", "CREATED"),
        (Kind.PKG, "GET vnfd", 409, "different from ONBOARDED", "x", "CREATED"),
        (Kind.PKG, "GET", 200, "", "disabledVnfPackageId", "DISABLED"),
        (Kind.PNFD, "GET", 200, "", "pnfdInfoId", MISSING),
        (Kind.SUB, "DELETE", 204, "", "subscriptionId", "ACTIVE"),
        (Kind.ALARM, "PATCH", 200, "", "alarmId", "UNACKNOWLEDGED"),  # acknowledges it
        (Kind.ALARM, "PATCH", 409, "", "alarmId", "ACKNOWLEDGED"),
        (Kind.ALARM, "GET", 200, "the alarm is in ACKNOWLEDGED state", "alarmId", "ACKNOWLEDGED"),
        (Kind.ALARM, "PUT", 405, "none", "alarmId", "UNACKNOWLEDGED"),
        (Kind.ALARM, "GET", 404, "The related alarm does not exists", "invalidAlarmId", MISSING),
        (Kind.PM_JOB, "DELETE", 204, "One or more jobs are set", "pmJobId", "COLLECTING"),
        (Kind.PM_JOB, "GET", 404, "", "pmJobId", MISSING),
        (Kind.PM_JOB, "GET reports", 404, "", "pmJobId", "COLLECTING"),  # its report is missing
        (Kind.PM_JOB, "POST", 405, "A NS instance is instantiated", "newPmJobId", MISSING),
        (Kind.REPORT, "PUT", 405, "", "reportId", "READY"),
        (Kind.REPORT, "POST", 405, "", "newReportId", MISSING),  # then checked not created
        (Kind.THRESHOLD, "DELETE", 204, "", "thresholdId", "SET"),
        (Kind.SUB, "POST", 405, "none", "newSubscriptionId", MISSING),
    ],
)
def test_the_state_follows_the_request_the_status_and_the_precondition(
    kind: Kind, action: str, expected: int, precondition: str, variable: str, state: str
) -> None:
    body = "jsons/NsdInfoModificationEnable.json" if action == "PATCH" else ""
    assert state_for(kind, action, expected, precondition, variable, body) == state


def test_needs_come_from_requests_through_keywords(tmp_path: Path) -> None:
    (suite,) = api_needs(read_api(write_api(tmp_path / "api")), "nslcm")
    assert suite.stem == "Tasks"
    assert suite.setup == {"nsInstanceId": Need(Kind.NS, "NOT_INSTANTIATED")}
    assert suite.tests["Instantiate one"] == {"nsInstanceId": Need(Kind.NS, "NOT_INSTANTIATED")}
    assert suite.tests["Instantiate conflict"] == {"nsInstanceId": Need(Kind.NS, "INSTANTIATED")}
    assert suite.tests["Fail a failed operation"] == {
        "nsLcmOpOccId": Need(Kind.OP, "FAILED_TEMP"),
        "nsInstanceId": Need(Kind.NS, OWNER, owner_of="nsLcmOpOccId"),
    }
    assert suite.tests["Fail nothing"] == {"nsLcmOpOccId": Need(Kind.OP, MISSING)}
    assert suite.values == {"Select fields": {"fields": "_links"}}
    assert suite.tests["Enable under If-Match"] == {"nsdInfoId": Need(Kind.NSD, "DISABLED")}
    assert suite.etags == {"Enable under If-Match": {"original_etag": "nsdInfoId"}}
    (subscribing,) = suite.subscribing["Subscribe again"]
    assert subscribing.exists
    assert subscribing.body_file == "jsons/LccnSubscriptionRequest.json"
    (listed,) = suite.subscribing["List subscriptions"]
    assert (listed.path, listed.body_file, listed.exists) == (
        "${apiRoot}/${apiName}/${apiVersion}/subscriptions",
        "",
        True,
    )


def test_provisioning_gives_each_test_its_own_ids_and_an_operation_its_ns(tmp_path: Path) -> None:
    asked: list[Need] = []

    def provide(needs: list[Need]) -> list[Made]:
        asked.extend(needs)
        return [
            Made(f"id-{i}", ns=f"ns-{i}" if n.kind == Kind.OP else "", etag=f'"tag-{i}"')
            for i, n in enumerate(needs)
        ]

    given = provision(read_api(write_api(tmp_path / "api")), "nslcm", provide)
    assert given.made == len(asked)
    tests = given.tests["Tasks"]
    ids = [tests[name]["nsInstanceId"] for name in ("Instantiate one", "Instantiate conflict")]
    assert len(set(ids) | set(given.suites["Tasks"].values())) == len(ids) + len(
        given.suites["Tasks"]
    )
    failing = tests["Fail a failed operation"]
    operation = int(failing["nsLcmOpOccId"].removeprefix("id-"))
    assert failing["nsInstanceId"] == f"ns-{operation}"
    assert tests["Select fields"] == {"fields": "_links"}
    enabling = tests["Enable under If-Match"]
    made = int(enabling["nsdInfoId"].removeprefix("id-"))
    assert enabling["original_etag"] == f'\\"tag-{made}\\"'  # written into a JSON string
    assert given.steps["Tasks"]["Subscribe again"] == [
        [SUBSCRIPTION_STATE, "${apiRoot}/${apiName}/${apiVersion}/subscriptions",
         "jsons/LccnSubscriptionRequest.json", "yes"],
    ]  # fmt: skip


def test_a_renamed_and_reordered_copy_reads_the_same(tmp_path: Path) -> None:
    copy = reversed_and_renamed(SUITE_TEXT)
    _, tests, _ = parse(copy)
    assert tests[0].name == "Enable under If-Match (another copy)"
    assert sorted(original_name(t.name) for t in tests) == sorted(
        t.name for t in parse(SUITE_TEXT)[1]
    )
    (original,) = api_needs(read_api(write_api(tmp_path / "a")), "nslcm")
    (renamed,) = api_needs(read_api(write_api(tmp_path / "b", copy)), "nslcm")
    assert {original_name(k): v for k, v in renamed.tests.items()} == original.tests


@pytest.mark.skipif(not SUITE.is_dir(), reason="the ETSI suite is not in shared/")
def test_on_another_copy_of_etsis_suite_every_test_gets_the_same_needs(tmp_path: Path) -> None:
    other = modified_copy(SUITE, tmp_path / "copy", APIS)
    for api in APIS:
        here = {s.stem: s for s in api_needs(read_api(SUITE / api), API_NAMES[api])}
        there = {s.stem: s for s in api_needs(read_api(other / api), API_NAMES[api])}
        for stem, suite in there.items():
            renamed = {original_name(name): needs for name, needs in suite.tests.items()}
            if api == NSLCM and stem == Path(DELETING_SUITE).stem:
                deleting = renamed.pop(DELETING_TEST)
                assert deleting == {"nsInstanceId": Need(Kind.NS, "NOT_INSTANTIATED")}
                continue
            assert renamed == here[stem].tests, f"{api} {stem}"
            assert suite.setup == here[stem].setup


@pytest.mark.skipif(not SUITE.is_dir(), reason="the ETSI suite is not in shared/")
@pytest.mark.parametrize("api", [NSLCM, NSFM])
def test_in_etsis_suite_every_test_expecting_404_on_a_resource_gets_an_id_of_nothing(
    api: str,
) -> None:
    declared = read_api(SUITE / api)
    for suite in api_needs(declared, API_NAMES[api]):
        for test in next(s for s in declared.suites if s.stem == suite.stem).tests:
            if test.expected_status() == 404:
                assert all(n.state == MISSING for n in suite.tests[test.name].values()), test.name


@pytest.mark.skipif(not SUITE.is_dir(), reason="the ETSI suite is not in shared/")
def test_in_etsis_fault_management_suite_an_alarm_a_test_acts_on_is_its_own() -> None:
    (individual,) = [s for s in api_needs(read_api(SUITE / NSFM), "nsfm")
                     if s.stem == "IndividualAlarm"]  # fmt: skip
    put = next(needs for name, needs in individual.tests.items() if name.startswith("PUT"))
    assert put == {"alarmId": Need(Kind.ALARM, "UNACKNOWLEDGED")}
    assert individual.values == {}
    (alarms,) = [s for s in api_needs(read_api(SUITE / NSFM), "nsfm") if s.stem == "Alarms"]
    selecting = next(v for name, v in alarms.values.items() if "fields" in name)
    assert selecting == {"fields": "rootCauseFaultyResource"}


@pytest.mark.skipif(not SUITE.is_dir(), reason="the ETSI suite is not in shared/")
def test_in_etsis_performance_management_suite_a_report_comes_with_its_own_job() -> None:
    suites = {s.stem: s for s in api_needs(read_api(SUITE / NSPM), "nspm")}
    reports = suites["IndividualReport"].tests
    reading = next(needs for name, needs in reports.items() if name.startswith("Get Individual"))
    assert reading == {
        "pmJobId": Need(Kind.PM_JOB, OWNER, owner_of="reportId"),
        "reportId": Need(Kind.REPORT, "READY"),
    }
    missing = next(needs for name, needs in reports.items() if "invalid" in name)
    assert missing == {"pmJobId": Need(Kind.PM_JOB, "COLLECTING")}  # erroneousReportId: none
    posting = next(needs for name, needs in reports.items() if name.startswith("POST"))
    assert posting["newReportId"] == Need(Kind.REPORT, MISSING)
    deleting = next(
        needs for name, needs in suites["IndividualThreshold"].tests.items()
        if name == "DELETE Individual Threshold"
    )  # fmt: skip
    assert deleting == {"thresholdId": Need(Kind.THRESHOLD, "SET")}
    for suite in suites.values():
        for test in next(s for s in read_api(SUITE / NSPM).suites if s.stem == suite.stem).tests:
            if test.expected_status() == 404:
                assert all(n.state == MISSING or n.kind == Kind.PM_JOB
                           for n in suite.tests[test.name].values()), test.name  # fmt: skip


def test_provisioning_gives_a_report_s_test_the_report_s_own_job(tmp_path: Path) -> None:
    api = tmp_path / "api"
    api.mkdir()
    (api / "Reports.robot").write_text("""*** Test Cases ***
Get a report
    [Documentation]    Pre-conditions: One or more NS performance reports are set
    GET    ${apiRoot}/nspm/v1/pm_jobs/${pmJobId}/reports/${reportId}
    Check HTTP Response Status Code Is    200
""")

    def provide(needs: list[Need]) -> list[Made]:
        return [Made(f"report-{i}", job=f"job-{i}") if n.kind == Kind.REPORT else Made(f"id-{i}")
                for i, n in enumerate(needs)]  # fmt: skip

    given = provision(read_api(api), "nspm", provide)
    values = given.tests["Reports"]["Get a report"]
    assert values["pmJobId"] == values["reportId"].replace("report-", "job-")
