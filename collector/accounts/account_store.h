// AccountStore: the organisation tree, users, roles, sessions, API tokens and which unit each
// host belongs to (docs/ACCOUNTS.md). SqliteAccountStore (sqlite_account_store.h) is the
// embedded implementation; the interface speaks in domain values so a PostgreSQL one can follow.
//
// Contracts every implementation keeps:
// - Every mutating method takes the Actor doing it and writes exactly one audit record
//   (action, object, before/after summary; never a secret, hash or token) in the SAME
//   transaction as the change: both happen or neither. Authorisation is NOT checked here — the
//   API layer decides who may call what; the store only keeps the data consistent.
// - Validation errors are InvalidArgument with `field` set in the message as "field: reason"
//   (see FieldError) so the API can return {"field": ...}; uniqueness conflicts are
//   AlreadyExists, also naming the field ("username: already taken"); a reference to an
//   object that does not exist inside a request body is InvalidArgument naming the field
//   ("unit_id: no such unit"); the id a method acts on being unknown is NotFound; a state
//   that forbids the change (a disabled user, a token already revoked) FailedPrecondition;
//   storage trouble Unavailable. Nested field names use dots ("contacts.email").
// - Time comes from the caller: the store has no clock. `Actor::time_ms` is the time stamped on
//   what a mutation creates or changes (created_at, updated_at, revoked_at, ...) and on its
//   audit record.
// - Users and units are never deleted (users are disabled; a unit with members cannot be
//   removed), so audit records and history keep pointing at something real.
// - Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/accounts/roles.h"
#include "collector/audit/audit_log.h"
#include "common/status.h"

