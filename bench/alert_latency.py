#!/usr/bin/env python3
"""Alert latency: the time from a failing check result arriving to the webhook receiving the
notification, through Steadfast and, in the same run, through Prometheus + Alertmanager
(Debian's packages). Run by bench/alert_latency.sh, which documents the setup; stdlib only.

Steadfast: the release collector with the shipped default rules (deploy/config/alert-rules.yaml)
and the default route settings (group_by [alertname, host], group_wait 10s), a webhook receiver
(tests/peers/webhook_receiver.py). Each sample is a new host whose first report is ok, then,
after a pause, a critical result: t0 is just before the report is POSTed, t1 the receiver's
clock when the notification arrives. Samples run one after another.

Prometheus + Alertmanager: an exporter in this script serves check_status{host=...} (0 ok, 2
critical); a rule `check_status == 2` (for: 0s) per configuration; Alertmanager's route groups
by [alertname, host] like Steadfast's. t0 is when the exporter starts serving the critical
value, t1 when the receiver gets the notification. Two configurations run side by side:
  defaults: Prometheus' defaults (scrape and evaluation every 1m), Alertmanager's (group_wait 30s)
  tuned:    scrape and evaluation every 1s (as in the issue's reference), Alertmanager's defaults
Their samples flip at random moments within a window and run concurrently.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_ready(url, proc, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"alert_latency: {what} exited; see its log")
        try:
            if http("GET", url, timeout=2)[0] == 200:
                return
        except Exception:
            pass
        time.sleep(0.05)
    sys.exit(f"alert_latency: {what} not ready after {timeout} s")


class Receiver:
    """Reads the receiver's JSON lines as they come."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.lines = []

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        cut = data.rfind("\n")
        if cut < 0:
            return
        self.offset += len(data[: cut + 1].encode())
        for line in data[: cut + 1].splitlines():
            if line.strip():
                self.lines.append(json.loads(line))

    def first_firing(self, receiver_path_host):
        """host -> received_ms of the first firing notification carrying it, per receiver."""
        out = {}
        for r in self.lines:
            body = r["body"]
            if not isinstance(body, dict):
                continue
            for a in body.get("alerts", []):
                if a.get("status") != "firing":
                    continue
                key = (body.get("receiver"), a["labels"].get("host"))
                out.setdefault(key, r["received_ms"])
        return out


def percentile(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(name, ms):
    if not ms:
        return f"{name:<44} n=0"
    return f"{name:<44} n={len(ms):<4} p50 {percentile(ms, 50):9.1f} ms   p99 {percentile(ms, 99):9.1f} ms   max {max(ms):9.1f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--collector", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--peer-samples", type=int, default=20)
    ap.add_argument("--peer-window", type=int, default=60, help="seconds over which the peer samples flip")
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()
    work = args.work
    procs = []

    def stop_all(*_):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(1)))
    try:
        hook_port = free_port()
        out = os.path.join(work, "received.jsonl")
        procs.append(subprocess.Popen(
            ["/usr/bin/python3", os.path.join(ROOT, "tests/peers/webhook_receiver.py"), "--port", str(hook_port),
             "--out", out, "--ready-file", os.path.join(work, "receiver.ready")],
            stdout=open(os.path.join(work, "receiver.log"), "w"), stderr=subprocess.STDOUT))
        while not os.path.exists(os.path.join(work, "receiver.ready")):
            time.sleep(0.02)
        receiver = Receiver(out)

        peer_results = {}
        peer_thread = None
        if not args.skip_peer:
            peer_thread = threading.Thread(target=run_peers, args=(args, work, hook_port, receiver, procs, peer_results))
            peer_thread.start()

        sf = run_steadfast(args, work, hook_port, receiver, procs)
        if peer_thread:
            peer_thread.join()

        print()
        print("alert latency: failing result arrives -> webhook receives the notification")
        print(summary("steadfast (defaults, release build)", sf))
        for name in ("defaults", "tuned"):
            if name not in peer_results:
                continue
            r = peer_results[name]
            extra = f" ({r['missing']} not delivered within the wait)" if r["missing"] else ""
            if r["ms"]:
                print(summary(f"prometheus+alertmanager ({name})", r["ms"]) + extra)
            else:
                print(f"prometheus+alertmanager ({name}): nothing delivered{extra}")
        for name in ("defaults", "tuned"):
            if name in peer_results and peer_results[name]["ms"]:
                pr = peer_results[name]["ms"]
                print(f"steadfast/peer ({name}): p50 {percentile(sf, 50) / percentile(pr, 50):.6f}"
                      f" ({percentile(pr, 50) / percentile(sf, 50):.0f}x faster)"
                      f"   p99 {percentile(sf, 99) / percentile(pr, 99):.6f}"
                      f" ({percentile(pr, 99) / percentile(sf, 99):.0f}x faster)")
        print(f"target: steadfast p99 <= 1000 ms -> {'met' if percentile(sf, 99) <= 1000 else 'NOT met'}")
    finally:
        stop_all()


