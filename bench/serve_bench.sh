#!/usr/bin/env bash
# serve_bench.sh KILN [--runs N]: the overhead of a build through the daemon's API against
# `kiln build` of the same recipe (two ExecuteBash steps and a test phase on busybox): CreateImage
# signed with curl's --aws-sigv4, then GetImage every 20 ms until AVAILABLE, against the CLI's
# wall time. Prints medians, the overhead and one JSON line. Needs root, bubblewrap, busybox.
set -euo pipefail
KILN=$(realpath "$1")
shift
RUNS=5
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ] || ! command -v bwrap >/dev/null || ! command -v busybox >/dev/null; then
  echo "skipped: needs root, bubblewrap and busybox"
  exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/kiln-serve-bench.XXXXXX")
DAEMON=
trap '[ -n "$DAEMON" ] && kill -TERM $DAEMON 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
KEY=AKIDKILNBENCH000001
SECRET=kiln-bench-secret
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

cat >"$W/app.yaml" <<'EOF'
name: app
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: One
        action: ExecuteBash
        inputs:
          commands:
            - echo one > /etc/one
      - name: Two
        action: ExecuteBash
        inputs:
          commands:
            - echo two > /etc/two
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands:
            - grep -q two /etc/two
EOF
printf 'name: bench-cli\nsemanticVersion: 1.0.0\nparentImage: busybox\ncomponents:\n  - path: app.yaml\n' \
  >"$W/recipe.yaml"

# The CLI.
cli=()
"$KILN" --root "$W/cli" build "$W/recipe.yaml" >/dev/null 2>&1  # the parent, once
for _ in $(seq 1 "$RUNS"); do
  t0=$(now)
  "$KILN" --root "$W/cli" build "$W/recipe.yaml" >/dev/null 2>"$W/cli.err" || { cat "$W/cli.err"; exit 1; }
  t1=$(now)
  cli+=("$(calc "$t1 - $t0")")
done

# The daemon (kiln serve does not create its root, unlike kiln build).
mkdir -p "$W/api"
KILN_ACCESS_KEY_ID=$KEY KILN_SECRET_ACCESS_KEY=$SECRET \
  "$KILN" --root "$W/api" serve --listen 127.0.0.1:0 >"$W/daemon.log" 2>&1 &
DAEMON=$!
PORT=
for _ in $(seq 1 100); do
  PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$W/daemon.log" | grep -o '[0-9]*$' || true)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$W/daemon.log"; exit 1; }
call() {  # call METHOD PATH [BODY]
  curl -sf --aws-sigv4 "aws:amz:local:imagebuilder" --user "$KEY:$SECRET" -X "$1" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "http://127.0.0.1:$PORT$2"
}
data=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$W/app.yaml")
component=$(call PUT /CreateComponent "{\"name\":\"app\",\"semanticVersion\":\"1.0.0\",\"platform\":\"Linux\",\"data\":$data,\"clientToken\":\"c1\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["componentBuildVersionArn"])')
recipe=$(call PUT /CreateImageRecipe "{\"name\":\"bench-api\",\"semanticVersion\":\"1.0.0\",\"parentImage\":\"busybox\",\"components\":[{\"componentArn\":\"$component\"}],\"clientToken\":\"c2\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["imageRecipeArn"])')
infra=$(call PUT /CreateInfrastructureConfiguration "{\"name\":\"bench\",\"instanceProfileName\":\"none\",\"clientToken\":\"c3\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["infrastructureConfigurationArn"])')
build_via_api() {
  local arn status
  arn=$(call PUT /CreateImage "{\"imageRecipeArn\":\"$recipe\",\"infrastructureConfigurationArn\":\"$infra\",\"clientToken\":\"$(cat /proc/sys/kernel/random/uuid)\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["imageBuildVersionArn"])')
  # The poll itself stays cheap (one curl, one grep): starting python3 twice per poll would add
  # tens of ms to every round and to the figure.
  local query
  query="/GetImage?imageBuildVersionArn=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$arn")"
  while true; do
    status=$(call GET "$query" | grep -o '"state":{"status":"[A-Z_]*"' | head -1 | cut -d'"' -f6)
    case $status in
      AVAILABLE) return 0 ;;
      FAILED | CANCELLED) echo "build $arn ended $status" >&2; return 1 ;;
    esac
    sleep 0.02
  done
}
build_via_api  # the parent, once
api=()
for _ in $(seq 1 "$RUNS"); do
  t0=$(now)
  build_via_api
  t1=$(now)
  api+=("$(calc "$t1 - $t0")")
done
c=$(printf '%s\n' "${cli[@]}" | median)
a=$(printf '%s\n' "${api[@]}" | median)
printf 'kiln build (CLI):                       median %.3f s\n' "$c"
printf 'CreateImage + GetImage polling (API):  median %.3f s\n' "$a"
printf 'overhead of the API: %.3f s (%.2fx)\n' "$(calc "$a - $c")" "$(calc "$a / $c")"
printf '{"bench": "serve-build", "runs": %d, "cli_s": %.3f, "api_s": %.3f}\n' "$RUNS" "$c" "$a"
