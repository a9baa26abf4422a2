#include "collector/admin_cli.h"

#include <algorithm>
#include <iomanip>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "collector/admin_stores.h"
#include "collector/api/passwords.h"
#include "collector/api/api_tokens.h"

namespace steadfast::collector {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

accounts::Actor CliActor(const AdminEnv& env) {
  accounts::Actor a;
  a.type = "system";
  a.name = "cli:" + (env.os_user.empty() ? std::string("unknown") : env.os_user);
  a.time_ms = env.clock.NowMillis();
  return a;
}

std::string RoleList(const std::vector<accounts::Role>& roles) {
  std::string out;
  for (const std::string& name : accounts::RoleNames(roles)) out += (out.empty() ? "" : ",") + name;
  return out;
}

int Fail(AdminEnv& env, const Status& st) {
  env.err << "steadfast-collector admin: " << st.ToString() << "\n";
  return kExitFailure;
}

StatusOr<accounts::User> FindUser(accounts::AccountStore& store, const std::string& username) {
  StatusOr<accounts::User> user = store.FindUserByUsername(username);
  if (!user.ok() && user.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no user named '" + username + "' (list them with `steadfast-collector admin list-users`)");
  }
  return user;
}

int CreateAdmin(const CollectorConfig& config, const AdminCommand& cmd, AdminEnv& env, AdminStores& s) {
  api::Passwords passwords(config.auth, env.random);
  std::string password;
  bool chosen = false;
  if (cmd.password_stdin) {
    if (!std::getline(env.in, password) || password.empty()) {
      env.err << "steadfast-collector admin: --password-stdin: no password on standard input\n";
      return kExitUsage;
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    chosen = true;
  } else {
    password = passwords.Temporary();
  }
  accounts::NewUser user;
  user.username = cmd.username;
  user.display_name = cmd.display_name.empty() ? cmd.username : cmd.display_name;
  user.unit_id = accounts::kCentreUnitId;
  user.roles = {accounts::Role::kAdmin};
  user.must_change_password = !chosen;
  StatusOr<std::string> hash = passwords.HashNew(*s.accounts, password, user.username, user.display_name, 0);
  if (!hash.ok()) return Fail(env, hash.status());
  user.password_hash = *hash;
  StatusOr<accounts::User> created = s.accounts->CreateUser(CliActor(env), user);
  if (!created.ok()) return Fail(env, created.status());
  env.out << "created admin '" << created->username << "' (id " << created->id << ") in the centre\n";
  if (!chosen) {
    env.out << "temporary password: " << password << "\n"
            << "(it must be changed at the first login)\n";
  }
  return kExitOk;
}

int ResetPassword(const CollectorConfig& config, const AdminCommand& cmd, AdminEnv& env, AdminStores& s) {
  api::Passwords passwords(config.auth, env.random);
  StatusOr<accounts::User> user = FindUser(*s.accounts, cmd.username);
  if (!user.ok()) return Fail(env, user.status());
  if (user->source != "local") {
    return Fail(env, FailedPreconditionError("'" + user->username + "' signs in through LDAP; reset it there"));
  }
  const std::string temporary = passwords.Temporary();
  StatusOr<std::string> hash = passwords.HashNew(*s.accounts, temporary, user->username, user->display_name, 0);
  if (!hash.ok()) return Fail(env, hash.status());
  Status st = s.accounts->SetPassword(CliActor(env), user->id, *hash, /*must_change_password=*/true,
                                      passwords.history_depth(), "users.reset_password", "");
  if (!st.ok()) return Fail(env, st);
  st = s.accounts->SaveLoginState(user->id, 0, 0, 0);
  if (!st.ok()) return Fail(env, st);
  env.out << "password of '" << user->username << "' reset; their sessions are ended\n"
          << "temporary password: " << temporary << "\n"
          << "(it must be changed at the next login)\n";
  return kExitOk;
}

int Unlock(const AdminCommand& cmd, AdminEnv& env, AdminStores& s) {
  StatusOr<accounts::User> user = FindUser(*s.accounts, cmd.username);
  if (!user.ok()) return Fail(env, user.status());
  Status st = s.accounts->SaveLoginState(user->id, 0, 0, 0);
  if (!st.ok()) return Fail(env, st);
  audit::AuditEvent e = accounts::AuditEventFor(CliActor(env), "users.unlock", "user", std::to_string(user->id));
  e.message = "login lockout cleared";
  StatusOr<int64_t> seq = s.audit->Append(e);
  if (!seq.ok()) return Fail(env, seq.status());
  env.out << "'" << user->username << "' can log in again\n";
  return kExitOk;
}

int ListUsers(const AdminCommand& cmd, AdminEnv& env, AdminStores& s) {
  accounts::UserQuery q;
  q.limit = 1000;
  nlohmann::json all = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  const int64_t now = env.clock.NowMillis();
  while (true) {
    StatusOr<accounts::UserPage> page = s.accounts->ListUsers(q);
    if (!page.ok()) return Fail(env, page.status());
    for (const accounts::User& u : page->items) {
      StatusOr<accounts::UserCredentials> creds = s.accounts->GetCredentials(u.id);
      if (!creds.ok()) return Fail(env, creds.status());
      const bool locked = creds->locked_until_ms > now;
      if (cmd.json) {
        all.push_back({{"id", u.id},
                       {"username", u.username},
                       {"display_name", u.display_name},
                       {"unit_id", u.unit_id},
                       {"roles", RoleList(u.roles)},
                       {"active", u.active},
                       {"locked", locked},
                       {"must_change_password", u.must_change_password},
                       {"totp_enabled", u.totp_enabled}});
      } else {
        rows.push_back({std::to_string(u.id), u.username, u.display_name, std::to_string(u.unit_id), RoleList(u.roles),
                        u.active ? "active" : "disabled", locked ? "locked" : "",
                        u.must_change_password ? "must-change" : "", u.totp_enabled ? "totp" : ""});
      }
    }
    q.offset += static_cast<int64_t>(page->items.size());
    if (page->items.empty() || q.offset >= page->total) break;
  }
  if (cmd.json) {
    env.out << all.dump(2) << "\n";
    return kExitOk;
  }
  const std::vector<std::string> header = {"ID", "USERNAME", "NAME", "UNIT", "ROLES", "STATE", "LOCK", "PASSWORD", "2FA"};
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto print = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      env.out << std::left << std::setw(static_cast<int>(width[i]) + 2) << r[i];
    }
    env.out << "\n";
  };
  print(header);
  for (const auto& r : rows) print(r);
  if (rows.empty()) env.out << "(no users yet: create one with `steadfast-collector admin create-admin`)\n";
  return kExitOk;
}

