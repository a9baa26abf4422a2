#include "agent/checks/dataentry_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "agent/agent_config.h"
#include "agent/testing/fake_http_client.h"
#include "agent/testing/test_util.h"
#include "common/sqlite/sqlite_db.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FakeHttpClient;
using testing::FindTarget;
using testing::MetricValue;
using testing::SpecFromYaml;
using testing::TempDir;

// Saturday 2026-11-28 10:30 in Asia/Shanghai (UTC+8, no DST) = 02:30 UTC.
constexpr int64_t kSat1030 = 1'795'833'000;
constexpr int64_t kHour = 3600;

std::shared_ptr<const TimeZone> Zone(const std::string& name) {
  auto z = TimeZone::Load(name);
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return z.ok() ? std::shared_ptr<const TimeZone>(std::move(*z)) : TimeZone::Utc();
}
std::shared_ptr<const TimeZone> Shanghai() { return Zone("Asia/Shanghai"); }

EntryCell Text(std::string s) {
  EntryCell c;
  c.kind = EntryCell::Kind::kText;
  c.text = std::move(s);
  return c;
}
EntryCell Number(double d) {
  EntryCell c;
  c.kind = EntryCell::Kind::kNumber;
  c.number = d;
  return c;
}

TEST(EntryTimeTest, AcceptedForms) {
  const auto shanghai = Shanghai();
  const TimeZone& z = *shanghai;
  EXPECT_EQ(*ParseEntryTime(Number(1795833000), z), 1795833000);
  EXPECT_EQ(*ParseEntryTime(Number(1795833000.75), z), 1795833000);
  EXPECT_EQ(*ParseEntryTime(Text("1795833000"), z), 1795833000);
  EXPECT_EQ(*ParseEntryTime(Text(" 1795833000.5 "), z), 1795833000);
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28T02:30:00Z"), z), kSat1030);
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28T02:30:00.123456Z"), z), kSat1030);
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28 10:30:00+08"), z), kSat1030);    // timestamptz
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28 02:30:00.5+00"), z), kSat1030);  // TimeZone=UTC
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28T08:00+05:30"), z), kSat1030);
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-27T21:30:00-0500"), z), kSat1030);
  // No offset: local time in the configured zone.
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28 10:30:00"), z), kSat1030);
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28 10:30"), *Zone("UTC")), kSat1030 + 8 * kHour);
  EXPECT_EQ(*ParseEntryTime(Text("2026-11-28"), z), kSat1030 - 10 * kHour - 1800);
}

