// steadfast-collector: receives agent reports, stores state and history, serves the REST API,
// the web console and /metrics.
//
//   steadfast-collector --config /etc/steadfast/collector.yaml     run until SIGINT/SIGTERM
//   steadfast-collector --config FILE --check-config                validate, exit 0 or 2
//   steadfast-collector --version | --help
//
// Exit codes: 0 ok, 1 failure (storage cannot be opened, port taken), 2 usage or config error.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>

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

int Main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask.
  const sigset_t stop_signals = BlockStopSignals();

  CLI::App app{"steadfast-collector: receives agent reports and serves the Steadfast API and console"};
  std::string config_path = "/etc/steadfast/collector.yaml";
  bool check_config = false;
  bool version = false;
  app.add_option("-c,--config", config_path, "collector config file (YAML)")->capture_default_str();
  app.add_flag("--check-config", check_config, "validate the config and exit (0 valid, 2 not)");
  app.add_flag("--version", version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (version) {
    std::printf("steadfast-collector %s\n", kVersion);
    return kExitOk;
  }

  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  StatusOr<CollectorConfig> config = LoadCollectorConfig(config_path, *fs);
  if (!config.ok()) {
    std::fprintf(stderr, "steadfast-collector: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  if (check_config) {
    std::printf("%s: OK (listen %s:%u, %zu enrolment tokens)\n", config_path.c_str(), config->listen_host.c_str(),
                static_cast<unsigned>(config->listen_port), config->enrollment_tokens.size());
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

  WaitForStopSignal(stop_signals, "collector");
  (*server)->Shutdown();
  SF_LOG_INFO("stopped");
  return kExitOk;
}

}  // namespace
}  // namespace steadfast::collector

int main(int argc, char** argv) { return steadfast::collector::Main(argc, argv); }
