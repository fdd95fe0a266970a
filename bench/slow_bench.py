#!/usr/bin/env python3
"""The API under a slow-connection attack (bench/README.md).

slow_bench.py SERVER [--slow 1000] [--seconds 12] [--requests-per-second 200]

Starts SERVER (kiln_api_test_server: the daemon's HTTP server over a temporary catalog) on a free
loopback port, then measures a normal SigV4-signed client (botocore's signer, one kept-alive
connection, ListImages) three times:
  1. alone;
  2. while --slow connections, spread over 127.0.0.2.. so that no address passes the per-client
     cap, each send their request one byte a second (they stay under the request deadline);
  3. what one address gets: 3 x the cap from 127.0.0.200 (those over the cap are closed at once).
Prints p50/p99/max of the normal client's round trips and how many slow connections were open.
Everything is on loopback and ends within about 2 x --seconds + 10 s.
"""

import argparse
import http.client
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY_ID = "AKIDKILNBENCH0000001"
SECRET = "kiln-bench-secret"
PER_CLIENT = 64


def start_server(binary, root):
    env = dict(os.environ, KILN_ACCESS_KEY_ID=KEY_ID, KILN_SECRET_ACCESS_KEY=SECRET,
               KILN_API_MAX_CONNECTIONS_PER_CLIENT=str(PER_CLIENT))
    port_file = os.path.join(root, "port")
    log = open(os.path.join(root, "server.log"), "w")
    proc = subprocess.Popen([binary, root, port_file], env=env, stdout=log, stderr=log)
    for _ in range(100):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            return proc, int(open(port_file).read())
        time.sleep(0.1)
    proc.kill()
    sys.exit("the server did not start: see " + log.name)


def signed_headers(port, body):
    req = AWSRequest(method="POST", url="http://127.0.0.1:%d/ListImages" % port, data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "imagebuilder", "local").add_auth(req)
    return dict(req.headers.items())


def normal_client(port, seconds, rate):
    """Round trips (ms) of signed ListImages on one kept-alive connection, `rate` a second."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = b"{}"
    times = []
    errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        headers = signed_headers(port, body)  # signing is the client's time, not measured
        start = time.monotonic()
        try:
            conn.request("POST", "/ListImages", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        times.append((time.monotonic() - start) * 1000)
        time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - start)))
    return times, errors


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def summary(name, times, errors):
    if not times:
        print("%-34s     0 requests answered  errors/timeouts %d" % (name, errors), flush=True)
        return
    print("%-34s %5d requests  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  errors %d" %
          (name, len(times), percentile(times, 50), percentile(times, 99), max(times), errors),
          flush=True)


class SlowClients:
    """Connections that send a request one byte a second from a thread of their own."""

    REQUEST = (b"POST /ListImages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n"
               b"X-Slow: " + b"a" * 4000)

    def __init__(self, port, sources, count):
        self.socks = []
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((sources[i % len(sources)], 0))
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            self.socks.append(s)
        self.closed = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        pos = 0
        while not self.stop.is_set():
            for i, s in enumerate(self.socks):
                if i in self.closed:
                    continue
                try:
                    s.send(self.REQUEST[pos:pos + 1])
                    if s.recv(1) == b"":
                        self.closed.add(i)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    self.closed.add(i)
            pos = (pos + 1) % len(self.REQUEST)
            self.stop.wait(1.0)

    def open_count(self):
        return len(self.socks) - len(self.closed)

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--slow", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--requests-per-second", type=float, default=200)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with tempfile.TemporaryDirectory(prefix="kiln-slow-bench-") as root:
        proc, port = start_server(args.server, root)
        try:
            times, errors = normal_client(port, args.seconds, args.requests_per_second)
            summary("alone", times, errors)

            sources = ["127.0.0.%d" % (2 + i) for i in range((args.slow + PER_CLIENT - 2) //
                                                             (PER_CLIENT - 1))]
            slow = SlowClients(port, sources, args.slow)
            time.sleep(2)
            opened = slow.open_count()
            times, errors = normal_client(port, args.seconds, args.requests_per_second)
            print("slow connections open: %d of %d at the start, %d at the end (from %d "
                  "addresses)" % (opened, args.slow, slow.open_count(), len(sources)))
            summary("with %d slow connections" % args.slow, times, errors)

            one = SlowClients(port, ["127.0.0.200"], 3 * PER_CLIENT)
            time.sleep(2.5)
            print("one address opening %d: %d closed at once by the per-client cap of %d" %
                  (3 * PER_CLIENT, len(one.closed), PER_CLIENT), flush=True)
            one.close()
            slow.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print("the server did not stop within 30 s of SIGTERM: killed", flush=True)
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
