#!/usr/bin/env bash
# Resident memory of steadfast-agent against Debian's prometheus-node-exporter over time.
#
#   bench/agent_footprint.sh [BIN_DIR]        BIN_DIR: the release build (default build/release)
#
# Builds nothing. Starts, on loopback, a collector (SQLite, as deploy/quickstart.sh configures
# it), our agent with the quickstart's checks (system every 15 s, filesystems every 30 s, a TCP
# check of the collector port every 15 s, uplink every 5 s), a second agent with the same
# checks plus its /metrics listener, and node_exporter 1.5 with its default collectors.
# node_exporter and the second agent are scraped every 15 s, as Prometheus would; the first
# agent is the quickstart setup exactly (no listener). VmRSS of every process is read from
# /proc/PID/status every 30 s. Prints one table row per sample, then VmHWM and the final
# ratio agent / node_exporter.
#
# Environment:
#   DURATION=600        seconds to measure
#   SAMPLE_EVERY=30     seconds between RSS samples
#   SCRAPE_EVERY=15     seconds between scrapes
#   SF_FP_PORT=18480    collector port; node_exporter uses +1, the scraped agent's /metrics +2
#   KEEP=1              keep the work directory (configs, logs, smaps at the end)
# node_exporter is installed with `deploy/install-deps.sh --bench` when it is missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/build/release}" && pwd)
duration=${DURATION:-600}
sample_every=${SAMPLE_EVERY:-30}
scrape_every=${SCRAPE_EVERY:-15}
port=${SF_FP_PORT:-18480}
ne_port=$((port + 1))
metrics_port=$((port + 2))

source "$root/bench/lib.sh"
bench_setup agent_footprint "$bin"
bench_port_free agent_footprint "$port" "$ne_port" "$metrics_port"
mkdir -p "$work/agent" "$work/agent-scraped"
quickstart_agent_config "$port" "$work/enrollment.token" "$work/agent" > "$work/agent.yaml"
quickstart_agent_config "$port" "$work/enrollment.token" "$work/agent-scraped" "127.0.0.1:$metrics_port" \
    > "$work/agent-scraped.yaml"

wait_for() { bench_wait_for agent_footprint "$@"; }

bench_start_collector "$port"
bench_start_node_exporter "$ne_port"

"$agent_bin" --config "$work/agent.yaml" > "$work/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")
"$agent_bin" --config "$work/agent-scraped.yaml" > "$work/agent-scraped.log" 2>&1 &
scraped_pid=$!
pids+=("$scraped_pid")
wait_for agent "$agent_pid" test -s "$work/agent/agent.token"
wait_for "scraped agent" "$scraped_pid" test -s "$work/agent-scraped/agent.token"

status_kb() { bench_status_kb "$@"; }
mb() { bench_mb "$@"; }

scrapes_ok=0
scrapes_failed=0
scrape() {
  if curl -fs -o /dev/null --max-time 10 "http://127.0.0.1:$ne_port/metrics" &&
     curl -fs -o /dev/null --max-time 10 "http://127.0.0.1:$metrics_port/metrics"; then
    scrapes_ok=$((scrapes_ok + 1))
  else
    scrapes_failed=$((scrapes_failed + 1))
  fi
}

echo "steadfast-agent $("$agent_bin" --version | awk '{print $2}') ($agent_bin) vs $(prometheus-node-exporter --version 2>&1 | head -1)"
echo "duration ${duration}s, RSS every ${sample_every}s, scrapes every ${scrape_every}s; VmRSS in MB (1 MB = 1024 kB)"
printf '%8s  %12s  %14s  %14s  %10s\n' "time_s" "agent" "agent+scraped" "node_exporter" "collector"
start=$(date +%s)
next_sample=0
next_scrape=0
last_agent=0
last_ne=0
while :; do
  now=$(( $(date +%s) - start ))
  if [ "$now" -ge "$next_scrape" ] && [ "$next_scrape" -le "$duration" ]; then
    scrape
    next_scrape=$((next_scrape + scrape_every))
  fi
  if [ "$now" -ge "$next_sample" ]; then
    for p in "$agent_pid" "$scraped_pid" "$ne_pid" "$collector_pid"; do
      kill -0 "$p" 2>/dev/null || { echo "agent_footprint: process $p died; see $work" >&2; KEEP=1; exit 1; }
    done
    last_agent=$(status_kb "$agent_pid" VmRSS)
    last_ne=$(status_kb "$ne_pid" VmRSS)
    printf '%8d  %12s  %14s  %14s  %10s\n' "$next_sample" "$(mb "$last_agent")" \
      "$(mb "$(status_kb "$scraped_pid" VmRSS)")" "$(mb "$last_ne")" "$(mb "$(status_kb "$collector_pid" VmRSS)")"
    next_sample=$((next_sample + sample_every))
    [ "$next_sample" -gt "$duration" ] && break
  fi
  target=$(( next_sample < next_scrape ? next_sample : next_scrape ))
  sleep_for=$(( target - ( $(date +%s) - start ) ))
  # In the background, so that Ctrl-C stops the run at once instead of after the sleep.
  if [ "$sleep_for" -gt 0 ]; then sleep "$sleep_for" & wait $!; fi
done

printf '%8s  %12s  %14s  %14s  %10s\n' "VmHWM" "$(mb "$(status_kb "$agent_pid" VmHWM)")" \
  "$(mb "$(status_kb "$scraped_pid" VmHWM)")" "$(mb "$(status_kb "$ne_pid" VmHWM)")" \
  "$(mb "$(status_kb "$collector_pid" VmHWM)")"
echo "scrapes: $scrapes_ok ok, $scrapes_failed failed (each = node_exporter + the scraped agent)"
echo "agent RssAnon/RssFile: $(mb "$(status_kb "$agent_pid" RssAnon)") / $(mb "$(status_kb "$agent_pid" RssFile)") MB;" \
     "node_exporter: $(mb "$(status_kb "$ne_pid" RssAnon)") / $(mb "$(status_kb "$ne_pid" RssFile)") MB"
# The agents must have been doing their job, not idling: results delivered, none piling up.
if command -v sqlite3 >/dev/null 2>&1; then
  echo "agent spool rows waiting at the end: $(sqlite3 "file:$work/agent/spool.db?mode=ro" \
    'SELECT count(*) FROM spool' 2>/dev/null || echo '?')"
fi
echo "scraped agent: $(curl -fs "http://127.0.0.1:$metrics_port/metrics" |
  awk '/^steadfast_agent_uplink_requests_total|^steadfast_agent_spool_rows/ { printf "%s %s; ", $1, $2 }')"
echo "error lines in agent logs: $(cat "$work/agent.log" "$work/agent-scraped.log" | grep -c ' error ' || true)"
awk -v a="$last_agent" -v n="$last_ne" \
  'BEGIN { printf "final ratio agent/node_exporter (VmRSS): %.2f  (%.2f MB / %.2f MB)\n", a / n, a / 1024, n / 1024 }'
if [ "${KEEP:-0}" = 1 ]; then
  cp "/proc/$agent_pid/smaps" "$work/agent.smaps" 2>/dev/null || true
  cp "/proc/$agent_pid/smaps_rollup" "$work/agent.smaps_rollup" 2>/dev/null || true
fi
