#!/usr/bin/env bash
# Installs every build and test dependency of Steadfast from Debian 12's packages.
# Idempotent, and quiet when everything is already present. Needs root (or sudo).
#   --bench   also the peers the benchmarks under bench/ compare against (not needed to build or
#             test). On a machine with an init system, prometheus-node-exporter's package also
#             starts its own service on :9100; the benchmarks start their own on loopback.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config git
  # libraries
  libboost-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libzstd-dev
  nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libspdlog-dev libcli11-dev prometheus-cpp-dev
  libargon2-dev libldap-dev
  # tests, and the real peers they start on loopback
  libgtest-dev libgmock-dev
  slapd ldap-utils          # LDAP login against a real slapd
  chromium                  # console browser tests (driven by npm playwright-core)
  # tools the quickstart and tests call
  curl openssl sqlite3 zstd ca-certificates procps jq
)
if [ "${1:-}" = "--bench" ]; then
  PACKAGES+=(prometheus-node-exporter)  # bench/agent_footprint.sh: the resident-memory baseline
fi

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
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
