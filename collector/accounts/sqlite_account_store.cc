#include "collector/accounts/sqlite_account_store.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <variant>

#include "collector/accounts/audit_summary.h"
#include "common/sqlite/store_sql.h"
#include "common/utf8.h"

namespace steadfast::collector::accounts {

namespace {

using Json = nlohmann::json;
using sqlite::SqliteDb;
using sqlite::SqliteStatement;

// Touches of a session or token closer together than this are not written: idle timeouts are
// minutes, and a write per request would put every API call behind a write transaction.
constexpr int64_t kTouchIntervalMs = 60'000;
constexpr size_t kMaxUserAgentBytes = 512;
constexpr size_t kMaxNameChars = 100;
constexpr int64_t kMaxPageSize = 1000;

// Version 1. Portable SQL on purpose (a PostgreSQL store follows): no SQLite-only functions,
// booleans as 0/1 integers, ids as INTEGER PRIMARY KEY (BIGSERIAL/identity there).
// - users keeps what listings show; secrets and lockout state sit in user_credentials so that
//   no query over users can return a hash by accident.
// - usernames are stored lowercase, so the UNIQUE index makes them unique case-insensitively.
// - an API token name is unique among its creator's unrevoked tokens (partial index), so a
//   revoked token's name can be reused; the same index serves "revoke all of a user's tokens".
// - every lookup path has an index: units by parent and by code, users by name and by unit,
//   roles by user and by role, history by user, sessions by token hash and by user, tokens by
//   hash, by unit and by creator, hosts by agent and by unit.
std::vector<sqlite::Migration> Migrations() {
  return {{1, R"sql(
CREATE TABLE units (
  id            INTEGER PRIMARY KEY,
  parent_id     INTEGER REFERENCES units (id),
  name          TEXT NOT NULL,
  code          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind IN ('centre', 'unit', 'department')),
  created_at_ms INTEGER NOT NULL,
  CHECK ((parent_id IS NULL) = (id = 1))
);
CREATE INDEX units_by_parent ON units (parent_id, name);
INSERT INTO units (id, parent_id, name, code, kind, created_at_ms) VALUES (1, NULL, 'Centre', 'centre', 'centre', 0);

CREATE TABLE users (
  id                     INTEGER PRIMARY KEY,
  username               TEXT NOT NULL UNIQUE,
  display_name           TEXT NOT NULL,
  unit_id                INTEGER NOT NULL REFERENCES units (id),
  email                  TEXT NOT NULL DEFAULT '',
  phone                  TEXT NOT NULL DEFAULT '',
  dingtalk               TEXT NOT NULL DEFAULT '',
  wecom                  TEXT NOT NULL DEFAULT '',
  slack                  TEXT NOT NULL DEFAULT '',
  telegram               TEXT NOT NULL DEFAULT '',
  language               TEXT NOT NULL CHECK (language IN ('en', 'zh-CN')),
  active                 INTEGER NOT NULL CHECK (active IN (0, 1)),
  source                 TEXT NOT NULL CHECK (source IN ('local', 'ldap')),
  must_change_password   INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
  password_changed_at_ms INTEGER NOT NULL DEFAULT 0,
  totp_enabled           INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1)),
  created_at_ms          INTEGER NOT NULL,
  updated_at_ms          INTEGER NOT NULL
);
CREATE INDEX users_by_unit ON users (unit_id, username);

CREATE TABLE user_credentials (
  user_id            INTEGER PRIMARY KEY REFERENCES users (id),
  password_hash      TEXT NOT NULL DEFAULT '',
  totp_secret_base32 TEXT NOT NULL DEFAULT '',
  totp_last_step     INTEGER NOT NULL DEFAULT 0,
  failed_logins      INTEGER NOT NULL DEFAULT 0,
  locked_until_ms    INTEGER NOT NULL DEFAULT 0,
  last_failure_ms    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE user_roles (
  user_id INTEGER NOT NULL REFERENCES users (id),
  role    TEXT NOT NULL CHECK (role IN ('admin', 'unit_admin', 'operator', 'inspector', 'manager', 'viewer')),
  PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_by_role ON user_roles (role, user_id);

CREATE TABLE password_history (
  id             INTEGER PRIMARY KEY,
  user_id        INTEGER NOT NULL REFERENCES users (id),
  password_hash  TEXT NOT NULL,
  replaced_at_ms INTEGER NOT NULL
);
CREATE INDEX password_history_by_user ON password_history (user_id, id);

CREATE TABLE sessions (
  public_id      TEXT PRIMARY KEY,
  token_sha256   TEXT NOT NULL UNIQUE,
  csrf_token     TEXT NOT NULL,
  user_id        INTEGER NOT NULL REFERENCES users (id),
  created_at_ms  INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  revoked_at_ms  INTEGER,
  source_address TEXT NOT NULL DEFAULT '',
  user_agent     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at_ms);

CREATE TABLE api_tokens (
  id                 INTEGER PRIMARY KEY,
  name               TEXT NOT NULL,
  token_sha256       TEXT NOT NULL UNIQUE,
  role               TEXT NOT NULL CHECK (role IN ('admin', 'unit_admin', 'operator', 'inspector', 'manager', 'viewer')),
  unit_id            INTEGER NOT NULL REFERENCES units (id),
  created_by_user_id INTEGER NOT NULL REFERENCES users (id),
  created_at_ms      INTEGER NOT NULL,
  expires_at_ms      INTEGER NOT NULL,
  revoked_at_ms      INTEGER,
  last_used_ms       INTEGER
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (created_by_user_id, name) WHERE revoked_at_ms IS NULL;
CREATE INDEX api_tokens_by_creator ON api_tokens (created_by_user_id, id);
CREATE INDEX api_tokens_by_unit ON api_tokens (unit_id, created_at_ms);

CREATE TABLE host_units (
  agent_id       TEXT PRIMARY KEY,
  unit_id        INTEGER NOT NULL REFERENCES units (id),
  assigned_at_ms INTEGER NOT NULL
);
CREATE INDEX host_units_by_unit ON host_units (unit_id, agent_id);
)sql"}};
}

// ---- statements (common/sqlite/store_sql.h)

constexpr sqlite::StoreSql kSql("accounts store");
using Param = sqlite::SqlParam;
using sqlite::InList;

// ---- validation


// A display name: 1..max_chars code points of UTF-8 text, not only spaces.
Status CheckName(std::string_view field, std::string_view value, size_t max_chars = kMaxNameChars) {
  if (value.empty()) return FieldError(field, "must not be empty");
  const std::optional<size_t> chars = Utf8TextLength(value);
  if (!chars) return FieldError(field, "must be UTF-8 text without control characters");
  if (value.find_first_not_of(' ') == std::string_view::npos) return FieldError(field, "must not be blank");
  if (*chars > max_chars) return FieldError(field, "must be at most " + std::to_string(max_chars) + " characters");
  return OkStatus();
}

// Free text that may be empty (IM handles, the user agent): UTF-8, bounded in bytes.
Status CheckOptionalText(std::string_view field, std::string_view value, size_t max_bytes) {
  if (value.size() > max_bytes) return FieldError(field, "must be at most " + std::to_string(max_bytes) + " bytes");
  if (!Utf8TextLength(value)) return FieldError(field, "must be UTF-8 text without control characters");
  return OkStatus();
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool ValidUsername(std::string_view u) {
  if (u.size() < 2 || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) { return IsLowerAlnum(c) || c == '.' || c == '_' || c == '-'; });
}

Status CheckUsername(std::string_view lowered) {
  if (!ValidUsername(lowered)) {
    return FieldError("username", "must be 2 to 64 characters of a-z, 0-9, '.', '_' or '-'");
  }
  return OkStatus();
}

Status CheckUnitCode(std::string_view code) {
  const bool ok = !code.empty() && code.size() <= 32 &&
                  std::all_of(code.begin(), code.end(), [](char c) { return IsLowerAlnum(c) || c == '_' || c == '-'; });
  return ok ? OkStatus() : FieldError("code", "must be 1 to 32 characters of a-z, 0-9, '_' or '-'");
}

bool EmailShaped(std::string_view e) {
  if (e.size() > 254) return false;
  const size_t at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || e.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  for (char c : e.substr(0, at)) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || std::string_view("()<>[]\\,;:\"").find(c) != std::string_view::npos) return false;
  }
  // Domain: two or more dot-separated labels of letters, digits and inner hyphens.
  std::string_view domain = e.substr(at + 1);
  int labels = 0;
  while (true) {
    const size_t dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '-') return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    domain = domain.substr(dot + 1);
  }
  return labels >= 2;
}

