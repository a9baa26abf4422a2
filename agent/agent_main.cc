// steadfast-agent: runs checks on a schedule and reports them to the collector.
//
//   steadfast-agent --config /etc/steadfast/agent.yaml      run until SIGINT/SIGTERM
//   steadfast-agent --config FILE --once [--json]           run every check once, print, exit
//   steadfast-agent --config FILE --check-config            validate the config, exit 0 or 2
//   steadfast-agent --config FILE --run-backup-job NAME      run a backup job (and a drill) now
//   steadfast-agent --config FILE --run-action emergency_backup [--job NAME]
//   steadfast-agent --version
//
// Exit codes: 0 ok (for --once: the checks ran, whatever their statuses; read the output),
// 1 failure (e.g. the spool cannot be opened), 2 usage or config error.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <string>

#include "agent/agent.h"
#include "agent/agent_config.h"
#include "agent/check_registry.h"
#include "agent/posix_command_runner.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/http/beast_http_client.h"
#include "common/logging.h"
#include "common/stop_signals.h"
#include "common/random.h"
#include "steadfast/version.h"

namespace steadfast::agent {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::string StatusColour(protocol::CheckStatus s) {
  switch (s) {
    case protocol::CheckStatus::kOk:
      return "\033[32m";
    case protocol::CheckStatus::kWarning:
      return "\033[33m";
    case protocol::CheckStatus::kCritical:
      return "\033[31m";
    case protocol::CheckStatus::kUnknown:
      return "\033[35m";
  }
  return "";
}

void PrintTable(const std::vector<protocol::CheckResult>& results, bool colour) {
  size_t w_check = 5, w_target = 6, w_status = 6;
  for (const auto& r : results) {
    w_check = std::max(w_check, r.check.size());
    w_target = std::max(w_target, r.target.size());
    w_status = std::max(w_status, protocol::CheckStatusName(r.status).size());
  }
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w - s.size() + 2, ' '); };
  std::string out =
      pad("CHECK", w_check) + pad("TARGET", w_target) + pad("STATUS", w_status) + "SUMMARY\n";
  for (const auto& r : results) {
    std::string status(protocol::CheckStatusName(r.status));
    std::string shown = pad(status, w_status);
    if (colour) shown = StatusColour(r.status) + status + "\033[0m" + shown.substr(status.size());
    out += pad(r.check, w_check) + pad(r.target, w_target) + shown + r.summary + "\n";
  }
  std::fputs(out.c_str(), stdout);
}

// --run-backup-job and --run-action emergency_backup.
int RunJobs(Agent& agent, const std::string& job, const std::string& action, const std::string& only) {
  BackupJobRunner* jobs = agent.backup_jobs();
  if (jobs == nullptr) {
    std::fprintf(stderr, "steadfast-agent: the config has no backup_jobs\n");
    return kExitUsage;
  }
  const auto print = [](const std::string& name, const BackupJobState& s) {
    std::printf("%s: %s%s%s\n", name.c_str(), s.last_ok ? "ok, snapshot " : "FAILED: ",
                s.last_ok ? s.snapshot.substr(0, 8).c_str() : s.last_error.c_str(),
                s.drill_result.empty() ? "" : ("; last drill " + s.drill_result).c_str());
  };
  if (!action.empty()) {
    if (action != "emergency_backup") {
      std::fprintf(stderr, "steadfast-agent: unknown action '%s' (allowed: emergency_backup)\n", action.c_str());
      return kExitUsage;
    }
    bool ok = true;
    const auto results = jobs->Emergency(only);
    if (results.empty()) {
      std::fprintf(stderr, "steadfast-agent: no backup job named '%s'\n", only.c_str());
      return kExitUsage;
    }
    for (const auto& [name, state] : results) {
      print(name, state);
      ok = ok && state.last_ok;
    }
    return ok ? kExitOk : kExitFailure;
  }
  StatusOr<BackupJobState> s = jobs->RunBackup(job, "manual");
  if (!s.ok()) {
    std::fprintf(stderr, "steadfast-agent: %s\n", s.status().message().c_str());
    return s.status().code() == StatusCode::kNotFound ? kExitUsage : kExitFailure;
  }
  if (s->last_ok) {
    StatusOr<BackupJobState> d = jobs->RunDrill(job);
    if (d.ok()) s = d;
  }
  print(job, *s);
  return s->last_ok && (s->drill_result.empty() || s->drill_result == "passed") ? kExitOk : kExitFailure;
}

void PrintJson(const std::vector<protocol::CheckResult>& results) {
  std::string out = "[";
  for (size_t i = 0; i < results.size(); ++i) {
    out += i == 0 ? "\n  " : ",\n  ";
    out += protocol::EncodeCheckResult(results[i]);
  }
  out += results.empty() ? "]\n" : "\n]\n";
  std::fputs(out.c_str(), stdout);
}

