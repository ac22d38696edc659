"""The firewall pages' pure edits, by tables: the list after each change, what each refuses, the
rule a form describes, and the sentence a preview shows."""

from __future__ import annotations

import pytest

from edgewise.central.web.firewall_edits import (
    Edit,
    EditKind,
    EditRefused,
    apply_edit,
    config_diff,
    describe,
    rule_from_form,
)

A, B, C = {"action": "accept", "port": 1}, {"action": "drop", "port": 2}, {"port": 3}


@pytest.mark.parametrize(
    ("edit", "after"),
    [
        (Edit(EditKind.ADD, 0, C), [C, A, B]),
        (Edit(EditKind.ADD, 2, C), [A, B, C]),
        (Edit(EditKind.EDIT, 1, C), [A, C]),
        (Edit(EditKind.REMOVE, 0), [B]),
        (Edit(EditKind.UP, 1), [B, A]),
        (Edit(EditKind.DOWN, 0), [B, A]),
    ],
)
def test_each_change_gives_the_list_after_it(edit: Edit, after: list[dict[str, object]]) -> None:
    before = [A, B]
    assert apply_edit(before, edit) == after
    assert before == [A, B]  # the list itself is left as it was


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (Edit(EditKind.UP, 0), "rule 1 is already the first"),
        (Edit(EditKind.DOWN, 1), "rule 2 is already the last"),
        (Edit(EditKind.REMOVE, 2), "rule 3: the list has 2 rules"),
        (Edit(EditKind.EDIT, -1, C), "rule 0: the list has 2 rules"),
        (Edit(EditKind.ADD, 3, C), "position 4: the list has 2 rules"),
    ],
)
def test_a_change_that_does_not_fit_the_list_is_refused(edit: Edit, why: str) -> None:
    with pytest.raises(EditRefused, match=why):
        apply_edit([A, B], edit)


@pytest.mark.parametrize(
    ("form", "rule"),
    [
        ({"action": "drop", "protocol": "tcp", "port": "443", "source": ""},
         {"action": "drop", "protocol": "tcp", "port": 443}),
        ({"port": "eighty"}, {"port": "eighty"}),  # passed on for the contract to refuse
        ({"port_range": "1000-2000"}, {"port_range": [1000, 2000]}),
        ({"port_range": "1000-"}, {"port_range": "1000-"}),
        ({"description": "  web  "}, {"description": "web"}),
    ],
)  # fmt: skip
def test_the_rule_a_form_describes(form: dict[str, str], rule: dict[str, object]) -> None:
    assert rule_from_form(form) == rule


def test_what_a_preview_says_and_shows() -> None:
    rules = [{"action": "accept", "protocol": "tcp", "port": 443}]
    assert describe(Edit(EditKind.REMOVE, 0), rules) == (
        "Removes rule 1: accept tcp port 443 (outbound).")  # fmt: skip
    assert describe(Edit(EditKind.ADD, 0, {"action": "reject", "protocol": "udp",
                                           "port_range": [1, 9]}), rules) == (
        "Adds rule 1: reject udp ports 1-9 (outbound).")  # fmt: skip
    diff = config_diff({"rules": []}, {"rules": [{"port": 1}]}, "fw")
    assert diff[:2] == ["--- fw now", "+++ fw after"]
    assert '+      "port": 1' in diff
