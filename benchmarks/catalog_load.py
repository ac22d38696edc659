"""Catalog load benchmark: Edgewise's loader against tosca-parser on every corpus package.

Usage: python benchmarks/catalog_load.py [CORPUS_DIR] [REPETITIONS]
(default CORPUS_DIR: ../shared/corpus/sol001 relative to the repository).

"warm" reuses the parsed ETSI type files across loads, as a running central does;
"cold" starts every load with a fresh TypeCache (so the package's type files are composed
and parsed again) while the built-in types stay compiled, as they are once per process;
"first" is the first load in a new Python process (built-ins compiled on the way; imports
not included), measured in a subprocess per run and reported separately. The ratio uses
the warm figure and is printed for the cold one too.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from edgewise.tosca import TypeCache, load_path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "sol001"
_FIRST_LOAD = """
import sys, time
started = time.perf_counter()
from edgewise.tosca import load_path
imported = time.perf_counter()
load_path(sys.argv[1])
print((imported - started) * 1000, (time.perf_counter() - imported) * 1000)
"""


def _median_ms(run: Callable[[], object], repetitions: int) -> float:
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _first_load_ms(package: Path, repetitions: int) -> tuple[float, float]:
    """Median (import ms, first load ms) over fresh interpreters, one per repetition."""
    runs = []
    for _ in range(repetitions):
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_LOAD, str(package)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        runs.append((float(out[0]), float(out[1])))
    return statistics.median(i for i, _ in runs), statistics.median(f for _, f in runs)


def _tosca_parser(package: Path) -> Callable[[], object]:
    from toscaparser.tosca_template import ToscaTemplate

    meta = (package / "TOSCA-Metadata" / "TOSCA.meta").read_text(encoding="utf-8")
    entry = next(
        line.split(":", 1)[1].strip()
        for line in meta.splitlines()
        if line.lower().startswith("entry-definitions")
    )

    def run() -> object:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ToscaTemplate(str(package / entry), a_file=True)

    return run


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    try:
        repetitions = int(args[1]) if len(args) > 1 else 7
    except ValueError:
        print(f"REPETITIONS: {args[1]!r} is not a whole number", file=sys.stderr)
        return 2
    if not corpus.is_dir():
        print(f"CORPUS_DIR: {corpus} is not a directory", file=sys.stderr)
        return 2
    packages = sorted(p for p in corpus.iterdir() if (p / "TOSCA-Metadata").is_dir())
    logging.disable(logging.CRITICAL)
    cache = TypeCache()
    print(
        f"{'package':32} {'warm ms':>8} {'cold ms':>8} {'first ms':>9} {'tosca-parser ms':>16}"
        "  result"
    )
    ours: list[float] = []
    cold: list[float] = []
    first: list[float] = []
    imports: list[float] = []
    theirs: list[float] = []
    pairs: list[tuple[float, float, float]] = []
    for package in packages:
        result = load_path(package, cache=cache)
        edgewise_ms = _median_ms(functools.partial(load_path, package, cache=cache), repetitions)
        cold_ms = _median_ms(lambda p=package: load_path(p, cache=TypeCache()), repetitions)  # type: ignore[misc]
        import_ms, first_ms = _first_load_ms(package, max(1, repetitions // 2))
        ours.append(edgewise_ms)
        cold.append(cold_ms)
        first.append(first_ms)
        imports.append(import_ms)
        parser = _tosca_parser(package)
        try:
            parser()
            parser_ms: float | None = _median_ms(parser, max(1, repetitions // 2))
        except Exception:  # noqa: BLE001 - tosca-parser raises many kinds; all mean "rejected"
            parser_ms = None
        shown = f"{parser_ms:16.1f}" if parser_ms is not None else f"{'rejected':>16}"
        verdict = "ok" if result.ok else f"{len(result.errors)} errors"
        print(
            f"{package.name:32} {edgewise_ms:8.2f} {cold_ms:8.2f} {first_ms:9.2f} {shown}"
            f"  {verdict}"
        )
        if parser_ms is not None:
            theirs.append(parser_ms)
            if result.ok:
                pairs.append((edgewise_ms, cold_ms, parser_ms))
    print(f"edgewise median {statistics.median(ours):.2f} ms")
    print(f"edgewise cold-cache median {statistics.median(cold):.2f} ms (built-ins compiled)")
    print(
        f"edgewise first load in a new process median {statistics.median(first):.2f} ms "
        f"(plus {statistics.median(imports):.0f} ms to import edgewise.tosca)"
    )
    if theirs:
        print(f"tosca-parser median {statistics.median(theirs):.1f} ms")
    if pairs:
        parser_median = statistics.median(t for _, _, t in pairs)
        ratio = parser_median / statistics.median(w for w, _, _ in pairs)
        cold_ratio = parser_median / statistics.median(c for _, c, _ in pairs)
        print(f"ratio {ratio:.0f}× on {len(pairs)} packages both load")  # noqa: RUF001
        print(f"cold-cache ratio {cold_ratio:.0f}×")  # noqa: RUF001
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
