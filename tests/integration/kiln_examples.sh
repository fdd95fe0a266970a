#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031  # functions run by run_kiln_test; $T per test
# The examples of examples/ built as a user builds them: golden-nginx (Debian 12 from the
# Debian archive, nginx tested on a fresh instance, two local regions) to AVAILABLE, failing to
# FAILED with its reason, busybox-hello to AVAILABLE, and `kiln component run` on one of them.
# Needs root, bwrap, nsenter, busybox; golden-nginx also mmdebstrap and the Debian archive.
# Usage: kiln_examples.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
kiln_require_privileged
EXAMPLES=$SRC/examples
# A cold golden-nginx build bootstraps Debian and installs packages from the archive.
KILN_IT_RUN_TIMEOUT=${KILN_IT_RUN_TIMEOUT_EXAMPLES:-900}

# image_status ARN: the image's state.status (and its reason in $T/reason).
image_status() {
  kiln_ok get-image --image-build-version-arn "$1"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["image"]["state"]; open(sys.argv[2],"w").write(s.get("reason","")); print(s["status"])' \
    "$OUT" "$T/reason"
}

test_golden_nginx() {
  if ! command -v mmdebstrap >/dev/null; then
    skip "needs mmdebstrap"
  fi
  if ! timeout 10 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null; then
    skip "the Debian archive is not reachable"
  fi
  local ex=$EXAMPLES/golden-nginx
  kiln_ok build "$ex/recipe.yaml" --infrastructure "$ex/infrastructure.yaml" \
    --distribution "$ex/distribution.yaml"
  local arn
  arn=$(tail -n 1 "$OUT")
  assert_eq AVAILABLE "$(image_status "$arn")" "status of golden-nginx"
  # The test stage fetched the page from nginx on the test instance.
  local logs=$ROOT/logs/golden-nginx/1.0.0/1
  assert_contains "$logs/build.log" "PageHasExpectedText success" "build.log"
  local region
  for region in local-a local-b; do
    assert_contains "$ROOT/regions/$region/index.json" "imagebuilder:$region:" "region $region"
  done
  assert_verify_clean "after golden-nginx"
}

test_failing_example() {
  kiln_fails build "$EXAMPLES/failing/recipe.yaml"
  assert_eq 1 "$RC" "exit code of the failing example"
  local arn
  arn=$(grep -o 'arn:aws:imagebuilder:[^ ]*image/failing/1.0.0/[0-9]*' "$ERR" | head -n 1)
  assert_eq FAILED "$(image_status "$arn")" "status of the failing example"
  assert_contains "$T/reason" "step CheckAppConfig" "the reason"
  assert_contains "$T/reason" "exited with code 3" "the reason"
  assert_contains "$T/reason" "error: /etc/app.conf missing" "the reason"
}

test_busybox_hello_and_component_run() {
  kiln_ok build "$EXAMPLES/busybox-hello/recipe.yaml"
  assert_eq AVAILABLE "$(image_status "$(tail -n 1 "$OUT")")" "status of busybox-hello"
  # One component on a throwaway instance of the image just built.
  kiln_ok component run "$EXAMPLES/busybox-hello/components/hello-file-test.yaml" \
    --image busybox-hello/1.0.0 -p "Greeting=hello from busybox-hello"
  assert_stdout success "kiln component run"
  assert_contains "$ERR" "ReadHello: success" "the steps kiln component run shows"
  # The same test on the bare parent fails: the file is not there.
  kiln_fails component run "$EXAMPLES/busybox-hello/components/hello-file-test.yaml" \
    --image busybox -p "Greeting=hello from busybox-hello"
  assert_contains "$ERR" "kiln: failed: Component" "the failure kiln component run reports"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instances left by kiln component run"
}

run_kiln_test "busybox-hello builds and kiln component run runs its test" test_busybox_hello_and_component_run
run_kiln_test "the failing example is FAILED with its reason" test_failing_example
run_kiln_test "golden-nginx builds to AVAILABLE" test_golden_nginx
finish