def run_steadfast(args, work, hook_port, receiver, procs):
    port = free_port()
    token = "bench-enrolment-token-0123456789"
    d = os.path.join(work, "steadfast")
    os.makedirs(d, exist_ok=True)
    rules = os.path.join(ROOT, "deploy/config/alert-rules.yaml")
    with open(os.path.join(d, "collector.yaml"), "w") as f:
        f.write(f"""listen: 127.0.0.1:{port}
data_dir: {d}/data
web_root: {ROOT}/dashboards/web
enrollment_tokens: [{token}]
alerting:
  rule_files: [{rules}]
  route: {{receiver: hook, group_by: [alertname, host]}}
  receivers:
    - name: hook
      webhook_configs: [{{url: "http://127.0.0.1:{hook_port}/steadfast"}}]
""")
    p = subprocess.Popen([args.collector, "--config", os.path.join(d, "collector.yaml")],
                         stdout=open(os.path.join(d, "collector.log"), "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/readyz", p, "steadfast-collector")
    latencies = []
    for i in range(args.samples):
        host = f"sf-{i}"
        status, body = http("POST", base + "/api/v1/enroll", json.dumps(
            {"version": 1, "enrollment_token": token,
             "host": {"hostname": host, "os": "Debian GNU/Linux 12", "kernel": "6.1", "arch": "x86_64",
                      "agent_version": "bench"}}), {"Content-Type": "application/json"})
        enrolled = json.loads(body)
        auth = {"Content-Type": "application/json", "Authorization": "Bearer " + enrolled["agent_token"]}

        def report(seq, status_name):
            now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
            batch = {"version": 1, "agent_id": enrolled["agent_id"], "sent_at": now,
                     "host": {"hostname": host, "os": "Debian GNU/Linux 12", "kernel": "6.1", "arch": "x86_64",
                              "agent_version": "bench"},
                     "results": [{"seq": seq, "check": "disk", "target": "/dev/sda", "status": status_name,
                                  "summary": "bench", "observed_at": now, "duration_ms": 1, "metrics": [],
                                  "details": {}}]}
            http("POST", base + "/api/v1/reports", json.dumps(batch), auth)

        report(1, "ok")
        time.sleep(random.uniform(0.2, 0.5))
        t0 = time.time() * 1000
        report(2, "critical")
        deadline = time.time() + 15
        got = None
        while time.time() < deadline:
            receiver.poll()
            got = receiver.first_firing(None).get(("hook", host))
            if got is not None:
                break
            time.sleep(0.002)
        if got is None:
            sys.exit(f"alert_latency: steadfast sample {i} not delivered within 15 s; see {d}/collector.log")
        latencies.append(got - t0)
    return latencies


class Exporter:
    def __init__(self):
        self.values = {}
        self.lock = threading.Lock()
        exporter = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                with exporter.lock:
                    lines = ["# TYPE check_status gauge"]
                    for (metric, host), v in sorted(exporter.values.items()):
                        lines.append(f'{metric}{{host="{host}"}} {v}')
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, metric, host, v):
        with self.lock:
            self.values[(metric, host)] = v


