// Signal handling for our daemons' main(): no async handlers, no global flags.
#pragma once

#include <signal.h>

#include <string_view>

namespace steadfast {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it in main() before any
// thread exists, so every thread inherits the mask) and ignores SIGPIPE, so a peer closing
// a socket is an error return rather than the death of the process.
sigset_t BlockStopSignals();

// Waits until SIGINT or SIGTERM arrives. SIGHUP is logged (`process` names the binary) and
// ignored: our daemons do not reload config. Returns the stopping signal.
int WaitForStopSignal(const sigset_t& signals, std::string_view process);

}  // namespace steadfast