bool PhoneShaped(std::string_view p) {
  if (p.size() > 32) return false;
  int digits = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (IsDigit(c)) {
      ++digits;
    } else if (c == '+') {
      if (i != 0) return false;
    } else if (c != '-' && c != ' ') {
      return false;
    }
  }
  return digits >= 3;
}

Status CheckContacts(const Contacts& c) {
  if (!c.email.empty() && !EmailShaped(c.email)) return FieldError("contacts.email", "is not an email address");
  if (!c.phone.empty() && !PhoneShaped(c.phone)) {
    return FieldError("contacts.phone", "must be up to 32 digits, spaces and '-', optionally starting with '+'");
  }
  SF_RETURN_IF_ERROR(CheckOptionalText("contacts.dingtalk", c.dingtalk, 256));
  SF_RETURN_IF_ERROR(CheckOptionalText("contacts.wecom", c.wecom, 256));
  SF_RETURN_IF_ERROR(CheckOptionalText("contacts.slack", c.slack, 256));
  SF_RETURN_IF_ERROR(CheckOptionalText("contacts.telegram", c.telegram, 256));
  return OkStatus();
}

Status CheckLanguage(std::string_view language) {
  if (language != "en" && language != "zh-CN") return FieldError("language", "must be 'en' or 'zh-CN'");
  return OkStatus();
}

bool KnownRole(Role role) { return std::find(std::begin(kAllRoles), std::end(kAllRoles), role) != std::end(kAllRoles); }

// Known, at least one; returned without duplicates in kAllRoles order.
StatusOr<std::vector<Role>> NormalizeRoles(const std::vector<Role>& roles) {
  if (roles.empty()) return FieldError("roles", "at least one role is required");
  std::vector<Role> out;
  for (Role wanted : kAllRoles) {
    if (std::find(roles.begin(), roles.end(), wanted) != roles.end()) out.push_back(wanted);
  }
  for (Role r : roles) {
    if (!KnownRole(r)) return FieldError("roles", "unknown role");
  }
  return out;
}

Status CheckSha256Hex(std::string_view field, std::string_view value) {
  const bool ok = value.size() == 64 && std::all_of(value.begin(), value.end(), [](char c) {
                    return IsDigit(c) || (c >= 'a' && c <= 'f');
                  });
  return ok ? OkStatus() : FieldError(field, "must be a SHA-256 in lowercase hex");
}

// Opaque identifiers we make ourselves or receive from agents: printable ASCII, no spaces.
Status CheckIdentifier(std::string_view field, std::string_view value, size_t max_bytes) {
  const bool ok = !value.empty() && value.size() <= max_bytes && std::all_of(value.begin(), value.end(), [](char c) {
                    return c > 0x20 && c < 0x7F;
                  });
  return ok ? OkStatus()
            : FieldError(field, "must be 1 to " + std::to_string(max_bytes) + " printable characters without spaces");
}

Status CheckBase32(std::string_view field, std::string_view value) {
  const bool ok = value.size() <= 256 && std::all_of(value.begin(), value.end(), [](char c) {
                    return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7') || c == '=';
                  });
  return ok ? OkStatus() : FieldError(field, "must be base32 (A-Z, 2-7), at most 256 characters");
}

// The store has no clock: every timestamp of a mutation is the actor's. A zero time is a bug
// in the caller, reported rather than stored as 1970.
Status CheckActor(const Actor& actor) {
  if (actor.time_ms <= 0) return InternalError("accounts store: Actor.time_ms is not set (a bug in the caller)");
  return OkStatus();
}

// Cuts `s` to at most `max_bytes` without splitting a UTF-8 sequence.
std::string CutUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

// ---- rows

constexpr char kUnitColumns[] = "id, parent_id, name, code, kind, created_at_ms";

StatusOr<Unit> UnitFromRow(const SqliteStatement& s) {
  Unit u;
  u.id = s.ColumnInt(0);
  if (!s.IsNull(1)) u.parent_id = s.ColumnInt(1);
  u.name = s.ColumnText(2);
  u.code = s.ColumnText(3);
  std::optional<UnitKind> kind = ParseUnitKind(s.ColumnText(4));
  if (!kind) return InternalError("accounts store: unit " + std::to_string(u.id) + " has an unknown kind");
  u.kind = *kind;
  u.created_at_ms = s.ColumnInt(5);
  return u;
}

StatusOr<Unit> LoadUnit(SqliteDb& db, int64_t id) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s,
                      kSql.Bound(db, std::string("SELECT ") + kUnitColumns + " FROM units WHERE id = ?1", id));
  SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
  if (!row) return NotFoundError("no unit " + std::to_string(id));
  return UnitFromRow(s);
}

StatusOr<bool> UnitExists(SqliteDb& db, int64_t id) { return kSql.Exists(db, "SELECT 1 FROM units WHERE id = ?1", id); }

