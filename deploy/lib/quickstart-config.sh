# The quickstart's configs, as shell functions: sourced by deploy/quickstart.sh, and by
# bench/agent_footprint.sh so the benchmark measures exactly the setup a new user runs.
# See deploy/config/*.yaml for every option.

# quickstart_collector_config PORT DATA_DIR WEB_ROOT TOKEN_FILE  -> YAML on stdout
# Alerts use the default rules (deploy/config/alert-rules.yaml) and are kept for the console;
# nothing is sent anywhere until a receiver is configured.
quickstart_collector_config() {
  local rules
  rules="$(cd "$(dirname "${BASH_SOURCE[0]}")/../config" && pwd)/alert-rules.yaml"
  cat <<YAML
# Written from deploy/lib/quickstart-config.sh; see deploy/config/collector.yaml for every option.
listen: 127.0.0.1:$1
data_dir: $2
web_root: $3
enrollment_token_file: $4
history_retention: 7d
alerting:
  rule_files: [$rules]
  route: {receiver: console, group_by: [alertname, host]}
  receivers: [{name: console}]
YAML
}

# quickstart_agent_config PORT TOKEN_FILE STATE_DIR [METRICS_LISTEN]  -> YAML on stdout
# The checks are quickstart_local_checks': every built-in check that applies to this machine.
quickstart_agent_config() {
  cat <<YAML
# Written from deploy/lib/quickstart-config.sh; see deploy/config/agent.yaml for every option.
collector_url: http://127.0.0.1:$1
enrollment_token_file: $2
state_dir: $3
metrics_listen: "${4:-}"
uplink:
  interval: 5s
checks:
YAML
  quickstart_local_checks "$1" "$3"
}

# quickstart_local_checks PORT STATE_DIR  -> the `checks:` list items on stdout
# Every built-in check that applies to this machine, found the way an operator would look:
# SMART only where smartctl finds disks, RAID only with md arrays, sensors only with hwmon
# chips, systemd units only under systemd, a UPS only when upsd answers, ClamAV only with its
# socket. Intervals are each check's usual one, or
# $QUICKSTART_INTERVAL seconds for all (bench/agent_cycle.sh runs every check each cycle; the
# slow ones then get that interval less a second as their timeout).
quickstart_local_checks() {
  local port=$1 state_dir=$2 every=${QUICKSTART_INTERVAL:-}
  iv() { if [ -n "$every" ]; then echo "${every}s"; else echo "$1"; fi; }
  slow_timeout() { if [ -n "$every" ]; then echo "$((every - 1))s"; else echo "$1"; fi; }
  cat <<YAML
  - name: system
    type: system
    interval: $(iv 15s)
  - name: filesystems
    type: filesystem
    interval: $(iv 30s)
    days_until_full_warning: 14
    days_until_full_critical: 3
  - name: collector-port
    type: tcp
    target: 127.0.0.1:$port
    interval: $(iv 15s)
  - name: collector-http
    type: http
    url: http://127.0.0.1:$port/readyz
    interval: $(iv 30s)
  - name: links
    type: interface
    interval: $(iv 60s)
  - name: clock
    type: time_sync
    interval: $(iv 5m)
YAML
  if command -v apt-get >/dev/null 2>&1 || command -v dnf >/dev/null 2>&1; then
    cat <<YAML
  - name: patches
    type: patches
    interval: $(iv 15m)
    timeout: $(slow_timeout 3m)
    state_file: $state_dir/patches-first-seen.json
YAML
  fi
  if [ -d /run/systemd/system ]; then
    local units=systemd-journald
    for u in ssh cron; do
      systemctl cat "$u.service" >/dev/null 2>&1 && units="$units, $u"
    done
    cat <<YAML
  - name: services
    type: service
    interval: $(iv 60s)
    units: [$units]
YAML
  fi
  if command -v smartctl >/dev/null 2>&1 && [ -n "$(smartctl --scan 2>/dev/null)" ]; then
    cat <<YAML
  - name: disks-smart
    type: disk_health
    interval: $(iv 30m)
    timeout: $(slow_timeout 2m)
YAML
  fi
  if grep -q '^md' /proc/mdstat 2>/dev/null; then
    printf '  - name: raid\n    type: raid\n    interval: %s\n' "$(iv 60s)"
  fi
  if ls /sys/class/hwmon/hwmon* >/dev/null 2>&1; then
    printf '  - name: sensors\n    type: sensors\n    interval: %s\n    required: false\n' "$(iv 60s)"
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/3493) 2>/dev/null; then
    printf '  - name: ups\n    type: ups\n    interval: %s\n    host: 127.0.0.1\n' "$(iv 30s)"
  fi
  if [ -S /run/clamav/clamd.ctl ]; then
    printf '  - name: clamav\n    type: antivirus\n    interval: %s\n    socket: /run/clamav/clamd.ctl\n' "$(iv 15m)"
  fi
  if [ -x /usr/lib/nagios/plugins/check_procs ]; then
    cat <<YAML
  - name: zombie-processes
    type: nagios_plugin
    interval: $(iv 5m)
    command: [check_procs, -w, "5", -c, "20", -s, Z]
    target: zombies
YAML
  fi
}
