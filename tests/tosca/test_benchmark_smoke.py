"""The catalog benchmark runs end to end on one package (no timing assertions)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from .conftest import REPO


def test_benchmark_main_runs(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(corpus / "orange-topology-vnfd", tmp_path / "orange-topology-vnfd")
    spec = importlib.util.spec_from_file_location(
        "catalog_load", REPO / "benchmarks" / "catalog_load.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(tmp_path), "1"]) == 0
    out = capsys.readouterr().out
    assert "orange-topology-vnfd" in out
    assert "edgewise median" in out
