#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031  # functions run by run_test; $T per test
# The API server (src/kiln/api) driven by the real AWS CLI (/usr/bin/aws, --endpoint-url) and
# curl: kiln_api_test_server serves a temporary catalog with a backend that records images
# without building them. Components, recipes, configurations, pipelines and images through
# `aws imagebuilder`, paging with --max-results/--next-token, AWS's exceptions in the CLI's
# stderr, unsigned and badly signed requests refused with AWS's error bodies, a body over the
# limit, an unknown operation, /metrics, and boto3 when python3 has it.
# Usage: api_awscli.sh <kiln_api_test_server binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
SERVER=$KILN_TOE

AWS=/usr/bin/aws
if [ ! -x "$AWS" ]; then
  echo "skipped: needs the AWS CLI at $AWS (Debian package awscli)" >&2
  exit 77
fi
command -v curl >/dev/null 2>&1 || { echo "skipped: needs curl" >&2; exit 77; }

export KILN_ACCESS_KEY_ID=AKIDKILNTEST
export KILN_SECRET_ACCESS_KEY=kiln-test-secret/with+chars
unset KILN_REGION KILN_ACCOUNT_ID KILN_CREDENTIALS_FILE KILN_API_MAX_BODY
ARN_PREFIX=arn:aws:imagebuilder:local:000000000000

# ---- helpers --------------------------------------------------------------------------------