// Local times without an offset across Berlin's DST changes: a skipped local time (31 March
// 2024, 02:00 -> 03:00) is the transition's instant; a repeated one (27 October, 03:00 -> 02:00)
// the earlier instant, as date::time_zone::to_sys(..., choose::earliest) gives them.
TEST(EntryTimeTest, LocalTimesAcrossDaylightSaving) {
  const auto berlin = Zone("Europe/Berlin");
  EXPECT_EQ(*ParseEntryTime(Text("2024-03-31 01:59:59"), *berlin), 1'711'846'799);
  EXPECT_EQ(*ParseEntryTime(Text("2024-03-31 02:30"), *berlin), 1'711'846'800);
  EXPECT_EQ(*ParseEntryTime(Text("2024-03-31 03:00"), *berlin), 1'711'846'800);
  EXPECT_EQ(*ParseEntryTime(Text("2024-10-27 02:30"), *berlin), 1'729'989'000);
  EXPECT_EQ(*ParseEntryTime(Text("2024-10-27 03:00"), *berlin), 1'729'994'400);
}

TEST(EntryTimeTest, RejectedForms) {
  const auto shanghai = Shanghai();
  const TimeZone& z = *shanghai;
  EXPECT_EQ(ParseEntryTime(EntryCell{}, z).status().code(), StatusCode::kNotFound);  // NULL
  for (const char* bad : {"yesterday", "2026-13-01", "2026-02-30", "2026-11-28 25:00",
                          "2026-11-28T10:30:00+8", "28/11/2026", "2026-11-28 10:30 UTC", ""}) {
    EXPECT_FALSE(ParseEntryTime(Text(bad), z).ok()) << bad;
  }
  EXPECT_FALSE(ParseEntryTime(Number(-5), z).ok());
  EXPECT_FALSE(ParseEntryTime(Number(1.7e12), z).ok());  // milliseconds are not seconds
}

FreshnessRules Rules() {
  FreshnessRules r;
  r.zone = Shanghai();
  return r;
}

CheckResult Grade(const FreshnessRules& rules, std::optional<int64_t> last, int64_t now) {
  CheckResult r;
  GradeDepartment(rules, last, now, r);
  return r;
}

TEST(GradeDepartmentTest, AgeThresholds) {
  FreshnessRules rules = Rules();
  CheckResult fresh = Grade(rules, kSat1030 - 2 * kHour, kSat1030);
  EXPECT_EQ(fresh.status, CheckStatus::kOk);
  EXPECT_EQ(fresh.summary, "last entry 2026-11-28 08:30, 2h 0m ago");
  EXPECT_EQ(*MetricValue(fresh, "last_entry_timestamp_seconds"), kSat1030 - 2 * kHour);
  EXPECT_EQ(*MetricValue(fresh, "last_entry_age_seconds"), 2 * kHour);
  CheckResult old = Grade(rules, kSat1030 - 30 * kHour, kSat1030);
  EXPECT_EQ(old.status, CheckStatus::kWarning);
  EXPECT_EQ(old.summary, "last entry 2026-11-27 04:30, 1d 6h 0m ago (warning after 26h)");
  EXPECT_EQ(Grade(rules, kSat1030 - 51 * kHour, kSat1030).status, CheckStatus::kCritical);
  CheckResult never = Grade(rules, std::nullopt, kSat1030);
  EXPECT_EQ(never.status, CheckStatus::kCritical);
  EXPECT_EQ(never.summary, "no entry found for this department");
  EXPECT_TRUE(never.metrics.empty());
}

TEST(GradeDepartmentTest, DueByLocalTime) {
  FreshnessRules rules = Rules();
  rules.due_minutes = 10 * 60;  // 10:00 Shanghai
  // Yesterday 17:00 local, now 10:30: late.
  const int64_t yesterday_17 = kSat1030 - 17 * kHour - 1800;
  CheckResult late = Grade(rules, yesterday_17, kSat1030);
  EXPECT_EQ(late.status, CheckStatus::kWarning);
  EXPECT_EQ(late.summary,
            "no entry yet today (due by 10:00 Asia/Shanghai); last entry 2026-11-27 17:00, 17h 30m "
            "ago");
  // 09:59: not due yet.
  EXPECT_EQ(Grade(rules, yesterday_17, kSat1030 - 31 * 60).status, CheckStatus::kOk);
  // Entered at 00:10 today: fine (local day, although it is still the 27th in UTC).
  CheckResult today = Grade(rules, kSat1030 - 10 * kHour - 20 * 60, kSat1030);
  EXPECT_EQ(today.status, CheckStatus::kOk);
  EXPECT_EQ(today.summary, "entered today; last entry 2026-11-28 00:10, 10h 20m ago");
  rules.late_status = CheckStatus::kCritical;
  EXPECT_EQ(Grade(rules, yesterday_17, kSat1030).status, CheckStatus::kCritical);
  // Weekdays only: Saturday is no due day.
  rules.due_weekdays = {1, 2, 3, 4, 5};
  EXPECT_EQ(Grade(rules, yesterday_17, kSat1030).status, CheckStatus::kOk);
  rules.due_weekdays = {6};
  EXPECT_EQ(Grade(rules, yesterday_17, kSat1030).status, CheckStatus::kCritical);
}

// A SQLite data-entry database made by the test.
class SqliteDataEntryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.path() + "/entry.db";
    auto db = sqlite::SqliteDb::Open(db_path_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE entries(dept TEXT, entered_at, note TEXT)").ok());
    // finance: ISO text, local; safety: unix seconds; hr: UTC text, old; audit: NULL only.
    ASSERT_TRUE(
        (*db)
            ->Exec(
                "INSERT INTO entries VALUES "
                "('finance', '2026-11-28 09:05:00', 'a'), ('finance', '2026-11-27 09:00:00', 'b'), "
                "('safety', 1795833000 - 3600, 'c'), ('hr', '2026-11-25T01:00:00Z', 'd'), "
                "('audit', NULL, 'e'), ('typo', 'soon', 'f')")
            .ok());
  }

  std::unique_ptr<Check> Make(const std::string& extra, FakeHttpClient** http = nullptr) {
    auto spec =
        SpecFromYaml("{name: de, type: dataentry, freshness: {database: 'sqlite://" + db_path_ +
                     "', time_zone: Asia/Shanghai, due_by: '10:00', " + extra + "}}");
    auto options = ParseDataEntryOptions(spec);
    EXPECT_TRUE(options.ok()) << options.status().ToString();
    if (!options.ok()) return nullptr;
    auto client = std::make_unique<FakeHttpClient>();
    if (http != nullptr) *http = client.get();
    return std::make_unique<DataEntryCheck>("de", std::move(options).value(), std::move(client),
                                            NewSqliteEntrySource(db_path_));
  }
  std::vector<CheckResult> Run(Check& check) {
    CheckContext ctx{clock_, *fs_};
    ctx.deadline = std::chrono::steady_clock::time_point(Millis(kSat1030 * 1000 + 5'000));
    return check.Run(ctx);
  }

  TempDir dir_;
  std::string db_path_;
  steadfast::testing::FakeClock clock_{kSat1030 * 1000};
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
};

TEST_F(SqliteDataEntryTest, OneResultPerDepartment) {
  auto check =
      Make("query: 'SELECT dept, entered_at FROM entries', departments: [finance, archive]");
  ASSERT_NE(check, nullptr);
  auto results = Run(*check);
  ASSERT_EQ(results.size(), 7u);  // database + audit, archive, finance, hr, safety, typo
  EXPECT_EQ(results[0].target, "sqlite://" + db_path_);
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
  EXPECT_EQ(results[0].summary.rfind("query returned 5 departments in ", 0), 0u)
      << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "dataentry_rows"), 6);

  const CheckResult* finance = FindTarget(results, "finance");
  ASSERT_NE(finance, nullptr);
  EXPECT_EQ(finance->status, CheckStatus::kOk);
  EXPECT_EQ(finance->summary, "entered today; last entry 2026-11-28 09:05, 1h 25m ago");
  EXPECT_EQ(*MetricValue(*finance, "last_entry_age_seconds"), 85 * 60);

  const CheckResult* safety = FindTarget(results, "safety");
  ASSERT_NE(safety, nullptr);
  EXPECT_EQ(safety->status, CheckStatus::kOk) << safety->summary;
  EXPECT_EQ(*MetricValue(*safety, "last_entry_timestamp_seconds"), kSat1030 - kHour);

  const CheckResult* hr = FindTarget(results, "hr");
  ASSERT_NE(hr, nullptr);
  EXPECT_EQ(hr->status, CheckStatus::kCritical);
  EXPECT_EQ(hr->summary,
            "no entry yet today (due by 10:00 Asia/Shanghai); last entry 2026-11-25 09:00, 3d 1h "
            "30m ago (critical after 50h)");

  EXPECT_EQ(FindTarget(results, "audit")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "archive")->summary, "no entry found for this department");
  const CheckResult* typo = FindTarget(results, "typo");
  ASSERT_NE(typo, nullptr);
  EXPECT_EQ(typo->status, CheckStatus::kUnknown);
  EXPECT_EQ(typo->summary, "cannot read the last entry time: not a time: 'soon'");
}

TEST_F(SqliteDataEntryTest, RowCapIsAWarning) {
  auto check = Make("query: 'SELECT dept, entered_at FROM entries ORDER BY rowid', max_rows: 2");
  auto results = Run(*check);
  ASSERT_EQ(results.size(), 2u);  // database + finance (two rows of finance)
  EXPECT_EQ(results[0].status, CheckStatus::kWarning);
  EXPECT_NE(results[0].summary.find("more than 2 rows, the rest was not read (max_rows)"),
            std::string::npos)
      << results[0].summary;
}

TEST_F(SqliteDataEntryTest, TheDatabaseIsNeverWritten) {
  auto del = Make("query: 'DELETE FROM entries RETURNING dept, entered_at'");
  auto results = Run(*del);
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("readonly"), std::string::npos) << results[0].summary;
  auto two = Make("query: 'SELECT dept, entered_at FROM entries; DELETE FROM entries'");
  results = Run(*two);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "the query must be a single SQL statement");
  auto db = sqlite::SqliteDb::Open(db_path_);
  ASSERT_TRUE(db.ok());
  auto stmt = (*db)->Prepare("SELECT count(*) FROM entries");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->ColumnInt(0), 6);
}

