#include "collector/accounts/sqlite_account_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "collector/accounts/account_store_conformance.h"
#include "collector/testing/test_util.h"
#include "common/random.h"

namespace steadfast {
// Readable failures when comparing statuses (found by argument-dependent lookup).
static void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
}  // namespace steadfast

namespace steadfast::collector::accounts {
namespace {

using testing::AccountStoreConformanceTest;
using testing::AccountStoreHarness;
using testing::AdminActor;
using testing::kT0;
using testing::SessionSpec;
using testing::TokenSpec;
using testing::UnitSpec;
using testing::UserSpec;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// An audit event as JSON, so the recording table can hold it in one column.
std::string EventToJson(const audit::AuditEvent& e) {
  nlohmann::json j = {{"time_ms", e.time_ms},
                      {"actor_type", e.actor_type},
                      {"actor_id", e.actor_id},
                      {"actor_name", e.actor_name},
                      {"roles", e.roles},
                      {"unit_id", e.unit_id ? nlohmann::json(*e.unit_id) : nlohmann::json(nullptr)},
                      {"source_address", e.source_address},
                      {"action", e.action},
                      {"object_type", e.object_type},
                      {"object_id", e.object_id},
                      {"summary_json", e.summary_json},
                      {"result", static_cast<int>(e.result)}};
  return j.dump();
}

audit::AuditEvent EventFromJson(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  audit::AuditEvent e;
  e.time_ms = j["time_ms"].get<int64_t>();
  e.actor_type = j["actor_type"].get<std::string>();
  e.actor_id = j["actor_id"].get<std::string>();
  e.actor_name = j["actor_name"].get<std::string>();
  e.roles = j["roles"].get<std::vector<std::string>>();
  if (!j["unit_id"].is_null()) e.unit_id = j["unit_id"].get<int64_t>();
  e.source_address = j["source_address"].get<std::string>();
  e.action = j["action"].get<std::string>();
  e.object_type = j["object_type"].get<std::string>();
  e.object_id = j["object_id"].get<std::string>();
  e.summary_json = j["summary_json"].get<std::string>();
  e.result = static_cast<audit::AuditResult>(j["result"].get<int>());
  return e;
}

// A SqliteAccountStore on a temp-file collector.db whose audit appender writes each event into
// the table test_audit through the store's own transaction — so a row there means the event
// committed together with its change. When `fail` is set the appender still writes its row
// and then fails, which must roll back both.
class SqliteHarness final : public AccountStoreHarness {
 public:
  SqliteHarness() {
    auto db = AdminDb::Open(dir_.path() + "/collector.db");
    SF_CHECK_OK(db.status());
    db_ = std::move(db).value();
    SF_CHECK_OK(db_->Write([](sqlite::SqliteDb& db) {
      return db.Exec("CREATE TABLE test_audit (seq INTEGER PRIMARY KEY, event_json TEXT NOT NULL)");
    }));
    OpenStore();
  }

  void OpenStore() {
    store_.reset();
    auto store = SqliteAccountStore::Open(*db_, [this](sqlite::SqliteDb& db, const audit::AuditEvent& e) -> Status {
      auto stmt = db.Prepare("INSERT INTO test_audit (event_json) VALUES (?1)");
      if (!stmt.ok()) return stmt.status();
      stmt->Bind(1, EventToJson(e));
      SF_RETURN_IF_ERROR(stmt->Run());
      if (fail_.load()) return UnavailableError("audit log unavailable (test)");
      return OkStatus();
    });
    SF_CHECK_OK(store.status());
    store_ = std::move(store).value();
  }

  AccountStore& store() override { return *store_; }
  SqliteAccountStore& sqlite_store() { return *store_; }
  AdminDb& db() { return *db_; }
  const std::string& dir() const { return dir_.path(); }
  void set_fail(bool fail) { fail_.store(fail); }

