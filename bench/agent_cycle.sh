#!/usr/bin/env bash
# CPU time per collection cycle and resident memory of steadfast-agent with every check that
# applies on this machine, next to Debian's prometheus-node-exporter (default collectors) per
# scrape, in the same run.
#
#   bench/agent_cycle.sh [BIN_DIR]            BIN_DIR: the release build (default build/release)
#
# Builds nothing. Starts, on loopback, a collector (SQLite), node_exporter, and one agent whose
# checks are the quickstart's full local set (deploy/lib/quickstart-config.sh,
# quickstart_local_checks: system, filesystems, interfaces, services, clock, patches, disks
# (SMART), RAID, sensors, TCP/HTTP/ping/DNS probes, backup storage, a Monitoring Plugins
# command), every check at the same INTERVAL, with its /metrics listener. Every INTERVAL both
# are scraped, as Prometheus would, and the agent's uplink sends its results to the collector.
# After a warm-up of 3 cycles, CPU time (utime+stime from /proc/PID/stat) is measured over
# CYCLES cycles; a cycle of the agent is one run of every check plus its uplink exchanges and
# one /metrics scrape; a cycle of node_exporter is one scrape. Programs the agent runs
# (smartctl, apt-get, plugins) are reported separately ("children"), since node_exporter runs
# none. Prints both, the ratios, and the issue's targets (memory <= 1/3, CPU <= 1/2).
#
# Environment:
#   CYCLES=100          measured cycles (scrapes)
#   INTERVAL=5          seconds between cycles (at least 3)
#   SF_FP_PORT=18490    collector port; node_exporter uses +1, the agent's /metrics +2
#   KEEP=1              keep the work directory (configs, logs, smaps at the end)
# node_exporter is installed with `deploy/install-deps.sh --bench` when it is missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/build/release}" && pwd)
cycles=${CYCLES:-100}
interval=${INTERVAL:-5}
port=${SF_FP_PORT:-18490}
ne_port=$((port + 1))
metrics_port=$((port + 2))
hz=$(getconf CLK_TCK)

source "$root/bench/lib.sh"
bench_setup agent_cycle "$bin"
bench_port_free agent_cycle "$port" "$ne_port" "$metrics_port"
mkdir -p "$work/agent"
wait_for() { bench_wait_for agent_cycle "$@"; }

# The quickstart agent with its full local check set, every check (and the uplink) each cycle.
QUICKSTART_INTERVAL="$interval" quickstart_agent_config "$port" "$work/enrollment.token" \
    "$work/agent" "127.0.0.1:$metrics_port" > "$work/agent.yaml"

bench_start_collector "$port"
bench_start_node_exporter "$ne_port"

"$agent_bin" --config "$work/agent.yaml" > "$work/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")
wait_for agent "$agent_pid" test -s "$work/agent/agent.token"

# Runs of the check named "system" so far: the agent's cycle counter.
system_runs() {
  curl -fs --max-time 10 "http://127.0.0.1:$metrics_port/metrics" |
    awk '/^steadfast_agent_checks_run_total\{.*check="system"/ { print $2; found = 1 }
         END { if (!found) print 0 }'
}
scrape_failures=0
scrape_both() {
  curl -fs -o /dev/null --max-time 10 "http://127.0.0.1:$ne_port/metrics" ||
    scrape_failures=$((scrape_failures + 1))
  curl -fs -o "$work/agent.metrics" --max-time 10 "http://127.0.0.1:$metrics_port/metrics" ||
    scrape_failures=$((scrape_failures + 1))
}
sleep_until() {  # epoch seconds (fractional)
  local left
  left=$(awk -v t="$1" -v n="$(date +%s.%N)" 'BEGIN { d = t - n; print (d > 0 ? d : 0) }')
  sleep "$left" & wait $!
}

# Warm-up: three cycles, so that start-up (config, enrolment, first runs) is not counted.
for _ in 1 2 3; do scrape_both; sleep "$interval" & wait $!; done
wait_for "agent's first runs" "$agent_pid" test "$(system_runs)" -ge 2

samples_before=$(curl -fs "http://127.0.0.1:$ne_port/metrics" | grep -vc '^#')
runs0=$(system_runs)
a0=$(bench_cpu_ticks "$agent_pid")
as0=$(bench_cpu_ticks "$agent_pid" sys)
ns0=$(bench_cpu_ticks "$ne_pid" sys)
ac0=$(bench_cpu_ticks "$agent_pid" children)
n0=$(bench_cpu_ticks "$ne_pid")
start=$(date +%s.%N)
echo "steadfast-agent $("$agent_bin" --version | awk '{print $2}') vs $(prometheus-node-exporter --version 2>&1 | head -1)"
echo "measuring $cycles cycles of ${interval}s (about $((cycles * interval)) s)"
for ((i = 1; i <= cycles; i++)); do
  scrape_both
  sleep_until "$(awk -v s="$start" -v i="$i" -v d="$interval" 'BEGIN { printf "%.3f", s + i * d }')"
