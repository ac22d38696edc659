"""What each suite and test of a copy of the suite needs, derived from what its `.robot` files
declare (`declared.py`): every path variable that names a resource (`/ns_instances/${id}`)
gets a fresh resource of that kind, in the state the test's request, expected status and
documented pre-condition call for (an instantiate expecting 202 gets a NOT_INSTANTIATED NS,
one expecting 409 an INSTANTIATED one; a test expecting 404 gets an id that names nothing, but
for the PM job of a missing report; a report's job is the one it belongs to).
Pure: declarations in, needs out; `fixtures.py` creates them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from conformance.declared import Declared, Request, Test


class Kind(StrEnum):
    NS = "ns instance"
    OP = "ns lcm operation occurrence"
    NSD = "nsd"
    PKG = "vnf package"
    SUB = "subscription"
    PNFD = "pnfd"
    ALARM = "alarm"
    PM_JOB = "pm job"
    REPORT = "performance report"
    THRESHOLD = "threshold"


COLLECTIONS = {
    "ns_instances": Kind.NS,
    "ns_lcm_op_occs": Kind.OP,
    "ns_descriptors": Kind.NSD,
    "vnf_packages": Kind.PKG,
    "subscriptions": Kind.SUB,
    "pnf_descriptors": Kind.PNFD,
    "alarms": Kind.ALARM,
    "pm_jobs": Kind.PM_JOB,
    "reports": Kind.REPORT,
    "thresholds": Kind.THRESHOLD,
}
# States a need may name: the SOL005 ones, and these
MISSING = "MISSING"  # an id that names nothing
OWNER = "OWNER"  # the NS instance of the test's operation occurrence, the PM job of its report
DEFAULT = {
    Kind.NS: "NOT_INSTANTIATED",
    Kind.OP: "COMPLETED",
    Kind.NSD: "ONBOARDED",
    Kind.PKG: "ONBOARDED",
    Kind.SUB: "ACTIVE",
    Kind.PNFD: MISSING,  # Edgewise has no PNF descriptors (see conformance/README.md)
    Kind.ALARM: "UNACKNOWLEDGED",
    Kind.PM_JOB: "COLLECTING",  # SOL005 gives PM jobs, reports and thresholds no states
    Kind.REPORT: "READY",
    Kind.THRESHOLD: "SET",
}
NS_OPERATIONS = ("terminate", "scale", "update", "heal")
OP_TASKS = ("retry", "rollback", "fail", "continue", "cancel")
# What a test's attribute selector (`?fields=${fields}`) names, by collection: an attribute
# Edgewise leaves out of the default representation or the suite's checks look for.
SELECTABLE = {
    "ns_instances": "_links",
    "ns_lcm_op_occs": "operationParams",
    "subscriptions": "filter",
    "ns_descriptors": "userDefinedData",
    "alarms": "rootCauseFaultyResource",
}
_SELECTOR = re.compile(
    r"/(?P<collection>[a-z_]+)\?(?:exclude_)?fields=\$\{(?P<variable>[A-Za-z_][A-Za-z0-9_]*)\}"
)
_EXISTING = re.compile(r"already exist|subscription is available", re.IGNORECASE)
_STATE_WORDS = (
    (re.compile(r"not (?:in |equal to )?NOT_INSTANTIATED", re.IGNORECASE), "INSTANTIATED"),
    (re.compile(r"\bNOT_INSTANTIATED\b"), "NOT_INSTANTIATED"),
    (re.compile(r"\bINSTANTIATED\b"), "INSTANTIATED"),
    (re.compile(r"not (?:in |equal to )?FAILED_TEMP", re.IGNORECASE), "COMPLETED"),
    (re.compile(r"\bFAILED_TEMP\b"), "FAILED_TEMP"),
    (re.compile(r"different from ONBOARDED", re.IGNORECASE), "CREATED"),
    (re.compile(r"different from CREATED", re.IGNORECASE), "ONBOARDED"),
    (re.compile(r"\bDISABLED\b"), "DISABLED"),
    (re.compile(r"\bUNACKNOWLEDGED\b"), "UNACKNOWLEDGED"),
    (re.compile(r"\bACKNOWLEDGED\b"), "ACKNOWLEDGED"),
)


@dataclass(frozen=True)
class Need:
    """A resource a test or suite acts on: its kind, its state, and how it is made."""

    kind: Kind
    state: str
    api: str = ""  # subscriptions: the API (nslcm, nsd, vnfpkgm)
    zip: bool = False  # NSDs: onboarded from a CSAR zip rather than plain YAML
    owner_of: str = ""  # OWNER: the variable naming the operation occurrence (or report)


@dataclass(frozen=True)
class Subscribing:
    """A test creates the subscription `body_file` describes at `path`; its pre-condition says
    whether one like it exists already (a duplicate) or not."""

    path: str  # as written, robot variables and all
    body_file: str  # "": a subscription of the callback server's (robot's ${callbackUri})
    exists: bool


@dataclass(frozen=True)
class SuiteNeeds:
    stem: str
    setup: dict[str, Need]  # variable -> need, for the suite's set-up
    tests: dict[str, dict[str, Need]]  # test name -> variable -> need
    values: dict[str, dict[str, str]]  # test name -> variable -> value (attribute selectors)
    subscribing: dict[str, list[Subscribing]]  # test name -> the subscriptions it creates
    etags: dict[str, dict[str, str]]  # test name -> If-Match variable -> the resource's variable


def api_needs(declared: Declared, api: str) -> list[SuiteNeeds]:
    """The needs of every suite of one API's directory (`api`: its path name, e.g. nslcm)."""
    found = []
    for suite in declared.suites:
        setup = _needs(declared.requests([suite.setup]) if suite.setup else [], None, api)
        sent = {test.name: declared.requests(test.steps) for test in suite.tests}
        tests = {test.name: _needs(sent[test.name], test, api) for test in suite.tests}
        values = {
            name: selected for name, requests in sent.items() if (selected := selectors(requests))
        }
        subscribing = {
            test.name: made
            for test in suite.tests
            if (made := subscriptions_made(sent[test.name], test.precondition()))
        }
        etags = {name: tags for name, requests in sent.items() if (tags := if_matches(requests))}
        found.append(SuiteNeeds(suite.stem, setup, tests, values, subscribing, etags))
    return found


