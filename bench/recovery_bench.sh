#!/usr/bin/env bash
# Recovery of N interrupted builds (default 100), as `kiln serve` and every kiln command do it at
# start: one real busybox build gives a catalog row, which is cloned N times as BUILDING images
# whose builder is a dead process, each with an instance folder whose sandbox is gone. With
# --reused-pids each instance's monitor pid belongs to a live, unrelated process (a pid reused
# after the sandbox died, as after a reboot).
# Prints the time `kiln list-components` takes to recover them (the CLI path), and the time
# `kiln serve` takes to answer its first request and to end its recovery.
# Usage: recovery_bench.sh <kiln binary> <source dir> [N] [--reused-pids]
set -euo pipefail
KILN=$(realpath "$1")
SRC=$(realpath "$2")
N=${3:-100}
REUSED=${4:-}
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kiln-recovery-bench.XXXXXX")
ROOT=$WORK/root
LIVE=""
cleanup() {
  [ -n "$LIVE" ] && kill "$LIVE" 2>/dev/null || true
  [ -n "${DAEMON:-}" ] && kill -KILL "$DAEMON" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/recipe"
cat >"$WORK/recipe/step.yaml" <<'EOF'
name: step
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Touch
        action: ExecuteBash
        inputs:
          commands:
            - touch /etc/touched
EOF
cat >"$WORK/recipe/recipe.yaml" <<'EOF'
name: recovered
semanticVersion: 1.0.0
parentImage: busybox
components:
  - path: step.yaml
EOF
"$KILN" --root "$ROOT" build "$WORK/recipe/recipe.yaml" >/dev/null 2>&1

sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"
sleep 3600 &
LIVE=$!
MONITOR=$DEAD
[ "$REUSED" = "--reused-pids" ] && MONITOR=$LIVE

python3 - "$ROOT" "$N" "$DEAD" "$MONITOR" <<'EOF'
import json, os, sqlite3, sys
root, n, dead, monitor = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db = sqlite3.connect(os.path.join(root, "state.db"))
cols = [r[1] for r in db.execute("PRAGMA table_info(images)")]
row = dict(zip(cols, db.execute("SELECT * FROM images LIMIT 1").fetchone()))
base_arn = row["arn"].rsplit("/", 1)[0]
for i in range(n):
    build = 1000 + i
    instance = "i-%017x" % (0xb0000000 + i)
    doc = json.loads(row["document"])
    doc["arn"] = "%s/%d" % (base_arn, build)
    doc["state"] = {"status": "BUILDING"}
    doc["kiln"] = {"builder": {"pid": dead, "startTime": 1},
                   "instances": [{"role": "build", "instanceId": instance}]}
    r = dict(row, arn=doc["arn"], build=build, status="BUILDING", document=json.dumps(doc))
    db.execute("INSERT INTO images (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
               [r[c] for c in cols])
    folder = os.path.join(root, "instances", instance)
    for sub in ("upper", "work", "merged"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    record = {"id": instance, "image": doc["arn"], "imageDigest": "", "created": "2026-01-01T00:00:00Z",
              "instanceType": "", "stopped": False, "monitorPid": monitor, "initPid": dead,
              "initStart": 1, "sandbox": {}}
    with open(os.path.join(folder, "instance.json"), "w") as f:
        json.dump(record, f)
db.commit()
EOF
cp -a "$ROOT" "$WORK/root-copy"

begun=$(now)
"$KILN" --root "$ROOT" list-components >/dev/null 2>"$WORK/cli.err" || true
cli=$(calc "$(now) - $begun")
left=$(find "$ROOT/instances" -mindepth 1 -maxdepth 1 | wc -l)
failed=$(grep -c "interrupted" "$WORK/cli.err" || true)
echo "kiln list-components recovered $failed of $N interrupted builds in ${cli}s ($left instance folders left)"

# The daemon on the untouched copy: time to its first answer, and to the end of its recovery.
rm -rf "$ROOT"
mv "$WORK/root-copy" "$ROOT"
export KILN_ACCESS_KEY_ID=AKIDRECOVERYBENCH KILN_SECRET_ACCESS_KEY=recovery-bench-secret
port=$((20000 + RANDOM % 20000))
begun=$(now)
"$KILN" --root "$ROOT" serve --listen "127.0.0.1:$port" >"$WORK/serve.log" 2>&1 &
DAEMON=$!
first=""
while [ -z "$first" ]; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
    first=$(calc "$(now) - $begun")
  fi
  kill -0 "$DAEMON" 2>/dev/null || break
  sleep 0.01
done
until grep -q "recovery done\|listening" "$WORK/serve.log" 2>/dev/null; do sleep 0.01; done
until grep -q "recovery done" "$WORK/serve.log" 2>/dev/null || [ "$(grep -c 'was interrupted' "$WORK/serve.log")" -ge "$N" ]; do
  kill -0 "$DAEMON" 2>/dev/null || break
  sleep 0.01
done
done_at=$(calc "$(now) - $begun")
kill -TERM "$DAEMON"
wait "$DAEMON" 2>/dev/null || true
DAEMON=""
echo "kiln serve answered after ${first:-never}s; recovered $(grep -c 'was interrupted' "$WORK/serve.log" || true) of $N interrupted builds after ${done_at}s"
echo "{\"builds\": $N, \"reusedPids\": $([ "$REUSED" = --reused-pids ] && echo true || echo false), \"cliSeconds\": $cli, \"serveFirstAnswerSeconds\": ${first:-null}, \"serveRecoveredSeconds\": $done_at}"
