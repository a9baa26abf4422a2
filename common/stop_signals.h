// Signal handling for our daemons' main(): no async handlers, no global flags.
#pragma once

#include <signal.h>

#include <functional>
#include <string_view>

namespace steadfast {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it in main() before any
// thread exists, so every thread inherits the mask) and ignores SIGPIPE, so a peer closing
// a socket is an error return rather than the death of the process.
sigset_t BlockStopSignals();

// Waits until SIGINT or SIGTERM arrives. SIGHUP calls `on_hup` (the collector reloads its
// alerting configuration); without one it is logged (`process` names the binary) and ignored.
// Returns the stopping signal.
int WaitForStopSignal(const sigset_t& signals, std::string_view process, const std::function<void()>& on_hup = {});

}  // namespace steadfast
