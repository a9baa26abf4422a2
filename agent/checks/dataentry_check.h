// DataEntryCheck (type "dataentry"): the business data-entry system as the server room sees it —
// is its login page up, and has every department entered its data on time. The operating rules
// (shared reference DOMAIN.md §2) want each department to enter its daily data daily, in order;
// the collector counts late and missing entries per department and month (its data-entry
// schedules also know weekly and monthly data). This check supplies the facts — when each
// department last entered something — and grades the daily rule.
//
// Results:
//   login probe  target = login_url. GET without redirects (a login page that redirects to an
//                SSO is a 3xx, which is fine). Critical: unreachable, timed out, a status outside
//                login_expect_status (default: any 2xx or 3xx), login_keyword missing from the
//                body; certificate days left as the http check grades them (21 / 7) on https.
//                Latency login_warning_ms 1000 / login_critical_ms 3000. Metrics
//                (blackbox_exporter's names): probe_success, probe_duration_seconds,
//                probe_http_status_code, probe_http_content_length, probe_http_redirects,
//                probe_http_tls_cert_days_left (https).
//   database     target = the database without credentials ("sqlite:///srv/de.db",
//                "postgresql://db1:5432/entry"). ok "query returned 12 departments in 35 ms";
//                warning when rows were cut at max_rows (default 1000); unknown with the
//                database's own message when it cannot be read (open/connect/authentication/SQL
//                error, deadline). Metrics: dataentry_query_duration_seconds, dataentry_rows.
//   department   one per department, target = the department's name. Metrics
//                last_entry_timestamp_seconds and last_entry_age_seconds. When the query fails,
//                every department seen before (and each of `departments`) is unknown with the
//                reason, so no department keeps a stale status.
//
// freshness.query returns rows (department, last entry time); more columns are ignored, several
// rows of one department count as its newest. The time may be unix seconds (an integer or real
// column, or numeric text), ISO-8601 text ("2026-11-28T09:12:00Z", "2026-11-28 09:12:00+08",
// "2026-11-28 09:12:00.5", "2026-11-28"), or a PostgreSQL timestamptz / timestamp / date. Text
// without an offset (and a PostgreSQL `timestamp`) is local time in `time_zone`. NULL means
// the department never entered anything.
//
// Grading per department:
//   due_by "HH:MM" (optional): on a due day (due_weekdays, default every day) from that local
//     time on, a department with no entry dated today (local) is late: `late_status` (warning,
//     or critical) "no entry yet today (due by 10:00 Asia/Shanghai); last entry ...".
//   max_age_warning 26h / max_age_critical 50h: the age of the last entry (0 turns one off).
//   never (NULL, or listed in `departments` but absent from the result): critical.
// The worst applies. An unreadable time is unknown, quoting the value.
//
// Config (besides name/type/interval/timeout):
//   login_url, login_keyword, login_expect_status (list of codes), login_warning_ms,
//   login_critical_ms, login_verify_tls (true), login_ca_file
//   freshness: {database, password_file, query, max_rows, max_age_warning, max_age_critical,
//               due_by, due_weekdays, late_status, time_zone, departments}
// At least one of login_url / freshness. database is "sqlite:///absolute/path.db" or a libpq URI
// "postgresql://user@host:port/db?sslmode=require" (also "postgres://"); a password in the URI
// is refused — it goes in password_file (first line, read at each run, never logged). time_zone
// is an IANA name (default: the machine's zone, UTC if it has none).
// Database access and its read-only guarantees: entry_source.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"
#include "agent/checks/entry_source.h"
#include "agent/checks/time_zone.h"
#include "common/http/http_client.h"

namespace steadfast::agent {

struct LoginProbeOptions {
  std::string url;
  std::string keyword;             // empty: not checked
  std::vector<int> expect_status;  // empty: 200-399
  Thresholds latency_ms{1'000.0, 3'000.0};
};

// The login probe: the http check's probe (RunHttpProbe) through `client`, bounded by
// ctx.deadline; one result, target = options.url, summary "login page: ...".
protocol::CheckResult ProbeLoginPage(http::HttpClient& client, const LoginProbeOptions& options,
                                     const CheckContext& ctx, const std::string& check_name);

struct FreshnessRules {
  Thresholds max_age_s{26 * 3600.0, 50 * 3600.0};
  std::optional<int> due_minutes;  // minutes after local midnight
  std::set<int> due_weekdays;      // 0 = Sunday .. 6 = Saturday; empty = every day
  protocol::CheckStatus late_status = protocol::CheckStatus::kWarning;
  std::shared_ptr<const TimeZone> zone;  // never null once configured (UTC fallback)
};

struct FreshnessOptions {
  std::string database;  // as configured
  std::string display;   // without user and password: the "database" result's target
  std::string password_file;
  std::string query;
  size_t max_rows = 1000;
  FreshnessRules rules;
  std::vector<std::string> departments;  // expected
};

// Unix seconds from a cell (see the header comment); `zone` for times without an offset.
StatusOr<int64_t> ParseEntryTime(const EntryCell& cell, const TimeZone& zone);

// Grades one department's last entry (nullopt: never) at `now_s`. Fills status, summary and
// metrics of `r`.
void GradeDepartment(const FreshnessRules& rules, std::optional<int64_t> last_entry_s,
                     int64_t now_s, protocol::CheckResult& r);

struct DataEntryCheckOptions {
  std::optional<LoginProbeOptions> login;
  std::optional<FreshnessOptions> freshness;
};

class DataEntryCheck final : public Check {
 public:
  // `client` is needed with a login probe, `source` with freshness.
  DataEntryCheck(std::string name, DataEntryCheckOptions options,
                 std::unique_ptr<http::HttpClient> client, std::unique_ptr<EntrySource> source)
      : Check(std::move(name)),
        options_(std::move(options)),
        client_(std::move(client)),
        source_(std::move(source)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  void RunFreshness(const CheckContext& ctx, std::vector<protocol::CheckResult>& out);

  DataEntryCheckOptions options_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<EntrySource> source_;
  std::set<std::string> seen_departments_;  // from earlier successful queries
};

// Factory for type "dataentry": the real HttpClient (Beast) and EntrySource.
StatusOr<std::unique_ptr<Check>> NewDataEntryCheck(const CheckSpec& spec);

// Validates the config without building clients: what NewDataEntryCheck uses, for tests.
StatusOr<DataEntryCheckOptions> ParseDataEntryOptions(const CheckSpec& spec);

}  // namespace steadfast::agent
