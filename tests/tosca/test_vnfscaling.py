"""A VNFD's scaling aspects as Edgewise scales a VNF: instances per level, and the load-time
checks of the policies that declare them (file, line and path like every other problem)."""

from __future__ import annotations

import pytest

from edgewise.lab import samples
from edgewise.tosca import Vnfd, load_bytes, load_path
from edgewise.tosca.model import ScalingAspect, ScalingDelta, VnfFlavour
from edgewise.tosca.vnfscaling import VnfAspect, vnf_aspects

VNFD = samples.path("edgewise-firewall-vnf", "Definitions", "firewall-vnfd.yaml").read_text()


def test_the_elastic_firewall_package_scales_by_one_instance_per_step() -> None:
    result = load_path(samples.path("edgewise-firewall-vnf"))
    assert result.ok, result.problems
    assert isinstance(result.descriptor, Vnfd)
    usable, refused = vnf_aspects(result.descriptor.flavours[0])
    assert refused == {}
    aspect = usable["instances"]
    assert [aspect.instances_at(level) for level in range(4)] == [1, 2, 3, 4]
    assert (aspect.level_of(3), aspect.level_of(9)) == (2, None)
    with pytest.raises(ValueError, match=r"outside 0\.\.3"):
        aspect.instances_at(4)


def test_uneven_steps_repeat_the_last_delta() -> None:
    aspect = VnfAspect("a", "vdu", 4, 2, (1, 3))
    assert [aspect.instances_at(level) for level in range(5)] == [2, 3, 6, 9, 12]


def test_an_aspect_over_two_vdus_is_refused_with_why() -> None:
    flavour = VnfFlavour(
        "default", "", (), (), (), (), (ScalingAspect("a", "a", "", 2, ("d",)),), (), None,
        (), (ScalingDelta("a", "d", "vdu1", 1), ScalingDelta("a", "d", "vdu2", 1)),
    )  # fmt: skip
    usable, refused = vnf_aspects(flavour)
    assert usable == {}
    assert "deltas are of 2 VDUs (vdu1, vdu2)" in refused["a"]


def test_step_deltas_naming_an_undeclared_delta_is_a_positioned_problem() -> None:
    broken = VNFD.replace("step_deltas: [one_more]", "step_deltas: [one_more, two_more]")
    result = load_bytes(broken.encode(), "firewall-vnfd.yaml")
    (problem,) = [p for p in result.problems if p.code == "vnf.scaling"]
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "step_deltas:" in text)
    assert (problem.file, problem.line) == ("firewall-vnfd.yaml", line)
    assert "aspects.instances.step_deltas" in str(problem)
    assert "two_more" in problem.message
    assert not result.ok


def test_deltas_of_an_undeclared_aspect_is_a_positioned_problem() -> None:
    broken = VNFD.replace("aspect: instances", "aspect: cpus")
    result = load_bytes(broken.encode(), "firewall-vnfd.yaml")
    found = [str(p) for p in result.problems if p.code == "vnf.scaling"]
    assert any("aspect 'cpus' is declared by no ScalingAspects policy" in p for p in found)
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "aspect: cpus" in text)
    assert any(p.startswith(f"firewall-vnfd.yaml:{line}:") for p in found), found
