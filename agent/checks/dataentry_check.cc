#include "agent/checks/dataentry_check.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "agent/checks/http_probe.h"
#include "common/http/beast_http_client.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;

constexpr double kHour = 3600.0;

CheckResult NewNamedResult(const CheckContext& ctx, const std::string& check, std::string target) {
  CheckResult r;
  r.check = check;
  r.target = std::move(target);
  r.observed_at_ms = ctx.clock.NowMillis();
  return r;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Reads `n` digits at `pos` into `out`.
bool Digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size() || !AllDigits(s.substr(pos, n))) return false;
  out = std::stoi(std::string(s.substr(pos, n)));
  pos += n;
  return true;
}

// ISO-8601 / PostgreSQL text time -> unix seconds (see the header comment).
StatusOr<int64_t> ParseIsoTime(std::string_view s, const TimeZone& zone) {
  const auto bad = [&] { return InvalidArgumentError(fmt::format("not a time: '{}'", s)); };
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !Digits(s, pos, 2, mo) ||
      pos >= s.size() || s[pos++] != '-' || !Digits(s, pos, 2, d)) {
    return bad();
  }
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad();
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    ++pos;
    if (!Digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !Digits(s, pos, 2, mi)) {
      return bad();
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!Digits(s, pos, 2, sec)) return bad();
    }
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {  // fraction: dropped
      ++pos;
      const size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return bad();
    }
    if (h > 24 || mi > 59 || sec > 60) return bad();
  }
  std::optional<int> offset_s;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    offset_s = 0;
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!Digits(s, pos, 2, oh)) return bad();
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (pos < s.size()) {
      if (!Digits(s, pos, 2, om)) return bad();
    }
    if (oh > 23 || om > 59) return bad();
    offset_s = sign * (oh * 3600 + om * 60);
  }
  if (pos != s.size()) return bad();
  const auto day = date::local_days{ymd};
  const auto local = date::local_seconds{day} + std::chrono::hours{h} + std::chrono::minutes{mi} +
                     std::chrono::seconds{sec};
  if (offset_s) {
    return static_cast<int64_t>(local.time_since_epoch().count()) - *offset_s;
  }
  // Ambiguous (DST ends): the earlier instant; skipped (DST starts): the transition.
  return zone.ToUnix(static_cast<int64_t>(local.time_since_epoch().count()));
}

