# shellcheck shell=bash disable=SC2034,SC2030,SC2031
# (Variables set here are used by the scripts that source this file; $T is set per test.)
# Shared helpers for the kiln-toe integration tests. Each test script starts with
#
#   source "$(dirname "$0")/lib.sh" "$@"     # args: <kiln-toe binary> <source dir> <build dir>
#
# and then calls `run_test NAME FUNCTION` once per test and `finish` at the end. Every test runs
# in a subshell of its own with `set -euo pipefail`, in a fresh temporary folder $T (its working
# directory) that an EXIT trap removes, so a failing check ends only that test. `fail` ends the
# test with a message; the assert_* helpers print what was expected and what was got.
#
# Environment: KILN_KEEP_TMP=1 keeps each test's folder (its path is printed) for debugging;
# KILN_IT_ONLY=REGEX runs only the tests whose names match.

set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 <kiln-toe binary> <source dir> [<build dir>]" >&2
  exit 2
fi
KILN_TOE=$(realpath "$1")
SRC=$(realpath "$2")
BUILD=${3:+$(realpath "$3")}
DATA=$SRC/tests/data
JSON_QUERY=$SRC/tests/integration/json_query.py
# A kiln-toe run that takes longer than this has hung: it is stopped and the test fails.
KILN_IT_RUN_TIMEOUT=${KILN_IT_RUN_TIMEOUT:-120}

_passed=()
_failed=()
_skipped=()

# ---- running tests --------------------------------------------------------------------------

_cleanup_test() {
  local pid
  for pid in ${BG_PIDS:-}; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "${KILN_KEEP_TMP:-0}" = 1 ]; then
    echo "  (kept $T)" >&2
  else
    chmod -R u+rwx "$T" 2>/dev/null || true
    rm -rf "$T"
  fi
}

# run_test NAME FUNCTION [ARGS...]: runs FUNCTION in its own subshell and temporary folder.
run_test() {
  local name=$1
  shift
  if [ -n "${KILN_IT_ONLY:-}" ] && ! [[ $name =~ $KILN_IT_ONLY ]]; then
    return 0
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-it-$name.XXXXXX")
  echo "--- $name" >&2
  local rc=0 began=$EPOCHREALTIME took
  set +e
  (
    set -euo pipefail
    T=$dir
    BG_PIDS=""
    trap _cleanup_test EXIT
    cd "$T"
    "$@"
  )
  rc=$?
  set -e
  # Seconds per case, to see where a suite's time goes (ctest gives only the script's).
  took=$(awk -v a="$began" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }')
  case $rc in
    0) _passed+=("$name"); echo "    ok: $name ($took)" >&2 ;;
    77) _skipped+=("$name"); echo "    skipped: $name ($took)" >&2 ;;
    *) _failed+=("$name"); echo "    FAILED: $name ($took)" >&2 ;;
  esac
}