int Main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask.
  const sigset_t stop_signals = BlockStopSignals();
  // Three long-lived threads that allocate little: one malloc arena is plenty, and every
  // extra arena keeps its own touched pages resident (the agent's budget is 10 MB; see
  // bench/agent_footprint.sh).
  mallopt(M_ARENA_MAX, 1);

  CLI::App app{"steadfast-agent: runs checks and reports them to the Steadfast collector"};
  std::string config_path = "/etc/steadfast/agent.yaml";
  bool once = false, json = false, check_config = false, version = false;
  app.add_option("-c,--config", config_path, "agent config file (YAML)")->capture_default_str();
  auto* once_opt = app.add_flag("--once", once,
                                "run every check once, print the results and exit (0 when the "
                                "checks ran); does not contact the collector");
  app.add_flag("--json", json, "with --once: print the results as a JSON array")->needs(once_opt);
  app.add_flag("--check-config", check_config, "validate the config and exit (0 valid, 2 not)");
  app.add_flag("--version", version, "print the version and exit");
  std::string run_job, run_action, action_job;
  app.add_option("--run-backup-job", run_job,
                 "run this backup job now (backup, retention, then a drill), print its state as JSON and exit "
                 "(0 ok, 1 failed)");
  auto* action_opt = app.add_option("--run-action", run_action,
                                    "run an allow-listed action now and exit: emergency_backup (every backup job, "
                                    "tagged emergency, nothing forgotten)");
  app.add_option("--job", action_job, "with --run-action emergency_backup: only this job")->needs(action_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (version) {
    std::printf("steadfast-agent %s\n", kVersion);
    return kExitOk;
  }

  CheckRegistry registry;
  RegisterBuiltinChecks(registry);
  auto config = LoadAgentConfig(config_path, registry);
  if (!config.ok()) {
    std::fprintf(stderr, "steadfast-agent: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  if (check_config) {
    std::printf("%s: OK (%zu checks)\n", config_path.c_str(), config->checks.size());
    return kExitOk;
  }
  if (Status st = InitLogging(config->log); !st.ok()) {
    std::fprintf(stderr, "steadfast-agent: %s\n", st.message().c_str());
    return kExitUsage;
  }

  RealClock clock;
  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  SystemRandom random;
  http::HttpClientOptions http_options;
  http_options.connect_timeout =
      std::chrono::milliseconds(std::min<int64_t>(config->uplink.timeout_ms, 10'000));
  http_options.verify_tls = !config->tls.insecure_skip_verify;
  http_options.ca_file = config->tls.ca_file;
  http_options.user_agent = std::string("steadfast-agent/") + kVersion;
  std::unique_ptr<http::HttpClient> http = http::NewBeastHttpClient(http_options);
  if (config->tls.insecure_skip_verify) {
    SF_LOG_WARN("tls.insecure_skip_verify is set: the collector's certificate is not verified");
  }

  PosixCommandRunner commands;
  const bool is_once = once;
  auto agent = Agent::Create(std::move(config).value(), registry,
                             AgentEnv{clock, *fs, *http, random, &commands});
  if (!agent.ok()) {
    std::fprintf(stderr, "steadfast-agent: %s\n", agent.status().message().c_str());
    return kExitUsage;
  }
  if (!run_job.empty() || !run_action.empty()) return RunJobs(**agent, run_job, run_action, action_job);
  if (is_once) {
    std::vector<protocol::CheckResult> results = (*agent)->RunChecksOnce();
    if (json) {
      PrintJson(results);
    } else {
      PrintTable(results, ::isatty(STDOUT_FILENO) == 1);
    }
    if ((*agent)->HasOverrunningChecks()) {
      // A check ignored its deadline and still holds a thread; it was printed as unknown.
      // Destroying the agent would wait for it, so leave without doing so.
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(kExitOk);
    }
    return kExitOk;
  }
  if ((*agent)->config().checks.empty()) {
    SF_LOG_WARN("no checks are configured; the agent will only deliver what is already spooled");
  }
  if (Status st = (*agent)->Start(); !st.ok()) {
    std::fprintf(stderr, "steadfast-agent: %s\n", st.message().c_str());
    return st.code() == StatusCode::kFailedPrecondition ? kExitUsage : kExitFailure;
  }
  WaitForStopSignal(stop_signals, "agent");
  (*agent)->Stop();
  SF_LOG_INFO("stopped");
  return kExitOk;
}

}  // namespace
}  // namespace steadfast::agent

int main(int argc, char** argv) { return steadfast::agent::Main(argc, argv); }
