#!/usr/bin/env bash
# Installs the peers the benchmarks under bench/ compare Steadfast against, from Debian 12's
# packages. Not needed to build or test (that is deploy/install-deps.sh). Idempotent, and
# quiet when everything is already present. Needs root (or sudo).
#
# Note: on a machine with an init system, installing prometheus-node-exporter also enables
# and starts its service (listening on :9100). The benchmarks start their own instance on
# loopback and do not use that one.
set -euo pipefail

PACKAGES=(
  prometheus-node-exporter  # bench/agent_footprint.sh: the resident-memory baseline
  curl procps               # the scraper and the process helpers the scripts use
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-bench-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi
echo "install-bench-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-bench-deps: done" >&2
