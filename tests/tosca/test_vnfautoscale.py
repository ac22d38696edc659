"""Auto-scaling declared in a VNFD (`edgewise.policies.AutoScale`): read into the flavour, and
refused at load with file, line and path when its values do not fit together or the aspect."""

from __future__ import annotations

import pytest

from edgewise.lab import samples
from edgewise.tosca import Vnfd, load_bytes, load_path
from edgewise.tosca.model import AutoScalePolicy

VNFD = samples.path("edgewise-firewall-vnf", "Definitions", "firewall-vnfd.yaml").read_text()
POLICY = VNFD[VNFD.index("    - busy_firewall:") :]


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_elastic_firewall_package_declares_its_auto_scaling() -> None:
    result = load_path(samples.path("edgewise-firewall-vnf"))
    assert result.ok, result.problems
    assert isinstance(result.descriptor, Vnfd)
    assert result.descriptor.flavours[0].autoscale == (
        AutoScalePolicy("busy_firewall", "instances", "PacketCount", 20000.0, 2000.0, 300, 0, 3),
    )


def test_defaults_fill_what_the_policy_leaves_out() -> None:
    short = POLICY.replace("          metric: PacketCount\n", "").replace(
        "          cooldown_seconds: 300\n          min_level: 0\n          max_level: 3\n", ""
    )
    result = load_bytes(VNFD.replace(POLICY, short).encode(), "firewall-vnfd.yaml")
    assert result.ok, result.problems
    assert isinstance(result.descriptor, Vnfd)
    (policy,) = result.descriptor.flavours[0].autoscale
    assert (policy.metric, policy.cooldown_s, policy.min_level, policy.max_level) == (
        "PacketCount", 300, 0, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "aspect: instances\n          metric",
            "aspect: cpus\n          metric",
            "aspect",
            "aspect 'cpus' is declared by no ScalingAspects policy (declared: instances)",
        ),
        (
            "scale_in_below: 2000",
            "scale_in_below: 30000",
            "scale_in_below",
            "30000 must be under scale_out_above (20000)",
        ),
        ("max_level: 3", "max_level: 5", "max_level", "max_scale_level (3)"),
        ("min_level: 0", "min_level: 3", "max_level", "levels 3..3"),
    ],
)
def test_values_that_do_not_fit_are_positioned_problems(
    old: str, new: str, path: str, words: str
) -> None:
    broken = VNFD.replace(POLICY, POLICY.replace(old, new))
    result = load_bytes(broken.encode(), "firewall-vnfd.yaml")
    assert not result.ok
    (problem,) = [p for p in result.problems if p.code == "vnf.autoscale"]
    assert f"policies.busy_firewall.properties.{path}" in str(problem)
    assert words in problem.message
    needle = new.split("\n", maxsplit=1)[0] if path != "max_level" or "max" in new else "max_level:"
    assert (problem.file, problem.line) == ("firewall-vnfd.yaml", _line(broken, needle))


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("metric: PacketCount", "metric: CpuLoad", "CpuLoad"),
        ("cooldown_seconds: 300", "cooldown_seconds: 90000", "90000"),
        ("scale_out_above: 20000", "scale_out_above: 0", "scale_out_above"),
    ],
)
def test_the_type_bounds_each_value(old: str, new: str, words: str) -> None:
    broken = VNFD.replace(POLICY, POLICY.replace(old, new))
    result = load_bytes(broken.encode(), "firewall-vnfd.yaml")
    assert not result.ok
    line = _line(broken, new)
    assert any(p.line == line and words in str(p) for p in result.problems), result.problems
