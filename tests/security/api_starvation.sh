#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031  # functions run by run_kiln_test; $T per test
# Starving `kiln serve` (docs/security.md, "The API daemon"): connections that send one byte a
# second must not stop the API for a signed client; many connections from one address are capped;
# a request that never finishes is closed at the request deadline; malformed requests (invalid
# UTF-8 in a body or a path, "dryRun": "yes", a negative or huge Content-Length, both
# Content-Length and Transfer-Encoding, a chunked body over the limit) get a prompt 400 or 413
# with exactly one x-amzn-ErrorType and no library text. Every attack runs on loopback, without
# a key where the attack needs none. Needs root (kiln_lib.sh), /usr/bin/aws and python3-botocore.
# Usage: api_starvation.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged
AWS_BIN=${KILN_TEST_AWS:-/usr/bin/aws}
if [ ! -x "$AWS_BIN" ]; then
  echo "skipped: needs the AWS CLI ($AWS_BIN; Debian package awscli)" >&2
  exit 77
fi
python3 -c 'import botocore' 2>/dev/null || {
  echo "skipped: needs python3-botocore" >&2
  exit 77
}
KEY_ID=AKIDKILNSTARVE000001
SECRET=kiln-starvation-secret

# start_daemon [ARGS...]: kiln serve over $ROOT, stopped when the test ends. With
# KILN_API_TEST_SERVER set (the path of kiln_api_test_server), that server instead, the same
# flags given as its environment variables: the same HTTP server without builds behind it.
start_daemon() {
  if [ -n "${KILN_API_TEST_SERVER:-}" ]; then
    local timeout="" per_client=""
    while [ $# -gt 0 ]; do
      case $1 in
        --request-timeout) timeout=$2 ;;
        --max-connections-per-client) per_client=$2 ;;
      esac
      shift 2
    done
    KILN_ACCESS_KEY_ID=$KEY_ID KILN_SECRET_ACCESS_KEY=$SECRET \
      KILN_API_REQUEST_TIMEOUT=$timeout KILN_API_MAX_CONNECTIONS_PER_CLIENT=$per_client \
      "$KILN_API_TEST_SERVER" "$ROOT" "$T/port" >"$T/daemon.log" 2>&1 &
    DAEMON=$!
    for _ in $(seq 100); do
      [ -s "$T/port" ] && break
      sleep 0.1
    done
    PORT=$(cat "$T/port")
  else
    start_kiln_daemon "$ROOT" "$@"
  fi
  trap 'stop_kiln_daemon; _kiln_cleanup' EXIT
}

