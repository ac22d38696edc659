"""What an operator types: things named by name, id or id prefix; the commands that settle,
update and delete; output a person reads (no Python reprs, secrets whole at 80 columns); usage
errors exit 2; a local central found through its data directory."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from edgewise import cli as cli_package
from edgewise.lab import samples
from edgewise.lab.central import free_port, local_central
from tests.cli.enrolled import add_enrolled_site

SAMPLES = samples.path()
SRC = Path(cli_package.__file__).resolve().parents[2]  # for a CLI run in another directory
ISOLATED = ("EDGEWISE_TOKEN", "EDGEWISE_DATA_DIR", "EDGEWISE_CENTRAL")


def edgewise(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, columns: int = 200
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    return subprocess.run(
        [sys.executable, "-m", "edgewise", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=base | {"COLUMNS": str(columns)} | (env or {}),
        cwd=cwd,
        check=False,
    )


def ok(*args: str, env: dict[str, str], columns: int = 200) -> str:
    done = edgewise(*args, env=env, columns=columns)
    assert done.returncode == 0, done.stdout + done.stderr
    return str(done.stdout)


def as_json(*args: str, env: dict[str, str]) -> Any:
    return json.loads(ok("--json", *args, env=env))


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("central")
    state = tmp_path_factory.mktemp("state")
    with local_central(data_dir, free_port(), env={"XDG_STATE_HOME": str(state)}) as url:
        token = (data_dir / "admin.token").read_text().strip()
        yield {"EDGEWISE_CENTRAL": url, "EDGEWISE_TOKEN": token}


def test_things_are_named_by_name_id_or_id_prefix(central: dict[str, str]) -> None:
    tenant = as_json("tenant", "add", "acme", env=central)
    user = as_json("user", "add", "alice", "--tenant", "acme", env=central)
    assert user["tenantId"] == tenant["id"]
    site = as_json("site", "add", "branch-1", "--tenant", "acme", "--label", "a=1", env=central)
    for ref in ("branch-1", site["id"], site["id"][:8]):
        assert as_json("site", "show", ref, env=central)["id"] == site["id"]
    assert as_json("site", "status", "branch-1", env=central)["siteId"] == site["id"]
    group = as_json("site-group", "add", "g1", "--site", "branch-1", "--tenant", "acme",
                    env=central)  # fmt: skip
    assert group["siteIds"] == [site["id"]]
    assert as_json("site-group", "show", "g1", env=central)["id"] == group["id"]
    assert [s["id"] for s in as_json("site", "list", "--group", "g1", env=central)] == [site["id"]]

    updated = as_json("site", "update", "branch-1", "--label", "region=eu", "--unlabel", "a",
                      "--description", "by the river", env=central)  # fmt: skip
    assert (updated["labels"], updated["description"]) == ({"region": "eu"}, "by the river")

    assert "deleted site group g1" in ok("site-group", "delete", "g1", env=central)
    assert "deleted user alice" in ok("user", "delete", "alice", env=central)
    assert "deleted site branch-1" in ok("site", "delete", "branch-1", env=central)
    deleted = ok("tenant", "delete", tenant["id"][:6], env=central)
    assert f"deleted tenant {tenant['id'][:6]} ({tenant['id']})" in deleted
    gone = edgewise("site", "show", "branch-1", env=central)
    assert gone.returncode == 1
    assert "site 'branch-1' does not exist" in gone.stderr


def test_an_ambiguous_name_exits_2_and_lists_the_candidates(central: dict[str, str]) -> None:
    ids = []
    for tenant in ("north", "south"):
        ok("tenant", "add", tenant, env=central)
        ids.append(as_json("site", "add", "edge", "--tenant", tenant, env=central)["id"])
    both = edgewise("site", "status", "edge", env=central)
    assert both.returncode == 2
    assert "2 sites are named 'edge'" in both.stderr
    assert all(site_id in both.stderr for site_id in ids)
    assert len(both.stderr.strip().splitlines()) == 1


def test_secrets_and_fingerprints_are_printed_raw_and_whole_at_80_columns() -> None:
    fingerprint = ":".join(["ab"] * 32)  # `:ab:` is an emoji code to rich's markup
    token = "ewe_" + "x" * 100
    code = (
        "from edgewise.cli.output import show_item\n"
        f"show_item({{'caFingerprint': {fingerprint!r}, 'enrollmentToken': {{'token': {token!r}}},"
        " 'enrolledAt': None, 'placement': {'labels': {'region': 'eu'}, 'count': 2}},"
        " as_json=False)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ, COLUMNS="80"),
        check=True,
    )
    lines = done.stdout.splitlines()
    assert f"caFingerprint:   {fingerprint}" in lines
    assert f"  token: {token}" in lines
    assert "enrolledAt:      -" in lines
    assert lines[-4:] == ["placement:", "  labels:", "    region: eu", "  count:  2"]
    assert "None" not in done.stdout
    assert "{'" not in done.stdout


def test_the_central_and_a_new_site_print_the_fingerprint_whole(central: dict[str, str]) -> None:
    fingerprint = as_json("central", env=central)["caFingerprint"]
    assert fingerprint in ok("central", env=central, columns=80)
    ok("tenant", "add", "fp", env=central)
    added = ok("site", "add", "fp-1", "--tenant", "fp", env=central, columns=80)
    secret = next(line.split()[-1] for line in added.splitlines() if "token:" in line.split())
    assert secret.startswith("ewe_")
    again = ok("site", "token", "fp-1", env=central, columns=80)
    assert secret not in again
    assert any(line.split()[-1].startswith("ewe_") for line in again.splitlines())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("site",), "Usage:"),
        (("site", "bogus"), "No such command 'bogus'"),
        (("site", "show"), "Missing argument"),
        (("--bogus",), "No such option: --bogus"),
        (("site", "update", "x"), "nothing to update"),
        (("simulate", "--central", "http://127.0.0.1:9"), "--central needs --token"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], needle: str) -> None:
    done = edgewise(*args, env={"EDGEWISE_CENTRAL": "http://127.0.0.1:9"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert needle in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_setting_the_central_cannot_use_exits_2_naming_it(tmp_path: Path) -> None:
    done = edgewise(
        "server", "--data-dir", str(tmp_path), env={"EDGEWISE_POLL_HOLD": "10,90"}
    )  # a site counts as offline after 2 minutes: a poll may not be held longer than 60 s
    assert done.returncode == 2, done.stdout + done.stderr
    assert "EDGEWISE_POLL_HOLD 10,90" in done.stderr
    assert "Traceback" not in done.stderr


def test_version() -> None:
    done = edgewise("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("edgewise ")


def test_onboard_reports_every_files_problems(central: dict[str, str], tmp_path: Path) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text("tosca_definitions_version: tosca_simple_yaml_1_3\ntopology_template: 7\n")
    second.write_text("tosca_definitions_version: tosca_simple_yaml_1_3\nnode_types: [\n")
    before = as_json("catalog", "list", env=central)
    done = edgewise("catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"), str(first), str(second),
                    env=central)  # fmt: skip
    assert done.returncode == 1
    assert f"{first}: " in done.stderr
    assert f"{second}: " in done.stderr
    assert "2 of 3 not valid" in done.stderr
    assert as_json("catalog", "list", env=central) == before


def test_catalog_disable_enable_delete_by_prefix(central: dict[str, str]) -> None:
    ok("tenant", "add", "cat", env=central)
    onboarded = as_json("catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"), "--tenant", "cat",
                        env=central)  # fmt: skip
    prefix = onboarded[0]["id"][:8]
    assert "is DISABLED" in ok("catalog", "disable", prefix, env=central)
    assert "DISABLED" in ok("catalog", "show", prefix, env=central)
    assert "is ENABLED" in ok("catalog", "enable", prefix, env=central)
    ok("catalog", "disable", prefix, env=central)
    assert f"deleted {prefix}" in ok("catalog", "delete", prefix, env=central)
    listed = {item["id"] for item in as_json("catalog", "list", env=central)}
    assert onboarded[0]["id"] not in listed


def test_ns_show_the_vnf_configuration_and_operations_settle(
    central: dict[str, str], tmp_path: Path
) -> None:
    ok("tenant", "add", "opco", env=central)
    nsd = as_json("catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"), "--tenant", "opco",
                  env=central)[0]["id"]  # fmt: skip
    add_enrolled_site(central, tmp_path, "op-1", "--tenant", "opco")
    ok("ns", "create", nsd[:8], "--name", "svc", "--tenant", "opco", env=central)
    op = as_json("ns", "instantiate", "svc", "--site", "op-1", "--no-wait", env=central)
    prefix = op["id"][:8]
    shown = ok("ns", "show", "svc", env=central)
    assert "vnfs:\n  firewall:\n    function:       firewall\n" in shown
    assert "None" not in shown
    assert "{'" not in shown

    def state() -> str:
        return str(as_json("operation", "show", prefix, env=central)["operationState"])

    assert "FAILED_TEMP" in ok("operation", "cancel", prefix, env=central)
    ok("operation", "retry", prefix, "--no-wait", env=central)
    assert state() == "PROCESSING"
    ok("operation", "cancel", prefix, env=central)
    ok("operation", "rollback", prefix, "--no-wait", env=central)
    assert state() == "ROLLING_BACK"
    ok("operation", "cancel", prefix, env=central)
    assert "FAILED" in ok("operation", "fail", prefix, env=central)
    assert state() == "FAILED"


def test_ns_ops_are_listed_oldest_first(central: dict[str, str], tmp_path: Path) -> None:
    ok("tenant", "add", "timeco", env=central)
    nsd = as_json("catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"), "--tenant", "timeco",
                  env=central)[0]["id"]  # fmt: skip
    add_enrolled_site(central, tmp_path, "time-1", "--kind", "cloud", "--tenant", "timeco")
    for index in range(5):
        ok("ns", "create", nsd, "--name", f"t{index}", "--tenant", "timeco", env=central)
        op = as_json("ns", "instantiate", f"t{index}", "--site", "time-1", "--no-wait",
                     env=central)  # fmt: skip
        ok("operation", "cancel", op["id"], env=central)
    ops = as_json("ns", "ops", env=central)
    started = [o["startTime"] for o in ops]
    assert started == sorted(started)
    table = ok("ns", "ops", env=central).splitlines()[1:]
    assert [line.split()[0] for line in table] == [o["id"] for o in ops]


def test_a_local_central_is_found_through_the_data_directory_it_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgewise.cli.local import data_dir_of  # here: the other tests also run on older code

    data_dir, state, elsewhere = tmp_path / "srv", tmp_path / "state", tmp_path / "cwd"
    for made in (data_dir, state, elsewhere):
        made.mkdir()
    env = {"XDG_STATE_HOME": str(state)}
    cli = env | {"PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    with local_central(data_dir, free_port(), env=env) as url:
        found = edgewise("tenant", "list", env=cli | {"EDGEWISE_CENTRAL": url}, cwd=elsewhere)
        assert found.returncode == 0, found.stderr
        assert "(none)" in found.stdout
        monkeypatch.setenv("XDG_STATE_HOME", str(state))
        assert data_dir_of(url) == data_dir.resolve()
    assert data_dir_of(url) is None  # its process is gone


class FakeCentral(http.server.BaseHTTPRequestHandler):
    """Answers like a central that reports site presence, and records what it was asked."""

    asked: ClassVar[list[str]] = []
    SITE: ClassVar[dict[str, Any]] = {
        "id": "0b1fa13f-3afa-4874-8e95-049f9219e383", "name": "far-1", "kind": "cloud",
        "labels": {}, "capacity": {"vnfSlots": 20}, "tenantId": "t", "presence": "offline",
    }  # fmt: skip

    def do_GET(self) -> None:
        self.asked.append(f"GET {self.path}")
        one = self.path.startswith("/api/v1/sites/")
        self._answer(200, json.dumps(self.SITE if one else [self.SITE]).encode())

    def do_DELETE(self) -> None:
        self.asked.append(f"DELETE {self.path}")
        self._answer(204, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        del format, args


def test_site_list_shows_presence_and_delete_resolves_the_name() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeCentral)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {"EDGEWISE_CENTRAL": f"http://127.0.0.1:{server.server_port}", "EDGEWISE_TOKEN": "t"}
        listed = ok("site", "list", env=env)
        assert listed.splitlines()[1].split()[-1] == "PRESENCE"
        assert listed.splitlines()[2].split()[-1] == "offline"
        assert "presence:" in ok("site", "show", "far-1", env=env)
        ok("site", "delete", "far-1", env=env)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    site_id = FakeCentral.SITE["id"]
    assert FakeCentral.asked[-2:] == [  # the id resolved by name, then the delete
        "GET /api/v1/sites?name=far-1",
        f"DELETE /api/v1/sites/{site_id}",
    ]


def test_a_users_portal_password_is_set_from_standard_input(central: dict[str, str]) -> None:
    ok("tenant", "add", "pw-co", env=central)
    ok("user", "add", "carol", "--tenant", "pw-co", env=central)
    base = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    done = subprocess.run(
        [sys.executable, "-m", "edgewise", "user", "password", "carol", "--stdin"],
        input="carol-password-1\n", capture_output=True, text=True, timeout=60,
        env=base | central, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "password set for carol" in done.stdout
    short = subprocess.run(
        [sys.executable, "-m", "edgewise", "user", "password", "carol", "--stdin"],
        input="short\n", capture_output=True, text=True, timeout=60, env=base | central,
        check=False,
    )  # fmt: skip
    assert short.returncode != 0
    assert "password" in short.stderr
    signed = httpx.post(
        central["EDGEWISE_CENTRAL"].rstrip("/") + "/ui/login",
        data={"login": "carol@pw-co", "password": "carol-password-1"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert "edgewise_session" in signed.headers["set-cookie"]
