#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# The `kiln` resource verbs against a daemon (KILN_ENDPOINT): the same commands against
# `kiln serve` and embedded over another root print the same JSON, YAML and tables (request ids,
# client tokens, dates and the roots' paths aside), a build the daemon runs is waited for until
# AVAILABLE, `kiln build` creates its resources on the daemon, AWS's errors and exit codes are
# the embedded ones, a cancel from another shell ends a waiting create-image with 130, a closed
# port and a wrong secret fail clearly. Needs root, bwrap and busybox (the daemon builds).
# Usage: kiln_remote.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
kiln_require_privileged
export KILN_COMPONENTS_DIR=$SRC/components
unset KILN_REGION KILN_ACCOUNT_ID KILN_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
KEY_ID=AKIDKILNREMOTE00001
SECRET=kiln-remote-secret-0001

# start_daemon: kiln serve over $T/daemon-root (kiln_lib.sh's start_kiln_daemon).
start_daemon() {
  start_kiln_daemon "$T/daemon-root"
  trap '_stop_daemon; _kiln_cleanup' EXIT
}

_stop_daemon() {
  stop_kiln_daemon
  # The daemon's instances live under its root.
  ROOT=$T/daemon-root _kiln_cleanup_instances
}

_kiln_cleanup_instances() {
  local dir
  for dir in "$ROOT"/instances/i-*; do
    [ -d "$dir" ] || continue
    timeout -k 5 60 "$KILN" --root "$ROOT" instance terminate "$(basename "$dir")" >/dev/null 2>&1 || true
  done
}