TEST_F(SqliteDataEntryTest, QueryErrorsAreUnknownForEveryKnownDepartment) {
  auto check = Make("query: 'SELECT dept, entered_at FROM entries', departments: [archive]");
  ASSERT_EQ(Run(*check).size(), 7u);
  // The table goes away: every department seen before is unknown with the reason.
  {
    auto db = sqlite::SqliteDb::Open(db_path_);
    ASSERT_TRUE((*db)->Exec("ALTER TABLE entries RENAME TO old_entries").ok());
  }
  auto results = Run(*check);
  ASSERT_EQ(results.size(), 7u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "query failed: no such table: entries");
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status, CheckStatus::kUnknown);
    EXPECT_EQ(results[i].summary,
              "cannot tell: the freshness query failed (query failed: no such table: entries)");
  }
  auto one_column = Make("query: 'SELECT dept FROM old_entries'");
  EXPECT_EQ(Run(*one_column)[0].summary,
            "the query must return two columns (department, last entry time), it returns 1");
}

TEST_F(SqliteDataEntryTest, MissingDatabaseIsUnknownAndNotCreated) {
  db_path_ = dir_.path() + "/absent.db";
  auto check = Make("query: 'SELECT 1, 2'");
  auto results = Run(*check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "cannot open " + db_path_ + ": unable to open database file");
  EXPECT_FALSE(std::filesystem::exists(db_path_));
}

