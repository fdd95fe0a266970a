# shellcheck shell=bash disable=SC2034,SC2030,SC2031
# Helpers for the integration tests of the `kiln` binary (tests/integration/kiln_*.sh), on top
# of lib.sh. A script starts with
#
#   source "$(dirname "$0")/kiln_lib.sh" "$@"   # args: <kiln binary> <source dir> <build dir>
#   kiln_require_privileged                     # exits 77 unless root with bwrap, nsenter, busybox
#
# and calls `run_kiln_test NAME FUNCTION` per test, then `finish`. Each test gets, besides lib.sh's
# temporary folder $T, its own kiln root $ROOT ($T/root); when the test ends, every instance
# still in $ROOT is terminated (its processes killed if terminate fails) before $T is removed.

# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
KILN=$KILN_TOE

# kiln_require_privileged: exits 77 (skipped) when not root or when a tool kiln needs is missing.
kiln_require_privileged() {
  if [ "$(id -u)" != 0 ]; then
    echo "skipped: needs root (mount namespaces, overlayfs, bwrap as root)" >&2
    exit 77
  fi
  local tool
  for tool in bwrap nsenter busybox; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "skipped: needs $tool" >&2
      exit 77
    fi
  done
  if ! unshare --mount --propagation private -- true 2>/dev/null; then
    echo "skipped: root here may not unshare a mount namespace" >&2
    exit 77
  fi
}

# run_kiln_test NAME FUNCTION [ARGS...]: lib.sh's run_test with a kiln root $ROOT of its own.
run_kiln_test() {
  local name=$1
  shift
  run_test "$name" _kiln_test "$@"
}

_kiln_test() {
  ROOT=$T/root
  mkdir -p "$ROOT"
  trap _kiln_cleanup EXIT
  "$@"
}