  std::vector<audit::AuditEvent> CommittedAuditEvents() override {
    std::vector<audit::AuditEvent> events;
    SF_CHECK_OK(db_->Read([&](sqlite::SqliteDb& db) -> Status {
      SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s, db.Prepare("SELECT event_json FROM test_audit ORDER BY seq"));
      while (true) {
        SF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) return OkStatus();
        events.push_back(EventFromJson(s.ColumnText(0)));
      }
    }));
    return events;
  }

  // Every row of `sql`'s result, columns joined by '|', rows by '\n' (via the C API, so any
  // table can be dumped without knowing its columns).
  std::string Query(const std::string& sql) {
    std::string out;
    Status st = db_->Read([&](sqlite::SqliteDb& db) -> Status {
      char* err = nullptr;
      const int rc = sqlite3_exec(
          db.raw(), sql.c_str(),
          [](void* arg, int n, char** values, char**) -> int {
            auto* text = static_cast<std::string*>(arg);
            for (int i = 0; i < n; ++i) {
              if (i > 0) *text += '|';
              *text += values[i] != nullptr ? values[i] : "NULL";
            }
            *text += '\n';
            return 0;
          },
          &out, &err);
      std::string message = err != nullptr ? err : "";
      sqlite3_free(err);
      return rc == SQLITE_OK ? OkStatus() : InternalError(sql + ": " + message);
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  // Everything the store and the recording appender keep.
  std::string Snapshot() {
    std::string out;
    for (const char* table : {"units", "users", "user_credentials", "user_roles", "password_history", "sessions",
                              "api_tokens", "host_units", "test_audit"}) {
      out += std::string("== ") + table + "\n" + Query(std::string("SELECT * FROM ") + table + " ORDER BY 1, 2");
    }
    return out;
  }

 private:
  collector::testutil::TempDir dir_;
  std::unique_ptr<AdminDb> db_;
  std::unique_ptr<SqliteAccountStore> store_;
  std::atomic<bool> fail_{false};
};

INSTANTIATE_TEST_SUITE_P(Sqlite, AccountStoreConformanceTest,
                         ::testing::Values(testing::AccountStoreImplementation{
                             "Sqlite",
                             []() -> std::unique_ptr<AccountStoreHarness> { return std::make_unique<SqliteHarness>(); }}),
                         testing::AccountStoreImplementationName);

class SqliteAccountStoreTest : public ::testing::Test {
 protected:
  AccountStore& store() { return h_.store(); }

  template <typename T>
  static T Must(StatusOr<T> s) {
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : T{};
  }

  SqliteHarness h_;
};

TEST_F(SqliteAccountStoreTest, AFailingAppenderRollsBackEveryMutation) {
  const Unit unit = Must(store().CreateUnit(AdminActor(), UnitSpec("A", "a")));
  const User user = Must(store().CreateUser(AdminActor(), UserSpec("olga", unit.id, {Role::kOperator}, "hash-0")));
  ASSERT_TRUE(store().CreateSession(AdminActor(), SessionSpec(user.id, "pub-1", "cookie-1")).ok());
  ASSERT_TRUE(store().CreateSession(AdminActor(), SessionSpec(user.id, "pub-2", "cookie-2")).ok());
  const ApiToken token = Must(store().CreateApiToken(AdminActor(), TokenSpec(user.id, "ci", "sfa_1")));
  ASSERT_TRUE(store().AssignHost(AdminActor(), "a-1", unit.id).ok());
  ASSERT_TRUE(store().SetPassword(AdminActor(), user.id, "hash-1", false, 5, "auth.change_password", "pub-1").ok());
  const std::string before = h_.Snapshot();
  ASSERT_THAT(before, HasSubstr("hash-0"));  // the snapshot does see history, sessions, ...
  ASSERT_THAT(before, HasSubstr("pub-2"));

  h_.set_fail(true);
  const Status appender_error = UnavailableError("audit log unavailable (test)");
  UserUpdate rename;
  rename.display_name = "Olga";
  rename.roles = std::vector<Role>{Role::kAdmin};
  UserUpdate disable;
  disable.active = false;
  const std::vector<std::pair<std::string, std::function<Status()>>> mutations = {
      {"CreateUnit", [&] { return store().CreateUnit(AdminActor(), UnitSpec("B", "b")).status(); }},
      {"UpdateUnit",
       [&] { return store().UpdateUnit(AdminActor(), unit.id, std::string("A2"), std::nullopt).status(); }},
      {"CreateUser", [&] { return store().CreateUser(AdminActor(), UserSpec("pia", unit.id, {Role::kViewer}, "h")).status(); }},
      {"UpdateUser", [&] { return store().UpdateUser(AdminActor(), user.id, rename).status(); }},
      {"RevokeSession", [&] { return store().RevokeSession(AdminActor(), "pub-1", "auth.logout"); }},
      {"CreateSession", [&] { return store().CreateSession(AdminActor(), SessionSpec(user.id, "pub-3", "cookie-3")); }},
      {"CreateApiToken",
       [&] { return store().CreateApiToken(AdminActor(), TokenSpec(user.id, "other", "sfa_2")).status(); }},
      {"RevokeApiToken", [&] { return store().RevokeApiToken(AdminActor(), token.id); }},
      {"AssignHost", [&] { return store().AssignHost(AdminActor(), "a-1", kCentreUnitId); }},
      {"SetTotp", [&] { return store().SetTotp(AdminActor(), user.id, "JBSWY3DPEHPK3PXP", true); }},
      {"SetPassword",
       [&] { return store().SetPassword(AdminActor(), user.id, "hash-2", true, 0, "users.reset_password", ""); }},
      // Last: a disabled user could not be given the session and token above.
      {"UpdateUser(disable)", [&] { return store().UpdateUser(AdminActor(), user.id, disable).status(); }},
  };
  for (const auto& [name, mutate] : mutations) {
    SCOPED_TRACE(name);
    EXPECT_EQ(mutate(), appender_error);
    EXPECT_EQ(h_.Snapshot(), before);
  }

  // The same calls succeed, with their audit rows, once the log works again.
  h_.set_fail(false);
  const size_t committed = h_.CommittedAuditEvents().size();
  for (const auto& [name, mutate] : mutations) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(mutate().ok());
  }
  EXPECT_EQ(h_.CommittedAuditEvents().size(), committed + mutations.size());
  EXPECT_NE(h_.Snapshot(), before);
}

TEST_F(SqliteAccountStoreTest, ARefusedMutationWritesNoAuditRecord) {
  ASSERT_TRUE(store().CreateUser(AdminActor(), UserSpec("quinn")).ok());
  const std::string before = h_.Snapshot();
  EXPECT_EQ(store().CreateUser(AdminActor(), UserSpec("QUINN")).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().CreateUnit(AdminActor(), UnitSpec("X", "centre")).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(h_.Snapshot(), before);
}

TEST_F(SqliteAccountStoreTest, SchemaSurvivesReopeningAndRefusesANewerVersion) {
  const Unit unit = Must(store().CreateUnit(AdminActor(), UnitSpec("A", "a")));
  const User user = Must(store().CreateUser(AdminActor(), UserSpec("rosa", unit.id)));
  h_.OpenStore();  // migrations run again: nothing applied twice
  EXPECT_EQ(Must(store().GetUser(user.id)).username, "rosa");
  EXPECT_EQ(Must(store().ListUnits()).size(), 2u);
  EXPECT_EQ(h_.Query("SELECT version FROM schema_migrations WHERE component = 'accounts'"), "1\n");
  EXPECT_EQ(h_.Query("SELECT COUNT(*) FROM units WHERE kind = 'centre'"), "1\n");

  // A second connection (another process) sees the same data.
  auto other = AdminDb::Open(h_.dir() + "/collector.db");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto other_store = SqliteAccountStore::Open(**other, [](sqlite::SqliteDb&, const audit::AuditEvent&) {
    return OkStatus();
  });
  ASSERT_TRUE(other_store.ok()) << other_store.status().ToString();
  EXPECT_EQ(Must((*other_store)->FindUserByUsername("ROSA")).id, user.id);

  ASSERT_TRUE((*other)->Write([](sqlite::SqliteDb& db) {
                        return db.Exec("UPDATE schema_migrations SET version = 99 WHERE component = 'accounts'");
                      })
                  .ok());
  auto newer = SqliteAccountStore::Open(**other, [](sqlite::SqliteDb&, const audit::AuditEvent&) { return OkStatus(); });
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteAccountStoreTest, ForeignKeysAndConstraintsHoldBelowTheStore) {
  const User user = Must(store().CreateUser(AdminActor(), UserSpec("sara")));
  auto exec = [&](const std::string& sql) {
    return h_.db().Write([&](sqlite::SqliteDb& db) { return db.Exec(sql); });
  };
  EXPECT_FALSE(exec("INSERT INTO users (username, display_name, unit_id, language, active, source, "
                    "must_change_password, created_at_ms, updated_at_ms) "
                    "VALUES ('ghost', 'Ghost', 999, 'en', 1, 'local', 0, 1, 1)")
                   .ok());
  EXPECT_FALSE(exec("INSERT INTO host_units (agent_id, unit_id, assigned_at_ms) VALUES ('a-x', 999, 1)").ok());
  EXPECT_FALSE(exec("INSERT INTO user_roles (user_id, role) VALUES (" + std::to_string(user.id) + ", 'root')").ok());
  EXPECT_FALSE(exec("INSERT INTO units (parent_id, name, code, kind, created_at_ms) VALUES (NULL, 'x', 'x', 'unit', 1)")
                   .ok());  // only the centre has no parent
  EXPECT_EQ(h_.Query("SELECT COUNT(*) FROM users"), "1\n");
}

// Every lookup path the store uses is served by an index, not a full table scan.
TEST_F(SqliteAccountStoreTest, LookupsUseIndexes) {
  const std::vector<std::string> lookups = {
      "SELECT * FROM units WHERE parent_id = 2",
      "SELECT 1 FROM units WHERE code = 'x'",
      "SELECT * FROM users WHERE username = 'x'",
      "SELECT * FROM users WHERE unit_id IN (2, 3)",
      "SELECT user_id FROM user_roles WHERE role = 'admin'",
      "SELECT role FROM user_roles WHERE user_id = 1",
      "SELECT password_hash FROM password_history WHERE user_id = 1 ORDER BY id DESC",
      "SELECT * FROM user_credentials WHERE user_id = 1",
      "SELECT * FROM sessions WHERE token_sha256 = 'x' AND revoked_at_ms IS NULL",
      "SELECT * FROM sessions WHERE public_id = 'x'",
      "SELECT * FROM sessions WHERE user_id = 1 AND revoked_at_ms IS NULL ORDER BY created_at_ms DESC",
      "SELECT * FROM api_tokens WHERE token_sha256 = 'x'",
      "SELECT * FROM api_tokens WHERE id = 1",
      "SELECT * FROM api_tokens WHERE unit_id IN (1, 2) ORDER BY created_at_ms DESC",
      "SELECT 1 FROM api_tokens WHERE created_by_user_id = 1 AND name = 'x' AND revoked_at_ms IS NULL",
      "UPDATE api_tokens SET revoked_at_ms = 5 WHERE created_by_user_id = 1 AND revoked_at_ms IS NULL",
      "SELECT unit_id FROM host_units WHERE agent_id = 'x'",
      "SELECT agent_id FROM host_units WHERE unit_id IN (1, 2) ORDER BY agent_id",
  };
  for (const std::string& sql : lookups) {
    SCOPED_TRACE(sql);
    const std::string plan = h_.Query("EXPLAIN QUERY PLAN " + sql);
    EXPECT_THAT(plan, HasSubstr("SEARCH"));
    EXPECT_THAT(plan, ::testing::Not(HasSubstr("SCAN"))) << plan;
  }
}

TEST_F(SqliteAccountStoreTest, StoreErrorsAreUnavailableWhenTheDatabaseIsGone) {
  const User user = Must(store().CreateUser(AdminActor(), UserSpec("tina")));
  h_.db().Close();
  EXPECT_EQ(store().GetUser(user.id).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store().CreateUser(AdminActor(), UserSpec("uma")).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store().FindSessionByTokenHash(Sha256Hex("x")).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store().HostUnit("a-1").status().code(), StatusCode::kUnavailable);
}

// Several threads sharing one store (as the HTTP server's workers do) neither lose writes nor
// interleave a mutation with another's audit record.
TEST_F(SqliteAccountStoreTest, ConcurrentUseFromSeveralThreads) {
  constexpr int kThreads = 4;
  constexpr int kUsersPerThread = 15;
  const Unit unit = Must(store().CreateUnit(AdminActor(), UnitSpec("Shared", "shared")));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kUsersPerThread; ++i) {
        const std::string name = "t" + std::to_string(t) + "-u" + std::to_string(i);
        StatusOr<User> u = store().CreateUser(AdminActor(kT0 + i), UserSpec(name, unit.id));
        if (!u.ok()) {
          ++failures;
          continue;
        }
        const std::string cookie = "cookie-" + name;
        if (!store().CreateSession(AdminActor(), SessionSpec(u->id, "pub-" + name, cookie)).ok()) ++failures;
        if (!store().FindSessionByTokenHash(Sha256Hex(cookie)).ok()) ++failures;
        if (!store().TouchSession("pub-" + name, kT0 + 120'000).ok()) ++failures;
        if (!store().AssignHost(AdminActor(), "agent-" + name, unit.id).ok()) ++failures;
        UserQuery q;
        q.unit_ids = std::vector<int64_t>{unit.id};
        if (!store().ListUsers(q).ok()) ++failures;
        if (!store().ListUnits().ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  UserQuery q;
  q.limit = 1000;
  EXPECT_EQ(Must(store().ListUsers(q)).total, kThreads * kUsersPerThread);
  EXPECT_EQ(Must(store().HostsInUnits({unit.id})).size(), static_cast<size_t>(kThreads * kUsersPerThread));
  EXPECT_EQ(h_.Query("SELECT COUNT(*) FROM sessions WHERE last_seen_ms = " + std::to_string(kT0 + 120'000)),
            std::to_string(kThreads * kUsersPerThread) + "\n");
  // One record per mutation: the unit, then three per user.
  const auto events = h_.CommittedAuditEvents();
  EXPECT_EQ(events.size(), 1u + 3u * kThreads * kUsersPerThread);
  // Each user's creation record names a user that exists and came before its login record.
  std::set<std::string> created;
  for (const auto& e : events) {
    if (e.action == "users.create") created.insert(e.object_id);
    if (e.action == "auth.login") {
      const auto summary = nlohmann::json::parse(e.summary_json);
      EXPECT_TRUE(created.count(std::to_string(summary["after"]["user_id"].get<int64_t>())) == 1);
    }
  }
}

TEST_F(SqliteAccountStoreTest, SecretsStayOutOfUserRows) {
  // Credentials live apart from the rows listings read: a query over users cannot return them.
  const User user = Must(store().CreateUser(AdminActor(), UserSpec("vera", kCentreUnitId, {Role::kViewer}, "hash-v")));
  ASSERT_TRUE(store().SetTotp(AdminActor(), user.id, "JBSWY3DPEHPK3PXP", true).ok());
  const std::string users = h_.Query("SELECT * FROM users");
  EXPECT_THAT(users, Not(HasSubstr("hash-v")));
  EXPECT_THAT(users, Not(HasSubstr("JBSWY3DPEHPK3PXP")));
  EXPECT_THAT(h_.Query("SELECT * FROM user_credentials"), HasSubstr("hash-v"));
}

}  // namespace
}  // namespace steadfast::collector::accounts