StatusOr<std::vector<int64_t>> Subtree(SqliteDb& db, int64_t id) {
  // UNION (not UNION ALL) ends the recursion even if the table ever held a cycle.
  SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.Bound(db,
                                               "WITH RECURSIVE subtree (id) AS ("
                                               " SELECT id FROM units WHERE id = ?1"
                                               " UNION"
                                               " SELECT u.id FROM units u JOIN subtree t ON u.parent_id = t.id)"
                                               " SELECT id FROM subtree ORDER BY id",
                                               id));
  std::vector<int64_t> ids;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) break;
    ids.push_back(s.ColumnInt(0));
  }
  return ids;
}

constexpr char kUserColumns[] =
    "u.id, u.username, u.display_name, u.unit_id, u.email, u.phone, u.dingtalk, u.wecom, u.slack, "
    "u.telegram, u.language, u.active, u.source, u.must_change_password, u.password_changed_at_ms, "
    "u.totp_enabled, u.created_at_ms, u.updated_at_ms";

User UserFromRow(const SqliteStatement& s) {
  User u;
  u.id = s.ColumnInt(0);
  u.username = s.ColumnText(1);
  u.display_name = s.ColumnText(2);
  u.unit_id = s.ColumnInt(3);
  u.contacts.email = s.ColumnText(4);
  u.contacts.phone = s.ColumnText(5);
  u.contacts.dingtalk = s.ColumnText(6);
  u.contacts.wecom = s.ColumnText(7);
  u.contacts.slack = s.ColumnText(8);
  u.contacts.telegram = s.ColumnText(9);
  u.language = s.ColumnText(10);
  u.active = s.ColumnInt(11) != 0;
  u.source = s.ColumnText(12);
  u.must_change_password = s.ColumnInt(13) != 0;
  u.password_changed_at_ms = s.ColumnInt(14);
  u.totp_enabled = s.ColumnInt(15) != 0;
  u.created_at_ms = s.ColumnInt(16);
  u.updated_at_ms = s.ColumnInt(17);
  return u;
}

// The roles of `user`, in kAllRoles order.
Status LoadRoles(SqliteDb& db, User* user) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.Bound(db, "SELECT role FROM user_roles WHERE user_id = ?1", user->id));
  std::vector<Role> held;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) break;
    std::optional<Role> role = ParseRole(s.ColumnText(0));
    if (!role) return InternalError("accounts store: user " + std::to_string(user->id) + " has an unknown role");
    held.push_back(*role);
  }
  user->roles.clear();
  for (Role r : kAllRoles) {
    if (std::find(held.begin(), held.end(), r) != held.end()) user->roles.push_back(r);
  }
  return OkStatus();
}

StatusOr<User> LoadUserWhere(SqliteDb& db, std::string_view where, const Param& key, const std::string& what) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.BoundParams(db,
                                                     std::string("SELECT ") + kUserColumns + " FROM users u WHERE " +
                                                         std::string(where),
                                                     {key}));
  SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
  if (!row) return NotFoundError("no user " + what);
  User user = UserFromRow(s);
  SF_RETURN_IF_ERROR(LoadRoles(db, &user));
  return user;
}

StatusOr<User> LoadUser(SqliteDb& db, int64_t id) { return LoadUserWhere(db, "u.id = ?1", id, std::to_string(id)); }

// A user named inside a request body: unknown is a bad field, not a missing object.
StatusOr<User> LoadReferencedUser(SqliteDb& db, std::string_view field, int64_t id) {
  StatusOr<User> user = LoadUser(db, id);
  if (user.status().code() == StatusCode::kNotFound) return FieldError(field, "no such user");
  return user;
}

Status CheckUnitReference(SqliteDb& db, std::string_view field, int64_t unit_id) {
  SF_ASSIGN_OR_RETURN(bool exists, UnitExists(db, unit_id));
  return exists ? OkStatus() : FieldError(field, "no such unit");
}

constexpr char kSessionColumns[] =
    "s.public_id, s.token_sha256, s.csrf_token, s.user_id, s.created_at_ms, s.last_seen_ms, s.source_address, "
    "s.user_agent";

Session SessionFromRow(const SqliteStatement& s) {
  Session out;
  out.public_id = s.ColumnText(0);
  out.token_sha256 = s.ColumnText(1);
  out.csrf_token = s.ColumnText(2);
  out.user_id = s.ColumnInt(3);
  out.created_at_ms = s.ColumnInt(4);
  out.last_seen_ms = s.ColumnInt(5);
  out.source_address = s.ColumnText(6);
  out.user_agent = s.ColumnText(7);
  return out;
}

constexpr char kTokenColumns[] =
    "t.id, t.name, t.token_sha256, t.role, t.unit_id, t.created_by_user_id, t.created_at_ms, t.expires_at_ms, "
    "t.revoked_at_ms, t.last_used_ms";

StatusOr<ApiToken> TokenFromRow(const SqliteStatement& s) {
  ApiToken t;
  t.id = s.ColumnInt(0);
  t.name = s.ColumnText(1);
  t.token_sha256 = s.ColumnText(2);
  std::optional<Role> role = ParseRole(s.ColumnText(3));
  if (!role) return InternalError("accounts store: api token " + std::to_string(t.id) + " has an unknown role");
  t.role = *role;
  t.unit_id = s.ColumnInt(4);
  t.created_by_user_id = s.ColumnInt(5);
  t.created_at_ms = s.ColumnInt(6);
  t.expires_at_ms = s.ColumnInt(7);
  if (!s.IsNull(8)) t.revoked_at_ms = s.ColumnInt(8);
  if (!s.IsNull(9)) t.last_used_ms = s.ColumnInt(9);
  return t;
}

StatusOr<ApiToken> LoadToken(SqliteDb& db, int64_t id) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s,
                      kSql.Bound(db, std::string("SELECT ") + kTokenColumns + " FROM api_tokens t WHERE t.id = ?1", id));
  SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
  if (!row) return NotFoundError("no api token " + std::to_string(id));
  return TokenFromRow(s);
}

// Revokes the user's active sessions except `keep_public_id` ("" keeps none); returns how many.
StatusOr<int64_t> RevokeUserSessions(SqliteDb& db, int64_t user_id, int64_t now_ms, const std::string& keep_public_id) {
  SF_RETURN_IF_ERROR(kSql.Exec(db,
                          "UPDATE sessions SET revoked_at_ms = ?1 "
                          "WHERE user_id = ?2 AND revoked_at_ms IS NULL AND public_id <> ?3",
                          now_ms, user_id, keep_public_id));
  return static_cast<int64_t>(db.Changes());
}

// ---- audit summaries: public fields only; never hashes, secrets or tokens.

