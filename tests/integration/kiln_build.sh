#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# `kiln build` end to end on busybox recipes: AVAILABLE with logs and outputs; a failing step
# gives FAILED with the component, step, exit code and stderr tail; the test stage runs on a
# fresh instance; recipe parameters; a reboot mid-build; distribution to two local regions
# copying only missing blobs; cancel (Ctrl-C and cancel-image-creation) leaves no instance;
# terminateInstanceOnFailure false keeps one. Needs root, bwrap, nsenter and busybox.
# Usage: kiln_build.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
kiln_require_privileged

# ---- helpers --------------------------------------------------------------------------------

# text_contains TEXT NEEDLE WHAT / text_lacks TEXT NEEDLE WHAT: lib.sh's file assertions on text.
text_contains() {
  printf '%s\n' "$1" >"$T/.text"
  assert_contains "$T/.text" "$2" "$3"
}
text_lacks() {
  printf '%s\n' "$1" >"$T/.text"
  assert_not_contains "$T/.text" "$2" "$3"
}

# write_recipe DIR NAME COMPONENT_FILES...: a busybox recipe of the given local components.
write_recipe() {
  local dir=$1 name=$2
  shift 2
  mkdir -p "$dir"
  {
    echo "name: $name"
    echo "semanticVersion: 1.0.x"
    echo "parentImage: busybox"
    echo "components:"
    local c
    for c in "$@"; do
      echo "  - path: $c"
    done
  } >"$dir/recipe.yaml"
}

# build_ok RECIPE [ARGS...]: kiln build, which must succeed; the image ARN in $ARN.
build_ok() {
  kiln_ok build "$@"
  ARN=$(tail -n 1 "$OUT")
  assert_match '^arn:aws:imagebuilder:local:000000000000:image/' "$ARN" "the ARN kiln build prints"
}

# image_json ARN: `kiln get-image` of ARN, the image object in $T/image.json.
image_json() {
  kiln_ok get-image --image-build-version-arn "$1"
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["image"]))' "$OUT" \
    >"$T/image.json"
}

# assert_no_instances WHAT: no instance folder is left in $ROOT and nothing of $ROOT is mounted.
assert_no_instances() {
  local left
  left=$(count_entries "$ROOT/instances")
  assert_eq 0 "$left" "instances left after $1"
  assert_eq "" "$(mounts_under "$ROOT")" "mounts left after $1"
}

# ---- the tests ------------------------------------------------------------------------------

test_available_end_to_end() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/hello.yaml" <<'EOF'
name: hello
description: writes a file and checks it
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
phases:
  - name: build
    steps:
      - name: Write
        action: CreateFile
        inputs:
          - path: /etc/hello.txt
            content: "{{ Greeting }} from kiln"
  - name: validate
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands:
            - grep -q "from kiln" /etc/hello.txt
  - name: test
    steps:
      - name: TestFile
        action: ExecuteBash
        inputs:
          commands:
            - cat /etc/hello.txt
            - test "$(cat /etc/hello.txt)" = "bonjour from kiln"
EOF
  cat >"$d/recipe.yaml" <<'EOF'
name: it-hello
semanticVersion: 1.0.x
parentImage: busybox
components:
  - path: hello.yaml
    parameters:
      - name: Greeting
        value: ["bonjour"]
EOF
  build_ok "$d/recipe.yaml"
  assert_match 'image/it-hello/1\.0\.0/1$' "$ARN" "first build"
  image_json "$ARN"
  assert_eq AVAILABLE "$(json_get "$T/image.json" state.status)" "status"
  assert_eq local "$(json_get "$T/image.json" outputResources.amis.0.region)" "output region"
  # The image is in the store and holds the build's file, not kiln's mount points.
  kiln_ok image export it-hello/1.0.0/1 --format rootfs-tar --output "$T/rootfs.tar"
  tar_list "$T/rootfs.tar" >"$T/entries"
  assert_contains "$T/entries" "etc/hello.txt" "the image's files"
  assert_not_contains "$T/entries" ".kiln" "the image's files"
  # Logs: <root>/logs/<name>/<version>/<build>/ with both stages' kiln-toe folders and build.log.
  local logs=$ROOT/logs/it-hello/1.0.0/1
  assert_exists "$logs/build.log" "the orchestration log"
  assert_contains "$logs/build.log" "stage snapshot" "build.log"
  assert_match '.' "$(find "$logs/build" -name detailedoutput.json)" "the build stage's output"
  assert_match '.' "$(find "$logs/test" -name detailedoutput.json)" "the test stage's output"
  assert_no_instances "a successful build"
  # The same files again: the recipe is unchanged (same version), a new image build.
  build_ok "$d/recipe.yaml"
  assert_match 'image/it-hello/1\.0\.0/2$' "$ARN" "second build of the same recipe"
  assert_verify_clean "after two builds"
}

