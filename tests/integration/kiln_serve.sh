#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# `kiln serve` driven by the real AWS CLI: resources, a pipeline started by hand and polled to
# AVAILABLE, lists, AWS's errors for a bad and an unsigned request; notifications to a real
# webhook receiver and logs to a real S3 server (s3rver); a per-minute schedule that fires for
# real; SIGKILL during a build and a restart that fails it and leaves no instance or mount;
# SIGTERM that lets a running build finish. Needs root, bwrap, busybox and /usr/bin/aws.
# Usage: kiln_serve.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
kiln_require_privileged
AWS_BIN=${KILN_TEST_AWS:-/usr/bin/aws}
if [ ! -x "$AWS_BIN" ]; then
  echo "skipped: needs the AWS CLI ($AWS_BIN; Debian package awscli)" >&2
  exit 77
fi
KEY_ID=AKIDKILNTEST0000001
SECRET=kiln-test-secret-0001
SERVERS=$SRC/tests/servers

# ---- the daemon -----------------------------------------------------------------------------

# start_daemon [ARGS...]: kiln serve over $ROOT (kiln_lib.sh's start_kiln_daemon), stopped with
# the test's servers when the test ends.
start_daemon() {
  start_kiln_daemon "$ROOT" "$@"
  trap 'stop_kiln_daemon; _stop_servers; _kiln_cleanup' EXIT
}

# Loopback servers a test started ($SERVER_PIDS), stopped when it ends.
SERVER_PIDS=""
_stop_servers() {
  local pid
  for pid in $SERVER_PIDS; do
    kill "$pid" 2>/dev/null || true
  done
}


# ib ARGS...: `aws imagebuilder ARGS` against the daemon; stdout in $OUT, stderr in $ERR, $RC.
ib() {
  OUT=$T/.stdout
  ERR=$T/.stderr
  RC=0
  LAST="aws imagebuilder $*"
  AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=${IB_SECRET:-$SECRET} \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER='' \
    timeout 60 "$AWS_BIN" imagebuilder --endpoint-url "http://127.0.0.1:$PORT" --region local \
    --output json "$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
}

ib_ok() {
  ib "$@"
  if [ "$RC" != 0 ]; then
    show_output
    fail "$LAST: expected exit code 0, got $RC"
  fi
}

# field PATH: a field of the last command's JSON output.
field() {
  json_get "$OUT" "$1"
}

# wait_status ARN STATUS SECONDS: polls get-image until the image has STATUS.
wait_status() {
  local arn=$1 want=$2 tenths=$(($3 * 10)) got=
  while true; do
    ib_ok get-image --image-build-version-arn "$arn"
    got=$(field image.state.status)
    [ "$got" = "$want" ] && return 0
    case $got in
      AVAILABLE | FAILED | CANCELLED)
        show_output
        fail "$arn: expected $want, it ended $got ($(field image.state.reason 2>/dev/null || true))"
        ;;
    esac
    tenths=$((tenths - 5))
    [ "$tenths" -gt 0 ] || fail "$arn: expected $want within $3 s, still $got"
    sleep 0.5
  done
}

# setup_resources SLEEP [INFRA_ARGS...]: a component (sleeping SLEEP seconds), a busybox recipe,
# infrastructure and distribution configurations; their ARNs in $COMPONENT, $RECIPE, $INFRA, $DIST.
setup_resources() {
  local sleep_s=$1
  shift
  two_phase_component "$T/component.yaml" served "sleep $sleep_s; echo served > /etc/served" \
    'grep -q served /etc/served'
  ib_ok create-component --name served --semantic-version 1.0.0 --platform Linux \
    --data "file://$T/component.yaml"
  COMPONENT=$(field componentBuildVersionArn)
  ib_ok create-image-recipe --name served-recipe --semantic-version 1.0.0 --parent-image busybox \
    --components "componentArn=$COMPONENT"
  RECIPE=$(field imageRecipeArn)
  ib_ok create-infrastructure-configuration --name served-infra --instance-profile-name none "$@"
  INFRA=$(field infrastructureConfigurationArn)
  ib_ok create-distribution-configuration --name served-dist \
    --distributions '[{"region": "local-a"}]'
  DIST=$(field distributionConfigurationArn)
}

# ---- the tests ------------------------------------------------------------------------------

