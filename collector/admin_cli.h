// `steadfast-collector admin ...`: for the person at the console when nobody can log in.
//
//   admin create-admin   --username NAME [--display-name TEXT] [--password-stdin]
//   admin reset-password --username NAME          prints a temporary password; ends sessions
//   admin unlock         --username NAME          clears a login lockout
//   admin list-users     [--json]
//   admin create-token   --username NAME --name TEXT --role ROLE [--days N]   prints the token once
//
// They open collector.db directly (safe while the collector runs: WAL, busy timeout) and act
// as the system actor "cli:<os user>"; every change is audited like an API call. Passwords
// read from stdin must pass the configured policy; without --password-stdin a temporary
// password is printed that must be changed at first login.
//
// Exit codes (DESIGN.md): 0 ok, 1 failure (unknown user, policy refusal, database error), 2 usage.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "collector/auth/secure_random.h"
#include "collector/collector_config.h"
#include "common/clock.h"
#include "common/fs/file_system.h"

namespace steadfast::collector {

struct AdminCommand {
  enum class Kind { kCreateAdmin, kResetPassword, kUnlock, kListUsers, kCreateToken };
  Kind kind = Kind::kListUsers;
  std::string username;
  std::string display_name;
  bool password_stdin = false;
  bool json = false;
  std::string token_name;
  std::string role;
  int64_t days = 90;
};

struct AdminEnv {
  FileSystem& fs;
  Clock& clock;
  auth::SecureRandom& random;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  std::string os_user;  // who ran the command, for the audit record
};

int RunAdminCommand(const CollectorConfig& config, const AdminCommand& command, AdminEnv env);

}  // namespace steadfast::collector
