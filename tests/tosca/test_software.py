"""A SOL004 package's VNFD made into a third-party VNF's software template (tosca.software):
the mapping of docs/vnf-packages.md on a small package built here, every onboarding problem
positioned (file, line, column), image formats kept for instantiation to refuse, and the
parameters checked against the VNFD's inputs."""

from __future__ import annotations

import hashlib

import pytest

from edgewise.model.software import SoftwareConfig
from edgewise.tosca.software import Reading, read_package
from edgewise.tosca.vnfparams import Input, check_params
from tests.samples.csar import packages as sample_packages
from tests.samples.harness import software_config
from tests.samples.test_onboarding import zipped
from tests.samples.test_packages import REQUIRED
from tests.tosca.softpkg import CONFIG, RELOAD, package, vnfd

VNFD_FILE = "Definitions/vnfd.yaml"


def reading(data: bytes) -> Reading:
    found = read_package(data)
    assert found.for_edgewise
    return found


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_package_maps_onto_the_contract() -> None:
    found = reading(package())
    assert found.problems == ()
    assert found.refusals() == []
    assert found.template is not None
    assert [(i.name, i.type, i.required, i.default) for i in found.template.inputs] == [
        ("port", "integer", False, "53"), ("domain", "string", True, None),
    ]  # fmt: skip
    params, wrong = found.template.params({"domain": "lan.example"})
    assert wrong == []
    config = found.template.config(params)
    assert isinstance(config, SoftwareConfig)
    assert (config.vnfd_id, config.vnfd_version, config.provider, config.product) == (
        "example-dns", "1.2", "Example", "DNS forwarder",
    )  # fmt: skip
    (program,) = config.programs
    assert program.name == "dnsmasq"
    assert program.command == (
        "dnsmasq", "--keep-in-foreground", "--conf-file=${root}/etc/dnsmasq.conf",
        "--pid-file=${run}/pid",
    )  # fmt: skip
    assert (program.cpu_millis, program.memory_mib, program.capabilities) == (
        1000, 64, ("NET_BIND_SERVICE",),
    )  # fmt: skip
    assert program.ready is not None
    assert (program.ready.kind, program.ready.port) == ("udp", 53)
    assert [(p.name, p.version) for p in config.packages] == [
        ("dnsmasq-base", None), ("dnsutils", None),
    ]  # fmt: skip
    files = {f.path: f for f in config.files}
    assert files["etc/dnsmasq.conf"].template
    assert files["etc/dnsmasq.conf"].sha256 == hashlib.sha256(CONFIG.encode()).hexdigest()
    assert files["Scripts/reload.sh"].content == RELOAD
    assert files["Scripts/reload.sh"].mode == 0o755
    assert [(h.operation, h.command) for h in config.hooks] == [
        ("modify_information_end", ("${root}/Scripts/reload.sh",))
    ]
    assert config.reload == "script"
    assert dict(config.params) == {"port": "53", "domain": "lan.example"}


def test_a_list_boot_data_a_version_and_a_signal_reload() -> None:
    text = (
        vnfd(boot_data='[dnsmasq, -k, "--port=${param_port}", 5]')
        .replace("edgewise.reload: script", "edgewise.reload: signal:HUP")
        .replace("version: any", 'version: "2.89-1"')
    )
    found = reading(package(text))
    assert found.template is not None, [str(p) for p in found.problems]
    config = found.template.config({"port": "5353", "domain": "x"})
    assert config.programs[0].command == ("dnsmasq", "-k", "--port=${param_port}", "5")
    assert (config.reload, config.reload_signal) == ("signal", "HUP")
    assert config.packages[0].version == "2.89-1"


BAD_CONFIG = CONFIG + "server=${param_upstream}\n"


