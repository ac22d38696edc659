"""One change to a firewall's rule list (add, edit, remove, move up or down), pure: the rule a
form describes, the list after the change, a sentence saying what it does and the diff of the
VNF's desired configuration. The firewall pages preview these, then apply them by an NS update."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Rule = dict[str, Any]  # one rule as the firewall's config document holds it
RULE_FIELDS = ("action", "protocol", "source", "destination", "port", "port_range", "direction",
               "description")  # fmt: skip
FIELD_MAX = 1024  # characters of one rule field on the form (the contract says less)


class EditKind(StrEnum):
    ADD = "add"
    EDIT = "edit"
    REMOVE = "remove"
    UP = "up"
    DOWN = "down"


class EditRefused(ValueError):
    """The change cannot be made to this list (an index out of it, a move past an end)."""


@dataclass(frozen=True)
class Edit:
    kind: EditKind
    index: int  # the rule changed (for ADD: where the new rule goes)
    rule: Rule | None = None  # the new rule of ADD and EDIT


def rule_from_form(posted: Mapping[str, str]) -> Rule:
    """The rule the form's fields describe; an empty field is left out (the default applies).
    A port is a number when it reads as one, a range `low-high` two; anything else is passed
    on as typed for the contract to refuse, naming the field."""
    rule: Rule = {}
    for key in RULE_FIELDS:
        raw = posted.get(key, "").strip()[:FIELD_MAX]
        if not raw:
            continue
        if key == "port":
            rule[key] = int(raw) if raw.isdigit() else raw
        elif key == "port_range":
            low, _, high = raw.partition("-")
            both = low.strip().isdigit() and high.strip().isdigit()
            rule[key] = [int(low), int(high)] if both else raw
        else:
            rule[key] = raw
    return rule


def apply_edit(rules: Sequence[Rule], edit: Edit) -> list[Rule]:
    """The list after `edit`; EditRefused when it does not fit the list."""
    after = [dict(r) for r in rules]
    last = len(after) - 1
    if edit.kind is EditKind.ADD:
        if not 0 <= edit.index <= len(after):
            raise EditRefused(f"position {edit.index + 1}: the list has {len(after)} rules")
        after.insert(edit.index, dict(edit.rule or {}))
        return after
    if not 0 <= edit.index <= last:
        raise EditRefused(f"rule {edit.index + 1}: the list has {len(after)} rules")
    if edit.kind is EditKind.EDIT:
        after[edit.index] = dict(edit.rule or {})
    elif edit.kind is EditKind.REMOVE:
        del after[edit.index]
    else:
        other = edit.index - 1 if edit.kind is EditKind.UP else edit.index + 1
        if not 0 <= other <= last:
            raise EditRefused(f"rule {edit.index + 1} is already the "
                              + ("first" if edit.kind is EditKind.UP else "last"))  # fmt: skip
        after[edit.index], after[other] = after[other], after[edit.index]
    return after


def rule_text(rule: Mapping[str, Any]) -> str:
    """A rule in a line: `accept tcp to port 8080 from 10.0.0.0/24 (outbound)`."""
    words = [str(rule.get("action", "accept")), str(rule.get("protocol", "any"))]
    if rule.get("source"):
        words.append(f"from {rule['source']}")
    if rule.get("destination"):
        words.append(f"to {rule['destination']}")
    if rule.get("port") is not None:
        words.append(f"port {rule['port']}")
    if rule.get("port_range") is not None:
        span = rule["port_range"]
        shown = f"{span[0]}-{span[1]}" if isinstance(span, list) and len(span) == 2 else span
        words.append(f"ports {shown}")
    words.append(f"({rule.get('direction', 'outbound')})")
    if rule.get("description"):
        words.append(f"— {rule['description']}")
    return " ".join(words)


def describe(edit: Edit, before: Sequence[Rule]) -> str:
    """What the change does, in a sentence."""
    number = edit.index + 1
    if edit.kind is EditKind.ADD:
        return f"Adds rule {number}: {rule_text(edit.rule or {})}."
    was = rule_text(before[edit.index])
    if edit.kind is EditKind.EDIT:
        return f"Changes rule {number} from “{was}” to “{rule_text(edit.rule or {})}”."
    if edit.kind is EditKind.REMOVE:
        return f"Removes rule {number}: {was}."
    to = number - 1 if edit.kind is EditKind.UP else number + 1
    return f"Moves rule {number} ({was}) to position {to}: it is matched " + (
        "earlier." if edit.kind is EditKind.UP else "later."
    )


def config_diff(before: Mapping[str, Any], after: Mapping[str, Any], name: str) -> list[str]:
    """The unified diff of the VNF's desired configuration (as the site's document holds it)."""
    old = json.dumps(before, indent=2, sort_keys=True).splitlines()
    new = json.dumps(after, indent=2, sort_keys=True).splitlines()
    return list(difflib.unified_diff(old, new, f"{name} now", f"{name} after", lineterm=""))