# finish: prints the tally and exits 1 if a test failed, else 77 (skipped) if any test skipped,
# else 0. A script with a skipped case is a skipped script for ctest, so no skip hides behind the
# cases that passed (CI fails on a skip it does not allow: scripts/test.sh).
finish() {
  echo "=== ${#_passed[@]} passed, ${#_failed[@]} failed, ${#_skipped[@]} skipped" >&2
  if [ ${#_failed[@]} -gt 0 ]; then
    printf '    failed: %s\n' "${_failed[@]}" >&2
    exit 1
  fi
  if [ ${#_skipped[@]} -gt 0 ]; then
    printf '    skipped: %s\n' "${_skipped[@]}" >&2
    exit 77
  fi
  if [ ${#_passed[@]} -eq 0 ]; then
    echo "    no test ran (KILN_IT_ONLY='${KILN_IT_ONLY:-}' matched none)" >&2
    exit 77
  fi
  exit 0
}

skip() {
  echo "    skip: $*" >&2
  exit 77
}

fail() {
  echo "    FAIL: $*" >&2
  exit 1
}

# ---- running kiln-toe -----------------------------------------------------------------------

# toe ARGS...: runs kiln-toe; stdout in $OUT, stderr in $ERR, exit code in $RC.
toe() {
  OUT=$T/.stdout
  ERR=$T/.stderr
  RC=0
  timeout -k 5 "$KILN_IT_RUN_TIMEOUT" "$KILN_TOE" "$@" >"$OUT" 2>"$ERR" || RC=$?
  if [ "$RC" = 124 ]; then
    show_output
    fail "kiln-toe $* did not finish within ${KILN_IT_RUN_TIMEOUT}s"
  fi
}

# run_doc DOCUMENTS [ARGS...]: `kiln-toe run --documents DOCUMENTS --log-directory $LOGS ARGS`.
# Sets $LOG to the run's log folder (the summary's logUrl) and $DO to its detailedoutput.json.
run_doc() {
  local documents=$1
  shift
  LOGS=${LOGS:-$T/logs}
  toe run --documents "$documents" --log-directory "$LOGS" "$@"
  LOG=""
  if python3 "$JSON_QUERY" valid "$OUT" >/dev/null 2>&1; then
    LOG=$(json_get "$OUT" logUrl)
  fi
  DO=$LOG/detailedoutput.json
}

# show_output: the last run's stdout and stderr, for a failure message.
show_output() {
  {
    echo "    --- stdout of kiln-toe:"
    tail -n 40 "$OUT" | sed 's/^/    | /'
    echo "    --- stderr of kiln-toe:"
    tail -n 40 "$ERR" | sed 's/^/    | /'
  } >&2
}

# show_file FILE: a file's tail, for a failure message.
show_file() {
  {
    echo "    --- $1:"
    if [ -f "$1" ]; then tail -n 40 "$1" | sed 's/^/    | /'; else echo "    (missing)"; fi
  } >&2
}

assert_rc() {
  local expected=$1
  if [ "$RC" != "$expected" ]; then
    show_output
    fail "${2:-kiln-toe} exit code: expected $expected, got $RC"
  fi
}

# ---- checks ---------------------------------------------------------------------------------

assert_eq() {
  local expected=$1 actual=$2 what=${3:-value}
  if [ "$expected" != "$actual" ]; then
    fail "$what: expected [$expected], got [$actual]"
  fi
}

# assert_match REGEX ACTUAL WHAT: ACTUAL must match the extended regular expression.
assert_match() {
  local regex=$1 actual=$2 what=${3:-value}
  # A here-string, not a pipe: grep -q exits at its first match, and with pipefail the writer's
  # SIGPIPE would turn a match into a failure.
  if ! grep -Eq -- "$regex" <<<"$actual"; then
    fail "$what: expected to match /$regex/, got [$actual]"
  fi
}

# assert_contains FILE TEXT WHAT: FILE contains the fixed string TEXT.
assert_contains() {
  local file=$1 text=$2 what=${3:-$1}
  if ! grep -qF -- "$text" "$file" 2>/dev/null; then
    show_file "$file"
    fail "$what: expected to contain [$text], it does not"
  fi
}

assert_not_contains() {
  local file=$1 text=$2 what=${3:-$1}
  if grep -qF -- "$text" "$file" 2>/dev/null; then
    grep -nF -- "$text" "$file" | head -5 | sed 's/^/    | /' >&2
    fail "$what: expected not to contain [$text], it does"
  fi
}

# assert_tree_not_contains DIR TEXT: no file below DIR contains TEXT.
assert_tree_not_contains() {
  local dir=$1 text=$2 what=${3:-$1}
  local hits
  hits=$(grep -rlF -- "$text" "$dir" 2>/dev/null || true)
  if [ -n "$hits" ]; then
    fail "$what: expected no file to contain [$text], found it in: $(echo "$hits" | tr '\n' ' ')"
  fi
}

assert_exists() {
  [ -e "$1" ] || [ -L "$1" ] || fail "${2:-$1}: expected to exist, it does not"
}

assert_absent() {
  if [ -e "$1" ] || [ -L "$1" ]; then
    fail "${2:-$1}: expected not to exist, it does"
  fi
}

# assert_file_eq FILE CONTENT: FILE holds exactly CONTENT (a final newline ignored, like $(...)).
assert_file_eq() {
  local file=$1 expected=$2
  [ -f "$file" ] || fail "$file: expected a file holding [$expected], it does not exist"
  assert_eq "$expected" "$(cat "$file")" "content of $file"
}

# ---- JSON -----------------------------------------------------------------------------------

# json_get FILE PATH: the value at PATH (see json_query.py); `<missing: ...>` when absent.
json_get() {
  python3 "$JSON_QUERY" get "$@" || true
}

# step_get DETAILED PHASE STEP PATH: a field of one step of a detailedoutput.json.
step_get() {
  python3 "$JSON_QUERY" step "$@" || true
}

json_keys() {
  python3 "$JSON_QUERY" keys "$@" || true
}

assert_json() {
  local file=$1 path=$2 expected=$3
  assert_eq "$expected" "$(json_get "$file" "$path")" "$(basename "$file") $path"
}

assert_step() {
  local phase=$1 step=$2 path=$3 expected=$4
  assert_eq "$expected" "$(step_get "$DO" "$phase" "$step" "$path")" "step $phase.$step $path"
}

# assert_summary STATUS EXECUTED FAILED IGNORED: the stdout summary of the last run.
assert_summary() {
  python3 "$JSON_QUERY" valid "$OUT" >/dev/null || {
    show_output
    fail "stdout is not JSON"
  }
  assert_json "$OUT" status "$1"
  assert_json "$OUT" executedStepCount "$2"
  assert_json "$OUT" failedStepCount "$3"
  assert_json "$OUT" ignoredFailedStepCount "$4"
}

# ---- processes ------------------------------------------------------------------------------

# wait_for_process PATTERN SECONDS: waits until `pgrep -f PATTERN` finds a process.
wait_for_process() {
  local pattern=$1 tenths=$(($2 * 10))
  while ! pgrep -f -- "$pattern" >/dev/null; do
    tenths=$((tenths - 1))
    [ "$tenths" -gt 0 ] || return 1
    sleep 0.1
  done
}

# assert_no_process PATTERN [SECONDS]: waits until no process matches; SIGKILLs leftovers and
# fails when some are still there (what a step started must not outlive it).
assert_no_process() {
  local pattern=$1 tenths=$((${2:-3} * 10))
  while pgrep -f -- "$pattern" >/dev/null; do
    tenths=$((tenths - 1))
    if [ "$tenths" -le 0 ]; then
      local left
      left=$(pgrep -af -- "$pattern" || true)
      local pid
      for pid in $(pgrep -f -- "$pattern"); do kill -KILL "$pid" 2>/dev/null || true; done
      fail "processes matching /$pattern/ outlived their step: $left"
    fi
    sleep 0.1
  done
}

# A marker unique to this test, to find the processes it started.
unique_marker() {
  printf '%d%05d' "$$" "$RANDOM"
}

# ---- documents ------------------------------------------------------------------------------

# work_dir: a folder for the documents to write into ($T/work).
work_dir() {
  mkdir -p "$T/work"
  echo "$T/work"
}
