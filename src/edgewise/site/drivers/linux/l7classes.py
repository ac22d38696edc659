"""Layer-7 classes of the steering section (pure): the custom application each class with
`hosts` becomes (named after the class), and the application ids each class stands for, as
the DPI classifier numbers them (model.applications)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from edgewise.model.applications import Applications, CatalogueError
from edgewise.model.steering import Steering


@dataclass(frozen=True)
class Layer7:
    """The classifier's custom applications, each layer-7 class's application ids, and what
    could not be made of the section (a class whose custom application was refused)."""

    custom: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ids: Mapping[str, frozenset[int]] = field(default_factory=dict)  # class name -> app ids
    problems: tuple[str, ...] = ()

    @property
    def wanted(self) -> bool:
        """Whether a classifier must run (some class needs deep packet inspection)."""
        return bool(self.ids)


def layer7(steering: Steering) -> Layer7:
    """The class `c` with `hosts` is the custom application `c` (its hosts as patterns);
    `applications` are catalogue names. A class whose custom application the catalogue refuses
    (its name is a catalogue name) keeps its catalogue applications and says why."""
    custom: dict[str, tuple[str, ...]] = {}
    problems: list[str] = []
    for cls in steering.classes:
        if cls.hosts:
            try:
                Applications.build({cls.name: cls.hosts})
            except CatalogueError as exc:
                problems.append(f"class {cls.name}: its hosts are not steered: {exc}")
                continue
            custom[cls.name] = cls.hosts
    applications = Applications.build(custom)
    ids: dict[str, frozenset[int]] = {}
    for cls in steering.classes:
        if not cls.needs_dpi:
            continue
        names = [*cls.applications, *([cls.name] if cls.name in custom else [])]
        found = {a.app_id for n in names if (a := applications.by_name(n)) is not None}
        ids[cls.name] = frozenset(found)
    return Layer7(custom, ids, tuple(problems))