# start_server: kiln_api_test_server on a free port of 127.0.0.1 over $T/root; sets $PORT,
# $ENDPOINT and $SERVER_PID.
start_server() {
  mkdir -p "$T/root"
  "$SERVER" "$T/root" "$T/port" >"$T/server.log" 2>&1 &
  SERVER_PID=$!
  BG_PIDS="$BG_PIDS $SERVER_PID"
  for _ in $(seq 100); do
    [ -s "$T/port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { show_file "$T/server.log"; fail "the server exited"; }
    sleep 0.05
  done
  [ -s "$T/port" ] || fail "the server wrote no port file"
  PORT=$(cat "$T/port")
  ENDPOINT=http://127.0.0.1:$PORT
}

# stop_server: SIGTERM, and the server must exit 0 within 10 s.
stop_server() {
  kill -TERM "$SERVER_PID"
  local rc=0
  for _ in $(seq 200); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "the server did not stop on SIGTERM"
  wait "$SERVER_PID" || rc=$?
  assert_eq 0 "$rc" "the server's exit code"
}

# ib ARGS...: `aws imagebuilder ARGS` against the server with the test's credentials; stdout in
# $OUT, stderr in $ERR, exit code in $RC.
ib() {
  OUT=$T/.stdout
  ERR=$T/.stderr
  RC=0
  LAST="aws imagebuilder $*"
  AWS_ACCESS_KEY_ID=${KEY_ID:-$KILN_ACCESS_KEY_ID} \
    AWS_SECRET_ACCESS_KEY=${SECRET:-$KILN_SECRET_ACCESS_KEY} \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_SESSION_TOKEN='' \
    AWS_MAX_ATTEMPTS=1 AWS_PAGER='' \
    timeout -k 5 60 "$AWS" --endpoint-url "$ENDPOINT" --region local --no-cli-pager \
    --output json imagebuilder "$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
}

ib_ok() {
  ib "$@"
  if [ "$RC" != 0 ]; then
    show_output
    fail "$LAST: expected exit code 0, got $RC"
  fi
}

# ib_fails EXCEPTION ARGS...: the AWS CLI fails (exit 254 or 255) naming EXCEPTION.
ib_fails() {
  local exception=$1
  shift
  ib "$@"
  if [ "$RC" != 254 ] && [ "$RC" != 255 ]; then
    show_output
    fail "$LAST: expected exit code 254 or 255, got $RC"
  fi
  assert_contains "$ERR" "An error occurred ($exception)" "stderr of $LAST"
}

show_output() {
  {
    echo "    --- stdout of ${LAST:-}:"
    tail -n 40 "$OUT" | sed 's/^/    | /'
    echo "    --- stderr:"
    tail -n 40 "$ERR" | sed 's/^/    | /'
    echo "    --- server log:"
    tail -n 20 "$T/server.log" | sed 's/^/    | /'
  } >&2
}

out_field() {
  json_get "$OUT" "$1"
}

write_component() {
  cat >"$1" <<EOF
name: greeter
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        inputs:
          commands:
            - echo "$2"
EOF
}

# The resources an image needs: a component, a recipe, infrastructure and distribution
# configurations. Sets $COMPONENT, $RECIPE, $INFRA, $DIST.
make_resources() {
  write_component "$T/web.yaml" hello
  ib_ok create-component --name web-setup --semantic-version 1.0.0 --platform Linux \
    --data "file://$T/web.yaml"
  COMPONENT=$(out_field componentBuildVersionArn)
  ib_ok create-image-recipe --name web-server --semantic-version 1.0.0 \
    --parent-image busybox --components "componentArn=$COMPONENT"
  RECIPE=$(out_field imageRecipeArn)
  ib_ok create-infrastructure-configuration --name builders --instance-profile-name kiln \
    --instance-types t3.small
  INFRA=$(out_field infrastructureConfigurationArn)
  ib_ok create-distribution-configuration --name local-only \
    --distributions '[{"region": "local", "amiDistributionConfiguration": {"name": "web-{{ imagebuilder:buildDate }}"}}]'
  DIST=$(out_field distributionConfigurationArn)
}

# ---- tests ----------------------------------------------------------------------------------

test_components() {
  start_server
  write_component "$T/a.yaml" one
  ib_ok create-component --name web-setup --semantic-version 1.0.0 --platform Linux \
    --data "file://$T/a.yaml" --description "Sets up the web server"
  assert_json "$OUT" componentBuildVersionArn "$ARN_PREFIX:component/web-setup/1.0.0/1"
  assert_match '^[0-9a-f-]{36}$' "$(out_field requestId)" "requestId"
  assert_match '.' "$(out_field clientToken)" "clientToken"

  ib_ok get-component --component-build-version-arn "$ARN_PREFIX:component/web-setup/1.0.0/1"
  assert_json "$OUT" component.name web-setup
  assert_json "$OUT" component.type BUILD
  assert_json "$OUT" component.description "Sets up the web server"
  assert_contains "$OUT" 'echo \"one\"' "the document in get-component"

  # A changed document is the next build; the same one again is not.
  write_component "$T/b.yaml" two
  ib_ok create-component --name web-setup --semantic-version 1.0.0 --platform Linux \
    --data "file://$T/b.yaml"
  assert_json "$OUT" componentBuildVersionArn "$ARN_PREFIX:component/web-setup/1.0.0/2"
  ib_ok list-component-build-versions \
    --component-version-arn "$ARN_PREFIX:component/web-setup/1.0.0"
  assert_eq 2 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["componentSummaryList"]))' "$OUT")" \
    "builds listed"

  # Five component versions, paged one at a time with --max-results 1 and --next-token.
  local v
  for v in 1 2 3 4; do
    ib_ok create-component --name "comp-$v" --semantic-version "$v.0.0" --platform Linux \
      --data "file://$T/a.yaml"
  done
  local names="" token="" pages=0
  while :; do
    if [ -z "$token" ]; then
      ib_ok list-components --max-results 1
    else
      ib_ok list-components --max-results 1 --next-token "$token"
    fi
    pages=$((pages + 1))
    [ "$pages" -le 10 ] || fail "list-components never stopped paging"
    assert_eq 1 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["componentVersionList"]))' "$OUT")" \
      "components on page $pages"
    names="$names $(out_field componentVersionList.0.name)"
    token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("nextToken", ""))' "$OUT")
    [ -n "$token" ] || break
  done
  assert_eq 5 "$pages" "pages of one component"
  assert_eq " comp-1 comp-2 comp-3 comp-4 web-setup" \
    "$(echo "$names" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "components paged through"

  # A token is only good for the call that returned it.
  ib_ok list-components --max-results 1
  token=$(out_field nextToken)
  ib_fails InvalidPaginationTokenException list-images --next-token "$token"
  ib_fails InvalidPaginationTokenException list-components --next-token "not-a-token"
  ib_fails InvalidParameterValueException list-components --max-results 26

  # Bad input: AWS's exceptions, nothing stored.
  ib_fails InvalidParameterValueException create-component --name web-setup \
    --semantic-version 1.0 --platform Linux --data "file://$T/a.yaml"
  ib_fails ResourceNotFoundException get-component \
    --component-build-version-arn "$ARN_PREFIX:component/nothing/1.0.0/1"
  ib_ok delete-component --component-build-version-arn "$ARN_PREFIX:component/comp-4/4.0.0/1"
  assert_json "$OUT" componentBuildVersionArn "$ARN_PREFIX:component/comp-4/4.0.0/1"
  ib_fails ResourceNotFoundException get-component \
    --component-build-version-arn "$ARN_PREFIX:component/comp-4/4.0.0/1"
  stop_server
}

