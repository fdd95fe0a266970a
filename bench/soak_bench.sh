#!/usr/bin/env bash
# soak_bench.sh KILN [--builds N] [--every M] [--in-flight K]: the daemon's memory over many
# builds. `kiln serve` on a loopback port builds N images (default 500) of a one-step busybox
# recipe through the API (CreateImage signed with curl's --aws-sigv4, GetImage polled), K at a
# time (default 2); every M builds (default 50) it samples the daemon's VmRSS, VmHWM and open
# file descriptors from /proc. Prints a table and one JSON line. Needs root, bubblewrap, busybox.
# --wrap 'CMD ARGS' starts the daemon under CMD, e.g. --wrap 'heaptrack -o /tmp/soak' to see
# which allocations grow (heaptrack_print --print-leaks); the samples are then the daemon's own.
set -euo pipefail
KILN=$(realpath "$1")
shift
BUILDS=500
EVERY=50
IN_FLIGHT=2
WRAP=()
while [ $# -gt 0 ]; do
  case $1 in
    --builds) BUILDS=$2; shift 2 ;;
    --every) EVERY=$2; shift 2 ;;
    --in-flight) IN_FLIGHT=$2; shift 2 ;;
    --wrap) read -r -a WRAP <<<"$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ] || ! command -v bwrap >/dev/null || ! command -v busybox >/dev/null; then
  echo "skipped: needs root, bubblewrap and busybox"
  exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/kiln-soak-bench.XXXXXX")
DAEMON=
trap '[ -n "$DAEMON" ] && kill -TERM "${PID:-$DAEMON}" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
KEY=AKIDKILNSOAK0000001
SECRET=kiln-soak-secret

mkdir -p "$W/root"
KILN_ACCESS_KEY_ID=$KEY KILN_SECRET_ACCESS_KEY=$SECRET \
  ${WRAP[@]+"${WRAP[@]}"} "$KILN" --root "$W/root" serve --listen 127.0.0.1:0 --max-builds "$IN_FLIGHT" \
  >"$W/daemon.log" 2>&1 &
DAEMON=$!
PORT=
for _ in $(seq 1 300); do
  PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$W/daemon.log" | grep -o '[0-9]*$' || true)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$W/daemon.log"; exit 1; }
# The daemon itself, not a wrapper that started it (its samples are the daemon's).
PID=$DAEMON
if [ ${#WRAP[@]} -gt 0 ]; then
  PID=$(pgrep -n -f -- "--root $W/root serve")
fi
call() {  # call METHOD PATH [BODY]
  curl -sf --aws-sigv4 "aws:amz:local:imagebuilder" --user "$KEY:$SECRET" -X "$1" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "http://127.0.0.1:$PORT$2"
}
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
doc='name: app\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: One\n        action: ExecuteBash\n        inputs:\n          commands:\n            - echo one > /etc/one\n'
component=$(call PUT /CreateComponent "{\"name\":\"app\",\"semanticVersion\":\"1.0.0\",\"platform\":\"Linux\",\"data\":\"$doc\",\"clientToken\":\"c1\"}" |
  field componentBuildVersionArn)
recipe=$(call PUT /CreateImageRecipe "{\"name\":\"soak\",\"semanticVersion\":\"1.0.0\",\"parentImage\":\"busybox\",\"components\":[{\"componentArn\":\"$component\"}],\"clientToken\":\"c2\"}" |
  field imageRecipeArn)
infra=$(call PUT /CreateInfrastructureConfiguration "{\"name\":\"soak\",\"instanceProfileName\":\"none\",\"clientToken\":\"c3\"}" |
  field infrastructureConfigurationArn)

sample() {  # sample BUILDS: one row of the table
  local rss hwm fds
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$PID/status")
  hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$PID/status")
  fds=$(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
  printf '%6d builds  VmRSS %7d kB  VmHWM %7d kB  fds %4d  %s\n' "$1" "$rss" "$hwm" "$fds" "$(date +%T)"
  SAMPLES="${SAMPLES:+$SAMPLES, }[$1, $rss]"
}

# The images are built IN_FLIGHT at a time: each wave is submitted, then polled until all ended.
done_builds=0
failed=0
SAMPLES=
sample 0
while [ "$done_builds" -lt "$BUILDS" ]; do
  arns=()
  for _ in $(seq 1 "$IN_FLIGHT"); do
    arns+=("$(call PUT /CreateImage "{\"imageRecipeArn\":\"$recipe\",\"infrastructureConfigurationArn\":\"$infra\",\"clientToken\":\"$(cat /proc/sys/kernel/random/uuid)\"}" |
      field imageBuildVersionArn)")
  done
  for arn in "${arns[@]}"; do
    query="/GetImage?imageBuildVersionArn=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$arn")"
    while true; do
      status=$(call GET "$query" | grep -o '"state":{"status":"[A-Z_]*"' | head -1 | cut -d'"' -f6)
      case $status in
        AVAILABLE) break ;;
        FAILED | CANCELLED) failed=$((failed + 1)); break ;;
      esac
      sleep 0.05
    done
    done_builds=$((done_builds + 1))
    if [ $((done_builds % EVERY)) = 0 ]; then
      sample "$done_builds"
    fi
  done
done
[ "$failed" = 0 ] || { echo "$failed builds failed" >&2; tail -20 "$W/daemon.log" >&2; }
printf '{"bench": "serve-soak", "builds": %d, "failed": %d, "rss_kb": [%s]}\n' \
  "$done_builds" "$failed" "$SAMPLES"