std::string ThresholdText(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  if (s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

// Local wall-clock time in the zone, as a date::local_seconds for date.h's calendar.
date::local_seconds LocalTime(const TimeZone& zone, int64_t unix_s) {
  return date::local_seconds{std::chrono::seconds{zone.ToLocal(unix_s)}};
}

// "2026-11-28 09:12" in the zone.
std::string LocalText(const TimeZone& zone, int64_t unix_s) {
  return date::format("%Y-%m-%d %H:%M", date::floor<std::chrono::minutes>(LocalTime(zone, unix_s)));
}

// Where this machine's time zone is set (TZ as the C library reads it, then the files).
LocalZoneSources MachineZoneSources() {
  LocalZoneSources sources;
  const char* tz = std::getenv("TZ");
  if (tz != nullptr) sources.tz_env = tz;
  return sources;
}

std::string Redact(const std::string& database) {
  // sqlite:///path stays; postgresql://user@host:port/db?params -> postgresql://host:port/db
  const size_t scheme = database.find("://");
  if (scheme == std::string::npos || database.rfind("sqlite://", 0) == 0) return database;
  std::string rest = database.substr(scheme + 3);
  const size_t query = rest.find('?');
  if (query != std::string::npos) rest.erase(query);
  const size_t slash = rest.find('/');
  const size_t at = rest.rfind('@', slash == std::string::npos ? rest.size() : slash);
  if (at != std::string::npos) rest.erase(0, at + 1);
  return database.substr(0, scheme + 3) + rest;
}

}  // namespace

StatusOr<int64_t> ParseEntryTime(const EntryCell& cell, const TimeZone& zone) {
  switch (cell.kind) {
    case EntryCell::Kind::kNull:
      return NotFoundError("NULL");
    case EntryCell::Kind::kNumber:
      if (!std::isfinite(cell.number) || cell.number < 0 || cell.number > 1e11) {
        return InvalidArgumentError(fmt::format("not unix seconds: {}", cell.number));
      }
      return static_cast<int64_t>(cell.number);
    case EntryCell::Kind::kText:
      break;
  }
  std::string_view s = cell.text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  // Numeric text: unix seconds, perhaps with a fraction.
  const std::string_view whole = s.substr(0, s.find('.'));
  if (AllDigits(whole) && (whole.size() == s.size() || AllDigits(s.substr(whole.size() + 1)))) {
    if (whole.size() > 11) return InvalidArgumentError(fmt::format("not unix seconds: '{}'", s));
    return static_cast<int64_t>(std::stoll(std::string(whole)));
  }
  return ParseIsoTime(s, zone);
}

void GradeDepartment(const FreshnessRules& rules, std::optional<int64_t> last_entry_s,
                     int64_t now_s, CheckResult& r) {
  const TimeZone& zone = *rules.zone;
  const auto now_local = LocalTime(zone, now_s);
  const auto today = date::floor<date::days>(now_local);
  const int minutes_now =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(now_local - today).count());
  const int weekday = static_cast<int>(date::weekday{today}.c_encoding());
  const bool due_today = rules.due_weekdays.empty() || rules.due_weekdays.count(weekday) != 0;
  const bool past_due = rules.due_minutes && due_today && minutes_now >= *rules.due_minutes;
  const std::string due_text = rules.due_minutes
                                   ? fmt::format("due by {:02}:{:02} {}", *rules.due_minutes / 60,
                                                 *rules.due_minutes % 60, zone.name())
                                   : "";

  if (!last_entry_s) {
    r.status = CheckStatus::kCritical;
    r.summary = "no entry found for this department";
    return;
  }
  const int64_t ts = *last_entry_s;
  const int64_t age = std::max<int64_t>(0, now_s - ts);
  r.metrics.push_back({"last_entry_timestamp_seconds", {}, static_cast<double>(ts), "seconds"});
  r.metrics.push_back({"last_entry_age_seconds", {}, static_cast<double>(age), "seconds"});
  const auto entry_day = date::floor<date::days>(LocalTime(zone, ts));
  const bool entered_today = entry_day >= today;
  std::string facts = fmt::format("last entry {}, {} ago", LocalText(zone, ts), HumanDuration(age));
  if (ts > now_s) facts = fmt::format("last entry {} (in the future)", LocalText(zone, ts));

  CheckStatus status = rules.max_age_s.Grade(static_cast<double>(age));
  std::string why;
  if (status == CheckStatus::kCritical)
    why = fmt::format(" (critical after {})", ThresholdText(*rules.max_age_s.critical));
  if (status == CheckStatus::kWarning)
    why = fmt::format(" (warning after {})", ThresholdText(*rules.max_age_s.warning));
  if (past_due && !entered_today) {
    status = protocol::WorseStatus(status, rules.late_status);
    r.summary = fmt::format("no entry yet today ({}); {}{}", due_text, facts, why);
  } else if (entered_today && rules.due_minutes) {
    r.summary = fmt::format("entered today; {}{}", facts, why);
  } else {
    r.summary = facts + why;
  }
  r.status = status;
}

CheckResult ProbeLoginPage(http::HttpClient& client, const LoginProbeOptions& o,
                           const CheckContext& ctx, const std::string& check_name) {
  // The http check's probe, so a login page is judged as any page is: status, keyword,
  // latency, and the certificate's days left on https.
  HttpProbeOptions p;
  p.url = o.url;
  for (int code : o.expect_status) p.expected_status.emplace_back(code, code);
  if (!o.keyword.empty()) p.body_contains = {o.keyword};
  p.latency_ms = o.latency_ms;
  p.timeout = Millis(60'000);  // cut to the run's deadline
  p.metric_prefix = "probe_http";
  HttpProbeOutcome out = RunHttpProbe(client, p, ctx);
  CheckResult r = NewNamedResult(ctx, check_name, o.url);
  r.status = out.status;
  r.summary = "login page: " + out.summary;
  // blackbox_exporter's names for what it measures alike; probe_success as it defines it
  // (every validation passed; slow is still a success).
  for (protocol::Metric& m : out.metrics) {
    if (m.name == "probe_http_up") continue;
    if (m.name == "probe_http_duration_seconds") m.name = "probe_duration_seconds";
    if (m.name == "probe_http_content_length_bytes") m.name = "probe_http_content_length";
    r.metrics.push_back(std::move(m));
  }
  const bool success = out.status == CheckStatus::kOk || out.status == CheckStatus::kWarning;
  r.metrics.push_back(MakeMetric("probe_success", success ? 1 : 0, ""));
  r.details_json = std::move(out.details_json);
  r.duration_ms = std::llround(out.total_seconds * 1000.0);
  return r;
}

std::vector<CheckResult> DataEntryCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> out;
  if (options_.login) out.push_back(ProbeLoginPage(*client_, *options_.login, ctx, name()));
  if (options_.freshness) RunFreshness(ctx, out);
  return out;
}