# Terminates what the test left running, then lib.sh's cleanup removes $T.
_kiln_cleanup() {
  local rc=$?
  local dir
  for dir in "$ROOT"/instances/i-*; do
    [ -d "$dir" ] || continue
    timeout -k 5 60 "$KILN" --root "$ROOT" instance terminate "$(basename "$dir")" >/dev/null 2>&1 || true
  done
  # Nothing of the test may stay mounted on the host (rm -rf must not walk into a mount).
  local mnt
  awk -v t="$T" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r mnt; do
      umount -l "$mnt" 2>/dev/null || true
    done
  # Processes kiln lost track of: those in another mount namespace whose mounts name this test's
  # root (a sandbox on it, or a kiln helper inside one). Not those holding only a copy of an
  # instance's disk (<instance>/disk), which any namespace made while it was mounted has.
  local f pid own_ns
  own_ns=$(readlink /proc/self/ns/mnt)
  for f in /proc/[0-9]*/mountinfo; do
    pid=${f#/proc/}
    pid=${pid%/mountinfo}
    if [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" != "$own_ns" ] &&
      grep -F -- "$ROOT/" "$f" 2>/dev/null | grep -qv -- " $ROOT/instances/i-[0-9a-f]*/disk "; then
      echo "    (cleanup: killing process $pid left running on $ROOT)" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  _cleanup_test
  return "$rc"
}

# ---- running kiln ---------------------------------------------------------------------------

# kiln ARGS...: runs `kiln --root $ROOT ARGS`; stdout in $OUT, stderr in $ERR, exit code in $RC.
kiln() {
  OUT=$T/.stdout
  ERR=$T/.stderr
  RC=0
  LAST="kiln $*"
  timeout -k 5 "$KILN_IT_RUN_TIMEOUT" "$KILN" --root "$ROOT" "$@" </dev/null >"$OUT" 2>"$ERR" ||
    RC=$?
  if [ "$RC" = 124 ]; then
    show_output
    fail "$LAST did not finish within ${KILN_IT_RUN_TIMEOUT}s"
  fi
}

# kiln_ok ARGS...: kiln, which must succeed.
kiln_ok() {
  kiln "$@"
  if [ "$RC" != 0 ]; then
    show_output
    fail "$LAST: expected exit code 0, got $RC"
  fi
}

# kiln_fails ARGS...: kiln, which must fail (any non-zero exit code but a crash's).
kiln_fails() {
  kiln "$@"
  if [ "$RC" = 0 ]; then
    show_output
    fail "$LAST: expected to fail, it succeeded"
  fi
  if [ "$RC" -ge 128 ] && [ "$RC" != 130 ]; then
    show_output
    fail "$LAST: expected an error exit code, got $RC (killed by signal $((RC - 128)))"
  fi
}

# show_output: the last kiln's stdout and stderr, for a failure message (lib.sh's, for kiln).
show_output() {
  {
    echo "    --- stdout of ${LAST:-kiln}:"
    tail -n 40 "$OUT" | sed 's/^/    | /'
    echo "    --- stderr:"
    tail -n 40 "$ERR" | sed 's/^/    | /'
  } >&2
}

# stdout_text: the last kiln's stdout.
stdout_text() {
  cat "$OUT"
}

# launch REF [ARGS...]: launches an instance; its id (the last word printed) in $ID.
launch() {
  kiln_ok instance launch "$@"
  ID=$(tr -s ' \t\n' '\n' <"$OUT" | grep . | tail -n 1)
  assert_match '^i-[0-9a-f]{17}$' "$ID" "the instance id printed by kiln instance launch"
}

# in_instance ID CMD...: `kiln instance exec ID -- CMD...`, which must succeed; output in $OUT.
in_instance() {
  local id=$1
  shift
  kiln instance exec "$id" -- "$@"
  if [ "$RC" != 0 ]; then
    show_output
    fail "$LAST: expected exit code 0, got $RC"
  fi
}

# sh_in ID SCRIPT: runs SCRIPT with /bin/sh -c in the instance, which must succeed.
sh_in() {
  in_instance "$1" /bin/sh -c "$2"
}

# assert_stdout EXPECTED WHAT: the last kiln's stdout is EXPECTED (final newline ignored).
assert_stdout() {
  local got
  got=$(cat "$OUT")
  if [ "$1" != "$got" ]; then
    show_output
    fail "${2:-stdout of $LAST}: expected [$1], got [$got]"
  fi
}

# image_field REF PATH: a field of `kiln image get REF` (json_query.py path).
image_field() {
  kiln_ok image get "$1"
  json_get "$OUT" "$2"
}

# instance_field ID PATH: a field of the instance's entry in `kiln instance list --json`.
instance_field() {
  kiln_ok instance list --json
  python3 - "$OUT" "$1" "$2" <<'EOF'
import json, sys
path, wanted, field = sys.argv[1:]
for entry in json.load(open(path)):
    if entry.get("id") == wanted:
        value = entry
        for part in field.split("."):
            value = value[part] if isinstance(value, dict) else value[int(part)]
        print(value if isinstance(value, str) else json.dumps(value))
        break
else:
    print("<missing: no instance " + wanted + ">")
EOF
}

# assert_verify_clean: `kiln store verify` exits 0 and says ok.
assert_verify_clean() {
  kiln store verify
  if [ "$RC" != 0 ] || ! grep -q ': ok$' "$OUT"; then
    show_output
    fail "kiln store verify${1:+ ($1)}: expected exit 0 and ': ok', got exit $RC"
  fi
}

# mounts_under PATH: lines of /proc/self/mountinfo whose mount point or root mentions PATH.
mounts_under() {
  grep -F -- "$1" /proc/self/mountinfo || true
}

# count_files DIR: regular files and symlinks below DIR (0 when it does not exist).
count_files() {
  if [ -d "$1" ]; then
    find "$1" \( -type f -o -type l \) | wc -l
  else
    echo 0
  fi
}

# count_entries DIR: entries directly in DIR (0 when it does not exist).
count_entries() {
  if [ -d "$1" ]; then
    find "$1" -mindepth 1 -maxdepth 1 | wc -l
  else
    echo 0
  fi
}

# bootstrap_busybox NAME VERSION: `kiln image bootstrap busybox`, which must succeed.
bootstrap_busybox() {
  kiln_ok image bootstrap busybox --name "$1" --version "$2"
}

# two_phase_component FILE NAME BUILD_COMMAND TEST_COMMAND: a component document whose build
# phase (step Work) and test phase (step Check) each run one ExecuteBash command.
two_phase_component() {
  cat >"$1" <<EOF
name: $2
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Work
        action: ExecuteBash
        inputs:
          commands:
            - $3
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands:
            - $4
EOF
}

# busybox_recipe DIR NAME BUILD_COMMAND TEST_COMMAND: DIR/recipe.yaml, a recipe (version 1.0.x)
# on the busybox parent with one local component (DIR/component.yaml, two_phase_component).
busybox_recipe() {
  local d=$1 name=$2
  mkdir -p "$d"
  two_phase_component "$d/component.yaml" "$name-work" "$3" "$4"
  cat >"$d/recipe.yaml" <<EOF
name: $name
semanticVersion: 1.0.x
parentImage: busybox
components:
  - path: component.yaml
EOF
}

# tar_list FILE: the entries of a tar archive, one per line, without "./" and a final "/".
tar_list() {
  tar -tf "$1" | sed -e 's|^\./||' -e 's|/$||' | grep -v '^\.\?$' | sort
}

# ---- the daemon -----------------------------------------------------------------------------

# start_kiln_daemon ROOT [ARGS...]: `kiln serve` over ROOT on a free loopback port with the access
# key $KEY_ID/$SECRET; its pid in $DAEMON, its port in $PORT. Its output is appended to
# $T/daemon.log (a restart adds to it; the port is read from the newest start).
start_kiln_daemon() {
  local root=$1
  shift
  mkdir -p "$root"
  local before
  before=$(grep -c 'listening on' "$T/daemon.log" 2>/dev/null || true)
  KILN_ACCESS_KEY_ID=$KEY_ID KILN_SECRET_ACCESS_KEY=$SECRET \
    "$KILN" --root "$root" serve --listen 127.0.0.1:0 "$@" >>"$T/daemon.log" 2>&1 &
  DAEMON=$!
  local tenths=300 starts
  PORT=
  while [ -z "$PORT" ]; do
    starts=$(grep -c 'listening on' "$T/daemon.log" 2>/dev/null || true)
    if [ "${starts:-0}" -gt "${before:-0}" ]; then
      PORT=$(grep -o 'listening on http[s]*://127.0.0.1:[0-9]*' "$T/daemon.log" | tail -n 1 |
        grep -o '[0-9]*$')
      break
    fi
    kill -0 "$DAEMON" 2>/dev/null || fail "kiln serve exited: $(cat "$T/daemon.log")"
    tenths=$((tenths - 1))
    [ "$tenths" -gt 0 ] || fail "kiln serve did not start listening: $(cat "$T/daemon.log")"
    sleep 0.1
  done
}

# stop_kiln_daemon: SIGTERM to the daemon, SIGKILL when it has not ended within 30 s.
stop_kiln_daemon() {
  if [ -n "${DAEMON:-}" ] && kill -0 "$DAEMON" 2>/dev/null; then
    kill -TERM "$DAEMON" 2>/dev/null || true
    timeout 30 tail --pid="$DAEMON" -f /dev/null 2>/dev/null || kill -KILL "$DAEMON" 2>/dev/null || true
  fi
}
