#include "agent/checks/tcp_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "agent/host_port.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;

struct AttemptResult {
  bool connected = false;
  bool timed_out = false;
  int error = 0;        // errno of the failure when !connected && !timed_out
  Millis elapsed{0};    // time of the successful (or last) attempt
  std::string address;  // numeric address tried last
};

std::string NumericAddress(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST] = {};
  if (::getnameinfo(sa, len, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) return "?";
  return host;
}

// One non-blocking connect to `ai`, waiting at most `budget`.
AttemptResult ConnectOnce(const addrinfo* ai, Millis budget, const Clock& clock) {
  AttemptResult out;
  out.address = NumericAddress(ai->ai_addr, ai->ai_addrlen);
  const auto start = clock.Monotonic();
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    out.error = errno;
    return out;
  }
  int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc == 0) {
    out.connected = true;
  } else if (errno != EINPROGRESS) {
    out.error = errno;
  } else {
    while (true) {
      auto spent = std::chrono::duration_cast<Millis>(clock.Monotonic() - start);
      auto left = budget - spent;
      if (left.count() <= 0) {
        out.timed_out = true;
        break;
      }
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        out.error = errno;
        break;
      }
      if (n == 0) {
        out.timed_out = true;
        break;
      }
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
      if (so_error == 0) {
        out.connected = true;
      } else {
        out.error = so_error;
      }
      break;
    }
  }
  out.elapsed = std::chrono::duration_cast<Millis>(clock.Monotonic() - start);
  ::close(fd);
  return out;
}

}  // namespace

std::string TcpCheck::Target() const {
  if (options_.host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", options_.host, options_.port);
  }
  return fmt::format("{}:{}", options_.host, options_.port);
}

std::vector<CheckResult> TcpCheck::Run(const CheckContext& ctx) {
  CheckResult r = NewResult(ctx, Target());
  const auto start = ctx.clock.Monotonic();
  // The connect timeout, cut to what is left of the run's deadline.
  const Millis limit = TimeLeft(ctx, options_.timeout);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(options_.port);
  int gai = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &list);
  if (gai != 0) {
    r.status = CheckStatus::kCritical;
    r.summary = fmt::format("cannot resolve {}: {}", options_.host, ::gai_strerror(gai));
    r.metrics.push_back({"tcp_up", {}, 0, ""});
    return {r};
  }
  AttemptResult last;
  int tried = 0;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto spent = std::chrono::duration_cast<Millis>(ctx.clock.Monotonic() - start);
    Millis budget = limit - spent;
    if (budget.count() <= 0) {
      last.timed_out = true;
      break;
    }
    last = ConnectOnce(ai, budget, ctx.clock);
    ++tried;
    if (last.connected) break;
  }
  ::freeaddrinfo(list);

  r.details_json = nlohmann::json{{"address", last.address}, {"addresses_tried", tried}}.dump();
  if (last.connected) {
    const double ms = static_cast<double>(last.elapsed.count());
    r.duration_ms = last.elapsed.count();
    r.metrics.push_back({"tcp_up", {}, 1, ""});
    r.metrics.push_back({"tcp_connect_seconds", {}, ms / 1000.0, "seconds"});
    r.status = options_.latency_ms.Grade(ms);
    r.summary = fmt::format("connected to {} in {} ms", last.address, last.elapsed.count());
    return {r};
  }
  r.metrics.push_back({"tcp_up", {}, 0, ""});
  r.status = CheckStatus::kCritical;
  if (last.timed_out) {
    r.summary = fmt::format("connection timed out after {} ms{}", limit.count(),
                            last.address.empty() ? "" : " (" + last.address + ")");
  } else {
    r.summary = fmt::format("{} ({})", SocketErrorText(last.error), last.address);
  }
  return {r};
}

StatusOr<std::unique_ptr<Check>> NewTcpCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), {"target", "host", "port", "timeout", "warning_ms", "critical_ms"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  TcpCheckOptions o;
  if (n["target"].present()) {
    if (n["host"].present() || n["port"].present()) {
      return n["target"].Error("set either target or host and port, not both");
    }
    SF_ASSIGN_OR_RETURN(std::string target, n["target"].RequiredString());
    Status st = SplitHostPort(target, &o.host, &o.port);
    if (!st.ok()) return n["target"].Error(st.message());
    if (o.port == 0) return n["target"].Error("port must be between 1 and 65535");
  } else {
    if (!n["host"].present()) {
      return n["host"].Error("required key is missing (or set target: host:port)");
    }
    SF_ASSIGN_OR_RETURN(o.host, n["host"].RequiredString());
    if (!n["port"].present()) return n["port"].Error("required key is missing");
    SF_ASSIGN_OR_RETURN(int64_t port, n["port"].Int(0, 1, 65535));
    o.port = static_cast<uint16_t>(port);
  }
  SF_ASSIGN_OR_RETURN(int64_t timeout_ms, n["timeout"].DurationMillis(5'000, 10, 60'000));
  o.timeout = Millis(timeout_ms);
  SF_ASSIGN_OR_RETURN(o.latency_ms,
                      ReadThresholds(n, "warning_ms", "critical_ms", 500.0, 2'000.0, 0, 3'600'000));
  return std::unique_ptr<Check>(std::make_unique<TcpCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
