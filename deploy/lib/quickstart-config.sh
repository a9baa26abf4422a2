# The quickstart's configs, as shell functions: sourced by deploy/quickstart.sh, and by
# bench/agent_footprint.sh so the benchmark measures exactly the setup a new user runs.
# See deploy/config/*.yaml for every option.

# quickstart_collector_config PORT DATA_DIR WEB_ROOT TOKEN_FILE  -> YAML on stdout
quickstart_collector_config() {
  cat <<YAML
# Written from deploy/lib/quickstart-config.sh; see deploy/config/collector.yaml for every option.
listen: 127.0.0.1:$1
data_dir: $2
web_root: $3
enrollment_token_file: $4
history_retention: 7d
YAML
}

# quickstart_agent_config PORT TOKEN_FILE STATE_DIR [METRICS_LISTEN]  -> YAML on stdout
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
  - name: system
    type: system
    interval: 15s
  - name: filesystems
    type: filesystem
    interval: 30s
  - name: collector-port
    type: tcp
    target: 127.0.0.1:$1
    interval: 15s
YAML
}