int CreateToken(const AdminCommand& cmd, AdminEnv& env, AdminStores& s) {
  StatusOr<accounts::User> user = FindUser(*s.accounts, cmd.username);
  if (!user.ok()) return Fail(env, user.status());
  std::optional<accounts::Role> role = accounts::ParseRole(cmd.role);
  if (!role) {
    env.err << "steadfast-collector admin: --role: unknown role '" << cmd.role
            << "'; expected admin, unit_admin, operator, inspector, manager or viewer\n";
    return kExitUsage;
  }
  if (std::find(user->roles.begin(), user->roles.end(), *role) == user->roles.end()) {
    return Fail(env, FailedPreconditionError("'" + user->username + "' does not hold the role " + cmd.role));
  }
  if (cmd.days < 1 || cmd.days > 366) {
    env.err << "steadfast-collector admin: --days: expected 1..366\n";
    return kExitUsage;
  }
  StatusOr<api::IssuedToken> created = api::IssueApiToken(*s.accounts, CliActor(env), env.random, user->id, *role,
                                                         user->unit_id, cmd.token_name, cmd.days);
  if (!created.ok()) return Fail(env, created.status());
  // The token alone on stdout, so scripts can capture it; the rest on stderr.
  env.err << "API token '" << created->token.name << "' (id " << created->token.id << ", role " << cmd.role << ", expires in "
          << cmd.days << " days) for '" << user->username << "'; it is shown only now:\n";
  env.out << created->secret << "\n";
  return kExitOk;
}

}  // namespace

int RunAdminCommand(const CollectorConfig& config, const AdminCommand& command, AdminEnv env) {
  using Kind = AdminCommand::Kind;
  if (command.kind != Kind::kListUsers && command.username.empty()) {
    env.err << "steadfast-collector admin: --username is required\n";
    return kExitUsage;
  }
  StatusOr<AdminStores> stores = OpenAdminStores(config, env.fs, env.clock);
  if (!stores.ok()) return Fail(env, stores.status());
  switch (command.kind) {
    case Kind::kCreateAdmin: return CreateAdmin(config, command, env, *stores);
    case Kind::kResetPassword: return ResetPassword(config, command, env, *stores);
    case Kind::kUnlock: return Unlock(command, env, *stores);
    case Kind::kListUsers: return ListUsers(command, env, *stores);
    case Kind::kCreateToken: return CreateToken(command, env, *stores);
  }
  return kExitUsage;
}

}  // namespace steadfast::collector
