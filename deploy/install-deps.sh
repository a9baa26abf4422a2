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
  nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libcli11-dev prometheus-cpp-dev
  libargon2-dev libldap-dev
  libsnmp-dev               # the agent's snmp check (net-snmp)
  libhowardhinnant-date-dev # IANA time zones (libdate-tz; GCC 12 lacks chrono tz): alerting, and the
                            # agent's tests (the agent itself uses date.h only)
  libpq-dev                 # dataentry check: libpq's header (libpq5 is dlopen()ed at run time)
  libre2-dev                # alert rules: label matchers' regular expressions (RE2, as Prometheus)
  libkainjow-mustache-dev   # notification templates (header-only Mustache)
  # tests, and the real peers they start on loopback
  libgtest-dev libgmock-dev
  slapd ldap-utils          # LDAP login against a real slapd
  chromium                  # console browser tests (driven by npm playwright-core)
  nut-server nut-client     # ups check tests: upsd + the dummy-ups driver (see below: services)
  clamav-daemon             # antivirus check tests: clamd with a signature database made offline
  snmpd                     # snmp check tests: snmpd with a v2c community, a v3 user, UPS-MIB pass
  postgresql                # dataentry check tests: a PostgreSQL cluster made by initdb on loopback
  monitoring-plugins-basic  # nagios_plugin check tests run check_dummy, check_load, check_disk
  dnsmasq-base              # dns check tests: a real DNS server on a loopback port (no service)
  sudo                      # visudo checks deploy/sudoers.d/steadfast-agent-smartctl
  python3-prometheus-client # an independent parse of the agent's /metrics
  python3-aiosmtpd          # the SMTP server the email notifier tests deliver to
  prometheus-alertmanager   # alert forwarding tests: a real Alertmanager on a loopback port
  prometheus                # inbound alert tests: a real Prometheus sends to POST /api/v2/alerts
  smartmontools             # disk_health check: smartctl (the agent needs it at run time too)
  # tools the quickstart and tests call
  curl openssl sqlite3 zstd ca-certificates procps jq
)
if [ "${1:-}" = "--bench" ]; then
  PACKAGES+=(prometheus-node-exporter)  # bench/agent_footprint.sh: the resident-memory baseline
  PACKAGES+=(restic borgbackup)          # bench/backup_compare.sh: the backup peers
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
# Some test peers' packages start a system service when installed on a machine with an init
# system: snmpd (udp 127.0.0.1:161), clamav-daemon (clamd on /run/clamav/clamd.ctl, and
# freshclam, which downloads signatures) and NUT (upsd/upsmon, inactive while /etc/nut/nut.conf
# says MODE=none), postgresql (a cluster on :5432). The tests start their own on free loopback ports, so the services this run
# just installed are stopped and disabled; ones installed before are left alone.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  units=()
  for p in "${missing[@]}"; do
    case "$p" in
      snmpd) units+=(snmpd.service) ;;
      clamav-daemon) units+=(clamav-daemon.service clamav-daemon.socket clamav-freshclam.service) ;;
      nut-server) units+=(nut-server.service nut-driver.target) ;;
      nut-client) units+=(nut-monitor.service) ;;
      postgresql) units+=(postgresql.service) ;;
    esac
  done
  if [ ${#units[@]} -gt 0 ]; then
    $SUDO systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
  fi
fi
echo "install-deps: done" >&2