test_images_and_pipelines() {
  start_server
  make_resources
  assert_eq "$ARN_PREFIX:image-recipe/web-server/1.0.0" "$RECIPE" "recipe ARN"
  ib_ok get-image-recipe --image-recipe-arn "$RECIPE"
  assert_json "$OUT" imageRecipe.components.0.componentArn "$COMPONENT"
  ib_ok get-infrastructure-configuration --infrastructure-configuration-arn "$INFRA"
  assert_json "$OUT" infrastructureConfiguration.instanceTypes.0 t3.small
  ib_ok update-infrastructure-configuration --infrastructure-configuration-arn "$INFRA" \
    --instance-profile-name kiln --instance-types t3.large
  ib_ok get-infrastructure-configuration --infrastructure-configuration-arn "$INFRA"
  assert_json "$OUT" infrastructureConfiguration.instanceTypes.0 t3.large
  ib_ok list-distribution-configurations
  assert_json "$OUT" distributionConfigurationSummaryList.0.arn "$DIST"
  ib_fails ResourceDependencyException delete-component \
    --component-build-version-arn "$COMPONENT"

  ib_ok create-image --image-recipe-arn "$RECIPE" --infrastructure-configuration-arn "$INFRA" \
    --distribution-configuration-arn "$DIST" --client-token image-token-1
  local image
  image=$(out_field imageBuildVersionArn)
  assert_eq "$ARN_PREFIX:image/web-server/1.0.0/1" "$image" "the image's ARN"
  assert_json "$OUT" clientToken image-token-1
  # The same clientToken again: the same image, no second one.
  ib_ok create-image --image-recipe-arn "$RECIPE" --infrastructure-configuration-arn "$INFRA" \
    --distribution-configuration-arn "$DIST" --client-token image-token-1
  assert_json "$OUT" imageBuildVersionArn "$image"
  ib_fails IdempotentParameterMismatchException create-image --image-recipe-arn "$RECIPE" \
    --infrastructure-configuration-arn "$INFRA" --client-token image-token-1

  ib_ok get-image --image-build-version-arn "$image"
  assert_json "$OUT" image.state.status PENDING
  assert_json "$OUT" image.imageRecipe.arn "$RECIPE"
  ib_ok list-images
  assert_json "$OUT" imageVersionList.0.arn "$ARN_PREFIX:image/web-server/1.0.0"
  ib_ok list-image-build-versions --image-version-arn "$ARN_PREFIX:image/web-server/1.0.0"
  assert_json "$OUT" imageSummaryList.0.arn "$image"
  ib_ok cancel-image-creation --image-build-version-arn "$image"
  assert_json "$OUT" imageBuildVersionArn "$image"
  ib_ok get-image --image-build-version-arn "$image"
  assert_json "$OUT" image.state.status CANCELLED
  ib_fails ResourceInUseException cancel-image-creation --image-build-version-arn "$image"
  ib_ok delete-image --image-build-version-arn "$image"

  ib_ok create-image-pipeline --name nightly --image-recipe-arn "$RECIPE" \
    --infrastructure-configuration-arn "$INFRA" \
    --schedule 'scheduleExpression=cron(0 3 * * ? *),timezone=Europe/Paris'
  local pipeline
  pipeline=$(out_field imagePipelineArn)
  assert_eq "$ARN_PREFIX:image-pipeline/nightly" "$pipeline" "the pipeline's ARN"
  ib_ok get-image-pipeline --image-pipeline-arn "$pipeline"
  assert_json "$OUT" imagePipeline.schedule.scheduleExpression "cron(0 3 * * ? *)"
  assert_json "$OUT" imagePipeline.schedule.timezone Europe/Paris
  assert_json "$OUT" imagePipeline.status ENABLED
  ib_fails InvalidParameterValueException create-image-pipeline --name broken \
    --image-recipe-arn "$RECIPE" --infrastructure-configuration-arn "$INFRA" \
    --schedule 'scheduleExpression=cron(61 3 * * ? *)'
  ib_ok update-image-pipeline --image-pipeline-arn "$pipeline" --image-recipe-arn "$RECIPE" \
    --infrastructure-configuration-arn "$INFRA" --status DISABLED
  ib_ok list-image-pipelines
  assert_json "$OUT" imagePipelineList.0.status DISABLED
  ib_ok start-image-pipeline-execution --image-pipeline-arn "$pipeline"
  local built
  built=$(out_field imageBuildVersionArn)
  ib_ok list-image-pipeline-images --image-pipeline-arn "$pipeline"
  assert_json "$OUT" imageSummaryList.0.arn "$built"
  ib_ok cancel-image-creation --image-build-version-arn "$built"
  ib_ok delete-image --image-build-version-arn "$built"
  ib_ok delete-image-pipeline --image-pipeline-arn "$pipeline"
  ib_fails ResourceNotFoundException get-image-pipeline --image-pipeline-arn "$pipeline"
  stop_server
}

