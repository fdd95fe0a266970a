#!/usr/bin/env bash
# Golden tests of detailedoutput.json and the stdout summary: each tests/data/golden/<case>.yaml
# runs with a fixed execution id; times, temporary paths and log folder names are normalized and
# the result is compared with <case>.detailedoutput.json and <case>.summary.json.
# KILN_ACCEPT=1 in the environment rewrites the expected files instead (review the diff!).
# Usage: toe_golden.sh <kiln-toe binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

G=$DATA/golden
GOLDEN=$SRC/tests/integration/golden.py

# check_golden WHAT ACTUAL_JSON EXPECTED_FILE: normalize ACTUAL_JSON and compare (or accept).
check_golden() {
  local what=$1 actual=$2 expected=$3
  python3 "$GOLDEN" normalize "$actual" "$T" >"$T/normalized.json" ||
    fail "$what ($actual): cannot normalize (not JSON?)"
  if [ "${KILN_ACCEPT:-0}" = 1 ]; then
    cp "$T/normalized.json" "$expected"
    echo "    accepted $expected" >&2
    return 0
  fi
  [ -f "$expected" ] || fail "$expected is missing: run with KILN_ACCEPT=1 to create it"
  local diff
  if ! diff=$(python3 "$GOLDEN" compare "$expected" "$T/normalized.json"); then
    printf '%s\n' "$diff" | sed 's/^/    | /' >&2
    fail "$what differs from $expected (KILN_ACCEPT=1 rewrites it)"
  fi
}

# golden_case CASE EXIT_CODE
golden_case() {
  local case=$1 expected_rc=$2
  cp "$G/$case.yaml" "$T/$case.yaml"
  run_doc "$T/$case.yaml" --execution-id "golden-$case"
  assert_rc "$expected_rc" "kiln-toe run of $case.yaml"
  local problems
  if ! problems=$(python3 "$GOLDEN" shape "$DO"); then
    printf '%s\n' "$problems" | sed 's/^/    | /' >&2
    fail "detailedoutput.json of $case does not have the documented shape"
  fi
  check_golden detailedoutput.json "$DO" "$G/$case.detailedoutput.json"
  check_golden "the summary (stdout)" "$OUT" "$G/$case.summary.json"
}

run_test success golden_case success 0
run_test failure golden_case failure 1
run_test ignored golden_case ignored 0
run_test loop golden_case loop 0
finish