# remote ARGS...: kiln against the daemon (its own --root stays unused); like kiln().
remote() {
  KILN_ENDPOINT=${ENDPOINT:-http://127.0.0.1:$PORT} KILN_ACCESS_KEY_ID=$KEY_ID \
    KILN_SECRET_ACCESS_KEY=${REMOTE_SECRET:-$SECRET} ROOT=$T/client-root kiln "$@"
}
remote_ok() {
  KILN_ENDPOINT=http://127.0.0.1:$PORT KILN_ACCESS_KEY_ID=$KEY_ID KILN_SECRET_ACCESS_KEY=$SECRET \
    ROOT=$T/client-root kiln_ok "$@"
}
# embedded_ok ARGS...: kiln over $T/embedded-root, no daemon.
embedded_ok() {
  ROOT=$T/embedded-root kiln_ok "$@"
}
embedded() {
  ROOT=$T/embedded-root kiln "$@"
}

# normalize FILE: what may differ between two catalogs made at other times in other roots:
# request ids, client tokens, dates, durations, process ids, the roots' paths, and what two builds
# of one recipe differ in (layer digests, instance ids).
normalize() {
  python3 - "$1" "$T" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
text = text.replace(sys.argv[2] + "/daemon-root", "ROOT").replace(sys.argv[2] + "/embedded-root", "ROOT")
def scrub_text(t):
    # What two builds of one recipe differ in: dates, layer digests, instance ids.
    t = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?", "DATE", t)
    t = re.sub(r"sha256:[0-9a-f]{64}", "DIGEST", t)
    return re.sub(r"\bi-[0-9a-f]{17}\b", "INSTANCE", t)
def scrub(v):
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in ("requestId", "clientToken") or k.startswith("date") or k.startswith("kiln."):
                out[k] = "*"
            elif k in ("seconds", "pid", "startTime", "builder"):
                out[k] = "*"
            else:
                out[k] = scrub(x)
        return out
    if isinstance(v, list):
        return [scrub(x) for x in v]
    if isinstance(v, str):
        return scrub_text(v)
    return v
try:
    print(json.dumps(scrub(json.loads(text)), indent=2))
except ValueError:
    print(scrub_text(text), end="")
EOF
}

# both NAME ARGS...: the command remote and embedded; both must succeed and print the same
# (normalized) output. The remote stdout stays in $OUT.
both() {
  local name=$1
  shift
  embedded_ok "$@"
  normalize "$OUT" >"$T/embedded.$name"
  remote_ok "$@"
  normalize "$OUT" >"$T/remote.$name"
  if ! diff -u "$T/embedded.$name" "$T/remote.$name" >&2; then
    fail "kiln $* printed something else against the daemon ($name)"
  fi
}

write_component() {
  two_phase_component "$1" remote-setup "sleep ${2:-0}; echo remote > /etc/remote" \
    'grep -q remote /etc/remote'
}

# ---- the tests ------------------------------------------------------------------------------

test_same_output() {
  start_daemon
  write_component "$T/setup.yaml"
  both create_component create-component --name remote-setup --semantic-version 1.0.0 \
    --platform Linux --file "$T/setup.yaml"
  local component
  component=$(json_get "$OUT" componentBuildVersionArn)
  assert_eq arn:aws:imagebuilder:local:000000000000:component/remote-setup/1.0.0/1 "$component"
  both list_components_table list-components
  assert_contains "$OUT" "remote-setup"
  both list_components list-components --output json
  both list_managed list-components --owner Amazon --output json
  both get_component_yaml get-component --component-build-version-arn "$component" --output yaml
  assert_contains "$OUT" "name: remote-setup"
  both get_component get-component --component-build-version-arn "$component"
  assert_json "$OUT" component.arn "$component"

  cat >"$T/recipe.yaml" <<EOF
name: remote-image
semanticVersion: 1.0.0
parentImage: busybox
components:
  - componentArn: $component
EOF
  both create_recipe create-image-recipe --cli-input-yaml "$T/recipe.yaml"
  local recipe
  recipe=$(json_get "$OUT" imageRecipeArn)
  both create_infra create-infrastructure-configuration --name builders \
    --instance-profile-name kiln --instance-types t3.small
  local infra
  infra=$(json_get "$OUT" infrastructureConfigurationArn)
  both get_infra_yaml get-infrastructure-configuration --infrastructure-configuration-arn \
    "$infra" --output yaml

  # create-image: embedded builds in the foreground, remote waits for the daemon's build.
  both create_image create-image --image-recipe-arn "$recipe" \
    --infrastructure-configuration-arn "$infra"
  local image
  image=$(json_get "$OUT" imageBuildVersionArn)
  assert_eq arn:aws:imagebuilder:local:000000000000:image/remote-image/1.0.0/1 "$image"
  assert_contains "$ERR" "AVAILABLE" "the statuses the wait printed"
  both get_image get-image --image-build-version-arn "$image"
  assert_json "$OUT" image.state.status AVAILABLE
  both get_image_yaml get-image --image-build-version-arn "$image" --output yaml
  both list_images list-images --output json
  both list_builds list-image-build-versions --output json \
    --image-version-arn arn:aws:imagebuilder:local:000000000000:image/remote-image/1.0.0
  # The daemon built it: the image is in its store, and the client's root holds nothing.
  assert_exists "$T/daemon-root/state.db"
  assert_absent "$T/client-root/state.db"
}

# same_error NAME ARGS...: the command fails remote and embedded with the same exit code and the
# same error line.
same_error() {
  local name=$1
  shift
  embedded "$@"
  local embedded_rc=$RC
  grep '^kiln: error:' "$ERR" >"$T/embedded.$name" || fail "kiln $*: no error line embedded"
  remote "$@"
  [ "$RC" = "$embedded_rc" ] || fail "kiln $*: exit code $RC against the daemon, $embedded_rc embedded"
  grep '^kiln: error:' "$ERR" >"$T/remote.$name" || fail "kiln $*: no error line remote"
  if ! diff -u "$T/embedded.$name" "$T/remote.$name" >&2; then
    fail "kiln $* failed otherwise against the daemon"
  fi
}

test_errors() {
  start_daemon
  write_component "$T/setup.yaml"
  both create_component create-component --name remote-setup --semantic-version 1.0.0 \
    --platform Linux --file "$T/setup.yaml"
  cat >"$T/bad-recipe.yaml" <<'EOF'
name: bad
semanticVersion: x.2.x
parentImage: busybox
components:
  - componentArn: arn:aws:imagebuilder:local:000000000000:component/remote-setup/1.0.0/1
EOF
  same_error bad_version create-image-recipe --cli-input-yaml "$T/bad-recipe.yaml"
  assert_eq 2 "$RC" "the exit code of an invalid request"
  assert_contains "$ERR" "kiln: error: InvalidParameterValueException:"
  same_error not_found get-component --component-build-version-arn \
    arn:aws:imagebuilder:local:000000000000:component/nothing/1.0.0/1
  assert_eq 3 "$RC" "the exit code of a missing resource"
  assert_contains "$ERR" "ResourceNotFoundException"
  same_error no_profile create-infrastructure-configuration --name nothing
  assert_contains "$ERR" "InvalidRequestException"
  remote_ok list-image-recipes --output json
  assert_json "$OUT" imageRecipeSummaryList '[]'

  # A closed port: which endpoint could not be reached.
  local closed
  closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ENDPOINT=http://127.0.0.1:$closed remote list-components
  [ "$RC" != 0 ] || fail "a closed port answered"
  assert_contains "$ERR" "cannot reach the kiln daemon at http://127.0.0.1:$closed"
  # A wrong secret: the daemon's refusal.
  REMOTE_SECRET=wrong-secret remote list-components
  [ "$RC" != 0 ] || fail "a wrong secret was served"
  assert_contains "$ERR" "kiln: error: InvalidSignatureException:"
  # No key at all.
  KILN_ENDPOINT=http://127.0.0.1:$PORT ROOT=$T/client-root kiln list-components
  [ "$RC" = 2 ] || fail "no key: expected exit code 2, got $RC"
  assert_contains "$ERR" "KILN_ACCESS_KEY_ID"
}

test_build_and_cancel() {
  start_daemon
  write_component "$T/setup.yaml" 0
  cat >"$T/build.yaml" <<'EOF'
name: remote-build
semanticVersion: 1.0.0
parentImage: busybox
components:
  - path: setup.yaml
EOF
  remote_ok build "$T/build.yaml"
  assert_eq arn:aws:imagebuilder:local:000000000000:image/remote-build/1.0.0/1 "$(cat "$OUT")" \
    "the ARN kiln build printed"
  assert_contains "$ERR" "AVAILABLE"
  remote_ok get-image --image-build-version-arn \
    arn:aws:imagebuilder:local:000000000000:image/remote-build/1.0.0/1
  assert_json "$OUT" image.state.status AVAILABLE
  remote_ok list-components --output json
  assert_contains "$OUT" "component/remote-setup/1.0.0" "the component kiln build created"
  assert_absent "$T/client-root/state.db"

  # A waiting create-image ends with 130 when another shell cancels the build.
  write_component "$T/slow.yaml" 60
  remote_ok create-component --name slow --semantic-version 1.0.0 --platform Linux \
    --file "$T/slow.yaml"
  local component
  component=$(json_get "$OUT" componentBuildVersionArn)
  remote_ok create-image-recipe --name slow-image --semantic-version 1.0.0 \
    --parent-image busybox --components "[{\"componentArn\": \"$component\"}]"
  local recipe
  recipe=$(json_get "$OUT" imageRecipeArn)
  remote_ok list-infrastructure-configurations --output json
  local infra
  infra=$(json_get "$OUT" infrastructureConfigurationSummaryList.0.arn)
  KILN_ENDPOINT=http://127.0.0.1:$PORT KILN_ACCESS_KEY_ID=$KEY_ID KILN_SECRET_ACCESS_KEY=$SECRET \
    "$KILN" --root "$T/client-root" create-image --image-recipe-arn "$recipe" \
    --infrastructure-configuration-arn "$infra" >"$T/wait.out" 2>"$T/wait.err" &
  local waiter=$! image="" _
  for _ in $(seq 1 300); do
    image=$(json_get "$T/wait.out" imageBuildVersionArn 2>/dev/null || true)
    case $image in arn:*) grep -q BUILDING "$T/wait.err" && break ;; esac
    sleep 0.1
  done
  grep -q BUILDING "$T/wait.err" || fail "the build never showed BUILDING: $(cat "$T/wait.err")"
  remote_ok cancel-image-creation --image-build-version-arn "$image"
  local rc=0
  wait "$waiter" || rc=$?
  assert_eq 130 "$rc" "the exit code of a cancelled wait"
  assert_contains "$T/wait.err" "CANCELLED"
  # --no-build means nothing to a daemon.
  remote create-image --no-build --image-recipe-arn "$recipe" --infrastructure-configuration-arn "$infra"
  [ "$RC" = 2 ] || fail "--no-build against a daemon: expected exit code 2, got $RC"
}

run_kiln_test same_output test_same_output
run_kiln_test errors test_errors
run_kiln_test build_and_cancel test_build_and_cancel
finish