test_failure_reason() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/broken.yaml" <<'EOF'
name: broken
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Fine
        action: ExecuteBash
        inputs:
          commands:
            - echo fine
      - name: NeedsConfig
        action: ExecuteBash
        inputs:
          commands:
            - echo "checking the configuration"
            - 'echo "error: /etc/app.conf is missing" >&2'
            - exit 3
EOF
  write_recipe "$d" it-broken broken.yaml
  kiln_fails build "$d/recipe.yaml"
  assert_eq 1 "$RC" "exit code of a failed build"
  assert_contains "$ERR" "FAILED" "stderr of kiln build"
  local arn
  arn=$(grep -o 'arn:aws:imagebuilder:[^ ]*image/it-broken/1.0.0/[0-9]*' "$ERR" | head -n 1)
  assert_match 'it-broken/1\.0\.0/1$' "$arn" "the ARN named on stderr"
  image_json "$arn"
  assert_eq FAILED "$(json_get "$T/image.json" state.status)" "status"
  local reason
  reason=$(json_get "$T/image.json" state.reason)
  text_contains "$reason" "component/broken/1.0.0/1" "the reason names the component"
  text_contains "$reason" "phase build" "the reason names the phase"
  text_contains "$reason" "step NeedsConfig" "the reason names the step"
  text_contains "$reason" "code 3" "the reason gives the exit code"
  text_contains "$reason" "error: /etc/app.conf is missing" "the reason gives the stderr tail"
  assert_no_instances "a failed build"
  # No image was made.
  kiln_ok image list
  assert_not_contains "$OUT" "it-broken" "images after a failed build"
}

test_test_stage_is_fresh() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/daemon.yaml" <<'EOF'
name: daemon
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: StartDaemon
        action: ExecuteBash
        inputs:
          commands:
            - setsid sleep 4242 </dev/null >/dev/null 2>&1 &
            - echo build > /tmp/build-only
            - echo kept > /etc/kept
  - name: test
    steps:
      - name: Fresh
        action: ExecuteBash
        inputs:
          commands:
            - test -f /etc/kept
            - test ! -e /tmp/build-only || { echo "/tmp of the build instance is visible" >&2; exit 1; }
            - if ps | grep -v grep | grep -q "sleep 4242"; then echo "a build process runs here" >&2; exit 1; fi
EOF
  write_recipe "$d" it-fresh daemon.yaml
  build_ok "$d/recipe.yaml"
  assert_no_instances "the build with a daemon"
}

test_reboot_resumes() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/reboot.yaml" <<'EOF'
name: rebooter
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Before
        action: ExecuteBash
        inputs:
          commands:
            - echo "$$" > /etc/pid-before
      - name: RebootNow
        action: Reboot
      - name: After
        action: ExecuteBash
        inputs:
          commands:
            - echo after > /etc/after-reboot
EOF
  write_recipe "$d" it-reboot reboot.yaml
  build_ok "$d/recipe.yaml"
  assert_contains "$ROOT/logs/it-reboot/1.0.0/1/build.log" "rebooting the instance" \
    "build.log"
  kiln_ok image export it-reboot/1.0.0/1 --format rootfs-tar --output "$T/rootfs.tar"
  text_contains "$(tar_list "$T/rootfs.tar")" "etc/after-reboot" "the step after the reboot ran"
}

test_distribution_two_regions() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/file.yaml" <<'EOF'
name: payload
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Payload
        action: ExecuteBash
        inputs:
          commands:
            - head -c 300000 /dev/urandom > /etc/payload
