#!/usr/bin/env bash
# ETSI SOL005 conformance: runs ETSI's Robot Framework suites for NS lifecycle management, NSD
# management, VNF package management, NS fault management and NS performance management
# against a central started here on loopback.
#
#   conformance/run.sh [--output DIR] [--keep] [SUITE_DIR]
#
# SUITE_DIR is a copy of ETSI's SOL005 API tests (default: ../shared/conformance/etsi-sol005
# from the repository root). Robot's output goes to DIR (default: conformance/results). The last
# line printed is "N passed, N failed"; the exit status is 0 whatever the tests did, and
# non-zero only when the run could not be set up. The suites' libraries are installed into
# conformance/.venv from requirements/conformance.lock (exact versions, hashes checked); the
# central runs with the project's own .venv.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
VENV="$HERE/.venv"

fail() { echo "conformance/run.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; }

suite="" output="$HERE/results" keep=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --output) [ $# -ge 2 ] || fail "--output needs a directory"; output=$2; shift 2 ;;
        --output=*) output=${1#--output=}; shift ;;
        --keep) keep=(--keep); shift ;;
        -*) fail "unknown option $1 (see --help)" ;;
        *) [ -z "$suite" ] || fail "one suite directory only (got '$suite' and '$1')"
           suite=$1; shift ;;
    esac
done
suite=${suite:-$ROOT/../shared/conformance/etsi-sol005}

[ -d "$suite" ] || fail "no suite directory at $suite"
suite=$(cd "$suite" && pwd)
for api in NSLifecycleManagement-API NSDManagement-API VNFPackageManagement-API \
        NSFaultManagement-API NSPerformanceManagement-API; do
    [ -d "$suite/$api" ] || fail "$suite is not the ETSI SOL005 suite: $api/ is missing"
done
mkdir -p "$output" 2>/dev/null || fail "cannot create the output directory $output"
output=$(cd "$output" && pwd)
[ -x "$ROOT/.venv/bin/python" ] \
    || fail "the project's venv is missing ($ROOT/.venv): run ./run test or ./run demo once"

# The suites' libraries, in their own venv, exactly as requirements/conformance.lock names them
# (hashes checked); the venv is made anew when the lock changes. Runs started at once (the
# tests run two copies of the suite side by side) take turns here: one makes it, the others
# find it made.
exec 9>"$HERE/.venv-setup.lock"
flock 9
stamp="$VENV/.requirements.sha256"
want=$(cat "$ROOT/requirements/build.lock" "$ROOT/requirements/conformance.lock" | sha256sum \
    | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing the suites' libraries into conformance/.venv ..." >&2
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV" || fail "cannot create $VENV (is python3-venv installed?)"
    for lock in build conformance; do
        timeout 600 "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
            --require-hashes --no-deps --no-build-isolation \
            -r "$ROOT/requirements/$lock.lock" >>"$VENV/pip.log" 2>&1 \
            || fail "installing requirements/$lock.lock failed; see $VENV/pip.log"
    done
    echo "$want" >"$stamp"
fi
flock -u 9
exec 9>&-

# The sample descriptors are package data of the project (edgewise.lab.samples).
samples=$("$ROOT/.venv/bin/python" -c 'from edgewise.lab import samples; print(samples.path())') \
    || fail "the project's venv cannot find the sample descriptors (edgewise.lab.samples)"

cd "$ROOT"
exec "$VENV/bin/python" -m conformance.driver --suite "$suite" --output "$output" \
    --project-python "$ROOT/.venv/bin/python" --samples "$samples" "${keep[@]}"