done
a1=$(bench_cpu_ticks "$agent_pid")
as1=$(bench_cpu_ticks "$agent_pid" sys)
ns1=$(bench_cpu_ticks "$ne_pid" sys)
ac1=$(bench_cpu_ticks "$agent_pid" children)
n1=$(bench_cpu_ticks "$ne_pid")
runs1=$(system_runs)
agent_cycles=$((runs1 - runs0))
[ "$agent_cycles" -gt 0 ] || { echo "agent_cycle: the agent ran no checks; see $work" >&2; KEEP=1; exit 1; }

agent_rss=$(bench_status_kb "$agent_pid" VmRSS)
agent_hwm=$(bench_status_kb "$agent_pid" VmHWM)
ne_rss=$(bench_status_kb "$ne_pid" VmRSS)
ne_hwm=$(bench_status_kb "$ne_pid" VmHWM)
agent_results=$(grep -c '^steadfast_check_status{' "$work/agent.metrics" || true)
agent_samples=$(grep -vc '^#' "$work/agent.metrics" || true)
checks=$(grep -c '^  - name:' "$work/agent.yaml" || true)

echo
echo "checks configured: $checks; results per cycle: $agent_results; samples on the agent's /metrics: $agent_samples"
echo "node_exporter samples per scrape: $samples_before"
echo "cycles measured: agent $agent_cycles (runs of 'system'), node_exporter $cycles scrapes; scrape failures: $scrape_failures"
awk -v a="$((a1 - a0))" -v ac="$((ac1 - ac0))" -v n="$((n1 - n0))" -v c="$agent_cycles" -v s="$cycles" \
    -v as="$((as1 - as0))" -v ns="$((ns1 - ns0))" \
    -v hz="$hz" -v ar="$agent_rss" -v ah="$agent_hwm" -v nr="$ne_rss" -v nh="$ne_hwm" 'BEGIN {
  acpu = a * 1000 / hz / c; ccpu = ac * 1000 / hz / c; ncpu = n * 1000 / hz / s
  printf "%-34s %14s %14s %8s\n", "", "steadfast-agent", "node_exporter", "ratio"
  printf "%-34s %14.2f %14.2f %8.2f\n", "CPU ms per cycle (process)", acpu, ncpu, acpu / ncpu
  printf "%-34s %14.2f %14.2f\n", "  of which in the kernel (stime)", as * 1000 / hz / c, ns * 1000 / hz / s
  printf "%-34s %14.2f %14s\n", "CPU ms per cycle (programs run)", ccpu, "-"
  printf "%-34s %14.2f %14.2f %8.2f\n", "VmRSS MB at the end", ar / 1024, nr / 1024, ar / nr
  printf "%-34s %14.2f %14.2f %8.2f\n", "VmHWM MB (peak)", ah / 1024, nh / 1024, ah / nh
  printf "targets: memory <= 0.33 of node_exporter: %s; CPU per cycle <= 0.50: %s\n",
         (ar / nr <= 1 / 3 ? "met" : "NOT met"), (acpu / ncpu <= 0.5 ? "met" : "NOT met")
}'
echo "agent RssAnon/RssFile: $(bench_mb "$(bench_status_kb "$agent_pid" RssAnon)") / $(bench_mb "$(bench_status_kb "$agent_pid" RssFile)") MB;" \
     "node_exporter: $(bench_mb "$(bench_status_kb "$ne_pid" RssAnon)") / $(bench_mb "$(bench_status_kb "$ne_pid" RssFile)") MB"
# For context (the targets are on VmRSS): PSS shares each mapped page among the processes
# mapping it, USS counts only pages no other process maps. Shared libraries make the agent's
# RSS much larger than either; a static Go binary's USS is most of its RSS.
rollup() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"; }
uss() { echo $(( $(rollup "$1" Private_Clean) + $(rollup "$1" Private_Dirty) )); }
echo "PSS MB: agent $(bench_mb "$(rollup "$agent_pid" Pss)"), node_exporter $(bench_mb "$(rollup "$ne_pid" Pss)");" \
     "USS MB: agent $(bench_mb "$(uss "$agent_pid")"), node_exporter $(bench_mb "$(uss "$ne_pid")")"
echo "error lines in the agent's log: $(grep -c ' error ' "$work/agent.log" || true)"
if [ "${KEEP:-0}" = 1 ]; then
  cp "/proc/$agent_pid/smaps" "$work/agent.smaps" 2>/dev/null || true
fi