@pytest.mark.parametrize(
    ("text", "files", "manifest", "file", "needle", "message"),
    [
        (vnfd(boot_data='"dnsmasq --port=${param_nope}"'), {}, None, VNFD_FILE,
         'boot_data: "dnsmasq --port', "${param_nope} is neither a variable"),
        (vnfd(boot_data="{run: dnsmasq}"), {}, None, VNFD_FILE, "boot_data: {run",
         "expected the command as a string or a list of strings"),
        (vnfd(boot_data='"dnsmasq \'unclosed"'), {}, None, VNFD_FILE, "boot_data: \"dnsmasq '",
         "cannot be split"),
        (vnfd(boot_data='"dnsmasq $(whoami)"'), {}, None, VNFD_FILE, 'boot_data: "dnsmasq $(',
         "a '$' that starts no ${name}"),
        (vnfd(config_sha=hashlib.sha256(BAD_CONFIG.encode()).hexdigest()),
         {"Files/dnsmasq.conf": BAD_CONFIG}, None, "Files/dnsmasq.conf", "server=",
         "${param_upstream} is neither a variable"),
        (vnfd(), {"Files/dnsmasq.conf": None}, None, VNFD_FILE, "file: ../Files/dnsmasq.conf",
         "'../Files/dnsmasq.conf' is not in the package"),
        (vnfd(config_sha="0" * 64), {}, None, VNFD_FILE, "checksum: 0000000",
         "not the checksum the artifact declares"),
        (vnfd(), {}, "Source: Scripts/reload.sh\nAlgorithm: SHA-256\nHash: " + "1" * 64 + "\n",
         "vnfd.mf", "Hash:", "'Scripts/reload.sh' has SHA-256"),
        (vnfd(wan_order="2"), {}, None, VNFD_FILE, "type: tosca.nodes.nfv.VNF",
         "no VduCp of order 1: the connection point of order 1 faces the WAN"),
        (vnfd().replace("edgewise.ready: udp:53", "edgewise.ready: udp:dns"), {}, None,
         VNFD_FILE, "edgewise.ready:", "expected tcp:<port>, udp:<port> or command:"),
        (vnfd().replace("edgewise.reload: script", "edgewise.reload: signal:KILL"), {}, None,
         VNFD_FILE, "edgewise.reload:", "restart, script or signal:<HUP|USR1|USR2|TERM>"),
        (vnfd().replace("modify_information_end:", "scale:"), {}, None, VNFD_FILE,
         "implementation: reload", "Edgewise runs scripts for instantiate_start"),
        (vnfd().replace("type: integer", "type: version"), {}, None, VNFD_FILE, "type: version",
         "a VNF's parameter is one of string, integer, float, boolean"),
    ],
)  # fmt: skip
def test_every_onboarding_problem_is_positioned(
    text: str, files: dict[str, str | None], manifest: str | None, file: str, needle: str,
    message: str,
) -> None:  # fmt: skip
    data = package(text, files, manifest)
    found = reading(data)
    assert found.template is None
    shown = [str(p) for p in found.problems]
    matching = [p for p in found.problems if message in p.message]
    assert matching, shown
    problem = matching[0]
    source = {VNFD_FILE: text, "vnfd.mf": manifest or ""}.get(file) or files[file] or ""
    assert (problem.file, problem.line) == (file, line_of(source, needle)), shown
    assert problem.column >= 1, shown


@pytest.mark.parametrize(
    ("container", "disk", "environments", "why"),
    [
        ("docker", "raw", "[]",
         "is a container image: no container runtime is configured on Edgewise sites"),
        ("bare", "qcow2", "[linux]",
         "is a virtual machine disk image: Edgewise sites run no hypervisor"),
        ("bare", "raw", "[linux]",
         "is a virtual machine disk image: Edgewise sites run no hypervisor"),
        ("ova", "vmdk", "[]", "is a virtual machine disk image"),
    ],
)  # fmt: skip
def test_an_image_edgewise_cannot_run_onboards_and_is_refused_for_instantiation(
    container: str, disk: str, environments: str, why: str
) -> None:
    found = read_package(package(vnfd(container=container, disk=disk, environments=environments)))
    assert [p for p in found.problems if p.severity == "error"] == []
    (refusal,) = found.refusals()
    assert refusal.startswith("VDU dnsmasq: image 'dnsmasq-base' (container_format "
                              f"{container}, disk_format {disk}) {why}"), refusal  # fmt: skip


