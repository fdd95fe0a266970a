#!/usr/bin/env python3
"""A small HTTP server for kiln's download tests, bound to 127.0.0.1.

Routes (the query string is ignored by every route):
  /files/<path>           serves <root>/<path> (200), or 404 when it is missing
  /status/<code>          answers with that status and a short body
  /redirect/<path>        302 to /<path>
  /flaky/<n>/<path>       the first <n> requests for this exact path answer 500, later ones
                          serve /files/<path>
  /slow/<path>            sends headers for a 1 MiB body and one byte, then stalls
  /count?path=<path>      how many requests arrived for <path> so far (this route not counted)
  /sigv4/<bucket>/<key>   checks the request's AWS SigV4 signature (see --aws-*); 403 when it
                          does not match. GET answers "signed-ok" (or a ListObjectsV2 page when
                          list-type=2), PUT reads the body and answers 200.

POST requests (webhooks and SNS) are recorded, each with its headers, body and the status it got:
  POST /hook/<path>         answers 200
  POST /status/<code>/...   answers that status
  POST /flaky/<n>/<path>    the first <n> POSTs to this exact path answer 500, later ones 200
  POST /sns                 an SNS Publish call (Query API form): checks its SigV4 signature for
                            service sns (see --aws-*) and Action, Version, TopicArn, Message (a
                            JSON object); 200 with a PublishResponse, 400 or 403 with an
                            ErrorResponse naming what is wrong
  GET /requests?path=<path> the POSTs recorded for <path> so far, as a JSON array of
                            {"method", "path", "headers", "body", "status"}

With --tls-cert and --tls-key it serves HTTPS. Only the Python standard library is used.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

COUNTS = {}
COUNTS_LOCK = threading.Lock()
RECORDED = {}  # path -> [request], guarded by COUNTS_LOCK


def count(path):
    with COUNTS_LOCK:
        COUNTS[path] = COUNTS.get(path, 0) + 1
        return COUNTS[path]


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def quote(text):
    return urllib.parse.quote(text, safe="-_.~")


def canonical_query(raw_query):
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(pairs))


def expected_signature(handler, secret):
    """Recomputes SigV4 from what arrived, independently of the client."""
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return None, None, "no SigV4 Authorization header"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    path, _, query = handler.path.partition("?")
    headers = "".join(f"{h}:{' '.join(handler.headers.get(h, '').split())}\n" for h in signed)
    # S3 requests send the payload's hash; other services sign the hash of the body as sent.
    payload = handler.headers.get("x-amz-content-sha256") or sha256_hex(getattr(handler, "body", b""))
    request = "\n".join([handler.command, path, canonical_query(query), headers,
                         ";".join(signed), payload])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", handler.headers.get("x-amz-date", ""), scope,
                         sha256_hex(request.encode())])
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac_sha256(key, part)
    return key_id, fields["Signature"], hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


LIST_PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
<IsTruncated>false</IsTruncated><Contents><Key>signed &amp; listed.txt</Key><Size>9</Size>
</Contents></ListBucketResult>"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_file(self, rel):
        path = os.path.normpath(os.path.join(self.server.root, urllib.parse.unquote(rel)))
        if not path.startswith(self.server.root) or not os.path.isfile(path):
            return self.reply(404, b"not found")
        with open(path, "rb") as f:
            self.reply(200, f.read())

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/count":
            target = urllib.parse.parse_qs(query).get("path", [""])[0]
            with COUNTS_LOCK:
                return self.reply(200, str(COUNTS.get(target, 0)).encode())
        if path == "/requests":
            target = urllib.parse.parse_qs(query).get("path", [""])[0]
            with COUNTS_LOCK:
                body = json.dumps(RECORDED.get(target, [])).encode()
            return self.reply(200, body, {"Content-Type": "application/json"})
        seen = count(path)
        parts = path.split("/", 3)
        route = parts[1] if len(parts) > 1 else ""
        if route == "files":
            return self.serve_file(path[len("/files/"):])
        if route == "status":
            return self.reply(int(parts[2]), f"status {parts[2]}".encode())
        if route == "redirect":
            return self.reply(302, b"", {"Location": path[len("/redirect"):]})
        if route == "flaky":
            if seen <= int(parts[2]):
                return self.reply(500, b"transient failure")
            return self.serve_file(parts[3])
        if route == "slow":
            return self.stall()
        if route == "sigv4":
            return self.signed()
        self.reply(404, b"no such route")

    do_HEAD = do_GET

    def do_PUT(self):
        count(self.path.partition("?")[0])
        length = int(self.headers.get("Content-Length", "0"))
        self.body = self.rfile.read(length)
        if self.path.startswith("/sigv4/"):
            return self.signed()
        self.reply(405, b"")

    def do_POST(self):
        path = self.path.partition("?")[0]
        seen = count(path)
        length = int(self.headers.get("Content-Length", "0"))
        self.body = self.rfile.read(length)
        parts = path.split("/", 3)
        route = parts[1] if len(parts) > 1 else ""
        status, body = 404, b"no such route"
        if route == "hook":
            status, body = 200, b"ok"
        elif route == "status":
            status, body = int(parts[2]), f"status {parts[2]}".encode()
        elif route == "flaky":
            status, body = (500, b"transient failure") if seen <= int(parts[2]) else (200, b"ok")
        elif route == "sns":
            status, body = self.sns_publish()
        with COUNTS_LOCK:
            RECORDED.setdefault(path, []).append({
                "method": self.command, "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": self.body.decode("utf-8", "replace"), "status": status})
        self.reply(status, body)

    def sns_publish(self):
        def error(status, code, message):
            return status, (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                            f"<Message>{message}</Message></Error></ErrorResponse>").encode()
        key_id, got, want = expected_signature(self, self.server.aws_secret)
        if got is None:
            return error(403, "MissingAuthenticationToken", want)
        scope = self.headers.get("Authorization", "").split("Credential=")[1].split(",")[0]
        if scope.split("/")[3] != "sns":
            return error(403, "InvalidClientTokenId", f"signed for {scope.split('/')[3]}, not sns")
        if key_id != self.server.aws_key or got != want:
            return error(403, "SignatureDoesNotMatch", "signature check failed")
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return error(400, "InvalidParameterValue", "not a form")
        form = dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))
        if form.get("Action") != "Publish" or form.get("Version") != "2010-03-31":
            return error(400, "InvalidAction", "expected Action=Publish, Version=2010-03-31")
        if not form.get("TopicArn", "").startswith("arn:"):
            return error(400, "InvalidParameter", "TopicArn")
        try:
            if not isinstance(json.loads(form.get("Message", "")), dict):
                raise ValueError("not an object")
        except ValueError:
            return error(400, "InvalidParameter", "Message is not a JSON object")
        return 200, (b"<PublishResponse><PublishResult><MessageId>00000000-1111-2222-3333-"
                     b"444444444444</MessageId></PublishResult></PublishResponse>")

    def stall(self):
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        self.wfile.write(b"x")
        self.wfile.flush()
        time.sleep(60)

    def signed(self):
        key_id, got, want = expected_signature(self, self.server.aws_secret)
        if key_id != self.server.aws_key or got != want:
            return self.reply(403, b"<Error><Code>SignatureDoesNotMatch</Code>"
                                   b"<Message>signature check failed</Message></Error>")
        if self.headers.get("x-amz-security-token", "") != self.server.aws_token:
            return self.reply(403, b"<Error><Code>InvalidToken</Code></Error>")
        if self.command == "PUT":
            return self.reply(200, b"")
        if "list-type=2" in self.path:
            return self.reply(200, LIST_PAGE.encode())
        self.reply(200, b"signed-ok")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--aws-key", default="AKIDEXAMPLE")
    parser.add_argument("--aws-secret", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    parser.add_argument("--aws-token", default="")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="and this private key (PEM)")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.root = os.path.realpath(args.root)
    server.aws_key, server.aws_secret, server.aws_token = args.aws_key, args.aws_secret, args.aws_token
    sys.stdout.write(f"listening on {args.port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
