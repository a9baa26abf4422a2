#include "agent/testing/fake_command_runner.h"

#include <signal.h>

#include <algorithm>
#include <string_view>

#include "agent/posix_command_runner.h"

namespace steadfast::agent::testing {
namespace {

void Cut(std::string* s, bool* truncated, size_t max) {
  if (s->size() > max) {
    s->resize(max);
    *truncated = true;
  }
}

}  // namespace

void FakeCommandRunner::Script(std::vector<std::string> argv, FakeOutcome outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  scripted_.insert_or_assign(std::move(argv), std::move(outcome));
}

void FakeCommandRunner::ScriptError(std::vector<std::string> argv, Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  scripted_.insert_or_assign(std::move(argv), StatusOr<FakeOutcome>(std::move(error)));
}

void FakeCommandRunner::AddProgram(std::string path, FakeBehaviour behaviour) {
  std::lock_guard<std::mutex> lock(mu_);
  programs_.insert_or_assign(std::move(path), std::move(behaviour));
}

void FakeCommandRunner::AddNonExecutable(std::string path) {
  std::lock_guard<std::mutex> lock(mu_);
  non_executable_.insert(std::move(path));
}

bool FakeCommandRunner::KnownLocked(const std::string& path) const {
  if (programs_.count(path) != 0 || non_executable_.count(path) != 0) return true;
  return std::any_of(scripted_.begin(), scripted_.end(),
                     [&](const auto& entry) { return entry.first.front() == path; });
}

std::string FakeCommandRunner::ResolveLocked(const std::string& program) const {
  if (program.front() == '/') return KnownLocked(program) ? program : "";
  std::string_view dirs(kCommandPath);
  std::string denied;
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string path = std::string(dirs.substr(0, colon)) + "/" + program;
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (non_executable_.count(path) != 0) {
      // Like execvp: a non-executable match is remembered, the search goes on.
      if (denied.empty()) denied = path;
      continue;
    }
    if (KnownLocked(path)) return path;
  }
  return denied;
}

StatusOr<CommandResult> FakeCommandRunner::Run(const CommandRequest& request) {
  std::unique_lock<std::mutex> lock(mu_);
  calls_.push_back(request);
  SF_RETURN_IF_ERROR(ValidateCommandRequest(request));
  const std::string& program = request.argv.front();
  StatusOr<FakeOutcome> outcome = FakeOutcome{};
  auto exact = scripted_.find(request.argv);
  const std::string path = ResolveLocked(program);
  if (exact == scripted_.end() && !path.empty()) {
    std::vector<std::string> resolved = request.argv;
    resolved.front() = path;
    exact = scripted_.find(resolved);
  }
  if (exact != scripted_.end()) {
    outcome = exact->second;
  } else if (path.empty()) {
    return NotFoundError(program + ": no such program");
  } else if (non_executable_.count(path) != 0) {
    return PermissionDeniedError(path + ": not an executable file");
  } else if (auto p = programs_.find(path); p != programs_.end()) {
    FakeBehaviour behaviour = p->second;
    lock.unlock();  // the behaviour may be slow or call back into the test
    outcome = behaviour(request, CommandEnvironment(request));
  } else {
    // The program is described, but only for other arguments: a gap in the test's script.
    std::string line;
    for (const std::string& a : request.argv) line += (line.empty() ? "" : " ") + a;
    return UnimplementedError("FakeCommandRunner: nothing scripted for '" + line + "'");
  }
  if (!outcome.ok()) return outcome.status();

  CommandResult r;
  const FakeOutcome& o = *outcome;
  r.out = o.out;
  r.err = o.err;
  if (o.runs_for > request.timeout) {
    r.timed_out = true;
    r.exit_code = -1;
    r.term_signal = o.ignores_sigterm ? SIGKILL : SIGTERM;
    r.duration_ms = request.timeout.count() +
                    (o.ignores_sigterm ? std::chrono::milliseconds(kCommandKillGrace).count() : 0);
  } else {
    r.exit_code = o.term_signal != 0 ? -1 : o.exit_code;
    r.term_signal = o.term_signal;
    r.duration_ms = o.runs_for.count();
  }
  Cut(&r.out, &r.out_truncated, request.max_output_bytes);
  Cut(&r.err, &r.err_truncated, request.max_output_bytes);
  return r;
}

std::vector<CommandRequest> FakeCommandRunner::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

size_t FakeCommandRunner::call_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_.size();
}

std::vector<std::string> FakeCommandRunner::call_lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> lines;
  for (const CommandRequest& c : calls_) {
    std::string line;
    for (const std::string& a : c.argv) {
      if (!line.empty()) line += ' ';
      line += a;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace steadfast::agent::testing