TEST_F(SqliteDataEntryTest, SlowQueryStopsAtTheDeadline) {
  auto check = Make(
      "query: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i), 1 "
      "FROM n'");
  RealClock clock;
  CheckContext ctx{clock, *fs_};
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto results = check->Run(ctx);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "query interrupted at the check's deadline");
}

TEST(LoginProbeTest, StatusKeywordAndErrors) {
  steadfast::testing::FakeClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  FakeHttpClient http;
  LoginProbeOptions o;
  o.url = "http://entry.example/login";
  o.keyword = "Sign in";

  http.PushStatus(200, "<form>Sign in</form>");
  CheckResult ok = ProbeLoginPage(http, o, ctx, "de");
  EXPECT_EQ(ok.target, "http://entry.example/login");
  EXPECT_EQ(ok.status, CheckStatus::kOk);
  EXPECT_EQ(ok.summary.rfind("login page: HTTP 200 in ", 0), 0u) << ok.summary;
  EXPECT_NE(ok.summary.find("keyword found"), std::string::npos) << ok.summary;
  EXPECT_EQ(*MetricValue(ok, "probe_success"), 1);
  EXPECT_EQ(*MetricValue(ok, "probe_http_status_code"), 200);
  EXPECT_EQ(http.requests()[0].method, "GET");
  EXPECT_EQ(http.requests()[0].url, o.url);

  http.PushStatus(200, "<h1>Maintenance</h1>");
  CheckResult no_keyword = ProbeLoginPage(http, o, ctx, "de");
  EXPECT_EQ(no_keyword.status, CheckStatus::kCritical);
  EXPECT_EQ(no_keyword.summary.rfind("login page: body does not contain \"Sign in\" (HTTP 200", 0),
            0u)
      << no_keyword.summary;
  EXPECT_EQ(*MetricValue(no_keyword, "probe_success"), 0);

  http.PushStatus(503, "Sign in");
  CheckResult down = ProbeLoginPage(http, o, ctx, "de");
  EXPECT_EQ(down.status, CheckStatus::kCritical);
  EXPECT_EQ(down.summary.rfind("login page: status 503, expected 200-399", 0), 0u) << down.summary;
  EXPECT_EQ(*MetricValue(down, "probe_http_status_code"), 503);

  http.Push(UnavailableError("connect 10.0.0.9:80: Connection refused"));
  CheckResult refused = ProbeLoginPage(http, o, ctx, "de");
  EXPECT_EQ(refused.status, CheckStatus::kCritical);
  EXPECT_EQ(refused.summary, "login page: connect 10.0.0.9:80: Connection refused");
  EXPECT_EQ(*MetricValue(refused, "probe_success"), 0);

  o.keyword.clear();
  o.expect_status = {302};
  http.PushStatus(302);
  EXPECT_EQ(ProbeLoginPage(http, o, ctx, "de").status, CheckStatus::kOk);
  http.PushStatus(200);
  EXPECT_EQ(ProbeLoginPage(http, o, ctx, "de").status, CheckStatus::kCritical);

  // The request's timeout is what is left of the run.
  ctx.deadline = clock.Monotonic() + std::chrono::milliseconds(1'500);
  http.Push(DeadlineExceededError("timed out"));
  CheckResult slow = ProbeLoginPage(http, o, ctx, "de");
  EXPECT_EQ(http.requests().back().timeout, std::chrono::milliseconds(1'500));
  EXPECT_EQ(slow.status, CheckStatus::kCritical);
  EXPECT_EQ(slow.summary, "login page: timed out");
}

TEST(LoginProbeTest, LatencyThresholds) {
  steadfast::testing::FakeClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  FakeHttpClient http;
  http.SetHandler([&](const http::HttpClientRequest&) -> StatusOr<http::HttpResponse> {
    clock.Advance(std::chrono::milliseconds(1'200));
    return http::HttpResponse::Text(200, "ok");
  });
  LoginProbeOptions o;
  o.url = "http://entry.example/";
  CheckResult r = ProbeLoginPage(http, o, ctx, "de");
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(*MetricValue(r, "probe_duration_seconds"), 1.2);
}

TEST(DataEntryFactoryTest, RejectsBadConfigNamingFileLineKey) {
  auto error = [](const std::string& yaml) {
    auto c = NewDataEntryCheck(SpecFromYaml(yaml));
    return c.ok() ? std::string("accepted") : c.status().message();
  };
  EXPECT_EQ(error("name: de\ntype: dataentry\n"),
            "agent.yaml:1: login_url: a dataentry check needs login_url, freshness or both");
  EXPECT_EQ(error("name: de\ntype: dataentry\nlogin_url: ftp://x/\n"),
            "agent.yaml:3: login_url: expected an http:// or https:// URL");
  EXPECT_EQ(error("name: de\ntype: dataentry\nlogin_keyword: x\nfreshness: {database: "
                  "'sqlite:///x.db', query: 'select 1, 2'}\n"),
            "agent.yaml:3: login_keyword: only meaningful with login_url");
  const std::string f = "name: de\ntype: dataentry\nfreshness:\n";
  EXPECT_EQ(error(f + "  query: select 1, 2\n"),
            "agent.yaml:4: freshness.database: required key is missing");
  EXPECT_EQ(error(f + "  database: mysql://h/db\n  query: q\n"),
            "agent.yaml:4: freshness.database: expected sqlite:///path.db or "
            "postgresql://user@host:port/dbname");
  EXPECT_EQ(error(f + "  database: 'postgresql://mon:secret@db/entry'\n  query: q\n"),
            "agent.yaml:4: freshness.database: put the password in password_file, not in the URI");
  EXPECT_EQ(error(f + "  database: 'postgresql://db/entry?password=secret'\n  query: q\n"),
            "agent.yaml:4: freshness.database: put the password in password_file, not in the URI");
  EXPECT_EQ(error(f + "  database: 'sqlite://relative.db'\n  query: q\n"),
            "agent.yaml:4: freshness.database: expected sqlite:///absolute/path.db");
  EXPECT_EQ(error(f + "  database: 'sqlite:///x.db'\n"),
            "agent.yaml:4: freshness.query: required key is missing");
  EXPECT_EQ(error(f + "  database: 'sqlite:///x.db'\n  query: q\n  due_by: '25:00'\n"),
            "agent.yaml:6: freshness.due_by: expected a local time HH:MM, got '25:00'");
  EXPECT_EQ(error(f + "  database: 'sqlite:///x.db'\n  query: q\n  due_by: '9:30'\n"
                      "  due_weekdays: [mon, fri, funday]\n"),
            "agent.yaml:7: freshness.due_weekdays: unknown weekday 'funday' (use mon, tue, wed, "
            "thu, fri, sat, sun)");
  EXPECT_EQ(error(f + "  database: 'sqlite:///x.db'\n  query: q\n  time_zone: Mars/Olympus\n")
                .rfind("agent.yaml:6: freshness.time_zone: unknown time zone 'Mars/Olympus'", 0),
            0u);
  EXPECT_EQ(error(f + "  database: 'sqlite:///x.db'\n  query: q\n  time_zone: ../etc/passwd\n"),
            "agent.yaml:6: freshness.time_zone: unknown time zone '../etc/passwd' (not a zone "
            "name: a '..' path component)");
  EXPECT_EQ(error(f + "  database: 'sqlite:///x.db'\n  query: q\n  max_age_warning: 3d\n"
                      "  max_age_critical: 1d\n"),
            "agent.yaml:6: freshness.max_age_warning: the warning age is above the critical age");
  EXPECT_NE(error(f + "  database: 'sqlite:///x.db'\n  query: q\n  sql: q\n")
                .find("agent.yaml:6: "
                      "freshness.sql"),
            std::string::npos);
  EXPECT_EQ(error("name: de\ntype: dataentry\nlogin_url: https://entry.example/login\n"
                  "login_keyword: Sign in\nlogin_expect_status: [200, 302]\nfreshness:\n"
                  "  database: 'postgresql://monitor@db.example:5432/entry?sslmode=require'\n"
                  "  password_file: /etc/steadfast/entry.pass\n  query: select d, t from x\n"
                  "  due_by: '10:00'\n  due_weekdays: [mon, tue, wed, thu, fri]\n"
                  "  late_status: critical\n  time_zone: Asia/Shanghai\n  departments: [a, b]\n"),
            "accepted");
}

TEST(DataEntryFactoryTest, DatabaseTargetHasNoCredentials) {
  auto o = ParseDataEntryOptions(
      SpecFromYaml("{name: de, type: dataentry, freshness: {database: "
                   "'postgresql://monitor@db.example:5432/entry?sslmode=require', query: q}}"));
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->freshness->display, "postgresql://db.example:5432/entry");
}

// This machine, for real: its own time zone and clock, a SQLite file in a temp dir.
TEST(DataEntryHostTest, RealClockAndLocalZone) {
  TempDir dir;
  const std::string path = dir.path() + "/entry.db";
  {
    auto db = sqlite::SqliteDb::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE e(d TEXT, t INTEGER)").ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO e VALUES ('ops', strftime('%s','now') - 60)").ok());
  }
  auto check =
      NewDataEntryCheck(SpecFromYaml("{name: de, type: dataentry, freshness: {database: "
                                     "'sqlite://" +
                                     path + "', query: 'SELECT d, t FROM e'}}"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  RealClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto results = (*check)->Run(ctx);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_GE(*MetricValue(results[0], "dataentry_query_duration_seconds"), 0);
  EXPECT_LT(*MetricValue(results[0], "dataentry_query_duration_seconds"), 5);
  EXPECT_EQ(results[1].target, "ops");
  EXPECT_EQ(results[1].status, CheckStatus::kOk) << results[1].summary;
  EXPECT_GE(*MetricValue(results[1], "last_entry_age_seconds"), 59);
  EXPECT_LE(*MetricValue(results[1], "last_entry_age_seconds"), 120);
}

// The commented backup and dataentry examples in deploy/config/agent.yaml, uncommented, are
// valid configs ("  # - name:" starts one, "  #   " lines continue it).
TEST(DataExamplesTest, CommentedExamplesInAgentYamlAreValid) {
  auto fs = NewPosixFileSystem();
  auto yaml = fs->ReadFile(SF_AGENT_EXAMPLE_CONFIG);
  ASSERT_TRUE(yaml.ok()) << yaml.status().ToString();
  CheckRegistry registry;
  RegisterBuiltinChecks(registry);
  const std::vector<std::string> blocks = testing::CommentedCheckExamples(*yaml);
  std::set<std::string> seen;
  for (const std::string& block : blocks) {
    for (const std::string type : {"backup", "dataentry"}) {
      if (block.find("type: " + type + "\n") == std::string::npos) continue;
      seen.insert(type);
      auto config = ParseAgentConfigText(
          "collector_url: http://127.0.0.1:8080\nenrollment_token: x\nchecks:\n" + block,
          "agent.yaml", registry);
      EXPECT_TRUE(config.ok()) << config.status().ToString() << "\n" << block;
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"backup", "dataentry"}));
}

}  // namespace
}  // namespace steadfast::agent