namespace steadfast::collector::accounts {

// The doer of a change, as written into the audit record.
struct Actor {
  std::string type = "system";  // "user", "token", "system" (CLI, bootstrap), "agent"
  std::string id;               // user/token id as text
  std::string name;
  std::vector<std::string> roles;
  std::optional<int64_t> unit_id;
  std::string source_address;  // remote IP; "" for the CLI
  int64_t time_ms = 0;         // now, ms since the epoch; mutations without it (<= 0) are Internal
};

// The actor of a request made by `principal` from `source_address` at `time_ms`.
Actor ActorOf(const Principal& principal, std::string source_address, int64_t time_ms);

// An audit event with the actor's fields filled in (result ok, summary "{}"); the caller sets
// the rest. One place maps Actor to the audit record, for the store and the API alike.
audit::AuditEvent AuditEventFor(const Actor& actor, std::string action, std::string object_type = "",
                                std::string object_id = "");

// "field: reason" InvalidArgument and its inverse, so errors can name the field.
Status FieldError(std::string_view field, std::string_view reason);
// The field named by a "field: reason" status of code InvalidArgument, AlreadyExists or
// FailedPrecondition, or "" when there is none. A field is [A-Za-z_][A-Za-z0-9_.[\]]*.
std::string FieldOfError(const Status& status);

// ---- organisation tree

enum class UnitKind { kCentre, kUnit, kDepartment };
std::string_view UnitKindName(UnitKind kind);  // "centre", "unit", "department"
std::optional<UnitKind> ParseUnitKind(std::string_view name);

struct Unit {
  int64_t id = 0;
  std::optional<int64_t> parent_id;  // empty only for the centre (the root, id 1)
  std::string name;                  // display name, 1..100 chars
  std::string code;                  // unique short code, [a-z0-9_-]{1,32}
  UnitKind kind = UnitKind::kUnit;
  int64_t created_at_ms = 0;
};

inline constexpr int64_t kCentreUnitId = 1;

// ---- users

struct Contacts {
  std::string email;
  std::string phone;
  std::string dingtalk;
  std::string wecom;
  std::string slack;
  std::string telegram;
};

struct User {
  int64_t id = 0;
  std::string username;  // unique, case-insensitive, stored lowercase: [a-z0-9._-]{2,64}
  std::string display_name;
  int64_t unit_id = 0;
  std::vector<Role> roles;
  Contacts contacts;
  std::string language = "en";  // "en" or "zh-CN"
  bool active = true;
  std::string source = "local";  // "local" or "ldap"
  bool must_change_password = false;
  int64_t password_changed_at_ms = 0;  // 0 = never set
  bool totp_enabled = false;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// Fields the store keeps for authentication only; never leaves the collector.
struct UserCredentials {
  int64_t user_id = 0;
  std::string password_hash;  // PHC string; "" = no local password (LDAP user or not yet set)
  std::string totp_secret_base32;  // "" = none
  int64_t totp_last_step = 0;      // last accepted TOTP time step (replay protection)
  int failed_logins = 0;           // lockout state (auth::LockoutState)
  int64_t locked_until_ms = 0;
  int64_t last_failure_ms = 0;
};

struct NewUser {
  std::string username;
  std::string display_name;
  int64_t unit_id = 0;
  std::vector<Role> roles;  // at least one
  Contacts contacts;
  std::string language = "en";
  std::string source = "local";
  std::string password_hash;  // already hashed and policy-checked by the caller; may be ""
  bool must_change_password = true;
};

// Present fields are changed, absent ones kept.
struct UserUpdate {
  std::optional<std::string> display_name;
  std::optional<int64_t> unit_id;
  std::optional<std::vector<Role>> roles;
  std::optional<Contacts> contacts;
  std::optional<std::string> language;
  std::optional<bool> active;  // false also revokes every session and API token of the user
};

struct UserQuery {
  // Users of these units only; unset = all.
  std::optional<std::vector<int64_t>> unit_ids;
  std::optional<Role> role;
  std::optional<bool> active;
  std::string text;  // substring of username or display name, case-insensitive; "" = any
  int64_t limit = 100;
  int64_t offset = 0;
};

struct UserPage {
  std::vector<User> items;  // ordered by username
  int64_t total = 0;        // matching the query, ignoring limit/offset
};

// ---- sessions

struct Session {
  std::string public_id;     // random, shown to the user to list/revoke; not a credential
  std::string token_sha256;  // hash of the cookie token
  std::string csrf_token;    // sent to the owner's browser; compared in constant time
  int64_t user_id = 0;
  int64_t created_at_ms = 0;
  int64_t last_seen_ms = 0;
  std::string source_address;
  std::string user_agent;
};

// ---- API tokens

struct ApiToken {
  int64_t id = 0;
  std::string name;  // 1..100 chars, unique per creator
  std::string token_sha256;
  Role role = Role::kViewer;
  int64_t unit_id = 0;
  int64_t created_by_user_id = 0;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // required: tokens always expire
  std::optional<int64_t> revoked_at_ms;
  std::optional<int64_t> last_used_ms;
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // Units. CreateUnit: parent must exist; kind kCentre is refused (there is one centre); the
  // code must be unused. `unit.id` and `unit.created_at_ms` are ignored (assigned here).
  virtual StatusOr<Unit> CreateUnit(const Actor& actor, const Unit& unit) = 0;
  virtual StatusOr<Unit> GetUnit(int64_t id) = 0;
  // All units, parents before children, siblings by name.
  virtual StatusOr<std::vector<Unit>> ListUnits() = 0;
  // Rename and/or move; moving a unit under itself or a descendant, or moving the centre, is
  // InvalidArgument (field "parent_id").
  virtual StatusOr<Unit> UpdateUnit(const Actor& actor, int64_t id, std::optional<std::string> name,
                                    std::optional<int64_t> parent_id) = 0;
  // `id` and all its descendants, ascending. NotFound for an unknown unit.
  virtual StatusOr<std::vector<int64_t>> SubtreeUnitIds(int64_t id) = 0;

  // Users. The username is lowercased before it is checked and stored. ListUsers refuses
  // a limit outside 1..1000 or a negative offset (InvalidArgument naming it).
  virtual StatusOr<User> CreateUser(const Actor& actor, const NewUser& user) = 0;
  virtual StatusOr<User> GetUser(int64_t id) = 0;
  virtual StatusOr<User> FindUserByUsername(const std::string& username) = 0;  // case-insensitive
  virtual StatusOr<UserPage> ListUsers(const UserQuery& query) = 0;
  // Audited as "users.disable" when it sets active=false on an active user (the summary then
  // counts the sessions and tokens revoked), otherwise "users.update".
  virtual StatusOr<User> UpdateUser(const Actor& actor, int64_t id, const UserUpdate& update) = 0;
  // Credentials.
  virtual StatusOr<UserCredentials> GetCredentials(int64_t user_id) = 0;
  // Sets a new password hash, pushes the old one to the history (kept: `history_depth`),
  // stamps password_changed_at, sets must_change_password, and revokes the user's sessions
  // except `keep_session_public_id` (the one changing its own password stays logged in).
  // `action` is "users.reset_password" (by an admin) or "auth.change_password" (self);
  // anything else is InvalidArgument. The hash must not be empty; history_depth >= 0.
  virtual Status SetPassword(const Actor& actor, int64_t user_id, const std::string& password_hash,
                             bool must_change_password, int history_depth, const std::string& action,
                             const std::string& keep_session_public_id) = 0;
  // Previous password hashes, newest first (the current one not included).
  virtual StatusOr<std::vector<std::string>> PasswordHistory(int64_t user_id) = 0;
  // Lockout bookkeeping; not audited here (the API audits the login attempt itself).
  virtual Status SaveLoginState(int64_t user_id, int failed_logins, int64_t locked_until_ms,
                                int64_t last_failure_ms) = 0;
  // TOTP: set a secret (not yet enabled), enable after a confirmed code, disable; and the
  // replay marker. Secret "" clears (and cannot be enabled). A changed secret resets the
  // replay marker. Audited as "users.totp" (the secret itself never appears).
  virtual Status SetTotp(const Actor& actor, int64_t user_id, const std::string& secret_base32, bool enabled) = 0;
  // Records `step` as used, atomically: FailedPrecondition ("totp: code already used") when
  // `step` is not newer than the stored one, so two logins racing with the same code cannot
  // both succeed. Not audited.
  virtual Status SaveTotpStep(int64_t user_id, int64_t step) = 0;

