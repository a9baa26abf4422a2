// steadfast-collector: receives agent reports, stores state and history, serves the REST API,
// the web console and /metrics.
//
//   steadfast-collector --config /etc/steadfast/collector.yaml     run until SIGINT/SIGTERM;
//                                                                   SIGHUP reloads alerting:
//   steadfast-collector --config FILE --check-config                validate, exit 0 or 2
//   steadfast-collector --version | --help
//   steadfast-collector audit verify --config FILE                  walk the audit chain (exit 3: damage)
//   steadfast-collector audit export --config FILE [--format csv|json|jsonl] [--from RFC3339]
//       [--to RFC3339] [--user NAME] [--object-type T] [--object-id ID] [--action A] [--output FILE]
//   steadfast-collector admin create-admin|reset-password|unlock|list-users|create-token ...
//       account rescue at the console (collector/admin_cli.h)
//
// Exit codes: 0 ok, 1 failure (storage cannot be opened, port taken), 2 usage or config error,
// 3 audit verification found damage.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <tuple>

#include "alerting/oncall_config.h"
#include "collector/admin_cli.h"
#include "collector/audit/audit_cli.h"
#include "collector/collector_config.h"
#include "collector/server.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/logging.h"
#include "common/stop_signals.h"
#include "steadfast/version.h"

