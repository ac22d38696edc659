"""conformance/run.sh refuses bad arguments in one line before it installs or starts anything;
its pure parts (the callback server's matching, the loopback rewrite, the descriptor copies)
behave as the suites need. Nothing here runs robot or a central."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conformance.callback import CallbackServer, Recorded, control_action, request_matches
from conformance.descriptors import nsd_variant, read_tree, vnf_variant
from conformance.errors import SetupError
from conformance.plan import APIS, NSPM, Endpoints, loopback_only, nspm_plan
from conformance.pm_fixtures import PmEnvironment
from conformance.provision import Provisioned

from edgewise.lab import samples
from edgewise.tosca import load_bytes

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "conformance" / "run.sh"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=20, check=False
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("conformance/run.sh: ")
    return lines[0]


def test_a_missing_suite_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    line = one_line_error(run_script(str(tmp_path / "nowhere")))
    assert f"no suite directory at {tmp_path / 'nowhere'}" in line


def test_a_directory_that_is_not_the_suite_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / APIS[0]).mkdir()
    line = one_line_error(run_script(str(tmp_path)))
    assert "is not the ETSI SOL005 suite" in line
    assert "NSDManagement-API/ is missing" in line


def test_a_suite_without_performance_management_is_not_the_suite(tmp_path: Path) -> None:
    for api in APIS[:-1]:
        (tmp_path / api).mkdir()
    line = one_line_error(run_script(str(tmp_path)))
    assert f"{NSPM}/ is missing" in line


def test_the_pm_templates_name_the_measured_ns_and_keep_the_rest_as_the_suite_wrote_it() -> None:
    pm = PmEnvironment("ns-1", ("job-1", "job-2"), ("threshold-1", "threshold-2"))
    plan = nspm_plan(Endpoints(1, "token", 2), Provisioned({}, {}, {}, 0), pm)
    job = {"objectInstanceIds": ["fixed"], "criteria": {"performanceMetric": []}}
    assert plan.templates["CreatePmJobRequest.json"](job) == job | {"objectInstanceIds": ["ns-1"]}
    threshold = {"objectInstanceIds": "fixed", "criteria": {"performanceMetric": "cpu_util"}}
    assert plan.templates["CreateThresholdRequest.json"](threshold) == threshold | {
        "objectInstanceIds": "ns-1"
    }
    assert plan.variables["POS_FILTER"] == "objectInstanceIds=ns-1"
    assert plan.variables["FILTER_OK_Threshold"] == "objectInstanceId=ns-1"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--bogus"], "unknown option --bogus"),
        (["--output"], "--output needs a directory"),
        (["a", "b"], "one suite directory only"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(args: list[str], says: str) -> None:
    assert says in one_line_error(run_script(*args))


def test_help_prints_the_usage_and_exits_0() -> None:
    done = run_script("--help")
    assert done.returncode == 0
    assert "conformance/run.sh [--output DIR] [--keep] [SUITE_DIR]" in done.stdout


def test_the_script_is_strict_bash() -> None:
    text = SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text


@pytest.fixture
def callback() -> Iterator[CallbackServer]:
    server = CallbackServer()
    thread = server.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def call(server: CallbackServer, method: str, path: str, body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", data=data, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_callback_server_answers_mockserver_expectations_and_verifies(
    callback: CallbackServer,
) -> None:
    matcher = {"method": "POST", "path": "/endpoint"}
    response = {"statusCode": 204, "headers": [{"name": "X-Test", "values": ["1"]}]}
    expectation = {"httpRequest": matcher, "httpResponse": response}
    assert call(callback, "PUT", "/expectation", expectation) == 201
    verify = {"httpRequest": matcher, "times": {"atLeast": 1, "atMost": 1}}
    assert call(callback, "PUT", "/mockserver/verify", verify) == 406
    assert call(callback, "POST", "/endpoint", {"notificationType": "X"}) == 204
    assert call(callback, "PUT", "/verify", verify) == 202
    assert call(callback, "PUT", "/clear", {"path": "/endpoint"}) == 200
    assert call(callback, "PUT", "/verify", verify) == 406


def test_callback_server_forwards_and_answers_unexpected_notifications_with_204(
    callback: CallbackServer,
) -> None:
    forward = {
        "httpRequest": {"method": "POST", "path": "/endpoint"},
        "httpOverrideForwardedRequest": {"httpRequest": {"path": "/endpoint/check"}},
    }
    check = {"httpRequest": {"path": "/endpoint/check"}, "httpResponse": {"statusCode": 202}}
    assert call(callback, "PUT", "/expectation", forward) == 201
    assert call(callback, "PUT", "/expectation", check) == 201
    assert call(callback, "POST", "/endpoint", {}) == 202
    assert call(callback, "GET", "/elsewhere") == 204  # SOL005's endpoint test
    assert call(callback, "DELETE", "/elsewhere") == 404
    callback.state.serve_file("/pkg.zip", b"PK", "application/zip")
    assert call(callback, "GET", "/pkg.zip") == 200


def test_request_matching_follows_mockserver_body_rules() -> None:
    notification = Recorded("POST", "/endpoint", {}, b'{"a": 1, "b": {"c": 2}}')
    strict = {"type": "JSON", "json": '{"a": 1}', "matchType": "STRICT"}
    partial = {"type": "JSON", "json": '{"b": {"c": 2}}', "matchType": "ONLY_MATCHING_FIELDS"}
    schema = {"type": "JSON_SCHEMA", "jsonSchema": '{"type": "object", "required": ["a"]}'}
    wrong = {"type": "JSON_SCHEMA", "jsonSchema": '{"type": "object", "required": ["z"]}'}
    assert not request_matches({"path": "/endpoint", "body": strict}, notification)
    assert request_matches({"path": "/endpoint", "body": partial}, notification)
    assert request_matches({"method": "post", "path": "/end.*", "body": schema}, notification)
    assert not request_matches({"body": wrong}, notification)
    assert not request_matches({"method": "GET"}, notification)
    assert control_action("PUT", "/mockserver/retrieve") == "retrieve"
    assert control_action("POST", "/verify") is None


def test_every_callback_uri_is_pointed_at_loopback() -> None:
    document = {"callbackUri": "http://172.22.1.7:9091/x", "list": [{"callbackUri": "ftp://y"}]}
    assert loopback_only(document, "http://127.0.0.1:1/endpoint") == {
        "callbackUri": "http://127.0.0.1:1/endpoint",
        "list": [{"callbackUri": "http://127.0.0.1:1/endpoint"}],
    }


def test_descriptor_copies_load_with_their_own_ids() -> None:
    nsd = nsd_variant(samples.path("vcpe-nsd.yaml").read_text(), "nsd-copy-1", "copy-1")
    loaded = load_bytes(nsd.yaml, "nsd.yaml")
    assert loaded.ok
    assert loaded.descriptor is not None
    assert loaded.descriptor.descriptor_id == "nsd-copy-1"
    assert load_bytes(nsd.csar(), "nsd.zip").ok
    package = vnf_variant(read_tree(samples.path("edgewise-router-vnf")), "vnf-copy-1")
    loaded = load_bytes(package.zip, "package.zip")
    assert loaded.ok
    assert loaded.descriptor is not None
    assert loaded.descriptor.descriptor_id == "vnf-copy-1"
    assert package.entry == "Definitions/router-vnfd.yaml"
    with pytest.raises(SetupError, match="no descriptor_id line"):
        nsd_variant("name: x\n", "id", "name")


def test_the_callback_state_is_safe_under_concurrent_notifications(
    callback: CallbackServer,
) -> None:
    threads = [
        threading.Thread(target=call, args=(callback, "POST", "/endpoint", {"n": n}))
        for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(callback.state.received) == 20