  // Sessions. Lookup of an unknown, revoked or disabled user's session is NotFound.
  // CreateSession is audited as "auth.login"; created_at_ms and last_seen_ms default to
  // actor.time_ms when 0; a user_agent longer than 512 bytes is cut. The user must exist
  // (InvalidArgument "user_id") and be active (FailedPrecondition); public_id and token_sha256
  // must be unused (AlreadyExists).
  virtual Status CreateSession(const Actor& actor, const Session& session) = 0;
  virtual StatusOr<Session> FindSessionByTokenHash(const std::string& token_sha256) = 0;
  // Cheap, not audited; implementations may skip the write when last_seen moved less than a
  // minute (idle timeouts are minutes).
  // NotFound when no active session has that id.
  virtual Status TouchSession(const std::string& public_id, int64_t now_ms) = 0;
  // The user's active (not revoked) sessions, newest first. Expiry is the caller's check.
  virtual StatusOr<std::vector<Session>> ListSessions(int64_t user_id) = 0;
  // `action` "auth.logout", "sessions.revoke", "sessions.expire" (others: InvalidArgument).
  // NotFound when no active session has that id (unknown or already revoked).
  virtual Status RevokeSession(const Actor& actor, const std::string& public_id, const std::string& action) = 0;

  // API tokens. Lookup of a revoked token, or one whose creator is disabled, is NotFound;
  // expiry is the caller's check (it has the clock).
  // CreateApiToken assigns id and created_at_ms (= actor.time_ms) and ignores revoked_at_ms and
  // last_used_ms; the name must be unused among the creator's unrevoked tokens (AlreadyExists
  // "name"), the hash unused, expires_at_ms after actor.time_ms, the unit must exist and the
  // creator must exist and be active.
  virtual StatusOr<ApiToken> CreateApiToken(const Actor& actor, const ApiToken& token) = 0;
  virtual StatusOr<ApiToken> FindApiTokenByHash(const std::string& token_sha256) = 0;
  virtual StatusOr<ApiToken> GetApiToken(int64_t id) = 0;
  // Tokens of these units (unset = all), newest first, revoked ones included.
  virtual StatusOr<std::vector<ApiToken>> ListApiTokens(std::optional<std::vector<int64_t>> unit_ids) = 0;
  // NotFound for an unknown id; FailedPrecondition when already revoked.
  virtual Status RevokeApiToken(const Actor& actor, int64_t id) = 0;
  // Stamps last_used_ms; skips the write when it moved less than a minute. Not audited.
  virtual Status TouchApiToken(int64_t id, int64_t now_ms) = 0;

  // Hosts (agents) belong to a unit; an agent never assigned belongs to the centre. The store
  // does not know which agents exist (the ingest store does): any agent id is accepted.
  virtual StatusOr<int64_t> HostUnit(const std::string& agent_id) = 0;
  // Audited as "hosts.assign"; the unit must exist (InvalidArgument "unit_id").
  virtual Status AssignHost(const Actor& actor, const std::string& agent_id, int64_t unit_id) = 0;
  // Agent ids assigned to these units, ascending (hosts never assigned are in the centre but
  // are not listed here: the caller adds them when the centre is in scope).
  virtual StatusOr<std::vector<std::string>> HostsInUnits(const std::vector<int64_t>& unit_ids) = 0;
};

}  // namespace steadfast::collector::accounts
