#!/usr/bin/env bash
# A walk-through of two promises of docs/ACCOUNTS.md, on a throw-away collector:
#   1. a unit administrator is refused (403) another unit's host, and sees only their own;
#   2. `steadfast-collector audit verify` names a record altered directly in the database.
# Every command is echoed before it runs, so the output reads as a transcript.
#
#   bash deploy/demo/scope-and-audit.sh [BUILD_DIR]     (default build/release; needs curl,
#                                                        jq and sqlite3, all from install-deps)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
build=${1:-build/release}
collector="$root/$build/collector/steadfast-collector"
agent="$root/$build/agent/steadfast-agent"
for b in "$collector" "$agent"; do
  [ -x "$b" ] || { echo "demo: $b not built (cmake --build --preset release)" >&2; exit 2; }
done
for t in curl jq sqlite3; do
  command -v "$t" >/dev/null || { echo "demo: $t missing (bash deploy/install-deps.sh)" >&2; exit 2; }
done

state=$(mktemp -d /tmp/steadfast-demo.XXXXXX)
port=$((20000 + RANDOM % 20000))
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$state"
}
trap cleanup EXIT

say() { printf '\n# %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
base="http://127.0.0.1:$port"

source deploy/lib/quickstart-config.sh
(umask 077; openssl rand -hex 24 > "$state/enrollment.token")
quickstart_collector_config "$port" "$state/data" "$root/dashboards/web" "$state/enrollment.token" > "$state/collector.yaml"
quickstart_agent_config "$port" "$state/enrollment.token" "$state/agent" > "$state/agent.yaml"
mkdir -p "$state/data" "$state/agent"

say "A fresh collector and its first administrator"
printf 'Quiet-Harbor-51x\n' > "$state/admin.pw"
run "$collector" admin create-admin --config "$state/collector.yaml" --username admin \
    --display-name "Centre admin" --password-stdin < "$state/admin.pw"
"$collector" --config "$state/collector.yaml" 2> "$state/collector.log" &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
admin_token=$("$collector" admin create-token --config "$state/collector.yaml" --username admin --role admin \
    --name demo --days 1 2>/dev/null)

# The agent enrols and reports once through its uplink, then stops; this machine is a host.
timeout 8 "$agent" --config "$state/agent.yaml" 2>/dev/null || true
host_id=$(curl -fs -H "Authorization: Bearer $admin_token" "$base/api/v1/hosts" | jq -r '.items[0].id')
[ -n "$host_id" ] && [ "$host_id" != null ] || { echo "demo: the agent did not report" >&2; exit 1; }

api() {  # api TOKEN METHOD PATH [JSON]
  local args=(-s -w '\nHTTP %{http_code}\n' -H "Authorization: Bearer $1" -X "$2")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data "$4")
  printf '$ curl -X %s %s%s %s\n' "$2" "$base" "$3" "${4:-}"
  curl "${args[@]}" "$base$3"
}

say "Two units under the centre; this machine's host is assigned to 'county-b'"
api "$admin_token" POST /api/v1/units '{"name":"County A bureau","code":"county-a","kind":"unit","parent_id":1}'
api "$admin_token" POST /api/v1/units '{"name":"County B bureau","code":"county-b","kind":"unit","parent_id":1}'
unit_a=$(curl -fs -H "Authorization: Bearer $admin_token" "$base/api/v1/units" | jq -r '.items[] | select(.code=="county-a") | .id')
unit_b=$(curl -fs -H "Authorization: Bearer $admin_token" "$base/api/v1/units" | jq -r '.items[] | select(.code=="county-b") | .id')
api "$admin_token" PUT "/api/v1/hosts/$host_id/unit" "{\"unit_id\":$unit_b}"

say "A unit administrator of 'county-a' and an API token of theirs"
api "$admin_token" POST /api/v1/users \
    "{\"username\":\"li.wei\",\"display_name\":\"Li Wei\",\"unit_id\":$unit_a,\"roles\":[\"unit_admin\"],\"password\":\"Granite-Lake-93q\"}"
ua_token=$("$collector" admin create-token --config "$state/collector.yaml" --username li.wei --role unit_admin \
    --name demo --days 1 2>/dev/null)

say "The unit administrator asks for county B's host: refused"
api "$ua_token" GET "/api/v1/hosts/$host_id"
say "... and cannot move it into their own unit either"
api "$ua_token" PUT "/api/v1/hosts/$host_id/unit" "{\"unit_id\":$unit_a}"
say "Their host list holds only county A's hosts (none yet)"
api "$ua_token" GET /api/v1/hosts
say "The centre administrator sees it"
api "$admin_token" GET "/api/v1/hosts/$host_id" | head -c 300; echo

say "The audit trail recorded all of it, refusals included"
printf '$ %s\n' "$collector audit export --config $state/collector.yaml --format csv | cut -d, -f1,3,5,6,8-13"
"$collector" audit export --config "$state/collector.yaml" --format csv 2>/dev/null | cut -d, -f1,3,5,6,8-13

say "The chain verifies"
run "$collector" audit verify --config "$state/collector.yaml"

say "Someone with database access tries to rewrite who reassigned the host"
seq=$(sqlite3 "$state/data/collector.db" "SELECT seq FROM audit_records WHERE action='hosts.assign' ORDER BY seq LIMIT 1")
set +e
run sqlite3 "$state/data/collector.db" "UPDATE audit_records SET actor_name='li.wei' WHERE seq=$seq"
set -e
say "... drops the append-only trigger and does it anyway"
run sqlite3 "$state/data/collector.db" "DROP TRIGGER audit_records_no_update; UPDATE audit_records SET actor_name='li.wei' WHERE seq=$seq"

say "verify names the altered record and exits 3"
set +e
run "$collector" audit verify --config "$state/collector.yaml"
echo "exit status: $?"