def test_a_foreign_vnfd_is_not_checked_as_edgewise_software_but_is_refused() -> None:
    text = vnfd(container="bare", disk="qcow2", environments="[]", boot_data="{a: b}")
    text = text.replace("      metadata:\n        edgewise.reload: script\n", "")
    found = read_package(package(text, {"Files/dnsmasq.conf": None}))
    assert not found.for_edgewise
    assert found.problems == ()
    assert found.refusals() == [
        (
            "VDU dnsmasq: image 'dnsmasq-base' (container_format bare, disk_format qcow2) is a "
            "virtual machine disk image: Edgewise sites run no hypervisor; Edgewise runs a Debian "
            "package (bare/raw with 'debian-package')"
        )
    ]


INPUTS = (
    Input("port", "integer", required=False, default="53", constraints=(("in_range", [1, 9]),)),
    Input("name", "string", required=True, default=None, constraints=(("pattern", "[a-z]+"),)),
    Input("ratio", "float", required=False, default=None),
    Input("on", "boolean", required=False, default="false"),
)


@pytest.mark.parametrize(
    ("given", "current", "params", "problems"),
    [
        ({"name": "a"}, None, {"port": "53", "name": "a", "ratio": "", "on": "false"}, []),
        ({"name": "a", "port": 7, "ratio": 0.5, "on": True}, None,
         {"port": "7", "name": "a", "ratio": "0.5", "on": "true"}, []),
        ({}, None, None, [("name", "missing: the VNFD requires it (string)")]),
        ({"name": "a", "port": "7"}, None, None,
         [("port", "'7' is not an integer (the input's type is integer)")]),
        ({"name": "a", "port": 10}, None, None,
         [("port", "10 does not satisfy in_range [1, 9]")]),
        ({"name": "A"}, None, None, [("name", "'A' does not satisfy pattern '[a-z]+'")]),
        ({"name": "a", "on": "yes"}, None, None,
         [("on", "'yes' is not true or false (the input's type is boolean)")]),
        ({"name": "a", "colour": "red"}, None, None,
         [("colour", "not a parameter of this VNF; its VNFD declares: port, name, ratio, on")]),
        ({"port": 2}, {"port": "7", "name": "b", "ratio": "", "on": "true"},
         {"port": "2", "name": "b", "ratio": "", "on": "true"}, []),
        ({"port": None}, {"port": "7", "name": "b", "ratio": "", "on": "true"},
         {"port": "53", "name": "b", "ratio": "", "on": "true"}, []),
        ({"name": None}, {"port": "7", "name": "b", "ratio": "", "on": "true"}, None,
         [("name", "missing: the VNFD requires it (string)")]),
    ],
)  # fmt: skip
def test_params_are_checked_against_the_inputs(
    given: dict[str, object],
    current: dict[str, str] | None,
    params: dict[str, str] | None,
    problems: list[tuple[str, str]],
) -> None:
    found, wrong = check_params(INPUTS, given, current)
    assert wrong == problems
    if params is not None:
        assert found == params


@pytest.mark.parametrize("name", [p.name for p in sample_packages()])
def test_each_sample_package_maps_as_the_samples_harness_reads_it(name: str) -> None:
    """The samples/ packages (another part of issue 13) map without a problem, onto the same
    config the samples' test harness builds by hand from the same VNFD."""
    package = next(p for p in sample_packages() if p.name == name)
    found = reading(zipped(package))
    assert [str(p) for p in found.problems] == []
    assert found.refusals() == []
    assert found.template is not None
    typed = {i.name: i.type for i in found.template.inputs}
    given = {
        key: int(value) if typed[key] == "integer" else value
        for key, value in REQUIRED[name].items()
    }
    params, wrong = found.template.params(given)
    assert wrong == []
    assert found.template.config(params) == software_config(package, REQUIRED[name])
