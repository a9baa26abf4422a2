#!/usr/bin/env bash
# Command 1 of the README: install dependencies, build the release binaries, and run a
# collector (SQLite under ./.state) plus an agent on this machine. Ctrl-C stops both.
#   SF_PORT=8080  the collector's port on 127.0.0.1
#   SF_STATE=.state  where configs, the database, the spool and the agent token live
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
port=${SF_PORT:-8080}
state=${SF_STATE:-$root/.state}

bash deploy/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target steadfast-collector steadfast-agent

mkdir -p "$state/collector" "$state/agent"
chmod 700 "$state"
token_file="$state/enrollment.token"
if [ ! -s "$token_file" ]; then
  (umask 077; openssl rand -hex 24 > "$token_file")
fi

source deploy/lib/quickstart-config.sh
quickstart_collector_config "$port" "$state/collector" "$root/dashboards/web" "$token_file" > "$state/collector.yaml"
quickstart_agent_config "$port" "$token_file" "$state/agent" > "$state/agent.yaml"

bin=$root/build/release

# The first admin account, once: a generated password kept (0600) under the state folder.
password_file="$state/admin.password"
if [ ! -s "$password_file" ]; then
  (umask 077; printf 'Sf-%s-Q7\n' "$(openssl rand -hex 10)" > "$password_file")
  "$bin/collector/steadfast-collector" admin create-admin --config "$state/collector.yaml" \
      --username admin --display-name "Quickstart admin" --password-stdin < "$password_file" >/dev/null
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "quickstart: stopping agent and collector..."
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "quickstart: stopped. State kept in $state"
}
trap stop INT TERM EXIT

"$bin/collector/steadfast-collector" --config "$state/collector.yaml" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "quickstart: the collector failed to start" >&2; exit 1; fi
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "quickstart: collector not ready" >&2; exit 1; }

enrolled="already enrolled (token in $state/agent/agent.token)"
[ -f "$state/agent/agent.token" ] || enrolled="enrolling this machine with the token in $token_file"
"$bin/agent/steadfast-agent" --config "$state/agent.yaml" &
pids+=($!)

cat <<MSG

  Steadfast is running.
    console:    http://127.0.0.1:$port/   (log in as admin, password: $(cat "$password_file"))
    metrics:    http://127.0.0.1:$port/metrics
    API:        http://127.0.0.1:$port/api/v1/hosts
    enrolment:  $(hostname) — $enrolled
    state:      $state
  Press Ctrl-C to stop both.

MSG
wait
