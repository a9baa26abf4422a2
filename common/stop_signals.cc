#include "common/stop_signals.h"

#include <csignal>

#include "common/logging.h"

namespace steadfast {

sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

int WaitForStopSignal(const sigset_t& signals, std::string_view process, const std::function<void()>& on_hup) {
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP && on_hup) {
      on_hup();
      continue;
    }
    if (sig == SIGHUP) {
      SF_LOG_INFO("SIGHUP: the {} does not reload its config; restart it to apply changes", process);
      continue;
    }
    SF_LOG_INFO("signal {} received, stopping", sig);
    return sig;
  }
}

}  // namespace steadfast