void DataEntryCheck::RunFreshness(const CheckContext& ctx, std::vector<CheckResult>& out) {
  const FreshnessOptions& f = *options_.freshness;
  CheckResult db = NewResult(ctx, f.display);
  const auto start = ctx.clock.Monotonic();
  StatusOr<EntryRows> rows = source_->Query(f.query, f.max_rows, ctx);
  const auto took = std::chrono::duration_cast<Millis>(ctx.clock.Monotonic() - start);
  db.duration_ms = took.count();
  db.metrics.push_back({"dataentry_query_duration_seconds", {}, took.count() / 1000.0, "seconds"});
  if (!rows.ok()) {
    db.status = CheckStatus::kUnknown;
    db.summary = SanitizeUtf8(rows.status().message());
    out.push_back(db);
    std::set<std::string> known = seen_departments_;
    known.insert(f.departments.begin(), f.departments.end());
    for (const std::string& dept : known) {
      CheckResult r = NewResult(ctx, dept);
      r.status = CheckStatus::kUnknown;
      r.summary = "cannot tell: the freshness query failed (" + db.summary + ")";
      out.push_back(std::move(r));
    }
    return;
  }
  // Newest entry per department; unreadable times remembered for their department.
  std::map<std::string, std::optional<int64_t>> newest;
  std::map<std::string, std::string> unreadable;
  for (const auto& [dept_cell, time_cell] : rows->rows) {
    std::string dept;
    if (dept_cell.kind == EntryCell::Kind::kText) {
      dept = SanitizeUtf8(dept_cell.text);
    } else if (dept_cell.kind == EntryCell::Kind::kNumber) {
      dept = fmt::format("{:g}", dept_cell.number);
    }
    if (dept.empty()) continue;  // a row without a department names nobody
    auto& slot = newest[dept];
    StatusOr<int64_t> ts = ParseEntryTime(time_cell, *f.rules.zone);
    if (ts.ok()) {
      slot = slot ? std::max(*slot, *ts) : *ts;
    } else if (ts.status().code() != StatusCode::kNotFound) {
      unreadable[dept] = ts.status().message();
    }
  }
  db.metrics.push_back({"dataentry_rows", {}, static_cast<double>(rows->rows.size()), ""});
  db.status = rows->truncated ? CheckStatus::kWarning : CheckStatus::kOk;
  db.summary = fmt::format("query returned {} department{} in {} ms", newest.size(),
                           newest.size() == 1 ? "" : "s", took.count());
  if (rows->truncated) {
    db.summary += fmt::format("; more than {} rows, the rest was not read (max_rows)", f.max_rows);
  }
  out.push_back(db);
  for (const std::string& dept : f.departments) newest.try_emplace(dept, std::nullopt);
  const int64_t now_s = ctx.clock.NowMillis() / 1000;
  for (const auto& [dept, ts] : newest) {
    seen_departments_.insert(dept);
    CheckResult r = NewResult(ctx, dept);
    auto bad = unreadable.find(dept);
    if (bad != unreadable.end() && !ts) {
      r.status = CheckStatus::kUnknown;
      r.summary = "cannot read the last entry time: " + SanitizeUtf8(bad->second);
    } else {
      GradeDepartment(f.rules, ts, now_s, r);
    }
    out.push_back(std::move(r));
  }
}

