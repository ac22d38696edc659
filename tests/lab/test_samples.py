"""The sample catalog is package data: found through the installed package, the CSAR directory
whole (TOSCA.meta too), and every sample loads."""

from __future__ import annotations

from pathlib import Path

import edgewise.lab
from edgewise.lab import samples
from edgewise.tosca import load_path


def test_the_samples_are_found_in_the_package() -> None:
    assert samples.path() == Path(edgewise.lab.__file__).parent / "samples"
    assert samples.catalog() == [samples.path("edgewise-router-vnf"), samples.path("vcpe-nsd.yaml")]
    assert samples.path("edgewise-router-vnf", "TOSCA-Metadata", "TOSCA.meta").is_file()


def test_every_sample_loads() -> None:
    for sample in samples.catalog():
        result = load_path(sample)
        assert result.ok, result.problems
