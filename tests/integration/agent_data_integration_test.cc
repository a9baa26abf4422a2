// The dataentry check against the real servers it talks to, started by the tests on loopback in
// their own temporary directories:
//   PostgreSQL  a fresh cluster (initdb + pg_ctl, Debian postgresql) with password (SCRAM)
//               authentication on 127.0.0.1, a data-entry table and a monitoring role: fresh and
//               late departments from a timestamptz column, a wrong password, a query error, a
//               read-only violation (DELETE, and a SET that would turn read-only off), a server
//               that is down, and a query slower than the check's deadline. libpq is loaded by the
//               check itself (dlopen of libpq.so.5, Debian libpq5).
//   HTTP        python3 -m http.server serving a login page from a temp dir, for the login probe
//               through the agent's real (Beast) HTTP client.
// As root, the PostgreSQL programs run as the `postgres` user (initdb refuses root) via setpriv.
// A missing program skips the tests that need it, naming the Debian package.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "agent/check.h"
#include "agent/checks/dataentry_check.h"
#include "agent/checks/stream_socket.h"
#include "agent/testing/test_util.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "tests/support/process.h"

namespace steadfast {
namespace {

using agent::CheckContext;
using agent::testing::FindTarget;
using agent::testing::MetricValue;
using agent::testing::SpecFromYaml;
using protocol::CheckResult;
using protocol::CheckStatus;
using std::chrono::milliseconds;
using testsupport::Process;
using testsupport::WriteTextFile;

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// The newest /usr/lib/postgresql/<version>/bin, or "" when PostgreSQL is not installed.
std::string PostgresBinDir() {
  std::string best;
  int best_version = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string v = e.path().filename();
    const int version = std::atoi(v.c_str());
    if (version > best_version && Executable(e.path().string() + "/bin/initdb")) {
      best_version = version;
      best = e.path().string() + "/bin";
    }
  }
  return best;
}

std::vector<CheckResult> RunOnce(agent::Check& check, milliseconds budget = milliseconds(3'000)) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  ctx.deadline = std::chrono::steady_clock::now() + budget;
  return check.Run(ctx);
}

std::unique_ptr<agent::Check> MustCreate(const std::string& yaml) {
  auto check = agent::NewDataEntryCheck(SpecFromYaml(yaml));
  EXPECT_TRUE(check.ok()) << check.status().ToString();
  return check.ok() ? std::move(check).value() : nullptr;
}

// Runs a short command to completion; returns its exit code (-1 on a 30 s timeout).
int RunCommand(std::vector<std::string> argv, const std::string& log) {
  Process p(std::move(argv), log);
  const int rc = p.Wait(milliseconds(30'000));
  if (rc == -1) p.Signal(SIGKILL);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: one cluster for the suite (initdb takes most of a second).

class PostgresDataEntryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bin_ = PostgresBinDir();
    if (bin_.empty()) return;
    dir_ = new testsupport::TempDir();
    const std::string d = dir_->path();
    port_ = testsupport::FreeLoopbackPort();
    WriteTextFile(d + "/superuser.pw", "super pw\n");
    if (::geteuid() == 0) {
      // initdb refuses root: the cluster belongs to the postgres user.
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) {
        setup_error_ = "no user 'postgres' (created by the postgresql package)";
        return;
      }
      as_user_ = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
                  "--"};
      for (const std::string& p : {d, d + "/superuser.pw"}) {
        if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) setup_error_ = "chown " + p;
      }
    }
    const std::string log = d + "/setup.log";
    // Password (SCRAM) authentication over TCP, so a wrong password is refused; the unix socket
    // in the temp dir trusts the test's own psql.
    if (RunCommand(As({bin_ + "/initdb", "-D", d + "/data", "-U", "postgres", "--no-sync", "-E",
                       "UTF8", "--locale=C.UTF-8", "--auth-local=trust",
                       "--auth-host=scram-sha-256", "--pwfile=" + d + "/superuser.pw"}),
                   log) != 0) {
      setup_error_ = "initdb failed, see " + log;
      return;
    }
    if (RunCommand(As({bin_ + "/pg_ctl", "-D", d + "/data", "-l", d + "/postgres.log", "-w", "-t",
                       "30", "-o",
                       fmt::format("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c "
                                   "full_page_writes=off",
                                   port_, d),
                       "start"}),
                   log) != 0) {
      setup_error_ = "pg_ctl start failed, see " + d + "/postgres.log";
      return;
    }
    started_ = true;
    if (Psql("postgres", "CREATE ROLE monitor LOGIN PASSWORD 'mon pw'") != 0 ||
        Psql("postgres", "CREATE DATABASE entry") != 0 ||
        Psql("entry",
             "CREATE TABLE entries(dept text, entered_at timestamptz, note text);"
             "INSERT INTO entries VALUES "
             " ('finance', now() - interval '2 hours', 'a'),"
             " ('finance', now() - interval '3 days', 'b'),"
             " ('safety', now() - interval '30 hours', 'c'),"
             " ('mining', now() - interval '5 days', 'd');"
             "GRANT SELECT ON entries TO monitor; GRANT DELETE ON entries TO monitor;") != 0) {
      setup_error_ = "psql setup failed, see " + log;
    }
  }