namespace steadfast::collector {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Who runs an admin command, for its audit record: the account of the real user id (from the
// password database, not $USER), and the login behind sudo when root runs it through sudo
// ("root (sudo by alice)"). "uid 1234" when the id has no name.
std::string OsUser() {
  const uid_t uid = getuid();
  std::string name = "uid " + std::to_string(uid);
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) name = found->pw_name;
  const char* sudo_user = std::getenv("SUDO_USER");
  if (uid == 0 && sudo_user != nullptr && *sudo_user != '\0') name += std::string(" (sudo by ") + sudo_user + ")";
  return name;
}

// Options of `audit export`, as typed.
struct AuditExportArgs {
  std::string format = "csv";
  std::string from;
  std::string to;
  std::string user;
  std::string object_type;
  std::string object_id;
  std::string action;
  std::string output;
};

// Turns the typed options into AuditExportOptions; false (message on stderr) on a bad value.
bool ParseAuditExportArgs(const AuditExportArgs& args, audit::AuditExportOptions* out) {
  std::optional<audit::ExportFormat> format = audit::ParseExportFormat(args.format);
  if (!format) {
    std::fprintf(stderr, "steadfast-collector: --format: expected csv, json or jsonl, got '%s'\n", args.format.c_str());
    return false;
  }
  out->format = *format;
  for (auto [flag, text, slot] : {std::tuple{"--from", &args.from, &out->filter.from_ms},
                                  std::tuple{"--to", &args.to, &out->filter.to_ms}}) {
    if (text->empty()) continue;
    StatusOr<int64_t> ms = ParseRfc3339Millis(*text);
    if (!ms.ok()) {
      std::fprintf(stderr, "steadfast-collector: %s: expected an RFC 3339 time like 2026-01-31T00:00:00Z, got '%s'\n",
                   flag, text->c_str());
      return false;
    }
    *slot = *ms;
  }
  if (out->filter.from_ms != INT64_MIN && out->filter.to_ms != INT64_MAX && out->filter.from_ms > out->filter.to_ms) {
    std::fprintf(stderr, "steadfast-collector: --from is after --to\n");
    return false;
  }
  if (!args.user.empty()) out->filter.actor_name = args.user;
  if (!args.object_type.empty()) out->filter.object_type = args.object_type;
  if (!args.object_id.empty()) out->filter.object_id = args.object_id;
  if (!args.action.empty()) out->filter.action = args.action;
  out->output_path = args.output;
  return true;
}

int Main(int argc, char** argv) {
  CLI::App app{"steadfast-collector: receives agent reports and serves the Steadfast API and console"};
  app.footer("Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the config file's alerting: section\n"
             "(rules, routes, receivers, schedules); a bad one is refused and logged, the old one stays.");
  std::string config_path = "/etc/steadfast/collector.yaml";
  bool check_config = false;
  bool version = false;
  app.add_option("-c,--config", config_path, "collector config file (YAML)")->capture_default_str();
  app.add_flag("--check-config", check_config, "validate the config and exit (0 valid, 2 not)");
  app.add_flag("--version", version, "print the version and exit");

  CLI::App* audit_cmd = app.add_subcommand("audit", "audit trail tools (read-only; safe while the collector runs)");
  audit_cmd->require_subcommand(1);
  CLI::App* verify_cmd =
      audit_cmd->add_subcommand("verify", "walk the audit hash chain; exit 0 intact, 3 damage found (names the record)");
  verify_cmd->add_option("-c,--config", config_path, "collector config file (YAML)");
  CLI::App* export_cmd = audit_cmd->add_subcommand("export", "write audit records as CSV or JSON");
  AuditExportArgs export_args;
  export_cmd->add_option("-c,--config", config_path, "collector config file (YAML)");
  export_cmd->add_option("--format", export_args.format, "csv, json (one array) or jsonl (one object per line)")
      ->capture_default_str();
  export_cmd->add_option("--from", export_args.from, "records at or after this RFC 3339 time");
  export_cmd->add_option("--to", export_args.to, "records before this RFC 3339 time");
  export_cmd->add_option("--user", export_args.user, "records by this actor name");
  export_cmd->add_option("--object-type", export_args.object_type, "records about objects of this type");
  export_cmd->add_option("--object-id", export_args.object_id, "records about the object with this id");
  export_cmd->add_option("--action", export_args.action, "this action, or a prefix ending in '.' (users.)");
  export_cmd->add_option("--output", export_args.output, "write to this file (mode 0600) instead of stdout");
  CLI::App* admin_cmd =
      app.add_subcommand("admin", "account rescue for the person at the console (safe while the collector runs)");
  admin_cmd->require_subcommand(1);
  AdminCommand admin;
  auto admin_sub = [&](const char* name, const char* help, AdminCommand::Kind kind) {
    CLI::App* sub = admin_cmd->add_subcommand(name, help);
    sub->add_option("-c,--config", config_path, "collector config file (YAML)");
    sub->callback([&admin, kind] { admin.kind = kind; });
    return sub;
  };
  CLI::App* create_admin = admin_sub("create-admin", "create an admin in the centre; prints a temporary password",
                                     AdminCommand::Kind::kCreateAdmin);
  create_admin->add_option("--username", admin.username, "login name")->required();
  create_admin->add_option("--display-name", admin.display_name, "full name");
  create_admin->add_flag("--password-stdin", admin.password_stdin,
                         "read the password from the first line of stdin instead of generating one");
  admin_sub("reset-password", "set a temporary password, end the user's sessions", AdminCommand::Kind::kResetPassword)
      ->add_option("--username", admin.username, "login name")
      ->required();
  admin_sub("unlock", "clear a login lockout", AdminCommand::Kind::kUnlock)
      ->add_option("--username", admin.username, "login name")
      ->required();
  admin_sub("list-users", "list accounts with their roles and state", AdminCommand::Kind::kListUsers)
      ->add_flag("--json", admin.json, "JSON instead of a table");
  CLI::App* create_token = admin_sub("create-token", "create an API token for a user; prints it once on stdout",
                                     AdminCommand::Kind::kCreateToken);
  create_token->add_option("--username", admin.username, "the token's owner")->required();
  create_token->add_option("--name", admin.token_name, "what the token is for")->required();
  create_token->add_option("--role", admin.role, "one of the owner's roles")->required();
  create_token->add_option("--days", admin.days, "days until it expires (1..366)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (version) {
    std::printf("steadfast-collector %s\n", kVersion);
    return kExitOk;
  }
  audit::AuditExportOptions export_options;
  if (export_cmd->parsed() && !ParseAuditExportArgs(export_args, &export_options)) return kExitUsage;

  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  StatusOr<CollectorConfig> config = LoadCollectorConfig(config_path, *fs);
  if (!config.ok()) {
    std::fprintf(stderr, "steadfast-collector: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  // The audit tools read collector.db on their own read-only connection; they do not start the
  // daemon, so they neither block the stop signals nor take the listening port.
  if (verify_cmd->parsed()) {
    return audit::RunAuditVerify(config->DatabasePath(), config->AuditKeyPath(), *fs, std::cout, std::cerr);
  }
  if (export_cmd->parsed()) {
    return audit::RunAuditExport(config->DatabasePath(), export_options, *fs, std::cout, std::cerr);
  }

  if (admin_cmd->parsed()) {
    RealClock clock;
    auth::OpenSslRandom random;
    return RunAdminCommand(*config, admin, AdminEnv{*fs, clock, random, std::cin, std::cout, std::cerr, OsUser()});
  }

  // Before any thread exists, so every thread inherits the mask.
  const sigset_t stop_signals = BlockStopSignals();
  if (check_config) {
    std::printf("%s: OK (listen %s:%u, %zu enrolment tokens)\n", config_path.c_str(), config->listen_host.c_str(),
                static_cast<unsigned>(config->listen_port), config->enrollment_tokens.size());
    if (config->alerting.enabled) {
      std::printf("alerting: %zu rules from %zu file(s), %zu receivers\n", config->alerting.rules.rules.size(),
                  config->alerting.rule_files.size(), config->alerting.receivers.size());
      // Schedules and policies made through the API live in collector.db, which this does not open.
      if (Status refs = alerting::CheckOncallReferences(config->alerting); !refs.ok()) {
        std::printf("note: %s; the collector starts only if it was made through the API "
                    "(POST /api/v1/escalation-policies), which this check cannot see\n",
                    refs.message().c_str());
      }
    }
    return kExitOk;
  }
  if (Status st = InitLogging(config->log); !st.ok()) {
    std::fprintf(stderr, "steadfast-collector: %s\n", st.message().c_str());
    return kExitUsage;
  }

  RealClock clock;
  SF_LOG_INFO("steadfast-collector {} starting (config {}, data_dir {})", kVersion, config_path, config->data_dir);
  StatusOr<std::unique_ptr<CollectorServer>> server = CollectorServer::Start(*config, CollectorDeps{clock, *fs});
  if (!server.ok()) {
    SF_LOG_ERROR("cannot start: {}", server.status().ToString());
    std::fprintf(stderr, "steadfast-collector: %s\n", server.status().message().c_str());
    return server.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  SF_LOG_INFO("listening on {} (console {}/, API {}/api/v1/, metrics {}/metrics)", (*server)->url(),
              (*server)->url(), (*server)->url(), (*server)->url());

  // SIGHUP reloads the alerting configuration (rules, routes, receivers, schedules); the rest
  // of the config file takes effect at a restart.
  WaitForStopSignal(stop_signals, "collector", [&server] {
    SF_LOG_INFO("SIGHUP: reloading the alerting configuration");
    StatusOr<alerts::ReloadSummary> s = (*server)->ReloadAlerting("SIGHUP");
    if (!s.ok()) SF_LOG_ERROR("SIGHUP: reload refused; the alerting configuration in force stays");
  });
  (*server)->Shutdown();
  SF_LOG_INFO("stopped");
  return kExitOk;
}

}  // namespace
}  // namespace steadfast::collector

int main(int argc, char** argv) { return steadfast::collector::Main(argc, argv); }