Json UnitJson(const Unit& u) {
  Json j = {{"name", u.name}, {"code", u.code}, {"kind", std::string(UnitKindName(u.kind))}};
  j["parent_id"] = u.parent_id ? Json(*u.parent_id) : Json(nullptr);
  return j;
}

Json UserJson(const User& u) {
  return {{"username", u.username},
          {"display_name", u.display_name},
          {"unit_id", u.unit_id},
          {"roles", RoleNames(u.roles)},
          {"contacts",
           {{"email", u.contacts.email},
            {"phone", u.contacts.phone},
            {"dingtalk", u.contacts.dingtalk},
            {"wecom", u.contacts.wecom},
            {"slack", u.contacts.slack},
            {"telegram", u.contacts.telegram}}},
          {"language", u.language},
          {"active", u.active},
          {"source", u.source},
          {"must_change_password", u.must_change_password},
          {"totp_enabled", u.totp_enabled}};
}

Json TokenJson(const ApiToken& t) {
  return {{"name", t.name},
          {"role", std::string(RoleName(t.role))},
          {"unit_id", t.unit_id},
          {"created_by_user_id", t.created_by_user_id},
          {"expires_at_ms", t.expires_at_ms}};
}

Json Created(Json after) { return {{"after", std::move(after)}}; }

}  // namespace

StatusOr<std::unique_ptr<SqliteAccountStore>> SqliteAccountStore::Open(AdminDb& db, AuditAppender append_audit) {
  // Wiring, not input: a store that could not audit must never be built.
  SF_CHECK(append_audit != nullptr);
  SF_RETURN_IF_ERROR(db.Migrate("accounts", Migrations()));
  return std::unique_ptr<SqliteAccountStore>(new SqliteAccountStore(db, std::move(append_audit)));
}

// ---- units

StatusOr<Unit> SqliteAccountStore::CreateUnit(const Actor& actor, const Unit& unit) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  if (unit.kind == UnitKind::kCentre) return FieldError("kind", "there is only one centre");
  if (unit.kind != UnitKind::kUnit && unit.kind != UnitKind::kDepartment) return FieldError("kind", "unknown kind");
  if (!unit.parent_id) return FieldError("parent_id", "is required");
  SF_RETURN_IF_ERROR(CheckName("name", unit.name));
  SF_RETURN_IF_ERROR(CheckUnitCode(unit.code));
  Unit created = unit;
  created.created_at_ms = actor.time_ms;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(CheckUnitReference(db, "parent_id", *unit.parent_id));
    SF_ASSIGN_OR_RETURN(bool taken, kSql.Exists(db, "SELECT 1 FROM units WHERE code = ?1", unit.code));
    if (taken) return AlreadyExistsError("code: already taken");
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "INSERT INTO units (parent_id, name, code, kind, created_at_ms) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)",
                            unit.parent_id, unit.name, unit.code, UnitKindName(unit.kind), created.created_at_ms));
    created.id = db.LastInsertRowId();
    return append_audit_(db, AuditEventWithSummary(actor, "units.create", "unit", std::to_string(created.id), Created(UnitJson(created))));
  }));
  return created;
}

StatusOr<Unit> SqliteAccountStore::GetUnit(int64_t id) {
  Unit unit;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(unit, LoadUnit(db, id));
    return OkStatus();
  }));
  return unit;
}

StatusOr<std::vector<Unit>> SqliteAccountStore::ListUnits() {
  std::vector<Unit> all;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Prepare(db, std::string("SELECT ") + kUnitColumns + " FROM units ORDER BY name, id"));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
      if (!row) return OkStatus();
      SF_ASSIGN_OR_RETURN(Unit u, UnitFromRow(s));
      all.push_back(std::move(u));
    }
  }));
  // Depth-first from the root, siblings in name order (the order they were read in), so a
  // parent always comes before its children and a subtree stays together.
  std::map<int64_t, std::vector<size_t>> children;
  std::vector<size_t> stack;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].parent_id) {
      children[*all[i].parent_id].push_back(i);
    } else {
      stack.push_back(i);
    }
  }
  std::reverse(stack.begin(), stack.end());
  std::vector<Unit> ordered;
  ordered.reserve(all.size());
  std::vector<bool> placed(all.size(), false);
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    if (placed[i]) continue;
    placed[i] = true;
    ordered.push_back(all[i]);
    auto it = children.find(all[i].id);
    if (it == children.end()) continue;
    for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) stack.push_back(*c);
  }
  // Units not reachable from the root can only come from a damaged table; list them last
  // rather than hide them.
  for (size_t i = 0; i < all.size(); ++i) {
    if (!placed[i]) ordered.push_back(all[i]);
  }
  return ordered;
}

StatusOr<Unit> SqliteAccountStore::UpdateUnit(const Actor& actor, int64_t id, std::optional<std::string> name,
                                              std::optional<int64_t> parent_id) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  if (name) SF_RETURN_IF_ERROR(CheckName("name", *name));
  Unit after;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(Unit before, LoadUnit(db, id));
    after = before;
    if (name) after.name = *name;
    if (parent_id && parent_id != before.parent_id) {
      if (!before.parent_id) return FieldError("parent_id", "the centre cannot be moved");
      SF_RETURN_IF_ERROR(CheckUnitReference(db, "parent_id", *parent_id));
      SF_ASSIGN_OR_RETURN(std::vector<int64_t> subtree, Subtree(db, id));
      if (std::find(subtree.begin(), subtree.end(), *parent_id) != subtree.end()) {
        return FieldError("parent_id", "cannot move a unit under itself or one of its descendants");
      }
      after.parent_id = parent_id;
    }
    SF_RETURN_IF_ERROR(
        kSql.Exec(db, "UPDATE units SET name = ?1, parent_id = ?2 WHERE id = ?3", after.name, after.parent_id, id));
    return append_audit_(db,
                         AuditEventWithSummary(actor, "units.update", "unit", std::to_string(id), AuditDiff(UnitJson(before), UnitJson(after))));
  }));
  return after;
}

StatusOr<std::vector<int64_t>> SqliteAccountStore::SubtreeUnitIds(int64_t id) {
  std::vector<int64_t> ids;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(ids, Subtree(db, id));
    return OkStatus();
  }));
  if (ids.empty()) return NotFoundError("no unit " + std::to_string(id));
  return ids;
}

// ---- users

