#!/usr/bin/env bash
# Alert latency, Steadfast next to Prometheus + Alertmanager, in one run on this machine: the
# time from a failing check result arriving to a webhook receiving the notification (p50/p99).
# See bench/alert_latency.py for exactly what is measured. Builds nothing.
#
#   bench/alert_latency.sh [BIN_DIR]     BIN_DIR: the release build (default build/release)
#
# Environment: SAMPLES=100 (Steadfast), PEER_SAMPLES=20 and PEER_WINDOW=60 (seconds) for the
# peers, SKIP_PEER=1 to measure Steadfast alone, KEEP=1 to keep the work directory.
# Prometheus and Alertmanager are installed with `deploy/install-deps.sh --bench` when missing.
# Takes about 5 minutes (Prometheus' defaults scrape and evaluate once a minute).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/build/release}" && pwd)
collector="$bin/collector/steadfast-collector"
[ -x "$collector" ] || { echo "alert_latency: $collector not found; build the release preset first" >&2; exit 2; }
if [ -z "${SKIP_PEER:-}" ] && ! command -v prometheus-alertmanager >/dev/null; then
  bash "$root/deploy/install-deps.sh" --bench
fi
work=$(mktemp -d /tmp/sf-alert-latency.XXXXXX)
cleanup() { if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi; }
trap cleanup EXIT
args=(--collector "$collector" --work "$work" --samples "${SAMPLES:-100}"
      --peer-samples "${PEER_SAMPLES:-20}" --peer-window "${PEER_WINDOW:-60}")
[ -n "${SKIP_PEER:-}" ] && args+=(--skip-peer)
/usr/bin/python3 "$root/bench/alert_latency.py" "${args[@]}"