def run_peers(args, work, hook_port, receiver, procs, results):
    for b in ("prometheus", "prometheus-alertmanager"):
        if shutil.which(b) is None:
            print(f"alert_latency: {b} not installed (deploy/install-deps.sh --bench); peer skipped", file=sys.stderr)
            return
    exporter = Exporter()
    configs = {"defaults": None, "tuned": "1s"}
    started = {}
    for name, interval in configs.items():
        d = os.path.join(work, "peer-" + name)
        os.makedirs(d, exist_ok=True)
        metric = f"check_status_{name}"
        am_port, prom_port = free_port(), free_port()
        with open(os.path.join(d, "alertmanager.yml"), "w") as f:
            f.write(f"""route:
  receiver: {name}
  group_by: [alertname, host]
receivers:
  - name: {name}
    webhook_configs:
      - url: 'http://127.0.0.1:{hook_port}/{name}'
""")
        with open(os.path.join(d, "rules.yml"), "w") as f:
            f.write(f"""groups:
  - name: checks
    rules:
      - alert: CheckCritical
        expr: {metric} == 2
        labels: {{severity: critical}}
""")
        glob = f"global: {{scrape_interval: {interval}, evaluation_interval: {interval}}}\n" if interval else ""
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write(glob + f"""rule_files: ['{d}/rules.yml']
scrape_configs:
  - job_name: checks
    static_configs: [{{targets: ['127.0.0.1:{exporter.port}']}}]
alerting:
  alertmanagers: [{{api_version: v2, static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]
""")
        am = subprocess.Popen(["prometheus-alertmanager", f"--config.file={d}/alertmanager.yml",
                               f"--storage.path={d}/am-data", f"--web.listen-address=127.0.0.1:{am_port}",
                               "--cluster.listen-address="],
                              stdout=open(os.path.join(d, "alertmanager.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(am)
        prom = subprocess.Popen(["prometheus", f"--config.file={d}/prometheus.yml", f"--storage.tsdb.path={d}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=open(os.path.join(d, "prometheus.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(prom)
        wait_ready(f"http://127.0.0.1:{am_port}/-/ready", am, "alertmanager")
        wait_ready(f"http://127.0.0.1:{prom_port}/-/ready", prom, "prometheus")
        started[name] = (metric, prom_port)
    for name, (metric, _) in started.items():
        for i in range(args.peer_samples):
            exporter.set(metric, f"{name}-{i}", 0)
    # Until Prometheus has discovered Alertmanager (about 5 s after start) an alert is dropped.
    for name, (_, prom_port) in started.items():
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                _, body = http("GET", f"http://127.0.0.1:{prom_port}/api/v1/alertmanagers")
                if json.loads(body)["data"]["activeAlertmanagers"]:
                    break
            except Exception:
                pass
            time.sleep(0.2)
    flips = {}
    schedule = []
    for name, (metric, _) in started.items():
        for i in range(args.peer_samples):
            schedule.append((random.uniform(0, args.peer_window), name, metric, f"{name}-{i}"))
    schedule.sort()
    t_start = time.time()
    for at, name, metric, host in schedule:
        delay = t_start + at - time.time()
        if delay > 0:
            time.sleep(delay)
        flips[(name, host)] = time.time() * 1000
        exporter.set(metric, host, 2)
    # Defaults: scrape 1m + evaluation 1m + group_wait 30s, so wait up to 4 minutes after the last flip.
    deadline = time.time() + 240
    while time.time() < deadline:
        receiver.poll()
        got = receiver.first_firing(None)
        if all((name, host) in got for (name, host) in flips):
            break
        time.sleep(0.2)
    got = receiver.first_firing(None)
    for name in started:
        ms = [got[(name, host)] - t0 for (n, host), t0 in flips.items() if n == name and (name, host) in got]
        missing = sum(1 for (n, host) in flips if n == name and (name, host) not in got)
        results[name] = {"ms": ms, "missing": missing}
    exporter.server.shutdown()


if __name__ == "__main__":
    main()
