"""The guarded composer: a cheap depth bound that never underestimates, scalars typed as PyYAML."""

from __future__ import annotations

import pytest
import yaml

from edgewise.tosca import Limits, TypeCache, load_bytes
from edgewise.tosca.problems import ProblemLog
from edgewise.tosca.yamlscan import depth_bound
from edgewise.tosca.yamltree import compose, plain


def exact_depth(text: str) -> int:
    """The deepest nesting libyaml reaches, up to an error if the text has one."""
    depth = deepest = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return deepest


@pytest.mark.parametrize(
    "text",
    [
        "- - - - - - a\n",
        "- ? - - a\n  : b\n",
        "a:\n- b:\n  - c:\n    - d\n",
        "- &a\n  - b\n",
        "--- - - - a\n",
        "- !!map a: b\n",
        "-\t-\t-\ta\n",
        "a: [[{b: [c]}]]\n",
        "? [a, [b]]\n: {c: {d: e}}\n",
        yaml.dump({"a": [{"b": [[{"c": {"d": [1]}}]]}]}, default_flow_style=False),
    ],
)
def test_depth_bound_is_never_below_the_real_depth(text: str) -> None:
    bound = depth_bound(text)
    assert bound is not None
    assert bound >= exact_depth(text)


def test_depth_bound_gives_up_on_other_line_breaks() -> None:
    assert depth_bound("a:\r  - b\r") is None
    assert depth_bound("a:\u2028  - b") is None
    assert depth_bound("a:\r\n  - b\r\n") is not None


@pytest.mark.parametrize(
    "data",
    [
        b"a: " + b"[" * 100_000 + b"]" * 100_000,
        b"- " * 100_000 + b"x",
        b"".join(b" " * i + b"- x:\n" for i in range(0, 1600, 2)),
        b"\r".join(b" " * i + b"-" for i in range(3000)),
        b"a: " + b"{b: " * 3000 + b"c" + b"}" * 3000,
    ],
)
def test_deep_nesting_is_refused_in_every_style(data: bytes, cache: TypeCache) -> None:
    result = load_bytes(data, cache=cache)
    assert "limit.depth" in {p.code for p in result.problems}


def test_depth_limit_counts_scalars_too() -> None:
    limits = Limits(max_depth=3)
    log = ProblemLog()
    assert compose("a: [[x]]\n", "f", limits, log) is None
    assert [p.code for p in log.problems] == ["limit.depth"]
    assert compose("a: [x]\n", "f", limits, ProblemLog()) is not None


def test_the_parsers_own_depth_refusal_is_reported_as_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PyYAML 6.0.4 and later refuse deep nesting themselves, before our count reaches its
    limit: whichever refuses first, the user sees limit.depth at the parser's position."""
    mark = yaml.Mark("<unicode string>", 0, 0, 1002, "", 0)

    def refusing_parse(*_args: object, **_kwargs: object) -> list[object]:
        raise yaml.scanner.ScannerError(
            "while increasing flow level", mark, "exceeded maximum nesting depth", mark
        )

    monkeypatch.setattr(yaml, "parse", refusing_parse)
    log = ProblemLog()
    assert compose("a: " + "[" * 2000 + "]" * 2000, "deep.yaml", Limits(), log) is None
    [problem] = log.problems
    assert (problem.code, problem.file, problem.line, problem.column) == (
        "limit.depth",
        "deep.yaml",
        1,
        1003,
    )
    assert problem.message == "nesting is deeper than 64 levels"


def test_scalars_are_typed_as_pyyaml_types_them() -> None:
    text = (
        "a: [yes, No, ~, '', 0x1f, 0o17, 017, 1_000, '1:30', 1:30, -.inf, 1e3, 3.5, "
        "2020-01-01, '5', !!int '7', ! 8, null, y, on, OFF, '', \"true\", +12]\n"
    )
    node = compose(text, "f", Limits(), ProblemLog())
    assert node is not None
    expected = yaml.safe_load(text)
    expected["a"][13] = "2020-01-01"  # timestamps stay text, as the loader always kept them
    assert plain(node) == expected


def test_built_ins_are_read_once_per_type_cache_and_kept_by_it_alone() -> None:
    cache = TypeCache()
    assert cache.builtins() is cache.builtins()
    assert TypeCache().builtins() is not cache.builtins()  # nothing kept at module level
    with pytest.raises(TypeError):
        cache.builtins()["node", "x"] = None  # type: ignore[index]