StatusOr<User> SqliteAccountStore::CreateUser(const Actor& actor, const NewUser& user) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  const std::string username = AsciiLower(user.username);
  SF_RETURN_IF_ERROR(CheckUsername(username));
  SF_RETURN_IF_ERROR(CheckName("display_name", user.display_name));
  SF_ASSIGN_OR_RETURN(std::vector<Role> roles, NormalizeRoles(user.roles));
  SF_RETURN_IF_ERROR(CheckContacts(user.contacts));
  SF_RETURN_IF_ERROR(CheckLanguage(user.language));
  if (user.source != "local" && user.source != "ldap") return FieldError("source", "must be 'local' or 'ldap'");
  if (user.password_hash.size() > 1024) return FieldError("password_hash", "is too long");
  const int64_t now = actor.time_ms;
  User created;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(CheckUnitReference(db, "unit_id", user.unit_id));
    SF_ASSIGN_OR_RETURN(bool taken, kSql.Exists(db, "SELECT 1 FROM users WHERE username = ?1", username));
    if (taken) return AlreadyExistsError("username: already taken");
    const Contacts& c = user.contacts;
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "INSERT INTO users (username, display_name, unit_id, email, phone, dingtalk, wecom, slack, "
                            "telegram, language, active, source, must_change_password, password_changed_at_ms, "
                            "totp_enabled, created_at_ms, updated_at_ms) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13, 0, ?14, ?14)",
                            username, user.display_name, user.unit_id, c.email, c.phone, c.dingtalk, c.wecom, c.slack,
                            c.telegram, user.language, user.source, user.must_change_password,
                            user.password_hash.empty() ? int64_t{0} : now, now));
    const int64_t id = db.LastInsertRowId();
    SF_RETURN_IF_ERROR(
        kSql.Exec(db, "INSERT INTO user_credentials (user_id, password_hash) VALUES (?1, ?2)", id, user.password_hash));
    for (Role r : roles) {
      SF_RETURN_IF_ERROR(kSql.Exec(db, "INSERT INTO user_roles (user_id, role) VALUES (?1, ?2)", id, RoleName(r)));
    }
    SF_ASSIGN_OR_RETURN(created, LoadUser(db, id));
    return append_audit_(db, AuditEventWithSummary(actor, "users.create", "user", std::to_string(id), Created(UserJson(created))));
  }));
  return created;
}

StatusOr<User> SqliteAccountStore::GetUser(int64_t id) {
  User user;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(user, LoadUser(db, id));
    return OkStatus();
  }));
  return user;
}

StatusOr<User> SqliteAccountStore::FindUserByUsername(const std::string& username) {
  const std::string lowered = AsciiLower(username);
  // Never echo a name that could be anything (it may be a password typed in the wrong box).
  if (!ValidUsername(lowered)) return NotFoundError("no such user");
  User user;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(user, LoadUserWhere(db, "u.username = ?1", lowered, "'" + lowered + "'"));
    return OkStatus();
  }));
  return user;
}

StatusOr<UserPage> SqliteAccountStore::ListUsers(const UserQuery& query) {
  if (query.limit < 1 || query.limit > kMaxPageSize) {
    return FieldError("limit", "must be between 1 and " + std::to_string(kMaxPageSize));
  }
  if (query.offset < 0) return FieldError("offset", "must not be negative");
  if (query.role && !KnownRole(*query.role)) return FieldError("role", "unknown role");
  if (query.text.size() > 200) return FieldError("text", "must be at most 200 bytes");
  UserPage page;
  if (query.unit_ids && query.unit_ids->empty()) return page;

  std::vector<Param> params;
  std::string where = " WHERE 1 = 1";
  if (query.unit_ids) where += " AND u.unit_id IN (" + InList(*query.unit_ids, &params) + ")";
  if (query.role) {
    params.emplace_back(std::string(RoleName(*query.role)));
    where += " AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?" +
             std::to_string(params.size()) + ")";
  }
  if (query.active) {
    params.emplace_back(int64_t{*query.active ? 1 : 0});
    where += " AND u.active = ?" + std::to_string(params.size());
  }
  if (!query.text.empty()) {
    // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
    std::string pattern = "%";
    for (char c : AsciiLower(query.text)) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += '%';
    params.emplace_back(pattern);
    const std::string p = "?" + std::to_string(params.size());
    where += " AND (u.username LIKE " + p + " ESCAPE '\\' OR lower(u.display_name) LIKE " + p + " ESCAPE '\\')";
  }

  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement count, kSql.BoundParams(db, "SELECT COUNT(*) FROM users u" + where, params));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(count));
    page.total = row ? count.ColumnInt(0) : 0;

    std::vector<Param> page_params = params;
    page_params.emplace_back(query.limit);
    page_params.emplace_back(query.offset);
    const std::string sql = std::string("SELECT ") + kUserColumns + " FROM users u" + where +
                            " ORDER BY u.username LIMIT ?" + std::to_string(page_params.size() - 1) + " OFFSET ?" +
                            std::to_string(page_params.size());
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.BoundParams(db, sql, page_params));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool more, kSql.Step(s));
      if (!more) break;
      page.items.push_back(UserFromRow(s));
    }
    for (User& u : page.items) SF_RETURN_IF_ERROR(LoadRoles(db, &u));
    return OkStatus();
  }));
  return page;
}

StatusOr<User> SqliteAccountStore::UpdateUser(const Actor& actor, int64_t id, const UserUpdate& update) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  if (update.display_name) SF_RETURN_IF_ERROR(CheckName("display_name", *update.display_name));
  std::optional<std::vector<Role>> roles;
  if (update.roles) {
    SF_ASSIGN_OR_RETURN(roles, NormalizeRoles(*update.roles));
  }
  if (update.contacts) SF_RETURN_IF_ERROR(CheckContacts(*update.contacts));
  if (update.language) SF_RETURN_IF_ERROR(CheckLanguage(*update.language));
  const int64_t now = actor.time_ms;
  User result;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(User before, LoadUser(db, id));
    User after = before;
    if (update.display_name) after.display_name = *update.display_name;
    if (update.unit_id) {
      SF_RETURN_IF_ERROR(CheckUnitReference(db, "unit_id", *update.unit_id));
      after.unit_id = *update.unit_id;
    }
    if (roles) after.roles = *roles;
    if (update.contacts) after.contacts = *update.contacts;
    if (update.language) after.language = *update.language;
    if (update.active) after.active = *update.active;
    const Contacts& c = after.contacts;
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "UPDATE users SET display_name = ?1, unit_id = ?2, email = ?3, phone = ?4, dingtalk = ?5, "
                            "wecom = ?6, slack = ?7, telegram = ?8, language = ?9, active = ?10, updated_at_ms = ?11 "
                            "WHERE id = ?12",
                            after.display_name, after.unit_id, c.email, c.phone, c.dingtalk, c.wecom, c.slack,
                            c.telegram, after.language, after.active, now, id));
    if (roles && *roles != before.roles) {
      SF_RETURN_IF_ERROR(kSql.Exec(db, "DELETE FROM user_roles WHERE user_id = ?1", id));
      for (Role r : *roles) {
        SF_RETURN_IF_ERROR(kSql.Exec(db, "INSERT INTO user_roles (user_id, role) VALUES (?1, ?2)", id, RoleName(r)));
      }
    }
    Json summary = AuditDiff(UserJson(before), UserJson(after));
    const bool disabling = before.active && !after.active;
    if (disabling) {
      // A disabled user keeps no way in: every session and every API token they made ends now.
      SF_ASSIGN_OR_RETURN(int64_t sessions, RevokeUserSessions(db, id, now, ""));
      SF_RETURN_IF_ERROR(kSql.Exec(db,
                              "UPDATE api_tokens SET revoked_at_ms = ?1 "
                              "WHERE created_by_user_id = ?2 AND revoked_at_ms IS NULL",
                              now, id));
      summary["after"]["sessions_revoked"] = sessions;
      summary["after"]["tokens_revoked"] = static_cast<int64_t>(db.Changes());
    }
    SF_ASSIGN_OR_RETURN(result, LoadUser(db, id));
    return append_audit_(db, AuditEventWithSummary(actor, disabling ? "users.disable" : "users.update", "user", std::to_string(id),
                                   summary));
  }));
  return result;
}