test_awscli_end_to_end() {
  start_daemon
  setup_resources 0
  assert_match 'component/served/1\.0\.0/1$' "$COMPONENT" "the component's ARN"
  ib_ok create-image-pipeline --name served-pipeline --image-recipe-arn "$RECIPE" \
    --infrastructure-configuration-arn "$INFRA" --distribution-configuration-arn "$DIST"
  local pipeline
  pipeline=$(field imagePipelineArn)
  ib_ok start-image-pipeline-execution --image-pipeline-arn "$pipeline"
  local image
  image=$(field imageBuildVersionArn)
  assert_match 'image/served-recipe/1\.0\.0/1$' "$image" "the image started"
  wait_status "$image" AVAILABLE 120
  ib_ok get-image --image-build-version-arn "$image"
  assert_eq local-a "$(field image.outputResources.amis.1.region)" "the distributed region"
  ib_ok list-images
  assert_contains "$OUT" "served-recipe" "list-images"
  ib_ok list-image-pipeline-images --image-pipeline-arn "$pipeline"
  assert_contains "$OUT" "$image" "list-image-pipeline-images"
  # The daemon's metrics, signed like every request.
  curl -sf --aws-sigv4 "aws:amz:local:imagebuilder" --user "$KEY_ID:$SECRET" \
    "http://127.0.0.1:$PORT/metrics" >"$T/metrics" || fail "GET /metrics failed"
  assert_contains "$T/metrics" 'kiln_images{status="AVAILABLE"} 1' "the metrics"
  assert_contains "$T/metrics" 'kiln_builds_finished_total{status="AVAILABLE"} 1' "the metrics"
  assert_contains "$T/metrics" 'kiln_stage_duration_seconds_count{stage="build"} 1' "the metrics"
  assert_contains "$T/metrics" 'kiln_build_queue_length 0' "the metrics"
  # AWS's error for a bad request: nothing is created.
  ib create-image-recipe --name bad-recipe --semantic-version 1.x.2 --parent-image busybox \
    --components "componentArn=$COMPONENT"
  [ "$RC" != 0 ] || fail "a bad semantic version was accepted"
  assert_contains "$ERR" "InvalidParameterValueException" "the AWS CLI's error"
  ib_ok list-image-recipes
  assert_not_contains "$OUT" "bad-recipe" "recipes after a refused one"
  # An unsigned request and one signed with a wrong secret are refused.
  local code
  code=$(curl -s -o "$T/unsigned" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/ListImages" \
    -H 'Content-Type: application/json' -d '{}')
  assert_eq 403 "$code" "HTTP status of an unsigned request"
  assert_contains "$T/unsigned" "message" "the body of the refusal"
  IB_SECRET=wrong-secret ib list-images
  [ "$RC" != 0 ] || fail "a request signed with a wrong secret was served"
  assert_contains "$ERR" "InvalidSignatureException" "the AWS CLI's error"
}

test_notifications_and_s3_logs() {
  if [ ! -x "$SERVERS/node_modules/.bin/s3rver" ] || ! command -v node >/dev/null; then
    skip "s3rver (npm install in tests/servers) and node are needed"
  fi
  local hook_port s3_port
  hook_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  s3_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$T/www" "$T/s3"
  python3 "$SERVERS/http_fixture.py" --port "$hook_port" --root "$T/www" >"$T/hook.log" 2>&1 &
  local hook=$!
  NODE_OPTIONS=--openssl-legacy-provider "$SERVERS/node_modules/.bin/s3rver" --directory "$T/s3" \
    --port "$s3_port" --address 127.0.0.1 --silent >"$T/s3.log" 2>&1 &
  local s3=$!
  SERVER_PIDS="$hook $s3"
  trap '_stop_servers; _kiln_cleanup' EXIT
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$hook_port/count?path=x" &&
      curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break
    sleep 0.1
  done
  curl -s -X PUT "http://127.0.0.1:$s3_port/build-logs" >/dev/null
  cat >"$T/topics.json" <<EOF
{"topics": [{"arn": "arn:aws:sns:local:000000000000:image-builds",
             "subscriptions": [{"protocol": "http",
                                "endpoint": "http://127.0.0.1:$hook_port/hook/builds",
                                "secret": "hook-secret"}]}]}
EOF
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER start_daemon \
    --notifications "$T/topics.json" --s3-endpoint "http://127.0.0.1:$s3_port"
  setup_resources 0 --sns-topic-arn arn:aws:sns:local:000000000000:image-builds \
    --logging '{"s3Logs": {"s3BucketName": "build-logs", "s3KeyPrefix": "kiln"}}'
  ib_ok create-image --image-recipe-arn "$RECIPE" --infrastructure-configuration-arn "$INFRA"
  local image
  image=$(field imageBuildVersionArn)
  wait_status "$image" AVAILABLE 120
  # The notification: the image's ARN and status, signed with the topic's secret.
  local got=""
  for _ in $(seq 1 100); do
    got=$(curl -s "http://127.0.0.1:$hook_port/requests?path=/hook/builds")
    [ "$got" != "[]" ] && [ -n "$got" ] && break
    sleep 0.1
  done
  printf '%s' "$got" >"$T/hooks.json"
  python3 - "$T/hooks.json" "$image" <<'EOF'
import hashlib, hmac, json, sys
requests = json.load(open(sys.argv[1]))
assert requests, "no notification arrived"
r = requests[0]
body = r["body"]
message = json.loads(body)
assert message["arn"] == sys.argv[2], message.get("arn")
assert message["state"]["status"] == "AVAILABLE", message["state"]
headers = {k.lower(): v for k, v in r["headers"].items()}
want = "sha256=" + hmac.new(b"hook-secret", body.encode(), hashlib.sha256).hexdigest()
assert headers.get("x-kiln-signature") == want, (headers.get("x-kiln-signature"), want)
EOF
  # The logs, in the bucket under the prefix, image name, version and build.
  local listing=""
  for _ in $(seq 1 100); do
    listing=$(curl -s "http://127.0.0.1:$s3_port/build-logs?list-type=2&prefix=kiln/")
    printf '%s' "$listing" | grep -q 'build.log' && break
    sleep 0.1
  done
  printf '%s' "$listing" >"$T/listing.xml"
  assert_contains "$T/listing.xml" "kiln/served-recipe/1.0.0/1/build.log" "the bucket's keys"
  assert_contains "$T/listing.xml" "detailedoutput.json" "the bucket's keys"
  # The local copy stays.
  assert_exists "$ROOT/logs/served-recipe/1.0.0/1/build.log" "the local log folder"
}

test_schedule_fires_for_real() {
  start_daemon
  setup_resources 0
  ib_ok create-image-pipeline --name every-minute --image-recipe-arn "$RECIPE" \
    --infrastructure-configuration-arn "$INFRA" \
    --image-tests-configuration imageTestsEnabled=false \
    --schedule 'scheduleExpression=cron(* * * * ? *),pipelineExecutionStartCondition=EXPRESSION_MATCH_ONLY'
  local pipeline
  pipeline=$(field imagePipelineArn)
  ib_ok get-image-pipeline --image-pipeline-arn "$pipeline"
  assert_match '^20[0-9-]+T' "$(field imagePipeline.dateNextRun)" "dateNextRun"
  local tenths=900 image=""
  while [ -z "$image" ]; do
    ib_ok list-image-pipeline-images --image-pipeline-arn "$pipeline"
    image=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["imageSummaryList"]; print(l[0]["arn"] if l else "")' "$OUT")
    tenths=$((tenths - 10))
    [ "$tenths" -gt 0 ] || fail "the per-minute schedule did not fire within 90 s"
    [ -n "$image" ] || sleep 1
  done
  wait_status "$image" AVAILABLE 120
  ib_ok get-image --image-build-version-arn "$image"
  assert_eq SCHEDULED "$(field image.buildType)" "the scheduled image's buildType"
}

test_sigkill_and_restart() {
  start_daemon
  setup_resources 120
  ib_ok create-image --image-recipe-arn "$RECIPE" --infrastructure-configuration-arn "$INFRA"
  local image
  image=$(field imageBuildVersionArn)
  wait_status "$image" BUILDING 60
  local tenths=300
  until [ "$(count_entries "$ROOT/instances")" -gt 0 ]; do
    tenths=$((tenths - 1))
    [ "$tenths" -gt 0 ] || fail "no build instance appeared"
    sleep 0.1
  done
  sleep 1  # into the sleeping step
  kill -KILL "$DAEMON"
  wait "$DAEMON" 2>/dev/null || true
  start_daemon
  # Recovery runs in the background once the daemon listens: wait for its end.
  tenths=300
  until grep -q "recovery done" "$T/daemon.log"; do
    tenths=$((tenths - 1))
    [ "$tenths" -gt 0 ] || fail "the restarted daemon did not finish its recovery"
    sleep 0.1
  done
  assert_contains "$T/daemon.log" "was interrupted by a previous stop" "the restarted daemon's log"
  ib_ok get-image --image-build-version-arn "$image"
  assert_eq FAILED "$(field image.state.status)" "status after the restart"
  assert_contains "$OUT" "interrupted" "the reason"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instances after the restart"
  assert_eq "" "$(mounts_under "$ROOT")" "mounts after the restart"
  local f
  for f in /proc/[0-9]*/mountinfo; do
    if grep -qF -- "$ROOT/instances" "$f" 2>/dev/null; then
      fail "a process still has an instance of $ROOT mounted: $f"
    fi
  done
  assert_verify_clean "after the restart"
}

test_sigterm_lets_a_build_finish() {
  start_daemon --shutdown-grace 60
  # Long enough that a poll through the AWS CLI (a second or more each on a loaded machine) sees
  # it BUILDING.
  setup_resources 8
  ib_ok create-image --image-recipe-arn "$RECIPE" --infrastructure-configuration-arn "$INFRA"
  local image
  image=$(field imageBuildVersionArn)
  wait_status "$image" BUILDING 60
  kill -TERM "$DAEMON"
  local rc=0
  wait "$DAEMON" || rc=$?
  assert_eq 0 "$rc" "exit code of kiln serve after SIGTERM"
  assert_contains "$T/daemon.log" "stopped" "the daemon's log"
  start_daemon
  ib_ok get-image --image-build-version-arn "$image"
  assert_eq AVAILABLE "$(field image.state.status)" "the build the SIGTERM let finish"
}

run_kiln_test "the AWS CLI drives kiln serve end to end" test_awscli_end_to_end
run_kiln_test "notifications reach a webhook and logs reach s3rver" test_notifications_and_s3_logs
run_kiln_test "SIGKILL mid-build, restart: FAILED, no instance, no mount" test_sigkill_and_restart
run_kiln_test "SIGTERM lets a running build finish" test_sigterm_lets_a_build_finish
run_kiln_test "a per-minute schedule fires for real" test_schedule_fires_for_real
finish
