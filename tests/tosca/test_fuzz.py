"""Property-based fuzzing: mutated real descriptors never make the loader raise or lie."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgewise.tosca import LoadResult, TypeCache, load_bytes

from .conftest import CORPUS, DATA, SAMPLES

SOURCES = [
    SAMPLES / "vcpe-nsd.yaml",
    SAMPLES / "edgewise-router-vnf" / "Definitions" / "router-vnfd.yaml",
    DATA / "firewall-vnfd-v261.yaml",
    DATA / "branch-nsd-v331.yaml",
    *sorted(CORPUS.glob("*/Definitions/helloworld3_df_*.yaml")),
    *sorted(CORPUS.glob("*/Definitions/Topology*.yaml")),
]
TEXTS = [p.read_text(encoding="utf-8") for p in SOURCES if p.is_file()]
TREES = [yaml.safe_load(text) for text in TEXTS]
CACHE = TypeCache()
GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_consistent(result: LoadResult) -> None:
    assert isinstance(result, LoadResult)
    for problem in result.problems:
        assert problem.file
        assert problem.message.strip()
        assert problem.code
        assert problem.line >= 0
        assert problem.column >= 0
        assert str(problem)
    has_errors = any(p.severity == "error" for p in result.problems)
    assert (result.descriptor is None) == (has_errors or not result.ok)
    assert result.ok == (result.descriptor is not None)


def _paths(tree: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out.extend(_paths(value, (*prefix, index)))
    return out


def _mutate(tree: object, path: tuple[object, ...], action: str, garbage: object) -> object:
    if not path:
        return garbage if action != "drop" else {}
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        copy = dict(tree)
        if not rest and action == "drop":
            copy.pop(head, None)
        else:
            copy[head] = _mutate(copy[head], rest, action, garbage)
        return copy
    if isinstance(tree, list) and isinstance(head, int):
        items = list(tree)
        if not rest and action == "drop":
            del items[head]
        else:
            items[head] = _mutate(items[head], rest, action, garbage)
        return items
    return tree


@FAST
@given(st.data(), st.sampled_from(["drop", "replace"]), GARBAGE)
def test_mutated_trees(data: st.DataObject, action: str, garbage: object) -> None:
    tree = data.draw(st.sampled_from(TREES))
    path = data.draw(st.sampled_from(_paths(tree)))
    mutated = _mutate(tree, path, action, garbage)
    text = yaml.safe_dump(mutated, sort_keys=False)
    assert_consistent(load_bytes(text.encode(), "fuzz.yaml", cache=CACHE))


@FAST
@given(st.sampled_from(TEXTS), st.integers(min_value=0, max_value=100_000), st.binary(max_size=8))
def test_truncated_and_spliced_bytes(text: str, cut: int, splice: bytes) -> None:
    raw = text.encode()
    cut %= len(raw) + 1
    assert_consistent(load_bytes(raw[:cut] + splice + raw[cut : cut + 200], cache=CACHE))


@FAST
@given(st.binary(max_size=300))
def test_random_bytes(raw: bytes) -> None:
    assert_consistent(load_bytes(raw, cache=CACHE))
    assert_consistent(load_bytes(b"PK\x03\x04" + raw, cache=CACHE))


@FAST
@given(st.sampled_from(TEXTS), st.binary(min_size=1, max_size=40), st.integers(0, 10_000))
def test_corrupted_zip(text: str, noise: bytes, at: int) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("TOSCA-Metadata/TOSCA.meta", "Entry-Definitions: Definitions/main.yaml\n")
        archive.writestr("Definitions/main.yaml", text)
    raw = bytearray(buffer.getvalue())
    at %= len(raw)
    raw[at : at + len(noise)] = noise
    assert_consistent(load_bytes(bytes(raw), cache=CACHE))


def test_sources_found() -> None:
    assert len(TEXTS) >= 4
    assert all(isinstance(Path(p), Path) for p in SOURCES)