test_refused_requests() {
  start_server
  # Unsigned: 403 and AWS's body.
  local status
  status=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{}' "$ENDPOINT/ListComponents")
  assert_eq 403 "$status" "HTTP status of an unsigned request"
  assert_contains "$T/headers" "x-amzn-ErrorType: MissingAuthenticationTokenException"
  assert_json "$T/body" message "Missing Authentication Token"
  assert_contains "$T/headers" "x-amzn-RequestId:"

  # A wrong secret, an unknown key, another region.
  SECRET=not-the-secret ib_fails InvalidSignatureException list-components
  assert_contains "$ERR" "The request signature we calculated does not match"
  assert_not_contains "$ERR" "$KILN_SECRET_ACCESS_KEY" "the error of a wrong secret"
  KEY_ID=AKIDUNKNOWN ib_fails UnrecognizedClientException list-components
  assert_contains "$ERR" "The security token included in the request is invalid."
  ib "list-images"
  assert_eq 0 "$RC" "a correctly signed call"
  local rc=0
  AWS_ACCESS_KEY_ID=$KILN_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$KILN_SECRET_ACCESS_KEY \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 \
    "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 --no-cli-pager imagebuilder \
    list-images >/dev/null 2>"$T/region.err" || rc=$?
  assert_eq 254 "$rc" "exit code of a call signed for another region"
  assert_contains "$T/region.err" "Credential should be scoped to a valid region"

  # Signed with curl's SigV4: an unknown operation, a body over the limit, malformed JSON.
  local sig=(--aws-sigv4 "aws:amz:local:imagebuilder" --user "$KILN_ACCESS_KEY_ID:$KILN_SECRET_ACCESS_KEY")
  status=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "${sig[@]}" -X PUT \
    -H 'Content-Type: application/json' -d '{}' "$ENDPOINT/CreateLifecyclePolicy")
  assert_eq 404 "$status" "HTTP status of an unknown operation"
  assert_contains "$T/headers" "x-amzn-ErrorType: UnknownOperationException"
  head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/big.json"
  status=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "${sig[@]}" -X POST \
    -H 'Content-Type: application/json' --data-binary "@$T/big.json" "$ENDPOINT/ListComponents")
  assert_eq 413 "$status" "HTTP status of a 2 MB body"
  assert_contains "$T/headers" "x-amzn-ErrorType: RequestEntityTooLargeException"
  status=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "${sig[@]}" -X POST \
    -H 'Content-Type: application/json' -d '{"maxResults": ' "$ENDPOINT/ListComponents")
  assert_eq 400 "$status" "HTTP status of malformed JSON"
  assert_contains "$T/headers" "x-amzn-ErrorType: SerializationException"
  status=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "${sig[@]}" -X POST \
    -H 'Content-Type: application/json' -d '{}' "$ENDPOINT/ListComponents")
  assert_eq 200 "$status" "HTTP status of a call signed by curl"
  assert_json "$T/body" componentVersionList "[]"

  # /metrics: signed only.
  status=$(curl -s -o "$T/body" -w '%{http_code}' "$ENDPOINT/metrics")
  assert_eq 403 "$status" "HTTP status of unsigned /metrics"
  status=$(curl -s -o "$T/body" -w '%{http_code}' "${sig[@]}" "$ENDPOINT/metrics")
  assert_eq 200 "$status" "HTTP status of signed /metrics"
  assert_contains "$T/body" "kiln_builds_running 0"

  # Nothing in the server's log names the secret.
  assert_not_contains "$T/server.log" "$KILN_SECRET_ACCESS_KEY" "the server's log"
  stop_server
}