StatusOr<UserCredentials> SqliteAccountStore::GetCredentials(int64_t user_id) {
  UserCredentials creds;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.Bound(db,
                                                 "SELECT password_hash, totp_secret_base32, totp_last_step, "
                                                 "failed_logins, locked_until_ms, last_failure_ms "
                                                 "FROM user_credentials WHERE user_id = ?1",
                                                 user_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("no user " + std::to_string(user_id));
    creds.user_id = user_id;
    creds.password_hash = s.ColumnText(0);
    creds.totp_secret_base32 = s.ColumnText(1);
    creds.totp_last_step = s.ColumnInt(2);
    creds.failed_logins = static_cast<int>(s.ColumnInt(3));
    creds.locked_until_ms = s.ColumnInt(4);
    creds.last_failure_ms = s.ColumnInt(5);
    return OkStatus();
  }));
  return creds;
}

Status SqliteAccountStore::SetPassword(const Actor& actor, int64_t user_id, const std::string& password_hash,
                                       bool must_change_password, int history_depth, const std::string& action,
                                       const std::string& keep_session_public_id) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  if (action != "users.reset_password" && action != "auth.change_password") {
    return FieldError("action", "must be 'users.reset_password' or 'auth.change_password'");
  }
  if (password_hash.empty()) return FieldError("password_hash", "must not be empty");
  if (password_hash.size() > 1024) return FieldError("password_hash", "is too long");
  if (history_depth < 0) return FieldError("history_depth", "must not be negative");
  const int64_t now = actor.time_ms;
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(User before, LoadUser(db, user_id));
    SF_ASSIGN_OR_RETURN(SqliteStatement old,
                        kSql.Bound(db, "SELECT password_hash FROM user_credentials WHERE user_id = ?1", user_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(old));
    const std::string old_hash = row ? old.ColumnText(0) : "";
    if (!old_hash.empty()) {
      SF_RETURN_IF_ERROR(kSql.Exec(db, "INSERT INTO password_history (user_id, password_hash, replaced_at_ms) VALUES (?1, ?2, ?3)",
                              user_id, old_hash, now));
    }
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "DELETE FROM password_history WHERE user_id = ?1 AND id NOT IN ("
                            "SELECT id FROM password_history WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)",
                            user_id, history_depth));
    SF_RETURN_IF_ERROR(
        kSql.Exec(db, "UPDATE user_credentials SET password_hash = ?1 WHERE user_id = ?2", password_hash, user_id));
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "UPDATE users SET must_change_password = ?1, password_changed_at_ms = ?2, updated_at_ms = ?2 "
                            "WHERE id = ?3",
                            must_change_password, now, user_id));
    SF_ASSIGN_OR_RETURN(int64_t revoked, RevokeUserSessions(db, user_id, now, keep_session_public_id));
    Json summary = {{"before",
                     {{"must_change_password", before.must_change_password},
                      {"password_changed_at_ms", before.password_changed_at_ms}}},
                    {"after",
                     {{"must_change_password", must_change_password},
                      {"password_changed_at_ms", now},
                      {"sessions_revoked", revoked}}}};
    return append_audit_(db, AuditEventWithSummary(actor, action, "user", std::to_string(user_id), summary));
  });
}

StatusOr<std::vector<std::string>> SqliteAccountStore::PasswordHistory(int64_t user_id) {
  std::vector<std::string> hashes;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(bool known, kSql.Exists(db, "SELECT 1 FROM users WHERE id = ?1", user_id));
    if (!known) return NotFoundError("no user " + std::to_string(user_id));
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, "SELECT password_hash FROM password_history WHERE user_id = ?1 ORDER BY id DESC",
                              user_id));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
      if (!row) return OkStatus();
      hashes.push_back(s.ColumnText(0));
    }
  }));
  return hashes;
}

Status SqliteAccountStore::SaveLoginState(int64_t user_id, int failed_logins, int64_t locked_until_ms,
                                          int64_t last_failure_ms) {
  if (failed_logins < 0) return FieldError("failed_logins", "must not be negative");
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "UPDATE user_credentials SET failed_logins = ?1, locked_until_ms = ?2, last_failure_ms = ?3 "
                            "WHERE user_id = ?4",
                            failed_logins, locked_until_ms, last_failure_ms, user_id));
    if (db.Changes() == 0) return NotFoundError("no user " + std::to_string(user_id));
    return OkStatus();
  });
}

Status SqliteAccountStore::SetTotp(const Actor& actor, int64_t user_id, const std::string& secret_base32,
                                   bool enabled) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  SF_RETURN_IF_ERROR(CheckBase32("totp_secret", secret_base32));
  if (enabled && secret_base32.empty()) return FieldError("totp_secret", "is required to enable TOTP");
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(User before, LoadUser(db, user_id));
    SF_ASSIGN_OR_RETURN(SqliteStatement old,
                        kSql.Bound(db, "SELECT totp_secret_base32 FROM user_credentials WHERE user_id = ?1", user_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(old));
    const std::string old_secret = row ? old.ColumnText(0) : "";
    const bool changed = old_secret != secret_base32;
    // A new secret starts a new sequence of time steps: the old replay marker means nothing.
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "UPDATE user_credentials SET totp_secret_base32 = ?1, "
                            "totp_last_step = CASE WHEN ?2 = 1 THEN 0 ELSE totp_last_step END WHERE user_id = ?3",
                            secret_base32, changed, user_id));
    SF_RETURN_IF_ERROR(kSql.Exec(db, "UPDATE users SET totp_enabled = ?1, updated_at_ms = ?2 WHERE id = ?3", enabled,
                            actor.time_ms, user_id));
    Json summary = {{"before", {{"totp_enabled", before.totp_enabled}, {"totp_secret_set", !old_secret.empty()}}},
                    {"after",
                     {{"totp_enabled", enabled},
                      {"totp_secret_set", !secret_base32.empty()},
                      {"totp_secret_changed", changed}}}};
    return append_audit_(db, AuditEventWithSummary(actor, "users.totp", "user", std::to_string(user_id), summary));
  });
}