def _needs(requests: list[Request], test: Test | None, api: str) -> dict[str, Need]:
    actions: dict[str, tuple[Kind, list[Request]]] = {}
    for request in requests:
        for collection, variable in request.resources():
            kind = COLLECTIONS.get(collection)
            if kind is None or variable.lower().startswith("erroneous"):
                continue  # not a resource (artifacts); or one the suite means not to exist
            actions.setdefault(variable, (kind, []))[1].append(request)
    expected = test.expected_status() if test else None
    precondition = test.precondition() if test else ""
    needs = {}
    for variable, (kind, sent) in actions.items():
        acting = next((r for r in sent if r.method != "GET"), sent[0])
        state = state_for(
            kind, acting.action(variable), expected, precondition, variable, acting.body_file
        )
        needs[variable] = Need(
            kind, state, api if kind == Kind.SUB else "", "zip" in variable.lower()
        )
    operations = [v for v, n in needs.items() if n.kind == Kind.OP and n.state != MISSING]
    reports = [v for v, n in needs.items() if n.kind == Kind.REPORT and n.state != MISSING]
    for variable, need in needs.items():
        if need.kind == Kind.NS and operations and _only_reads(actions[variable][1]):
            needs[variable] = Need(Kind.NS, OWNER, owner_of=operations[0])
        elif need.kind == Kind.PM_JOB and need.state != MISSING and reports:
            needs[variable] = Need(Kind.PM_JOB, OWNER, owner_of=reports[0])  # the report's job
    return needs


def subscriptions_made(requests: list[Request], precondition: str) -> list[Subscribing]:
    """The subscriptions a test's pre-condition names: the one it creates (present for a
    duplicate, absent otherwise), or, for a test that lists subscriptions after "a subscription
    is available", one to the callback server."""
    exists = bool(_EXISTING.search(precondition))
    found = []
    for request in requests:
        collection = request.path.split("?", 1)[0].rstrip("/")
        if not collection.endswith("/subscriptions"):
            continue
        if request.method == "POST" and request.body_file:
            found.append(Subscribing(collection, request.body_file, exists))
        elif request.method == "GET" and exists:
            found.append(Subscribing(collection, "", exists=True))
    return list(dict.fromkeys(found))


