"""Modified copies of ETSI's SOL005 suite, as another copy of it may differ: tests renamed and
in another order, and a lifecycle test that deletes the NS instance it is given, run before
the suites whose set-up checks that instance exists (the fault a shared instance suffered).
Text in, text out, so that the conformance tests can run the runner on such a copy."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

NSLCM = "NSLifecycleManagement-API"
RENAMED = " (another copy)"
DELETING_SUITE = "DeleteNSInstanceWorkflow.robot"  # sorts before HealNSTask, InstantiateNSTask..
DELETING_TEST = "NS Instance Deletion"
_DELETION = f"""
{DELETING_TEST}
    [Documentation]    Test ID: 5.3.2.19.1
    ...    Test title: NS Instance Deletion
    ...    Test objective: The objective is to test the workflow for Deleting a NS instance
    ...    Pre-conditions: The resource is in NOT_INSTANTIATED state
    ...    Reference: Clause 6.3.1 - ETSI GS NFV-SOL 005 [3] v2.6.1
    ...    Post-Conditions: The NS instance resource is deleted
    DELETE IndividualNSInstance
    Check HTTP Response Status Code Is    204
    Check Instance Deleted
"""
_SECTION = re.compile(r"^\*+\s*(?P<name>[A-Za-z ]+?)\s*\*+", re.MULTILINE)


def modified_copy(suite: Path, target: Path, apis: tuple[str, ...]) -> Path:
    """`apis` of the suite copied to `target`, every test renamed and the tests of each file
    in reverse order, and the deleting test added to the lifecycle suite."""
    for api in apis:
        shutil.copytree(suite / api, target / api)
        for robot in sorted((target / api).glob("*.robot")):
            robot.write_text(reversed_and_renamed(robot.read_text(errors="replace")))
    deleting = target / NSLCM / DELETING_SUITE
    deleting.write_text(deleting.read_text() + _DELETION)
    return target


def reversed_and_renamed(text: str) -> str:
    """The file with its test cases renamed (RENAMED appended) and in reverse order."""
    sections = list(_SECTION.finditer(text))
    for index, heading in enumerate(sections):
        if heading["name"].replace(" ", "").lower() != "testcases":
            continue
        end = sections[index + 1].start() if index + 1 < len(sections) else len(text)
        body = text[heading.end() : end]
        blocks = re.split(r"\n(?=[^\s#*])", body)
        head, tests = blocks[0], blocks[1:]
        renamed = [_rename(block) for block in reversed(tests)]
        joined = "\n".join([head, *renamed]) if renamed else head
        return text[: heading.end()] + joined.rstrip("\n") + "\n\n" + text[end:]
    return text


def _rename(block: str) -> str:
    name, _, rest = block.partition("\n")
    return f"{name.rstrip()}{RENAMED}\n{rest.rstrip()}\n"


def original_name(test: str) -> str:
    return test.removesuffix(RENAMED)