EOF
  write_recipe "$d" it-dist file.yaml
  cat >"$d/distribution.yaml" <<'EOF'
name: two-regions
distributions:
  - region: near
    amiDistributionConfiguration:
      name: "it-dist-{{ imagebuilder:buildDate }}"
      amiTags:
        team: platform
  - region: far
EOF
  kiln_ok region set far "$T/far-disk"
  build_ok "$d/recipe.yaml" --distribution "$d/distribution.yaml"
  image_json "$ARN"
  assert_eq 3 "$(json_get "$T/image.json" outputResources.amis | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
    "output resources (local + 2 regions)"
  assert_match '^it-dist-20' "$(json_get "$T/image.json" outputResources.amis.1.name)" \
    "the expanded output name"
  local store
  for store in "$ROOT/regions/near" "$T/far-disk"; do
    assert_exists "$store/index.json" "the region store $store"
    assert_contains "$store/index.json" "it-dist" "the index of $store"
  done
  assert_contains "$ROOT/regions/near/index.json" "imagebuilder:near:" \
    "the region's ARN in its index"
  # A second build shares the parent's layers: only its own blobs are copied.
  build_ok "$d/recipe.yaml" --distribution "$d/distribution.yaml"
  local copied
  copied=$(grep -o 'distributed to far: [0-9]* blobs copied' "$ROOT/logs/it-dist/1.0.0/2/build.log" |
    grep -o '[0-9]* blobs' | grep -o '[0-9]*')
  assert_eq 3 "$copied" "blobs copied by the second distribution (layer, config, manifest)"
}

# wait_for_step FILE STEP: waits until the --json events in FILE show STEP running.
wait_for_step() {
  local tenths=600
  until grep -q "\"step\":\"$2\"" "$1" 2>/dev/null; do
    tenths=$((tenths - 1))
    [ "$tenths" -gt 0 ] || fail "the build never reached step $2: $(cat "$1")"
    sleep 0.1
  done
}

write_slow_recipe() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/slow.yaml" <<'EOF'
name: slow
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Sleep
        action: ExecuteBash
        inputs:
          commands:
            - sleep 120
EOF
  write_recipe "$d" it-slow slow.yaml
}

test_ctrl_c_cancels() {
  write_slow_recipe
  "$KILN" --root "$ROOT" build "$T/recipe/recipe.yaml" --json >"$T/events" 2>"$T/err" &
  local pid=$!
  wait_for_step "$T/events" Sleep
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_eq 130 "$rc" "exit code of kiln build after Ctrl-C"
  assert_contains "$T/events" '"status":"CANCELLED"' "the events"
  assert_no_instances "Ctrl-C"
}

test_cancel_image_creation() {
  write_slow_recipe
  "$KILN" --root "$ROOT" build "$T/recipe/recipe.yaml" --json >"$T/events" 2>"$T/err" &
  local pid=$!
  wait_for_step "$T/events" Sleep
  kiln_ok list-images --output json
  local arn=arn:aws:imagebuilder:local:000000000000:image/it-slow/1.0.0/1
  kiln_ok cancel-image-creation --image-build-version-arn "$arn"
  local rc=0
  wait "$pid" || rc=$?
  assert_eq 130 "$rc" "exit code of the cancelled kiln build"
  image_json "$arn"
  assert_eq CANCELLED "$(json_get "$T/image.json" state.status)" "status"
  assert_no_instances "cancel-image-creation"
}

test_keep_on_failure() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/fail.yaml" <<'EOF'
name: fails
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Mark
        action: ExecuteBash
        inputs:
          commands:
            - echo state > /etc/debug-me
      - name: Fail
        action: ExecuteBash
        inputs:
          commands:
            - exit 1
EOF
  write_recipe "$d" it-keep fail.yaml
  cat >"$d/infrastructure.yaml" <<'EOF'