Status SqliteAccountStore::SaveTotpStep(int64_t user_id, int64_t step) {
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "UPDATE user_credentials SET totp_last_step = ?1 WHERE user_id = ?2 AND totp_last_step < ?1",
                            step, user_id));
    if (db.Changes() > 0) return OkStatus();
    SF_ASSIGN_OR_RETURN(bool known, kSql.Exists(db, "SELECT 1 FROM user_credentials WHERE user_id = ?1", user_id));
    if (!known) return NotFoundError("no user " + std::to_string(user_id));
    return FailedPreconditionError("totp: code already used");
  });
}

// ---- sessions

Status SqliteAccountStore::CreateSession(const Actor& actor, const Session& session) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  SF_RETURN_IF_ERROR(CheckIdentifier("public_id", session.public_id, 128));
  SF_RETURN_IF_ERROR(CheckSha256Hex("token_sha256", session.token_sha256));
  SF_RETURN_IF_ERROR(CheckIdentifier("csrf_token", session.csrf_token, 256));
  if (session.source_address.size() > 128) return FieldError("source_address", "must be at most 128 bytes");
  Session stored = session;
  stored.user_agent = CutUtf8(session.user_agent, kMaxUserAgentBytes);
  if (stored.created_at_ms == 0) stored.created_at_ms = actor.time_ms;
  if (stored.last_seen_ms == 0) stored.last_seen_ms = stored.created_at_ms;
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(User user, LoadReferencedUser(db, "user_id", session.user_id));
    if (!user.active) return FailedPreconditionError("user_id: user is disabled");
    SF_ASSIGN_OR_RETURN(bool id_taken, kSql.Exists(db, "SELECT 1 FROM sessions WHERE public_id = ?1", stored.public_id));
    if (id_taken) return AlreadyExistsError("public_id: already taken");
    SF_ASSIGN_OR_RETURN(bool hash_taken,
                        kSql.Exists(db, "SELECT 1 FROM sessions WHERE token_sha256 = ?1", stored.token_sha256));
    if (hash_taken) return AlreadyExistsError("token_sha256: already taken");
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "INSERT INTO sessions (public_id, token_sha256, csrf_token, user_id, created_at_ms, "
                            "last_seen_ms, source_address, user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            stored.public_id, stored.token_sha256, stored.csrf_token, stored.user_id,
                            stored.created_at_ms, stored.last_seen_ms, stored.source_address, stored.user_agent));
    Json after = {{"user_id", user.id},
                  {"username", user.username},
                  {"source_address", stored.source_address},
                  {"user_agent", stored.user_agent}};
    return append_audit_(db, AuditEventWithSummary(actor, "auth.login", "session", stored.public_id, Created(std::move(after))));
  });
}

StatusOr<Session> SqliteAccountStore::FindSessionByTokenHash(const std::string& token_sha256) {
  Session session;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db,
                              std::string("SELECT ") + kSessionColumns +
                                  " FROM sessions s JOIN users u ON u.id = s.user_id "
                                  "WHERE s.token_sha256 = ?1 AND s.revoked_at_ms IS NULL AND u.active = 1",
                              token_sha256));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("no active session with that token");
    session = SessionFromRow(s);
    return OkStatus();
  }));
  return session;
}

Status SqliteAccountStore::TouchSession(const std::string& public_id, int64_t now_ms) {
  // Read first, so that most requests need no write transaction at all.
  int64_t last_seen = 0;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, "SELECT last_seen_ms FROM sessions WHERE public_id = ?1 AND revoked_at_ms IS NULL",
                              public_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("no active session " + public_id);
    last_seen = s.ColumnInt(0);
    return OkStatus();
  }));
  if (now_ms - last_seen < kTouchIntervalMs) return OkStatus();
  return db_.Write([&](SqliteDb& db) -> Status {
    return kSql.Exec(db,
                "UPDATE sessions SET last_seen_ms = ?1 "
                "WHERE public_id = ?2 AND revoked_at_ms IS NULL AND last_seen_ms < ?1",
                now_ms, public_id);
  });
}

StatusOr<std::vector<Session>> SqliteAccountStore::ListSessions(int64_t user_id) {
  std::vector<Session> sessions;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(bool known, kSql.Exists(db, "SELECT 1 FROM users WHERE id = ?1", user_id));
    if (!known) return NotFoundError("no user " + std::to_string(user_id));
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db,
                              std::string("SELECT ") + kSessionColumns +
                                  " FROM sessions s WHERE s.user_id = ?1 AND s.revoked_at_ms IS NULL "
                                  "ORDER BY s.created_at_ms DESC, s.public_id",
                              user_id));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
      if (!row) return OkStatus();
      sessions.push_back(SessionFromRow(s));
    }
  }));
  return sessions;
}

Status SqliteAccountStore::RevokeSession(const Actor& actor, const std::string& public_id, const std::string& action) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  if (action != "auth.logout" && action != "sessions.revoke" && action != "sessions.expire") {
    return FieldError("action", "must be 'auth.logout', 'sessions.revoke' or 'sessions.expire'");
  }
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, "SELECT user_id FROM sessions WHERE public_id = ?1 AND revoked_at_ms IS NULL",
                              public_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("no active session " + public_id);
    const int64_t user_id = s.ColumnInt(0);
    SF_RETURN_IF_ERROR(
        kSql.Exec(db, "UPDATE sessions SET revoked_at_ms = ?1 WHERE public_id = ?2", actor.time_ms, public_id));
    Json summary = {{"before", {{"user_id", user_id}, {"revoked_at_ms", nullptr}}},
                    {"after", {{"user_id", user_id}, {"revoked_at_ms", actor.time_ms}}}};
    return append_audit_(db, AuditEventWithSummary(actor, action, "session", public_id, summary));
  });
}

// ---- API tokens

