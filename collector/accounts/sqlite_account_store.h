// SqliteAccountStore: the AccountStore in collector.db, over the shared admin connection.
//
// Tables (component "accounts", see Migrations() in the .cc): units, users, user_credentials,
// user_roles, password_history, sessions, api_tokens, host_units. Secrets (password hashes,
// TOTP secrets) live in user_credentials, apart from the user rows every listing reads.
//
// Every mutation runs inside one AdminDb::Write transaction together with its audit record,
// appended through the AuditAppender given at construction (in production
// SqliteAuditLog::AppendInTransaction); if the appender fails, the mutation rolls back and its
// error is returned. Validation happens inside the same write transaction (BEGIN IMMEDIATE),
// so uniqueness and existence checks cannot race with another writer.
//
// Thread-safe: all state is in the database and AdminDb serialises access to it.
#pragma once

#include <functional>
#include <memory>

#include "collector/accounts/account_store.h"
#include "collector/audit/audit_log.h"
#include "collector/store/admin_db.h"
#include "common/sqlite/sqlite_db.h"

namespace steadfast::collector::accounts {

class SqliteAccountStore final : public AccountStore {
 public:
  // Appends `event` using `db`, which is inside the caller's open write transaction; must not
  // open or end a transaction itself. An error rolls the mutation back.
  using AuditAppender = std::function<Status(sqlite::SqliteDb&, const audit::AuditEvent&)>;

  // Applies the "accounts" migrations (creating the centre, unit 1) and returns the store.
  // `db` must outlive the store; `append_audit` must be set.
  static StatusOr<std::unique_ptr<SqliteAccountStore>> Open(AdminDb& db, AuditAppender append_audit);

  StatusOr<Unit> CreateUnit(const Actor& actor, const Unit& unit) override;
  StatusOr<Unit> GetUnit(int64_t id) override;
  StatusOr<std::vector<Unit>> ListUnits() override;
  StatusOr<Unit> UpdateUnit(const Actor& actor, int64_t id, std::optional<std::string> name,
                            std::optional<int64_t> parent_id) override;
  StatusOr<std::vector<int64_t>> SubtreeUnitIds(int64_t id) override;

  StatusOr<User> CreateUser(const Actor& actor, const NewUser& user) override;
  StatusOr<User> GetUser(int64_t id) override;
  StatusOr<User> FindUserByUsername(const std::string& username) override;
  StatusOr<UserPage> ListUsers(const UserQuery& query) override;
  StatusOr<User> UpdateUser(const Actor& actor, int64_t id, const UserUpdate& update) override;
  StatusOr<UserCredentials> GetCredentials(int64_t user_id) override;
  Status SetPassword(const Actor& actor, int64_t user_id, const std::string& password_hash,
                     bool must_change_password, int history_depth, const std::string& action,
                     const std::string& keep_session_public_id) override;
  StatusOr<std::vector<std::string>> PasswordHistory(int64_t user_id) override;
  Status SaveLoginState(int64_t user_id, int failed_logins, int64_t locked_until_ms,
                        int64_t last_failure_ms) override;
  Status SetTotp(const Actor& actor, int64_t user_id, const std::string& secret_base32, bool enabled) override;
  Status SaveTotpStep(int64_t user_id, int64_t step) override;

  Status CreateSession(const Actor& actor, const Session& session) override;
  StatusOr<Session> FindSessionByTokenHash(const std::string& token_sha256) override;
  Status TouchSession(const std::string& public_id, int64_t now_ms) override;
  StatusOr<std::vector<Session>> ListSessions(int64_t user_id) override;
  Status RevokeSession(const Actor& actor, const std::string& public_id, const std::string& action) override;

  StatusOr<ApiToken> CreateApiToken(const Actor& actor, const ApiToken& token) override;
  StatusOr<ApiToken> FindApiTokenByHash(const std::string& token_sha256) override;
  StatusOr<ApiToken> GetApiToken(int64_t id) override;
  StatusOr<std::vector<ApiToken>> ListApiTokens(std::optional<std::vector<int64_t>> unit_ids) override;
  Status RevokeApiToken(const Actor& actor, int64_t id) override;
  Status TouchApiToken(int64_t id, int64_t now_ms) override;

  StatusOr<int64_t> HostUnit(const std::string& agent_id) override;
  Status AssignHost(const Actor& actor, const std::string& agent_id, int64_t unit_id) override;
  StatusOr<std::vector<std::string>> HostsInUnits(const std::vector<int64_t>& unit_ids) override;

 private:
  SqliteAccountStore(AdminDb& db, AuditAppender append_audit)
      : db_(db), append_audit_(std::move(append_audit)) {}

  AdminDb& db_;
  const AuditAppender append_audit_;
};

}  // namespace steadfast::collector::accounts