name: keep-for-debugging
instanceTypes: [t3.small]
terminateInstanceOnFailure: false
EOF
  kiln_fails build "$d/recipe.yaml" --infrastructure "$d/infrastructure.yaml"
  assert_contains "$ERR" "kiln instance shell i-" "how to enter the kept instance"
  local id
  id=$(grep -o 'kiln instance shell i-[0-9a-f]*' "$ERR" | head -n 1 | awk '{print $4}')
  assert_eq running "$(instance_field "$id" state)" "state of the kept instance"
  sh_in "$id" 'cat /etc/debug-me'
  assert_stdout state "the kept instance holds the failed build's state"
}

test_bad_recipe_stores_nothing() {
  local d=$T/recipe
  mkdir -p "$d"
  printf 'name: bad\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: X\n        action: NoSuchModule\n' \
    >"$d/bad.yaml"
  write_recipe "$d" it-bad bad.yaml
  kiln_fails build "$d/recipe.yaml"
  assert_contains "$ERR" "NoSuchModule" "the validation error"
  kiln_ok list-images --output json
  assert_not_contains "$OUT" "it-bad" "images after a refused recipe"
}

test_concurrent_builds_and_sanitize() {
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/keys.yaml" <<'EOF'
name: keys
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: MakeSecrets
        action: ExecuteBash
        inputs:
          commands:
            - mkdir -p /etc/ssh /root/.ssh /var/log
            - echo key > /etc/ssh/ssh_host_ed25519_key
            - echo "ssh-ed25519 AAAA builder" > /root/.ssh/authorized_keys
            - echo "secret in a log" > /var/log/build.log
            - echo 1234 > /etc/machine-id
            - sleep 1
EOF
  write_recipe "$d" it-concurrent keys.yaml
  # Three builds of one recipe at once: distinct build numbers, all AVAILABLE, a sound store.
  local pids=() i
  for i in 1 2 3; do
    "$KILN" --root "$ROOT" build "$d/recipe.yaml" >"$T/out$i" 2>"$T/err$i" &
    pids+=($!)
  done
  for i in 0 1 2; do
    wait "${pids[$i]}" || { cat "$T/err$((i + 1))" >&2; fail "concurrent build $((i + 1)) failed"; }
  done
  assert_eq "1 2 3" "$(cat "$T"/out? | grep -o '[0-9]*$' | sort -n | tr '\n' ' ' | sed 's/ $//')" \
    "build numbers of three concurrent builds"
  assert_verify_clean "after concurrent builds"
  assert_no_instances "concurrent builds"
  # The sanitize step ran before each snapshot: no host key, no authorized_keys, no identity.
  kiln_ok image export it-concurrent/1.0.0/2 --format rootfs-tar --output "$T/rootfs.tar"
  tar_list "$T/rootfs.tar" >"$T/entries"
  assert_not_contains "$T/entries" "etc/ssh/ssh_host_ed25519_key" "the image's files"
  assert_not_contains "$T/entries" "root/.ssh/authorized_keys" "the image's files"
  mkdir -p "$T/x"
  tar -xf "$T/rootfs.tar" -C "$T/x" ./etc/machine-id ./var/log/build.log 2>/dev/null ||
    tar -xf "$T/rootfs.tar" -C "$T/x" etc/machine-id var/log/build.log
  assert_eq "" "$(cat "$T/x/etc/machine-id")" "/etc/machine-id in the image"
  assert_eq "" "$(cat "$T/x/var/log/build.log")" "a log in the image"
}

run_kiln_test "a busybox recipe builds, tests and is AVAILABLE" test_available_end_to_end
run_kiln_test "concurrent builds of one recipe; sanitized snapshots" test_concurrent_builds_and_sanitize
run_kiln_test "a failing step gives FAILED with step, exit code and stderr" test_failure_reason
run_kiln_test "the test stage runs on a fresh instance" test_test_stage_is_fresh
run_kiln_test "a reboot mid-build resumes the run" test_reboot_resumes
run_kiln_test "distribution to two local regions" test_distribution_two_regions
run_kiln_test "Ctrl-C cancels the build and leaves no instance" test_ctrl_c_cancels
run_kiln_test "cancel-image-creation stops a running build" test_cancel_image_creation
run_kiln_test "terminateInstanceOnFailure false keeps the instance" test_keep_on_failure
run_kiln_test "an invalid component is refused before anything is built" test_bad_recipe_stores_nothing
finish