# The client side of the attacks: raw sockets (python3), and botocore's SigV4 for signed ones.
write_client() {
  cat >"$T/client.py" <<'EOF'
import socket, sys, time, threading, json, os

def connect(port, source="127.0.0.1", timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s

def read_response(s):
    """The response's status, headers (a list of pairs) and body; (None, ...) when closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None, [], data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:]]
    length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body

def report(status, headers, body, elapsed):
    types = [v for k, v in headers if k.lower() == "x-amzn-errortype"]
    print(json.dumps({"status": status, "error_types": types,
                      "body": body.decode("utf-8", "replace"), "elapsed": elapsed}))

def raw(port, request):
    s = connect(port)
    start = time.monotonic()
    s.sendall(request)
    try:
        status, headers, body = read_response(s)
    except socket.timeout:
        status, headers, body = None, [], b""
    report(status, headers, body, time.monotonic() - start)

def signed(port, method, path, body):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = "http://127.0.0.1:%d%s" % (port, path)
    req = AWSRequest(method=method, url=url, data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(os.environ["KEY_ID"], os.environ["SECRET"]),
              "imagebuilder", "local").add_auth(req)
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, path, port)
    for k, v in req.headers.items():
        head += "%s: %s\r\n" % (k, v)
    head += "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    raw(port, head.encode() + body)

def slow(port, source, count, seconds):
    """COUNT connections from SOURCE, each sending a request one byte a second for SECONDS.
    Prints how many the server closed (and how soon) and how many stayed open."""
    request = b"POST /ListImages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"{" * 1000
    socks = []
    for _ in range(count):
        try:
            socks.append(connect(port, source))
        except OSError:
            pass
    start = time.monotonic()
    closed = {}
    pos = 0
    while time.monotonic() - start < seconds and len(closed) < len(socks):
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.send(request[pos:pos + 1])
                s.setblocking(False)
                try:
                    if s.recv(4096) == b"":
                        closed[i] = time.monotonic() - start
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
            except OSError:
                closed[i] = time.monotonic() - start
        pos += 1
        time.sleep(1)
    print(json.dumps({"opened": len(socks), "closed": len(closed),
                      "first_close": min(closed.values()) if closed else None,
                      "last_close": max(closed.values()) if closed else None}), flush=True)

mode = sys.argv[1]
port = int(sys.argv[2])
if mode == "raw":
    raw(port, sys.stdin.buffer.read().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n"))
elif mode == "rawbin":
    raw(port, sys.stdin.buffer.read())
elif mode == "signed":
    signed(port, sys.argv[3], sys.argv[4], sys.stdin.buffer.read())
elif mode == "slow":
    slow(port, sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
EOF
}

client() {
  KEY_ID=$KEY_ID SECRET=$SECRET timeout 60 python3 "$T/client.py" "$@"
}

field() {
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v) if isinstance(v, list) else v)' "$1" "$2"
}

# assert_client_error FILE STATUS TYPE: the answer in FILE has STATUS, exactly one
# x-amzn-ErrorType (TYPE) and no text of a library in its body.
assert_client_error() {
  local file=$1 status=$2 type=$3
  cat "$file" >&2
  assert_eq "$status" "$(field "$file" status)" "HTTP status"
  assert_eq "[\"$type\"]" "$(field "$file" error_types)" "the x-amzn-ErrorType headers"
  local body
  body=$(field "$file" body)
  assert_not_contains "$body" "json.exception" "the error body"
  assert_not_contains "$body" "nlohmann" "the error body"
  assert_not_contains "$body" "type_error" "the error body"
  python3 -c 'import json,sys; json.loads(sys.argv[1])["message"]' "$body" ||
    fail "the error body is not {\"message\": ...}: $body"
}

# ib ARGS...: `aws imagebuilder ARGS` against the daemon; seconds taken in $SECONDS_TAKEN.
ib() {
  local start end
  start=$(date +%s.%N)
  RC=0
  AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER='' AWS_MAX_ATTEMPTS=1 \
    timeout 60 "$AWS_BIN" imagebuilder --endpoint-url "http://127.0.0.1:$PORT" --region local \
    --cli-read-timeout 40 --output json "$@" </dev/null >"$T/.stdout" 2>"$T/.stderr" || RC=$?
  end=$(date +%s.%N)
  SECONDS_TAKEN=$(python3 -c "print(round($end - $start, 2))")
}

# ---- the tests --------------------------------------------------------------------------------

# Sixteen connections from another address that send one byte a second: a signed AWS CLI call
# still answers at once (cpp-httplib's eight workers were all held by the slow requests).
test_slow_connections_do_not_block() {
  write_client
  start_daemon
  client slow "$PORT" 127.0.0.2 16 30 >"$T/slow.json" &
  BG_PIDS="$BG_PIDS $!"
  sleep 2
  # A signed request answers at once (timed on the socket, without the CLI's start-up)...
  printf '{}' | client signed "$PORT" POST /ListImages >"$T/r.json"
  cat "$T/r.json" >&2
  assert_eq 200 "$(field "$T/r.json" status)" "ListImages status"
  python3 -c "import sys; sys.exit(0 if $(field "$T/r.json" elapsed) < 1 else 1)" ||
    fail "ListImages took $(field "$T/r.json" elapsed)s with 16 slow connections open"
  # ... and so does the AWS CLI (whose own start-up takes seconds on a busy machine).
  ib list-images
  cat "$T/.stderr" >&2
  assert_eq 0 "$RC" "aws imagebuilder list-images exit code"
  echo "    aws imagebuilder list-images took ${SECONDS_TAKEN}s with 16 slow connections open" >&2
  python3 -c "import sys; sys.exit(0 if $SECONDS_TAKEN < 15 else 1)" ||
    fail "list-images took ${SECONDS_TAKEN}s with 16 slow connections open"
}

# One address opens 100 connections: those over the per-client cap are closed at once, and a
# client from another address is still served.
test_one_address_is_capped() {
  write_client
  start_daemon --max-connections-per-client 20
  client slow "$PORT" 127.0.0.3 100 3 >"$T/slow.json"
  cat "$T/slow.json" >&2
  local closed first
  closed=$(field "$T/slow.json" closed)
  [ "$closed" -ge 80 ] || fail "only $closed of 100 connections from one address were refused"
  [ "$closed" -le 80 ] || fail "$closed of 100 connections were closed: the cap is 20"
  first=$(field "$T/slow.json" first_close)
  python3 -c "import sys; sys.exit(0 if $first < 2 else 1)" ||
    fail "the connections over the cap were closed only after ${first}s"
  ib list-images
  assert_eq 0 "$RC" "aws imagebuilder list-images exit code"
}

# A request that never finishes (headers one byte a second) is closed at the request deadline.
test_unfinished_request_is_closed_at_the_deadline() {
  write_client
  start_daemon --request-timeout 3
  client slow "$PORT" 127.0.0.4 1 15 >"$T/slow.json"
  cat "$T/slow.json" >&2
  assert_eq 1 "$(field "$T/slow.json" closed)" "connections closed by the server"
  python3 -c "import sys; t=$(field "$T/slow.json" first_close); sys.exit(0 if 2.5 <= t <= 6 else 1)" ||
    fail "the unfinished request was closed after $(field "$T/slow.json" first_close)s, not at 3 s"
}

test_invalid_utf8_in_body() {
  write_client
  start_daemon
  printf '{"owner": "\xff\xfe"}' | client signed "$PORT" POST /ListImages >"$T/r.json"
  assert_client_error "$T/r.json" 400 SerializationException
  printf '{"name": "a\xc3", "semanticVersion": "1.0.0", "platform": "Linux", "data": "x", "clientToken": "t"}' |
    client signed "$PORT" PUT /CreateComponent >"$T/r.json"
  assert_client_error "$T/r.json" 400 SerializationException
}

test_invalid_utf8_in_path() {
  write_client
  start_daemon
  printf 'POST /ListImages\xff HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}' |
    client raw "$PORT" >"$T/r.json"
  assert_client_error "$T/r.json" 400 InvalidRequestException
  printf 'POST /ListImages%%FF HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}' |
    client raw "$PORT" >"$T/r.json"
  assert_client_error "$T/r.json" 400 InvalidRequestException
}

test_dry_run_not_boolean() {
  write_client
  start_daemon
  printf '{"name": "c", "semanticVersion": "1.0.0", "platform": "Linux", "data": "x", "clientToken": "t", "dryRun": "yes"}' |
    client signed "$PORT" PUT /CreateComponent >"$T/r.json"
  assert_client_error "$T/r.json" 400 SerializationException
  printf '{"maxResults": "ten"}' | client signed "$PORT" POST /ListImages >"$T/r.json"
  assert_client_error "$T/r.json" 400 SerializationException
}

# assert_prompt FILE: answered (not a closed connection) in well under a second.
assert_prompt() {
  local elapsed
  elapsed=$(field "$1" elapsed)
  python3 -c "import sys; sys.exit(0 if $elapsed < 0.5 else 1)" ||
    fail "the answer took ${elapsed}s"
}

test_bad_lengths_answered_at_once() {
  write_client
  start_daemon
  printf 'POST /ListImages HTTP/1.1\nHost: x\nContent-Length: -1\n\n' | client raw "$PORT" >"$T/r.json"
  assert_client_error "$T/r.json" 400 SerializationException
  assert_prompt "$T/r.json"
  printf 'POST /ListImages HTTP/1.1\nHost: x\nContent-Length: 99999999999999999999\n\n' |
    client raw "$PORT" >"$T/r.json"
  cat "$T/r.json" >&2
  case $(field "$T/r.json" status) in 400 | 413) ;; *) fail "a huge Content-Length: not 400 or 413" ;; esac
  assert_eq 1 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["error_types"]))' "$T/r.json")" \
    "x-amzn-ErrorType headers"
  assert_prompt "$T/r.json"
  printf 'POST /ListImages HTTP/1.1\nHost: x\nContent-Length: 10000000\n\n' |
    client raw "$PORT" >"$T/r.json"
  assert_client_error "$T/r.json" 413 RequestEntityTooLargeException
  assert_prompt "$T/r.json"
  printf 'POST /ListImages HTTP/1.1\nHost: x\nContent-Length: 2\nTransfer-Encoding: chunked\n\n2\n{}\n0\n\n' |
    client raw "$PORT" >"$T/r.json"
  assert_client_error "$T/r.json" 400 SerializationException
  assert_prompt "$T/r.json"
  # A chunked body over the 1 MiB limit: refused once the limit is passed, not read to its end.
  python3 -c '
import sys
chunk = b"{" * 65536
sys.stdout.buffer.write(b"POST /ListImages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
for _ in range(40):
    sys.stdout.buffer.write(b"10000\r\n" + chunk + b"\r\n")
' | client rawbin "$PORT" >"$T/r.json"
  assert_client_error "$T/r.json" 413 RequestEntityTooLargeException
}

run_kiln_test slow_connections_do_not_block test_slow_connections_do_not_block
run_kiln_test one_address_is_capped test_one_address_is_capped
run_kiln_test unfinished_request_is_closed_at_the_deadline test_unfinished_request_is_closed_at_the_deadline
run_kiln_test invalid_utf8_in_body test_invalid_utf8_in_body
run_kiln_test invalid_utf8_in_path test_invalid_utf8_in_path
run_kiln_test dry_run_not_boolean test_dry_run_not_boolean
run_kiln_test bad_lengths_answered_at_once test_bad_lengths_answered_at_once
finish