StatusOr<DataEntryCheckOptions> ParseDataEntryOptions(const CheckSpec& spec) {
  const config::ConfigNode& n = spec.node;
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"login_url", "login_keyword", "login_expect_status", "login_warning_ms",
                "login_critical_ms", "login_verify_tls", "login_ca_file", "freshness"});
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  DataEntryCheckOptions o;
  if (n["login_url"].present()) {
    LoginProbeOptions l;
    SF_ASSIGN_OR_RETURN(l.url, n["login_url"].RequiredString());
    if (l.url.rfind("http://", 0) != 0 && l.url.rfind("https://", 0) != 0) {
      return n["login_url"].Error("expected an http:// or https:// URL");
    }
    SF_ASSIGN_OR_RETURN(l.keyword, n["login_keyword"].String(""));
    if (n["login_expect_status"].present()) {
      SF_ASSIGN_OR_RETURN(std::vector<config::ConfigNode> items, n["login_expect_status"].Items());
      for (const auto& item : items) {
        SF_ASSIGN_OR_RETURN(int64_t code, item.Int(0, 100, 599));
        l.expect_status.push_back(static_cast<int>(code));
      }
    }
    SF_ASSIGN_OR_RETURN(l.latency_ms, ReadThresholds(n, "login_warning_ms", "login_critical_ms",
                                                     1'000.0, 3'000.0, 0, 3'600'000));
    o.login = std::move(l);
  } else {
    for (const char* key : {"login_keyword", "login_expect_status", "login_warning_ms",
                            "login_critical_ms", "login_verify_tls", "login_ca_file"}) {
      if (n[key].present()) return n[key].Error("only meaningful with login_url");
    }
  }
  if (n["freshness"].present()) {
    const config::ConfigNode f = n["freshness"];
    if (!f.IsMap()) return f.Error("expected a mapping with database and query");
    SF_RETURN_IF_ERROR(f.CheckNoUnknownKeys(
        {"database", "password_file", "query", "max_rows", "max_age_warning", "max_age_critical",
         "due_by", "due_weekdays", "late_status", "time_zone", "departments"}));
    FreshnessOptions fo;
    if (!f["database"].present()) return f["database"].Error("required key is missing");
    SF_ASSIGN_OR_RETURN(fo.database, f["database"].RequiredString());
    if (fo.database.rfind("sqlite://", 0) == 0) {
      const std::string path = fo.database.substr(9);
      if (path.empty() || path.front() != '/') {
        return f["database"].Error("expected sqlite:///absolute/path.db");
      }
      if (f["password_file"].present()) return f["password_file"].Error("SQLite has no password");
    } else if (fo.database.rfind("postgresql://", 0) == 0 ||
               fo.database.rfind("postgres://", 0) == 0) {
      const std::string rest = fo.database.substr(fo.database.find("://") + 3);
      const size_t at = rest.find('@');
      const size_t slash = rest.find('/');
      if (at != std::string::npos && (slash == std::string::npos || at < slash) &&
          rest.substr(0, at).find(':') != std::string::npos) {
        return f["database"].Error("put the password in password_file, not in the URI");
      }
      if (rest.find("password=") != std::string::npos) {
        return f["database"].Error("put the password in password_file, not in the URI");
      }
    } else {
      return f["database"].Error(
          "expected sqlite:///path.db or postgresql://user@host:port/dbname");
    }
    fo.display = Redact(fo.database);
    SF_ASSIGN_OR_RETURN(fo.password_file, f["password_file"].String(""));
    if (!f["query"].present()) return f["query"].Error("required key is missing");
    SF_ASSIGN_OR_RETURN(fo.query, f["query"].RequiredString());
    if (fo.query.find_first_not_of(" \t\r\n") == std::string::npos)
      return f["query"].Error("empty query");
    SF_ASSIGN_OR_RETURN(int64_t max_rows, f["max_rows"].Int(1000, 1, 100'000));
    fo.max_rows = static_cast<size_t>(max_rows);
    // Ages in seconds; 0 turns one off.
    constexpr int64_t kMaxMs = int64_t{366} * 86400 * 1000;
    fo.rules.max_age_s = Thresholds{26 * kHour, 50 * kHour};
    for (const auto& [key, field] : {std::pair{"max_age_warning", &fo.rules.max_age_s.warning},
                                     std::pair{"max_age_critical", &fo.rules.max_age_s.critical}}) {
      if (!f[key].present()) continue;
      SF_ASSIGN_OR_RETURN(int64_t ms, f[key].DurationMillis(0, 0, kMaxMs));
      *field = ms == 0 ? std::nullopt : std::optional<double>(static_cast<double>(ms / 1000));
    }
    if (fo.rules.max_age_s.warning && fo.rules.max_age_s.critical &&
        *fo.rules.max_age_s.warning > *fo.rules.max_age_s.critical) {
      return f["max_age_warning"].Error("the warning age is above the critical age");
    }
    if (f["due_by"].present()) {
      SF_ASSIGN_OR_RETURN(std::string due, f["due_by"].RequiredString());
      int h = -1, m = -1;
      size_t pos = 0;
      const bool two_digit_hour = due.size() == 5;
      if (!(due.size() == 5 || due.size() == 4) || !Digits(due, pos, two_digit_hour ? 2 : 1, h) ||
          pos >= due.size() || due[pos++] != ':' || !Digits(due, pos, 2, m) || h > 23 || m > 59) {
        return f["due_by"].Error(fmt::format("expected a local time HH:MM, got '{}'", due));
      }
      fo.rules.due_minutes = h * 60 + m;
    }
    if (f["due_weekdays"].present()) {
      if (!fo.rules.due_minutes) return f["due_weekdays"].Error("only meaningful with due_by");
      SF_ASSIGN_OR_RETURN(std::vector<std::string> days, f["due_weekdays"].StringList());
      static const std::map<std::string, int> kDays = {
          {"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3}, {"thu", 4}, {"fri", 5}, {"sat", 6}};
      for (const std::string& day : days) {
        auto it = kDays.find(day);
        if (it == kDays.end()) {
          return f["due_weekdays"].Error(
              fmt::format("unknown weekday '{}' (use mon, tue, wed, thu, fri, sat, sun)", day));
        }
        fo.rules.due_weekdays.insert(it->second);
      }
      if (fo.rules.due_weekdays.empty()) return f["due_weekdays"].Error("empty list");
    }
    SF_ASSIGN_OR_RETURN(std::string late,
                        f["late_status"].Enum({"warning", "critical"}, "warning"));
    fo.rules.late_status = late == "critical" ? CheckStatus::kCritical : CheckStatus::kWarning;
    SF_ASSIGN_OR_RETURN(std::string zone_name, f["time_zone"].String(""));
    // The zone's file is read once, here. Without time_zone: the machine's zone, UTC if it has
    // none. Load's messages start "unknown time zone 'X' (...)" for names that are no zone.
    StatusOr<std::unique_ptr<TimeZone>> zone =
        zone_name.empty() ? TimeZone::Current(MachineZoneSources()) : TimeZone::Load(zone_name);
    if (!zone.ok()) return f["time_zone"].Error(zone.status().message());
    fo.rules.zone = std::move(*zone);
    SF_ASSIGN_OR_RETURN(fo.departments, f["departments"].StringList());
    o.freshness = std::move(fo);
  }
  if (!o.login && !o.freshness) {
    return n["login_url"].Error("a dataentry check needs login_url, freshness or both");
  }
  return o;
}

StatusOr<std::unique_ptr<Check>> NewDataEntryCheck(const CheckSpec& spec) {
  SF_ASSIGN_OR_RETURN(DataEntryCheckOptions o, ParseDataEntryOptions(spec));
  std::unique_ptr<http::HttpClient> client;
  if (o.login) {
    http::HttpClientOptions ho;
    SF_ASSIGN_OR_RETURN(ho.verify_tls, spec.node["login_verify_tls"].Bool(true));
    SF_ASSIGN_OR_RETURN(ho.ca_file, spec.node["login_ca_file"].String(""));
    // A login page is small; a huge body means something else answered.
    ho.max_response_bytes = 4 << 20;
    ho.user_agent = "steadfast-agent dataentry";
    client = http::NewBeastHttpClient(ho);
  }
  std::unique_ptr<EntrySource> source;
  if (o.freshness) {
    if (o.freshness->database.rfind("sqlite://", 0) == 0) {
      source = NewSqliteEntrySource(o.freshness->database.substr(9));
    } else {
      SF_ASSIGN_OR_RETURN(
          source, NewPostgresEntrySource(o.freshness->database, o.freshness->password_file));
    }
  }
  return std::unique_ptr<Check>(std::make_unique<DataEntryCheck>(
      spec.name, std::move(o), std::move(client), std::move(source)));
}

}  // namespace steadfast::agent
