# shellcheck shell=bash
# shellcheck disable=SC2154  # root: the sourcing script sets it
# Shared by the shell benchmarks under bench/ (sourced, not run): process start-up with a
# readiness probe, /proc readings and MB formatting. Expects the caller to define `work`
# (its work directory) and the array `pids` (started processes, stopped by the caller's trap).

# bench_wait_for NAME DESCRIPTION PID COMMAND...: polls COMMAND every 0.1 s for up to 30 s;
# gives up (keeping the work directory) when PID exits or time runs out.
bench_wait_for() {
  local name=$1 what=$2 pid=$3
  shift 3
  for _ in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$name: $what exited; see $work" >&2; KEEP=1; exit 1; }
    sleep 0.1
  done
  echo "$name: $what not ready after 30 s; see $work" >&2
  KEEP=1
  exit 1
}

# bench_status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM, RssAnon, ...).
bench_status_kb() {
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# bench_cpu_ticks PID [children|sys]: utime+stime of PID in clock ticks; with "children", the
# CPU of its reaped child processes (cutime+cstime) instead; with "sys", stime alone. The command name (field 2) may
# hold spaces, so fields are counted after its closing parenthesis.
bench_cpu_ticks() {
  local rest
  rest=$(sed 's/^.*) //' "/proc/$1/stat")
  if [ "${2:-}" = children ]; then
    awk '{ print $14 + $15 }' <<<"$rest"
  elif [ "${2:-}" = sys ]; then
    awk '{ print $13 }' <<<"$rest"
  else
    awk '{ print $12 + $13 }' <<<"$rest"
  fi
}

bench_mb() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }

# bench_port_free NAME PORT...: exits 2 naming the first port something already listens on.
bench_port_free() {
  local name=$1
  shift
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$name: port $p is in use; set SF_FP_PORT" >&2
      exit 2
    fi
  done
}

# bench_setup NAME BIN_DIR: checks the release binaries (sets collector_bin, agent_bin),
# installs node_exporter when missing, makes the work directory (sets work, with an
# enrollment token in it) and the trap that stops every process in `pids` and removes it.
bench_setup() {
  bench_name=$1
  collector_bin=$2/collector/steadfast-collector
  agent_bin=$2/agent/steadfast-agent
  for b in "$collector_bin" "$agent_bin"; do
    [ -x "$b" ] || { echo "$bench_name: $b not found; build the release preset first:" \
                         "ninja -C build/release steadfast-agent steadfast-collector" >&2; exit 2; }
  done
  command -v prometheus-node-exporter >/dev/null 2>&1 || bash "$(dirname "${BASH_SOURCE[0]}")/../deploy/install-deps.sh" --bench
  work=$(mktemp -d "${TMPDIR:-/tmp}/sf-$bench_name.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$work/collector" "$work/textfile"
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/enrollment.token")
  # shellcheck source=deploy/lib/quickstart-config.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../deploy/lib/quickstart-config.sh"
}

bench_cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "$bench_name: kept $work" >&2; else rm -rf "$work"; fi
}

# bench_start_collector PORT: the quickstart's collector (SQLite) on 127.0.0.1:PORT; sets
# collector_pid once it is ready.
bench_start_collector() {
  quickstart_collector_config "$1" "$work/collector" "$root/dashboards/web" "$work/enrollment.token" \
      > "$work/collector.yaml"
  "$collector_bin" --config "$work/collector.yaml" > "$work/collector.log" 2>&1 &
  collector_pid=$!
  pids+=("$collector_pid")
  bench_wait_for "$bench_name" collector "$collector_pid" curl -fs "http://127.0.0.1:$1/readyz"
}

# bench_start_node_exporter PORT: Debian's node_exporter, default collectors, on
# 127.0.0.1:PORT; sets ne_pid once it answers.
bench_start_node_exporter() {
  prometheus-node-exporter --web.listen-address="127.0.0.1:$1" \
    --collector.textfile.directory="$work/textfile" > "$work/node_exporter.log" 2>&1 &
  ne_pid=$!
  pids+=("$ne_pid")
  bench_wait_for "$bench_name" node_exporter "$ne_pid" curl -fs -o /dev/null "http://127.0.0.1:$1/metrics"
}

# bench_backup_dataset NAME WORK SCALE: makes bench/backup_dataset.py's data set in
# WORK/base-SCALE unless a complete one is there (the backup benchmarks share it).
bench_backup_dataset() {
  local name=$1 base=$2/base-$3
  if [ ! -f "$base/.complete" ]; then
    echo "$name: making the data set (SCALE=$3) in $base" >&2
    rm -rf "$base"
    python3 "$(dirname "${BASH_SOURCE[0]}")/backup_dataset.py" make "$base" "$3"
    touch "$base/.complete"
  fi
}

# bench_backup_start NAME [BIN_DIR]: for the backup benchmarks, sets `sb` (BIN_DIR's
# steadfast-backup, default the release build; exits 2 saying how to build it when missing)
# and `work` (WORK, made if needed, or a new directory under /var/tmp).
bench_backup_start() {
  local name=$1
  sb=$(cd "${2:-$root/build/release}" && pwd)/backup/steadfast-backup
  [ -x "$sb" ] || { echo "$name: $sb not found; build the release preset first:" \
    "cmake --preset release && cmake --build --preset release" >&2; exit 2; }
  if [ -n "${WORK:-}" ]; then
    work=$WORK
    mkdir -p "$work"
  else
    work=$(mktemp -d "/var/tmp/sf-$name.XXXXXX")
  fi
}
