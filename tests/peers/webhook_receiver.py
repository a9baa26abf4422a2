#!/usr/bin/env python3
"""A webhook receiver for the alerting tests and bench: a real HTTP server on loopback that
checks each request's X-Steadfast-Signature with Python's own hmac module and appends one JSON
line per request to OUT:

  {"received_ms": ..., "idempotency_key": ..., "signature_ok": true|false|null, "body": {...}}

signature_ok is null when the receiver has no secret. A request with a bad or missing signature
(when a secret is set) is answered 401; otherwise 200, except that the first --fail-first
requests are answered 503 (to exercise retries).

  webhook_receiver.py --port PORT --out FILE [--secret-file F] [--fail-first N] [--ready-file F]
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--secret-file")
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--ready-file")
    args = ap.parse_args()
    secret = None
    if args.secret_file:
        with open(args.secret_file, "rb") as f:
            secret = f.read().strip()
    lock = threading.Lock()
    state = {"failed": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def do_POST(self):
            received = int(time.time() * 1000)
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            ok = None
            if secret is not None:
                ts = self.headers.get("X-Steadfast-Timestamp", "")
                sig = self.headers.get("X-Steadfast-Signature", "")
                want = "sha256=" + hmac.new(secret, ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, sig) and ts.isdigit() and abs(int(ts) - time.time()) < 300
            with lock:
                if ok is False:
                    code = 401
                elif state["failed"] < args.fail_first:
                    state["failed"] += 1
                    code = 503
                else:
                    code = 200
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                line = json.dumps({"received_ms": received, "code": code,
                                   "idempotency_key": self.headers.get("Idempotency-Key"),
                                   "signature_ok": ok, "body": body})
                with open(args.out, "a") as out:
                    out.write(line + "\n")
                    out.flush()
                    os.fsync(out.fileno())
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("ready\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