test_boto3() {
  if ! python3 -c 'import boto3' 2>/dev/null; then
    skip "python3 has no boto3"
  fi
  start_server
  write_component "$T/a.yaml" boto
  ENDPOINT=$ENDPOINT DOC=$T/a.yaml python3 - <<'EOF' || fail "boto3 calls failed"
import os
import boto3
from botocore.exceptions import ClientError

client = boto3.client(
    "imagebuilder",
    endpoint_url=os.environ["ENDPOINT"],
    region_name="local",
    aws_access_key_id=os.environ["KILN_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["KILN_SECRET_ACCESS_KEY"],
)
data = open(os.environ["DOC"]).read()
created = client.create_component(name="boto-comp", semanticVersion="1.0.0", platform="Linux", data=data)
arn = created["componentBuildVersionArn"]
assert arn.endswith(":component/boto-comp/1.0.0/1"), arn
assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
got = client.get_component(componentBuildVersionArn=arn)
assert got["component"]["name"] == "boto-comp", got
try:
    client.get_image(imageBuildVersionArn=arn.replace(":component/", ":image/"))
    raise SystemExit("get_image of nothing succeeded")
except client.exceptions.ResourceNotFoundException as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
try:
    client.list_components(maxResults=1, nextToken="bogus")
    raise SystemExit("a bogus token was accepted")
except client.exceptions.InvalidPaginationTokenException:
    pass
print("boto3 ok")
EOF
  stop_server
}

test_tls() {
  command -v openssl >/dev/null 2>&1 || skip "needs openssl"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
    fail "openssl could not make a certificate"
  KILN_API_TLS_CERT=$T/cert.pem KILN_API_TLS_KEY=$T/key.pem start_server
  ENDPOINT=https://127.0.0.1:$PORT
  AWS_CA_BUNDLE=$T/cert.pem ib_ok list-components
  assert_json "$OUT" componentVersionList "[]"
  # Plain HTTP to the TLS port gets nothing.
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics" || true)
  assert_eq 000 "$status" "HTTP status of plain HTTP to the TLS port"
  stop_server
}

run_test components test_components
run_test images_and_pipelines test_images_and_pipelines
run_test refused_requests test_refused_requests
run_test boto3 test_boto3
run_test tls test_tls
finish
