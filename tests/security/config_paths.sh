#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# Writes anywhere through configuration (docs/security.md, "Escapes from an instance", item 4).
# An infrastructure configuration's logging.s3Logs.s3KeyPrefix without a bucket names a local
# log folder, which the root daemon creates and fills: it must be in the operator's log root
# (kiln serve --log-root, KILN_LOG_ROOT, default <root>/logs), without '..' or a symbolic link,
# checked when the configuration is stored (through the kiln verbs and the API) and again when a
# build uses it. With a bucket the prefix is an S3 key, never a host path.
# Usage: config_paths.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged
AWS_BIN=${KILN_TEST_AWS:-$(command -v aws || echo /usr/bin/aws)}
KEY_ID=AKIDKILNSECURITY0001
SECRET=kiln-security-secret-0001

# A folder under /etc named for this run; removed before and after (a kiln that lets the attack
# through creates it).
PWN=/etc/kiln-pwn-$$
cleanup_pwn() {
  rm -rf "$PWN" "$PWN-stale"
}

logging() {
  printf '{"s3Logs": {"s3KeyPrefix": "%s"}}' "$1"
}

infra() {
  kiln create-infrastructure-configuration --name "$1" --instance-profile-name kiln \
    --logging "$(logging "$2")"
}

# write_recipe: a busybox recipe of one component that writes a file, in $T/recipe.
write_recipe() {
  mkdir -p "$T/recipe"
  cat >"$T/recipe/hello.yaml" <<'EOF'
name: hello
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Write
        action: ExecuteBash
        inputs:
          commands:
            - echo hi > /etc/hello
EOF
  cat >"$T/recipe/recipe.yaml" <<'EOF'
name: sec-cfg
semanticVersion: 1.0.x
parentImage: busybox
components:
  - path: hello.yaml
EOF
}

test_kiln_verbs_refuse_outside_the_log_root() {
  cleanup_pwn
  local bad
  mkdir -p "$ROOT/logs"
  ln -s /etc "$ROOT/logs/link"
  for bad in "$PWN" "$ROOT/logs/../../../..$PWN" "$ROOT/logs/link/kiln-pwn-$$"; do
    infra "pwn" "$bad"
    if [ "$RC" = 0 ]; then
      cleanup_pwn
      fail "create-infrastructure-configuration with s3KeyPrefix $bad succeeded"
    fi
    assert_contains "$ERR" "InvalidParameterValue" "the error for $bad"
    assert_contains "$ERR" "s3KeyPrefix" "the error for $bad"
  done
  # The same through kiln build's infrastructure file: refused, no build, nothing under /etc.
  write_recipe
  printf 'name: pwn\nlogging:\n  s3Logs:\n    s3KeyPrefix: %s\n' "$PWN" >"$T/recipe/infra.yaml"
  kiln build "$T/recipe/recipe.yaml" --infrastructure "$T/recipe/infra.yaml"
  local created=no
  [ ! -e "$PWN" ] || created=yes
  cleanup_pwn
  [ "$RC" != 0 ] || fail "kiln build with a log folder in /etc succeeded"
  assert_eq no "$created" "a folder made under /etc"
  # With a bucket the prefix is a key: accepted, and no host path.
  kiln_ok create-infrastructure-configuration --name keyed --instance-profile-name kiln \
    --logging "{\"s3Logs\": {\"s3BucketName\": \"logs\", \"s3KeyPrefix\": \"$PWN\"}}"
  assert_absent "$PWN" "a folder named by an S3 key"
}

test_a_folder_in_the_log_root_works() {
  write_recipe
  export KILN_LOG_ROOT=$T/logroot
  printf 'name: team\nlogging:\n  s3Logs:\n    s3KeyPrefix: %s\n' "$T/logroot/team-a" \
    >"$T/recipe/infra.yaml"
  kiln_ok build "$T/recipe/recipe.yaml" --infrastructure "$T/recipe/infra.yaml"
  local logs=$T/logroot/team-a/sec-cfg/1.0.0/1
  assert_exists "$logs/build.log" "build.log in the configured folder"
  assert_contains "$logs/build.log" "status AVAILABLE" "build.log"
  assert_absent "$ROOT/logs/sec-cfg" "logs in the default folder"
}

# A configuration stored while the log root was elsewhere (or by an older kiln) is checked again
# when a build uses it: the build fails, nothing is made.
test_checked_again_at_build_time() {
  cleanup_pwn
  write_recipe
  kiln_ok build "$T/recipe/recipe.yaml"
  KILN_LOG_ROOT=/etc infra stale "$PWN-stale"
  if [ "$RC" != 0 ]; then
    show_output
    fail "storing a log folder in the log root /etc: expected success"
  fi
  local stale
  stale=$(json_get "$OUT" infrastructureConfigurationArn)
  kiln create-image \
    --image-recipe-arn arn:aws:imagebuilder:local:000000000000:image-recipe/sec-cfg/1.0.0 \
    --infrastructure-configuration-arn "$stale"
  local created=no
  [ ! -e "$PWN-stale" ] || created=yes
  cleanup_pwn
  [ "$RC" != 0 ] || fail "a build with the stored log folder $PWN-stale succeeded"
  assert_eq no "$created" "a folder made under /etc at build time"
  assert_contains "$ERR" "log root" "the build's failure reason"
}

test_api_refuses_outside_the_log_root() {
  [ -x "$AWS_BIN" ] || skip "needs the AWS CLI ($AWS_BIN)"
  cleanup_pwn
  start_kiln_daemon "$ROOT" --log-root "$T/logroot"
  trap 'stop_kiln_daemon; _kiln_cleanup' EXIT
  local ib=(env "AWS_ACCESS_KEY_ID=$KEY_ID" "AWS_SECRET_ACCESS_KEY=$SECRET" AWS_CONFIG_FILE=/dev/null
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= timeout 60 "$AWS_BIN" imagebuilder
    --endpoint-url "http://127.0.0.1:$PORT" --region local --output json)
  local rc=0
  "${ib[@]}" create-infrastructure-configuration --name pwn --instance-profile-name kiln \
    --logging "$(logging "$PWN")" >"$T/out" 2>"$T/err" || rc=$?
  local created=no
  [ ! -e "$PWN" ] || created=yes
  cleanup_pwn
  [ "$rc" != 0 ] || fail "the API stored a log folder in /etc"
  assert_contains "$T/err" "InvalidParameterValueException" "the AWS CLI's error"
  assert_eq no "$created" "a folder made under /etc"
  # In the daemon's log root: accepted.
  "${ib[@]}" create-infrastructure-configuration --name team --instance-profile-name kiln \
    --logging "$(logging "$T/logroot/team-a")" >"$T/out" 2>"$T/err" ||
    fail "a log folder in the log root was refused: $(cat "$T/err")"
}

run_kiln_test kiln_verbs_refuse_outside_the_log_root test_kiln_verbs_refuse_outside_the_log_root
run_kiln_test a_folder_in_the_log_root_works test_a_folder_in_the_log_root_works
run_kiln_test checked_again_at_build_time test_checked_again_at_build_time
run_kiln_test api_refuses_outside_the_log_root test_api_refuses_outside_the_log_root
finish