  static void TearDownTestSuite() {
    if (started_) {
      RunCommand(
          As({bin_ + "/pg_ctl", "-D", dir_->path() + "/data", "-m", "immediate", "-w", "stop"}),
          dir_->path() + "/setup.log");
    }
    started_ = false;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (bin_.empty()) {
      GTEST_SKIP() << "needs PostgreSQL's initdb under /usr/lib/postgresql/*/bin (Debian package "
                      "postgresql)";
    }
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    // The check's password file, readable by the agent (this test).
    WriteTextFile(dir_->path() + "/monitor.pw", "mon pw\n");
    WriteTextFile(dir_->path() + "/wrong.pw", "not it\n");
  }

  static std::vector<std::string> As(std::vector<std::string> argv) {
    std::vector<std::string> out = as_user_;
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

  static int Psql(const std::string& db, const std::string& sql) {
    return RunCommand(As({"/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", dir_->path(),
                          "-p", std::to_string(port_), "-U", "postgres", "-d", db, "-c", sql}),
                      dir_->path() + "/setup.log");
  }

  static std::string Yaml(const std::string& query, const std::string& password_file, int port = 0,
                          const std::string& extra = "") {
    return fmt::format(
        "{{name: de, type: dataentry, freshness: {{database: "
        "'postgresql://monitor@127.0.0.1:{}/entry?sslmode=disable&connect_timeout=5', "
        "password_file: '{}', query: \"{}\", time_zone: UTC{}}}}}",
        port == 0 ? port_ : port, password_file, query, extra);
  }

  static inline std::string bin_;
  static inline testsupport::TempDir* dir_ = nullptr;
  static inline int port_ = 0;
  static inline bool started_ = false;
  static inline std::string setup_error_;
  static inline std::vector<std::string> as_user_;
};

TEST_F(PostgresDataEntryTest, FreshAndLateDepartmentsFromTimestamptz) {
  auto check = MustCreate(Yaml("SELECT dept, max(entered_at) FROM entries GROUP BY dept",
                               dir_->path() + "/monitor.pw", 0, ", departments: [hr]"));
  ASSERT_NE(check, nullptr);
  auto results = RunOnce(*check);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].target, fmt::format("postgresql://127.0.0.1:{}/entry", port_));
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("query returned 3 departments in ", 0), 0u)
      << results[0].summary;
  const int64_t now_s = RealClock().NowMillis() / 1000;
  const CheckResult* finance = FindTarget(results, "finance");
  ASSERT_NE(finance, nullptr);
  EXPECT_EQ(finance->status, CheckStatus::kOk) << finance->summary;
  EXPECT_NEAR(*MetricValue(*finance, "last_entry_timestamp_seconds"), now_s - 2 * 3600, 5);
  EXPECT_NEAR(*MetricValue(*finance, "last_entry_age_seconds"), 2 * 3600, 5);
  EXPECT_EQ(FindTarget(results, "safety")->status, CheckStatus::kWarning);
  EXPECT_EQ(FindTarget(results, "mining")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "hr")->summary, "no entry found for this department");
}

TEST_F(PostgresDataEntryTest, WrongPasswordIsUnknownWithTheServersMessage) {
  auto check = MustCreate(Yaml("SELECT dept, entered_at FROM entries", dir_->path() + "/wrong.pw"));
  auto results = RunOnce(*check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("password authentication failed for user \"monitor\""),
            std::string::npos)
      << results[0].summary;
  EXPECT_EQ(results[0].summary.find("not it"), std::string::npos);  // never the password
}

TEST_F(PostgresDataEntryTest, QueryErrorShowsTheMessage) {
  auto check =
      MustCreate(Yaml("SELECT dept, entered_at FROM no_such_table", dir_->path() + "/monitor.pw"));
  auto results = RunOnce(*check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary.rfind(
                "query failed: ERROR:  relation \"no_such_table\" does not exist", 0),
            0u)
      << results[0].summary;
}

