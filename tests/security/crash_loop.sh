#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031  # functions run by run_kiln_test; $T per test
# Dying cleanly: `kiln build` killed with SIGKILL at random moments, 30 times, then one more
# build that must succeed. Afterwards nothing of the killed builds may be left: no sandbox
# process (bwrap, `kiln __instance-run`, kiln-sandbox-init) on the root, no instance folder, no
# mount, no image in a non-final status, no half-made image in the store, and `kiln store
# verify` clean. The figures are printed (docs/security.md quotes them).
# KILN_CRASH_KILLS sets the number of kills (default 30).
# Usage: crash_loop.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged

KILLS=${KILN_CRASH_KILLS:-30}

# leftover_processes: processes that still use $ROOT: a sandbox (its mounts name the root), a
# kiln helper or bwrap (their command lines name it).
leftover_processes() {
  local f pid count=0
  for f in /proc/[0-9]*; do
    pid=${f#/proc/}
    if [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ]; then continue; fi
    if grep -qF -- "$ROOT/" "$f/mountinfo" 2>/dev/null &&
      [ "$(readlink "$f/ns/mnt" 2>/dev/null)" != "$(readlink /proc/self/ns/mnt)" ]; then
      count=$((count + 1))
    elif { tr '\0' ' ' <"$f/cmdline"; } 2>/dev/null | grep -qF -- "$ROOT/instances"; then
      count=$((count + 1))
    fi
  done
  echo "$count"
}

# unfinished_images: images in the catalog not in a final status (read without kiln, which
# would recover them).
unfinished_images() {
  python3 - "$ROOT/state.db" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
final = ("AVAILABLE", "FAILED", "CANCELLED", "DELETED", "DEPRECATED", "DISABLED")
rows = db.execute("SELECT arn, status, document FROM images").fetchall()
left = [(a, s, d) for (a, s, d) in rows if s not in final]
for arn, status, document in left:  # what failed to be recovered, and who was building it
    print("    not final: %s %s kiln=%s" % (arn, status, json.loads(document).get("kiln")),
          file=sys.stderr)
print(len(left))
EOF
}

# incomplete_in_store: index entries of half-made images.
incomplete_in_store() {
  grep -o '"dev.kiln.image.incomplete"' "$ROOT/store/index.json" | wc -l || true
}

test_crash_loop() {
  local d=$T/recipe
  # A build step and a test step, so that kills land in every stage (launch, build, snapshot,
  # test, the end).
  busybox_recipe "$d" crash 'head -c 20000 /dev/urandom > /etc/payload; sleep 0.3' \
    'test -s /etc/payload; sleep 0.3'
  # A first build bootstraps the parent and tells how long a build takes.
  local begun ended
  begun=$(date +%s%N)
  kiln_ok build "$d/recipe.yaml"
  ended=$(date +%s%N)
  local span_ms=$(((ended - begun) / 1000000))
  echo "    one build takes ${span_ms} ms; killing $KILLS builds at random moments in it" >&2

  local i pid delay_ms
  local started=$SECONDS
  for ((i = 1; i <= KILLS; i++)); do
    "$KILN" --root "$ROOT" build "$d/recipe.yaml" </dev/null >/dev/null 2>&1 &
    pid=$!
    delay_ms=$((RANDOM % span_ms))
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  local kill_seconds=$((SECONDS - started))

  # Right after the kills (the kernel's signals to the sandboxes take a moment), before any
  # kiln command: what the kills left running.
  sleep 1
  local procs_after_kills
  procs_after_kills=$(leftover_processes)

  kiln_ok build "$d/recipe.yaml"
  local procs instances mounts unfinished incomplete failed
  procs=$(leftover_processes)
  instances=$(count_entries "$ROOT/instances")
  mounts=$(mounts_under "$ROOT" | wc -l)
  unfinished=$(unfinished_images)
  incomplete=$(incomplete_in_store)
  failed=$(python3 - "$ROOT/state.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM images WHERE status = 'FAILED'").fetchone()[0])
EOF
  )
  kiln_ok store verify
  local verify=$RC
  grep -q ': ok$' "$OUT" || verify="not ok"
  echo "    crash loop: $KILLS SIGKILLs in ${kill_seconds}s; sandbox processes left right after" \
    "the kills: $procs_after_kills; after one more build: processes $procs, instance folders" \
    "$instances, mounts $mounts, images not final $unfinished, half-made store entries" \
    "$incomplete, builds FAILED as interrupted $failed, store verify: exit $verify" >&2
  assert_eq 0 "$procs_after_kills" "sandbox processes still running right after the kills"
  assert_eq 0 "$procs" "sandbox processes left on the root"
  assert_eq 0 "$instances" "instance folders left"
  assert_eq 0 "$mounts" "mounts left under the root"
  assert_eq 0 "$unfinished" "images in a non-final status"
  assert_eq 0 "$incomplete" "half-made images in the store"
  assert_verify_clean "after the crash loop"
}

run_kiln_test "30 SIGKILLs of kiln build leave nothing behind" test_crash_loop
finish
