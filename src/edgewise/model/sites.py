"""What a site is: its kind, its labels, its capacity in VNF slots, and whether it is there
(its presence, from when it was last heard of)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

NAME_PATTERN: Final = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
LABEL_KEY_PATTERN: Final = re.compile(r"^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$")
LABEL_VALUE_PATTERN: Final = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$|^$")
MAX_LABELS: Final = 32

# A site that is there polls at least once a minute: the central holds a poll at most 60 s
# (CentralSettings refuses a longer hold) and records "heard from" marks every 5 s. Twice that,
# and it is offline.
MAX_POLL_HOLD: Final = 60.0
OFFLINE_AFTER: Final = timedelta(seconds=2 * MAX_POLL_HOLD)


class Presence(StrEnum):
    """Whether a site is there: it enrolled and was heard from within OFFLINE_AFTER (online),
    it enrolled but has not been heard from since (offline), or it never enrolled."""

    ONLINE = "online"
    OFFLINE = "offline"
    NEVER_ENROLLED = "never-enrolled"

    @classmethod
    def of(
        cls, enrolled_at: datetime | None, last_seen_at: datetime | None, now: datetime
    ) -> Presence:
        """From the site's enrollment and last contact (aware datetimes); a site is online from
        its enrollment on until OFFLINE_AFTER passes without a contact."""
        if enrolled_at is None:
            return cls.NEVER_ENROLLED
        last = max(enrolled_at, last_seen_at) if last_seen_at is not None else enrolled_at
        return cls.ONLINE if now - last <= OFFLINE_AFTER else cls.OFFLINE


def absence(presence: Presence, last_contact: datetime | None) -> str | None:
    """Why a site that is not online cannot take a change, in words (None when online)."""
    if presence is Presence.NEVER_ENROLLED:
        return "never enrolled (no site controller has claimed its enrollment token)"
    if presence is Presence.OFFLINE:
        since = last_contact.isoformat(timespec="seconds") if last_contact else "ever"
        return f"offline: not heard from since {since}"
    return None


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
