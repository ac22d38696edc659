"""Gives every suite and every test of one API its own resources: the needs `needs.py` derives
from the suite's `.robot` files are made in one batch (`fixtures.FixtureBuilder.provide`), and
their ids come back as each test's own values and each suite's variables (its set-up's own
resources, and one default per resource variable the API names, for any use the derivation
does not see), with the steps that open a test that creates a subscription. Pure but for the
`provide` it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.declared import Declared, Request
from conformance.fixtures import Made
from conformance.needs import COLLECTIONS, DEFAULT, OWNER, Kind, Need, SuiteNeeds, api_needs

Provide = Callable[[list[Need]], list[Made]]
Values = dict[str, str]  # robot variable -> value
SUBSCRIPTION_STATE = "ConformanceIsolation.Subscription Exists"  # isolation.py


@dataclass(frozen=True)
class Provisioned:
    suites: dict[str, Values]  # suite (file stem) -> its variables
    tests: dict[str, dict[str, Values]]  # suite -> test name -> its own values
    steps: dict[str, dict[str, list[list[str]]]]  # suite -> test name -> steps to open it with
    made: int  # how many resources were made


def resource_variables(declared: Declared, api: str) -> dict[str, Need]:
    """Every variable that names a resource somewhere in the API's keywords or tests, with the
    need of a resource of that kind in its default state."""
    found: dict[str, Need] = {}
    blocks = [kw.steps for kw in declared.keywords.values()]
    blocks += [[list(step) for step in test.steps] for s in declared.suites for test in s.tests]
    for steps in blocks:
        for step in steps:
            for cell in step:
                for collection, variable in Request("GET", cell).resources():
                    kind = COLLECTIONS.get(collection)
                    if kind is not None and not variable.lower().startswith("erroneous"):
                        found.setdefault(
                            variable,
                            Need(kind, DEFAULT[kind], api if kind == Kind.SUB else "",
                                 "zip" in variable.lower()),
                        )  # fmt: skip
    return found


def provision(declared: Declared, api: str, provide: Provide) -> Provisioned:
    suites = api_needs(declared, api)
    defaults = resource_variables(declared, api)
    wanted: list[Need] = []
    slots: list[tuple[str, str, str]] = []  # (suite, test or "", variable), like `wanted`
    for variable, need in defaults.items():
        wanted.append(need)
        slots.append(("", "", variable))
    for suite in suites:
        for variable, need in suite.setup.items():
            wanted.append(need)
            slots.append((suite.stem, "", variable))
        for test, needs in suite.tests.items():
            for variable, need in needs.items():
                wanted.append(need)
                slots.append((suite.stem, test, variable))
    made = provide(wanted)
    return _assign(suites, wanted, slots, made)


def _assign(
    suites: list[SuiteNeeds], wanted: list[Need], slots: list[tuple[str, str, str]],
    made: list[Made],
) -> Provisioned:  # fmt: skip
    by_slot = dict(zip(slots, zip(wanted, made, strict=True), strict=True))
    shared = {variable: item.id for (stem, _, variable), (_, item) in by_slot.items() if not stem}
    suite_values: dict[str, Values] = {s.stem: dict(shared) for s in suites}
    test_values: dict[str, dict[str, Values]] = {s.stem: dict(s.values) for s in suites}
    for (stem, test, variable), (need, item) in by_slot.items():
        if not stem:
            continue
        value = item.id
        if need.state == OWNER:
            owner = by_slot.get((stem, test, need.owner_of))  # an operation's NS, a report's job
            value = (owner[1].ns or owner[1].job or item.id) if owner else item.id
        if test:
            test_values[stem][test] = test_values[stem].get(test, {}) | {variable: value}
        else:
            suite_values[stem][variable] = value
    for suite in suites:
        for test, tags in suite.etags.items():
            for tag_variable, resource in tags.items():
                found = by_slot.get((suite.stem, test, resource))
                if found is not None and found[1].etag:
                    # the suites write it inside a JSON string: {"If-Match": "${tag}"}
                    tag = found[1].etag.replace('"', '\\"')
                    test_values[suite.stem][test] = test_values[suite.stem].get(test, {}) | {
                        tag_variable: tag
                    }
    steps = {
        s.stem: {
            test: [[SUBSCRIPTION_STATE, m.path, m.body_file, "yes" if m.exists else "no"]
                   for m in made_by_test]
            for test, made_by_test in s.subscribing.items()
        }
        for s in suites
    }  # fmt: skip
    return Provisioned(suite_values, test_values, steps, len(made))
