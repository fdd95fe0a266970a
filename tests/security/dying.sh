#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031  # functions run by run_kiln_test; $T per test
# Dying cleanly, besides SIGKILL (crash_loop.sh): a `kiln build` whose reader goes away
# (SIGPIPE: `kiln build --json | head -1`) builds on to its end; one whose terminal closes
# (SIGHUP) cancels like Ctrl-C; an image being tested is not offered (kiln image list, wildcards)
# until it is AVAILABLE (AWS's ListImages lists every image version, as AWS does); an image whose distribution failed in one region is taken
# back out of the regions it reached.
# Usage: dying.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged

# status_of ARN: the image's status in the catalog, read without kiln (which would recover it).
status_of() {
  python3 - "$ROOT/state.db" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
row = db.execute("SELECT status FROM images WHERE arn = ?", (sys.argv[2],)).fetchone()
print(row[0] if row else "<none>")
EOF
}

# sandboxes: processes whose mounts name $ROOT in another mount namespace (running instances).
sandboxes() {
  local f count=0 own
  own=$(readlink /proc/self/ns/mnt)
  for f in /proc/[0-9]*; do
    if [ "$(readlink "$f/ns/mnt" 2>/dev/null)" != "$own" ] &&
      grep -qF -- "$ROOT/" "$f/mountinfo" 2>/dev/null; then
      count=$((count + 1))
    fi
  done
  echo "$count"
}

# wait_for FILE TEXT: waits (up to 60 s) until FILE holds TEXT.
wait_for() {
  local tenths=600
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    tenths=$((tenths - 1))
    [ "$tenths" -gt 0 ] || fail "never saw $2 in $1: $(cat "$1")"
    sleep 0.1
  done
}

test_sigpipe_keeps_building() {
  busybox_recipe "$T/r" pipe 'sleep 1; echo built > /etc/built' 'test -s /etc/built'
  # head exits after the first event: every later write of kiln gets EPIPE (or SIGPIPE).
  local statuses
  set +o pipefail
  "$KILN" --root "$ROOT" build "$T/r/recipe.yaml" --json </dev/null 2>"$T/err" | head -n 1 >"$T/first"
  statuses=("${PIPESTATUS[@]}")
  set -o pipefail
  local arn=arn:aws:imagebuilder:local:000000000000:image/pipe/1.0.0/1
  assert_eq AVAILABLE "$(status_of "$arn")" \
    "the image of a build whose reader went away (kiln exit ${statuses[0]})"
  assert_eq 0 "${statuses[0]}" "exit code of kiln build piped into head"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instance folders"
  assert_eq 0 "$(sandboxes)" "sandbox processes"
}

test_sighup_cancels() {
  busybox_recipe "$T/r" hup 'sleep 120' 'true'
  "$KILN" --root "$ROOT" build "$T/r/recipe.yaml" --json </dev/null >"$T/events" 2>"$T/err" &
  local pid=$!
  wait_for "$T/events" '"step":"Work"'
  kill -HUP "$pid"
  local rc=0
  wait "$pid" || rc=$?
  local arn=arn:aws:imagebuilder:local:000000000000:image/hup/1.0.0/1
  assert_eq CANCELLED "$(status_of "$arn")" "the image after SIGHUP (kiln exit $rc)"
  assert_eq 130 "$rc" "exit code of kiln build after SIGHUP"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instance folders"
  assert_eq 0 "$(sandboxes)" "sandbox processes"
}

test_testing_image_not_offered() {
  # A first build is AVAILABLE: the one being tested must not shadow it.
  busybox_recipe "$T/r" half 'echo one > /etc/which' 'test -s /etc/which'
  kiln_ok build "$T/r/recipe.yaml"
  busybox_recipe "$T/r" half 'echo two > /etc/which' 'sleep 120'
  "$KILN" --root "$ROOT" build "$T/r/recipe.yaml" --json </dev/null >"$T/events" 2>"$T/err" &
  local pid=$!
  BG_PIDS="$pid"
  wait_for "$T/events" '"step":"Check"'
  # The changed component makes the recipe's next version: the image half/1.0.1/1.
  local arn=arn:aws:imagebuilder:local:000000000000:image/half/1.0.1/1
  assert_eq TESTING "$(status_of "$arn")" "the second build's status"
  kiln_ok image list
  assert_contains "$OUT" "half/1.0.0/1" "kiln image list (the AVAILABLE build)"
  assert_not_contains "$OUT" "half/1.0.1/1" "kiln image list while half/1.0.1/1 is TESTING"
  kiln_ok image get half/1.x.x
  assert_contains "$OUT" '"version": "1.0.0"' "the wildcard half/1.x.x while 1.0.1 is TESTING"
  kiln_fails image get half/1.0.1/1
  kiln_ok list-image-build-versions \
    --image-version-arn arn:aws:imagebuilder:local:000000000000:image/half/1.0.1
  assert_contains "$OUT" TESTING "list-image-build-versions shows the build with its status"
  kill -INT "$pid"
  wait "$pid" || true
  BG_PIDS=""
  kiln_fails image get half/1.0.1/1
  assert_verify_clean "after the cancelled test"
}

test_distribution_rollback() {
  busybox_recipe "$T/r" dist 'echo payload > /etc/payload' 'true'
  cat >"$T/r/distribution.yaml" <<'EOF'
name: one-good-one-broken
distributions:
  - region: near
  - region: broken
EOF
  # The broken region's store cannot be made: its parent is a file.
  echo "not a folder" >"$T/file"
  kiln_ok region set broken "$T/file/store"
  kiln_fails build "$T/r/recipe.yaml" --distribution "$T/r/distribution.yaml"
  local arn=arn:aws:imagebuilder:local:000000000000:image/dist/1.0.0/1
  assert_eq FAILED "$(status_of "$arn")" "the image whose distribution failed"
  assert_contains "$ROOT/logs/dist/1.0.0/1/build.log" "removed from the region near" \
    "the build log"
  assert_exists "$ROOT/regions/near/index.json" "the region the image reached"
  assert_not_contains "$ROOT/regions/near/index.json" "dist/1.0.0/1" \
    "the index of the region the image reached before the failure"
  kiln_ok image list
  assert_not_contains "$OUT" "dist/1.0.0/1" "kiln image list after the failed distribution"
  assert_not_contains "$ROOT/store/index.json" "dist/1.0.0/1" "the local store's index"
  assert_verify_clean "after the failed distribution"
}

run_kiln_test "SIGPIPE: kiln build | head -1 builds on to AVAILABLE" test_sigpipe_keeps_building
run_kiln_test "SIGHUP: a closed terminal cancels the build cleanly" test_sighup_cancels
run_kiln_test "an image being tested is neither listed nor resolved" test_testing_image_not_offered
run_kiln_test "a failed distribution is taken back out of the regions" test_distribution_rollback
finish
