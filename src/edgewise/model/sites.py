"""What a site is: its kind, its labels and its capacity in VNF slots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

NAME_PATTERN: Final = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
LABEL_KEY_PATTERN: Final = re.compile(r"^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$")
LABEL_VALUE_PATTERN: Final = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$|^$")
MAX_LABELS: Final = 32


class SiteKind(StrEnum):
    """On-premise: a CPE box at the customer. Cloud: a point of presence with compute nodes."""

    ON_PREMISE = "on-premise"
    CLOUD = "cloud"

    @property
    def default_slots_per_node(self) -> int:
        return 2 if self is SiteKind.ON_PREMISE else 20


@dataclass(frozen=True)
class Capacity:
    compute_nodes: int
    slots_per_node: int

    @property
    def vnf_slots(self) -> int:
        return self.compute_nodes * self.slots_per_node


@dataclass(frozen=True)
class LabelSelector:
    """`region=eu,env=prod`: a site matches when it has every label with that value."""

    required: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(key) == value for key, value in self.required.items())

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parses `key=value[,key=value...]`; raises ValueError with the offending part."""
        pairs: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"{part!r} is not key=value")
            problem = label_problem(key.strip(), value.strip())
            if problem:
                raise ValueError(problem)
            pairs[key.strip()] = value.strip()
        return cls(MappingProxyType(pairs))


def label_problem(key: str, value: str) -> str | None:
    """Why a label is not acceptable, or None."""
    if not LABEL_KEY_PATTERN.match(key):
        return (
            f"label key {key!r} must be 1-63 lower-case letters, digits, '.', '_', '/' or '-', "
            "starting and ending with a letter or digit"
        )
    if not LABEL_VALUE_PATTERN.match(value):
        return (
            f"label value {value!r} of {key!r} must be at most 63 letters, digits, '.', '_' "
            "or '-', starting and ending with a letter or digit"
        )
    return None