StatusOr<ApiToken> SqliteAccountStore::CreateApiToken(const Actor& actor, const ApiToken& token) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  SF_RETURN_IF_ERROR(CheckName("name", token.name));
  SF_RETURN_IF_ERROR(CheckSha256Hex("token_sha256", token.token_sha256));
  if (!KnownRole(token.role)) return FieldError("role", "unknown role");
  if (token.expires_at_ms <= actor.time_ms) return FieldError("expires_at_ms", "must be in the future");
  ApiToken created = token;
  created.created_at_ms = actor.time_ms;
  created.revoked_at_ms.reset();
  created.last_used_ms.reset();
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(CheckUnitReference(db, "unit_id", token.unit_id));
    SF_ASSIGN_OR_RETURN(User creator, LoadReferencedUser(db, "created_by_user_id", token.created_by_user_id));
    if (!creator.active) return FailedPreconditionError("created_by_user_id: user is disabled");
    SF_ASSIGN_OR_RETURN(bool name_taken, kSql.Exists(db,
                                                "SELECT 1 FROM api_tokens WHERE created_by_user_id = ?1 AND name = ?2 "
                                                "AND revoked_at_ms IS NULL",
                                                token.created_by_user_id, token.name));
    if (name_taken) return AlreadyExistsError("name: already taken");
    SF_ASSIGN_OR_RETURN(bool hash_taken,
                        kSql.Exists(db, "SELECT 1 FROM api_tokens WHERE token_sha256 = ?1", token.token_sha256));
    if (hash_taken) return AlreadyExistsError("token_sha256: already taken");
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "INSERT INTO api_tokens (name, token_sha256, role, unit_id, created_by_user_id, "
                            "created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            created.name, created.token_sha256, RoleName(created.role), created.unit_id,
                            created.created_by_user_id, created.created_at_ms, created.expires_at_ms));
    created.id = db.LastInsertRowId();
    return append_audit_(db, AuditEventWithSummary(actor, "tokens.create", "token", std::to_string(created.id),
                                   Created(TokenJson(created))));
  }));
  return created;
}

StatusOr<ApiToken> SqliteAccountStore::FindApiTokenByHash(const std::string& token_sha256) {
  ApiToken token;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db,
                              std::string("SELECT ") + kTokenColumns +
                                  " FROM api_tokens t JOIN users u ON u.id = t.created_by_user_id "
                                  "WHERE t.token_sha256 = ?1 AND t.revoked_at_ms IS NULL AND u.active = 1",
                              token_sha256));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("no active api token with that hash");
    SF_ASSIGN_OR_RETURN(token, TokenFromRow(s));
    return OkStatus();
  }));
  return token;
}

StatusOr<ApiToken> SqliteAccountStore::GetApiToken(int64_t id) {
  ApiToken token;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(token, LoadToken(db, id));
    return OkStatus();
  }));
  return token;
}

StatusOr<std::vector<ApiToken>> SqliteAccountStore::ListApiTokens(std::optional<std::vector<int64_t>> unit_ids) {
  std::vector<ApiToken> tokens;
  if (unit_ids && unit_ids->empty()) return tokens;
  std::vector<Param> params;
  std::string sql = std::string("SELECT ") + kTokenColumns + " FROM api_tokens t";
  if (unit_ids) sql += " WHERE t.unit_id IN (" + InList(*unit_ids, &params) + ")";
  sql += " ORDER BY t.created_at_ms DESC, t.id DESC";
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.BoundParams(db, sql, params));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
      if (!row) return OkStatus();
      SF_ASSIGN_OR_RETURN(ApiToken t, TokenFromRow(s));
      tokens.push_back(std::move(t));
    }
  }));
  return tokens;
}

Status SqliteAccountStore::RevokeApiToken(const Actor& actor, int64_t id) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(ApiToken token, LoadToken(db, id));
    if (token.revoked_at_ms) return FailedPreconditionError("api token " + std::to_string(id) + " is already revoked");
    SF_RETURN_IF_ERROR(kSql.Exec(db, "UPDATE api_tokens SET revoked_at_ms = ?1 WHERE id = ?2", actor.time_ms, id));
    Json summary = {{"before", {{"name", token.name}, {"revoked_at_ms", nullptr}}},
                    {"after", {{"name", token.name}, {"revoked_at_ms", actor.time_ms}}}};
    return append_audit_(db, AuditEventWithSummary(actor, "tokens.revoke", "token", std::to_string(id), summary));
  });
}

Status SqliteAccountStore::TouchApiToken(int64_t id, int64_t now_ms) {
  std::optional<int64_t> last_used;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.Bound(db, "SELECT last_used_ms FROM api_tokens WHERE id = ?1", id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("no api token " + std::to_string(id));
    if (!s.IsNull(0)) last_used = s.ColumnInt(0);
    return OkStatus();
  }));
  if (last_used && now_ms - *last_used < kTouchIntervalMs) return OkStatus();
  return db_.Write([&](SqliteDb& db) -> Status {
    return kSql.Exec(db,
                "UPDATE api_tokens SET last_used_ms = ?1 "
                "WHERE id = ?2 AND (last_used_ms IS NULL OR last_used_ms < ?1)",
                now_ms, id);
  });
}

// ---- hosts

StatusOr<int64_t> SqliteAccountStore::HostUnit(const std::string& agent_id) {
  int64_t unit = kCentreUnitId;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.Bound(db, "SELECT unit_id FROM host_units WHERE agent_id = ?1", agent_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (row) unit = s.ColumnInt(0);
    return OkStatus();
  }));
  return unit;
}

Status SqliteAccountStore::AssignHost(const Actor& actor, const std::string& agent_id, int64_t unit_id) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  SF_RETURN_IF_ERROR(CheckIdentifier("agent_id", agent_id, 128));
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(CheckUnitReference(db, "unit_id", unit_id));
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.Bound(db, "SELECT unit_id FROM host_units WHERE agent_id = ?1", agent_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    const int64_t before = row ? s.ColumnInt(0) : kCentreUnitId;
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "INSERT INTO host_units (agent_id, unit_id, assigned_at_ms) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT (agent_id) DO UPDATE SET unit_id = excluded.unit_id, "
                            "assigned_at_ms = excluded.assigned_at_ms",
                            agent_id, unit_id, actor.time_ms));
    Json summary = {{"before", {{"unit_id", before}}}, {"after", {{"unit_id", unit_id}}}};
    return append_audit_(db, AuditEventWithSummary(actor, "hosts.assign", "host", agent_id, summary));
  });
}

StatusOr<std::vector<std::string>> SqliteAccountStore::HostsInUnits(const std::vector<int64_t>& unit_ids) {
  std::vector<std::string> agents;
  if (unit_ids.empty()) return agents;
  std::vector<Param> params;
  const std::string sql =
      "SELECT agent_id FROM host_units WHERE unit_id IN (" + InList(unit_ids, &params) + ") ORDER BY agent_id";
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.BoundParams(db, sql, params));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
      if (!row) return OkStatus();
      agents.push_back(s.ColumnText(0));
    }
  }));
  return agents;
}

}  // namespace steadfast::collector::accounts