TEST_F(PostgresDataEntryTest, TheQueryCannotWrite) {
  // monitor holds DELETE on the table: only the session's read-only mode stops it.
  auto del = MustCreate(
      Yaml("DELETE FROM entries RETURNING dept, entered_at", dir_->path() + "/monitor.pw"));
  auto results = RunOnce(*del);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("cannot execute DELETE in a read-only transaction"),
            std::string::npos)
      << results[0].summary;
  auto sneaky = MustCreate(Yaml("SET default_transaction_read_only = off; DELETE FROM entries",
                                dir_->path() + "/monitor.pw"));
  results = RunOnce(*sneaky);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("cannot insert multiple commands into a prepared statement"),
            std::string::npos)
      << results[0].summary;
  // Every row is still there.
  auto count =
      MustCreate(Yaml("SELECT 'rows', count(*) FROM entries", dir_->path() + "/monitor.pw"));
  results = RunOnce(*count);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_EQ(*MetricValue(results[1], "last_entry_timestamp_seconds"), 4);  // count(*) = 4
}

TEST_F(PostgresDataEntryTest, SlowQueryEndsAtTheDeadline) {
  auto check = MustCreate(
      Yaml("SELECT 'x', extract(epoch from now()) FROM pg_sleep(5)", dir_->path() + "/monitor.pw"));
  const auto start = std::chrono::steady_clock::now();
  auto results = RunOnce(*check, milliseconds(800));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, milliseconds(2'000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  // Whichever ends it first: the server's statement_timeout or the agent's own deadline.
  EXPECT_TRUE(results[0].summary.find("statement timeout") != std::string::npos ||
              results[0].summary.find("timed out waiting for the query") != std::string::npos)
      << results[0].summary;
}

TEST_F(PostgresDataEntryTest, ServerThatIsDownIsUnknown) {
  const int closed = testsupport::FreeLoopbackPort();  // nothing listens there
  auto check = MustCreate(
      Yaml("SELECT dept, entered_at FROM entries", dir_->path() + "/monitor.pw", closed));
  auto results = RunOnce(*check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("Connection refused"), std::string::npos) << results[0].summary;
}

// ---------------------------------------------------------------------------------------------
// The login probe against python3's http.server.

class HttpLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = Executable("/usr/bin/python3") ? "/usr/bin/python3" : "";
    if (python_.empty()) GTEST_SKIP() << "needs /usr/bin/python3 (Debian package python3)";
    std::filesystem::create_directories(dir_.path() + "/www");
    WriteTextFile(dir_.path() + "/www/login.html",
                  "<html><form><h1>Data entry</h1><button>Sign in</button></form></html>\n");
    port_ = testsupport::FreeLoopbackPort();
    server_ = std::make_unique<Process>(
        std::vector<std::string>{python_, "-m", "http.server", std::to_string(port_), "--bind",
                                 "127.0.0.1", "--directory", dir_.path() + "/www"},
        dir_.path() + "/http.log");
    // Ready when it accepts connections.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
      if (agent::StreamSocket::ConnectTcp("127.0.0.1", static_cast<uint16_t>(port_),
                                          std::chrono::steady_clock::now() + milliseconds(200))
              .ok()) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "http.server did not start, see " << dir_.path() << "/http.log";
  }
  void TearDown() override {
    testsupport::StopProcess(server_);
  }
  std::string Url(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", port_, path);
  }

  testsupport::TempDir dir_;
  std::string python_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

TEST_F(HttpLoginTest, LoginPageUpWithKeywordThenMissingThenDown) {
  auto check = MustCreate("{name: de, type: dataentry, login_url: '" + Url("/login.html") +
                          "', login_keyword: Sign in}");
  ASSERT_NE(check, nullptr);
  auto results = RunOnce(*check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].target, Url("/login.html"));
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("login page: HTTP 200 in ", 0), 0u) << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "probe_success"), 1);
  EXPECT_GT(*MetricValue(results[0], "probe_http_content_length"), 40);

  auto wrong_word = MustCreate("{name: de, type: dataentry, login_url: '" + Url("/login.html") +
                               "', login_keyword: Anmelden}");
  EXPECT_EQ(RunOnce(*wrong_word)[0].summary.rfind("login page: body does not contain \"Anmelden\"", 0),
            0u);

  auto missing = MustCreate("{name: de, type: dataentry, login_url: '" + Url("/gone.html") + "'}");
  results = RunOnce(*missing);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_EQ(results[0].summary.rfind("login page: status 404, expected 200-399", 0), 0u)
      << results[0].summary;

  server_->Signal(SIGTERM);
  server_->Wait(milliseconds(5'000));
  server_.reset();
  const testsupport::HeldPort held(port_);  // no parallel test's server may answer there
  ASSERT_TRUE(held.held());
  results = RunOnce(*check);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_EQ(results[0].summary.rfind("login page: ", 0), 0u) << results[0].summary;
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_EQ(*MetricValue(results[0], "probe_success"), 0);
}

}  // namespace
}  // namespace steadfast
