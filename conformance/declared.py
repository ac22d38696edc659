"""What a copy of ETSI's suite declares, read from its `.robot` text (no robot import): each
suite's set-up and tests, each test's documented pre-conditions and expected status, and the
requests it sends through the suite's keywords, with the path variables that name resources.
Pure: text in, values out; `needs.py` turns these into the resources each test gets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

_SECTION = re.compile(r"^\*+\s*(?P<name>[A-Za-z ]+?)\s*\*+")
_CELLS = re.compile(r"\t+| {2,}")
_PRECONDITION = re.compile(r"Pre-?conditions?:\s*(?P<text>.*?)(?:$|\n)", re.IGNORECASE)
_IF_MATCH = re.compile(
    r'"If-Match"\s*:\s*"\$\{(?P<variable>[A-Za-z_][A-Za-z0-9_]*)\}"', re.IGNORECASE
)
_STATUS = re.compile(r"^[1-5]\d\d$")
METHODS = frozenset({"get", "post", "put", "patch", "delete"})
# a path variable right after a collection names one of its resources: /ns_instances/${id}
_RESOURCE = re.compile(r"/(?P<collection>[a-z_]+)/\$\{(?P<variable>[A-Za-z_][A-Za-z0-9_]*)\}")


def normal(name: str) -> str:
    """A keyword or test name as robot matches it: case, spaces and underscores ignored."""
    return re.sub(r"[\s_]+", "", name).lower()


@dataclass(frozen=True)
class Request:
    """One request a keyword sends: the method, the path as written, and its body's file."""

    method: str  # upper case
    path: str
    body_file: str = ""
    if_match: str = ""  # the variable an If-Match header set before it carries

    def resources(self) -> list[tuple[str, str]]:
        """(collection, variable) of every resource the path names."""
        return [(m["collection"], m["variable"]) for m in _RESOURCE.finditer(self.path)]

    def action(self, variable: str) -> str:
        """What the request does to the resource `variable` names: the method and the path
        segment after it ("POST instantiate", "DELETE", "GET nsd_content")."""
        marker = f"${{{variable}}}"
        rest = self.path.split(marker, 1)[1] if marker in self.path else ""
        segment = rest.strip("/").split("/", 1)[0].strip()
        return f"{self.method} {segment}".strip()


@dataclass
class Block:
    """A test case or a keyword: its name, documentation and steps (lines of cells)."""

    name: str
    documentation: str = ""
    steps: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class Test:
    name: str
    documentation: str
    steps: tuple[tuple[str, ...], ...]

    def precondition(self) -> str:
        found = re.search(
            r"Pre-?conditions?:\s*(?P<text>.*?)(?:$|\n)", self.documentation, re.IGNORECASE
        )
        return found["text"].strip() if found else ""

    def expected_status(self) -> int | None:
        """The first status code the test itself checks."""
        for step in self.steps:
            if any("status" in cell.lower() for cell in step[:2]):
                for cell in step[1:]:
                    if _STATUS.match(cell.strip()):
                        return int(cell)
        return None


@dataclass(frozen=True)
class Suite:
    """One `.robot` file with tests: its stem, its set-up (a step) and its tests."""

    stem: str
    setup: tuple[str, ...]
    tests: tuple[Test, ...]


@dataclass(frozen=True)
class Declared:
    """Every suite and keyword of one API's directory."""

    suites: tuple[Suite, ...]
    keywords: dict[str, Block]  # normal name -> keyword

    def requests(self, steps: Iterable[Iterable[str]]) -> list[Request]:
        """The requests the steps send, directly or through the suite's keywords (depth-first,
        in order; each keyword followed once)."""
        found: list[Request] = []
        self._walk([tuple(s) for s in steps], found, set())
        return found

    def _walk(self, steps: list[tuple[str, ...]], found: list[Request], seen: set[str]) -> None:
        body_file = if_match = ""
        for step in steps:
            cells = [c for c in step if c]
            while cells and cells[0].rstrip("= ").startswith(("${", "@{", "&{")):
                cells = cells[1:]
            if not cells:
                continue
            joined = " ".join(cells)
            if (named := re.search(r"jsons/[\w.-]+", joined)) is not None:
                body_file = named[0]
            if (tag := _IF_MATCH.search(joined)) is not None:
                if_match = tag["variable"]
            if normal(cells[0]) in METHODS and len(cells) > 1:
                found.append(Request(cells[0].upper(), cells[1], body_file, if_match))
                continue
            for cell in cells:
                key = normal(cell)
                keyword = self.keywords.get(key)
                if keyword is not None and key not in seen:
                    seen.add(key)
                    self._walk([tuple(s) for s in keyword.steps], found, seen)
                    seen.discard(key)


def read_api(directory: Path) -> Declared:
    """Every `.robot` file of one API's directory, in robot's order (by name)."""
    suites: list[Suite] = []
    keywords: dict[str, Block] = {}
    for path in sorted(directory.glob("*.robot")):
        setup, tests, own = parse(path.read_text(errors="replace"))
        keywords |= {normal(k.name): k for k in own}
        if tests:
            suites.append(Suite(path.stem, setup, tests))
    return Declared(tuple(suites), keywords)


def parse(text: str) -> tuple[tuple[str, ...], tuple[Test, ...], list[Block]]:
    """(suite set-up, tests, keywords) of one robot file."""
    setup: tuple[str, ...] = ()
    tests: list[Block] = []
    keywords: list[Block] = []
    section = ""
    current: Block | None = None
    in_documentation = False
    for line in _logical_lines(text):
        heading = _SECTION.match(line)
        if heading:
            section = normal(heading["name"])
            current = None
            continue
        cells = [c.strip() for c in _CELLS.split(line.rstrip())]
        if section == "settings":
            if cells and normal(cells[0]) == "suitesetup":
                setup = tuple(c for c in cells[1:] if c)
            continue
        if section not in ("testcases", "keywords"):
            continue
        if line[:1] not in (" ", "\t", ""):
            current = Block(line.split("  ")[0].split("\t")[0].strip())
            (tests if section == "testcases" else keywords).append(current)
            in_documentation = False
            cells = [c for c in cells[1:] if c]
            if not cells:
                continue
        if current is None:
            continue
        body = [c for c in cells if c]
        if not body:
            continue
        if body[0] == "...":
            if in_documentation:
                current.documentation += "\n" + " ".join(body[1:])
                continue
            if current.steps:
                current.steps[-1].extend(body[1:])
            continue
        in_documentation = body[0].lower() == "[documentation]"
        if in_documentation:
            current.documentation = " ".join(body[1:])
        elif not body[0].startswith("["):
            current.steps.append(body)
    return (
        setup,
        tuple(Test(b.name, b.documentation, tuple(tuple(s) for s in b.steps)) for b in tests),
        keywords,
    )


def _logical_lines(text: str) -> Iterator[str]:
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            continue
        yield raw