def if_matches(requests: list[Request]) -> dict[str, str]:
    """Each variable an If-Match header carries, with the variable naming the resource its
    request changes: the test means that resource's current ETag."""
    found: dict[str, str] = {}
    for request in requests:
        resources = [v for c, v in request.resources() if c in COLLECTIONS]
        if request.if_match and request.method != "GET" and resources:
            found.setdefault(request.if_match, resources[-1])
    return found


def selectors(requests: list[Request]) -> dict[str, str]:
    """The value of each attribute-selector variable the requests carry, by collection."""
    found = {}
    for request in requests:
        for match in _SELECTOR.finditer(request.path):
            if match["collection"] in SELECTABLE:
                found[match["variable"]] = SELECTABLE[match["collection"]]
    return found


def _only_reads(sent: list[Request]) -> bool:
    return all(r.method == "GET" for r in sent)


def state_for(  # noqa: PLR0917 - one table of cases, read top to bottom
    kind: Kind, action: str, expected: int | None, precondition: str, variable: str,
    body_file: str = "",
) -> str:  # fmt: skip
    """The state a resource must be in for `action` to answer `expected`."""
    if kind == Kind.PNFD:
        return MISSING
    if expected == 404:  # of a PM job's report: the job is there, its report is not
        return DEFAULT[kind] if kind == Kind.PM_JOB and action.endswith(" reports") else MISSING
    if expected == 405 and variable.lower().startswith("new"):
        return MISSING  # "method not implemented" creating it: the test checks it is not there
    if kind in (Kind.SUB, Kind.PM_JOB, Kind.REPORT, Kind.THRESHOLD) or expected == 405:
        return DEFAULT[kind]  # of a kind with no states, or one a test may not act on
    conflict = expected == 409
    method, _, segment = action.partition(" ")
    if kind == Kind.NS:
        if segment == "instantiate" or method == "DELETE":
            return "INSTANTIATED" if conflict else "NOT_INSTANTIATED"
        if segment in NS_OPERATIONS:
            return "NOT_INSTANTIATED" if conflict else "INSTANTIATED"
        return _documented(precondition, {"INSTANTIATED", "NOT_INSTANTIATED"}) or DEFAULT[kind]
    if kind == Kind.ALARM:  # acknowledging one answers 409 when it already is
        if method == "PATCH" and not segment:
            return "ACKNOWLEDGED" if conflict else "UNACKNOWLEDGED"
        return _documented(precondition, {"ACKNOWLEDGED", "UNACKNOWLEDGED"}) or DEFAULT[kind]
    if kind == Kind.OP:
        if segment in OP_TASKS:
            return "COMPLETED" if conflict else "FAILED_TEMP"
        return _documented(precondition, {"FAILED_TEMP", "COMPLETED"}) or DEFAULT[kind]
    return _catalog_state(method, segment, conflict, precondition, variable, body_file)


def _catalog_state(  # noqa: PLR0917 - one table of cases
    method: str, segment: str, conflict: bool, precondition: str, variable: str, body_file: str
) -> str:
    """NSDs and VNF packages: CREATED (no content), ONBOARDED (and ENABLED), or DISABLED."""
    if re.search(r"notOnboarded|onboardingState|^created", variable, re.IGNORECASE):
        return "CREATED"
    if "disabled" in variable.lower():
        return "DISABLED"
    if method == "DELETE" and not segment:
        return "ONBOARDED" if conflict else "DISABLED"
    if method == "PATCH" and not segment:
        enable = "enable" in body_file.lower()
        return "ONBOARDED" if conflict == enable else "DISABLED"
    if method in ("PUT", "POST") and segment in ("nsd_content", "package_content"):
        return "ONBOARDED" if conflict else "CREATED"
    if method == "GET" and segment:
        return "CREATED" if conflict else "ONBOARDED"
    return _documented(precondition, {"CREATED", "ONBOARDED", "DISABLED"}) or "ONBOARDED"


def _documented(precondition: str, allowed: set[str]) -> str | None:
    """The state the test's documented pre-condition names, among `allowed`."""
    for pattern, state in _STATE_WORDS:
        if pattern.search(precondition) and state in allowed:
            return state
    return None
