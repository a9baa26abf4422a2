#include "agent/checks/ping_check.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/icmp.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "agent/checks/icmp.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using SteadyClock = std::chrono::steady_clock;

// The run returns this long before ctx.deadline, to build its result in time.
constexpr Millis kDeadlineMargin{20};

uint64_t Random64() {
  uint64_t v = 0;
  if (::getrandom(&v, sizeof(v), 0) == static_cast<ssize_t>(sizeof(v))) return v;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

struct IcmpSocket {
  Fd fd;
  bool raw = false;
};

// Only echo replies and the errors that may quote our echoes reach a raw socket.
void FilterRaw(int fd, bool ipv6) {
  if (ipv6) {
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &filter);
    ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter));
  } else {
    icmp_filter filter{};
    filter.data = ~((1u << ICMP_ECHOREPLY) | (1u << ICMP_DEST_UNREACH) | (1u << ICMP_TIME_EXCEEDED));
    ::setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter));
  }
}

std::string PingGroupRange(const CheckContext& ctx) {
  auto range = ReadTrimmed(ctx.fs, ctx.proc_root + "/sys/net/ipv4/ping_group_range");
  if (!range.ok()) return "?";
  std::string text = *range;
  std::replace(text.begin(), text.end(), '\t', ' ');
  return text;
}

StatusOr<IcmpSocket> OpenIcmpSocket(int family, PingCheckOptions::Socket mode,
                                    const CheckContext& ctx) {
  const bool ipv6 = family == AF_INET6;
  const int proto = ipv6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  std::string dgram_problem, raw_problem;
  if (mode != PingCheckOptions::Socket::kRaw) {
    int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd >= 0) return IcmpSocket{Fd(fd), false};
    if (errno == EACCES || errno == EPERM) {
      dgram_problem = fmt::format(
          "unprivileged ICMP sockets are not allowed for group {} (net.ipv4.ping_group_range is "
          "\"{}\")",
          ::getegid(), PingGroupRange(ctx));
    } else {
      dgram_problem = fmt::format("unprivileged ICMP socket: {}", std::strerror(errno));
    }
  }
  if (mode != PingCheckOptions::Socket::kDgram) {
    int fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd >= 0) {
      FilterRaw(fd, ipv6);
      return IcmpSocket{Fd(fd), true};
    }
    if (errno == EACCES || errno == EPERM) {
      raw_problem = "raw ICMP sockets need CAP_NET_RAW, which the agent does not have";
    } else {
      raw_problem = fmt::format("raw ICMP socket: {}", std::strerror(errno));
    }
  }
  std::string why = dgram_problem.empty()   ? raw_problem
                    : raw_problem.empty()   ? dgram_problem
                                            : dgram_problem + ", and " + raw_problem;
  return UnavailableError("cannot open an ICMP socket: " + why);
}

std::string NumericAddress(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST] = {};
  if (::getnameinfo(sa, len, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) return "?";
  return host;
}

bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  }
  return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                     &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, sizeof(in6_addr)) == 0;
}

// "0.042", "1.25", "12.5", "250".
std::string Ms(double ms) {
  if (ms < 1) return fmt::format("{:.3f}", ms);
  if (ms < 10) return fmt::format("{:.2f}", ms);
  if (ms < 100) return fmt::format("{:.1f}", ms);
  return fmt::format("{:.0f}", ms);
}

std::string Percent(double p) {
  return p == std::floor(p) ? fmt::format("{:.0f}", p) : fmt::format("{:.1f}", p);
}

bool LocalSendError(int err) {
  return err == EPERM || err == EACCES || err == ENOBUFS || err == ENOMEM || err == EMSGSIZE ||
         err == EINVAL;
}

}  // namespace

std::vector<CheckResult> PingCheck::Run(const CheckContext& ctx) {
  CheckResult r = NewResult(ctx, options_.host);
  const auto& o = options_;

  addrinfo hints{};
  hints.ai_family = o.family == PingCheckOptions::Family::kIpv4   ? AF_INET
                    : o.family == PingCheckOptions::Family::kIpv6 ? AF_INET6
                                                                  : AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* list = nullptr;
  int gai = ::getaddrinfo(o.host.c_str(), nullptr, &hints, &list);
  if (gai != 0 || list == nullptr) {
    r.status = CheckStatus::kCritical;
    r.summary = fmt::format("cannot resolve {}: {}", o.host,
                            gai != 0 ? ::gai_strerror(gai) : "no address");
    return {r};
  }
  sockaddr_storage target{};
  socklen_t target_len = list->ai_addrlen;
  std::memcpy(&target, list->ai_addr, list->ai_addrlen);
  ::freeaddrinfo(list);
  const bool ipv6 = target.ss_family == AF_INET6;
  const std::string address = NumericAddress(reinterpret_cast<sockaddr*>(&target), target_len);
  const std::string who = address == o.host ? address : fmt::format("{} ({})", o.host, address);

  StatusOr<IcmpSocket> sock = OpenIcmpSocket(target.ss_family, o.socket, ctx);
  if (!sock.ok()) {
    r.status = CheckStatus::kUnknown;
    r.summary = sock.status().message();
    return {r};
  }
  const int fd = sock->fd.get();
  const bool raw = sock->raw;
  // A ping socket's kernel sets the identifier itself and hands us only replies carrying it.
  const uint16_t identifier = static_cast<uint16_t>(Random64());
  const uint16_t first_sequence = static_cast<uint16_t>(Random64());
  const uint64_t cookie = Random64();
  const std::vector<uint8_t> payload =
      icmp::MakePayload(cookie, static_cast<size_t>(o.packet_size));

  const int n = o.count;
  std::vector<SteadyClock::time_point> sent_at(n);
  std::vector<std::optional<double>> rtt_ms(n);
  std::vector<bool> settled(n, false);  // answered, or lost for sure (send error, ICMP error)
  int sent = 0, received = 0, duplicates = 0, icmp_errors = 0, outstanding = 0;
  int send_errno = 0, local_send_failures = 0;
  std::string icmp_error;
  const SteadyClock::time_point start = SteadyClock::now();
  // ctx.deadline is on ctx.clock's monotonic scale; the echoes are timed on the real one.
  const SteadyClock::time_point hard_end =
      ctx.deadline == SteadyClock::time_point{}
          ? SteadyClock::time_point::max()
          : start + (ctx.deadline - ctx.clock.Monotonic()) - kDeadlineMargin;
  SteadyClock::time_point last_sent = start;
  // Our replies and the errors quoting our echoes (IP headers with options: 2 x 60 bytes, two
  // ICMP headers) fit in this; anything larger is not ours
  // (and arrives truncated, failing the checksum or the cookie).
  std::vector<uint8_t> buf(160 + static_cast<size_t>(o.packet_size));

  while (true) {
    SteadyClock::time_point now = SteadyClock::now();
    if (now >= hard_end) break;
    if (sent < n && now >= start + sent * o.interval) {
      const int i = sent;
      std::vector<uint8_t> packet = icmp::BuildEchoRequest(
          ipv6, identifier, static_cast<uint16_t>(first_sequence + i), payload);
      sent_at[i] = SteadyClock::now();
      ssize_t rc = ::sendto(fd, packet.data(), packet.size(), 0,
                            reinterpret_cast<sockaddr*>(&target), target_len);
      if (rc < 0) {
        send_errno = errno;
        if (LocalSendError(errno)) ++local_send_failures;
        settled[i] = true;
      } else {
        ++outstanding;
      }
      last_sent = sent_at[i];
      ++sent;
      continue;
    }
    if (sent == n && (outstanding == 0 || now >= last_sent + o.wait)) break;
    SteadyClock::time_point wake = sent < n ? start + sent * o.interval : last_sent + o.wait;
    wake = std::min(wake, hard_end);
    auto wait_ms = std::chrono::ceil<Millis>(wake - now).count();
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(wait_ms, 0)));
    if (ready <= 0) continue;  // timeout, or EINTR: the loop re-reads the clock
    while (true) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof(from);
      ssize_t got = ::recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
      if (got < 0) break;
      const SteadyClock::time_point at = SteadyClock::now();
      auto m = icmp::Parse(buf.data(), static_cast<size_t>(got), ipv6, raw && !ipv6);
      if (!m) continue;
      auto index = icmp::Match(*m, /*check_identifier=*/raw, identifier, first_sequence, sent,
                               cookie);
      if (!index) continue;
      if (m->kind == icmp::Kind::kEchoReply) {
        if (!SameAddress(from, target)) continue;
        if (rtt_ms[*index]) {
          ++duplicates;
          continue;
        }
        if (settled[*index]) continue;  // an ICMP error came first; the reply is late news
        rtt_ms[*index] = std::chrono::duration<double, std::milli>(at - sent_at[*index]).count();
        settled[*index] = true;
        ++received;
        --outstanding;
      } else if (!settled[*index]) {
        settled[*index] = true;
        --outstanding;
        ++icmp_errors;
        icmp_error = fmt::format("{} from {}", icmp::ErrorText(*m, ipv6),
                                 NumericAddress(reinterpret_cast<sockaddr*>(&from), from_len));
      }
    }
  }
  r.duration_ms = std::chrono::duration_cast<Millis>(SteadyClock::now() - start).count();

  std::vector<double> rtts;
  for (const auto& v : rtt_ms) {
    if (v) rtts.push_back(*v);
  }
  nlohmann::json details{{"address", address},
                         {"socket", raw ? "raw" : "dgram"},
                         {"sent", sent},
                         {"received", received},
                         {"duplicates", duplicates},
                         {"icmp_errors", icmp_errors},
                         {"rtts_ms", rtts},
                         {"interval_ms", o.interval.count()},
                         {"packet_size", o.packet_size}};
  if (!icmp_error.empty()) details["last_icmp_error"] = icmp_error;
  if (send_errno != 0) details["send_error"] = std::strerror(send_errno);
  r.details_json = details.dump();

  if (sent == 0) {
    r.status = CheckStatus::kUnknown;
    r.summary = fmt::format("no echo sent to {}: the run's deadline had passed", who);
    return {r};
  }
  if (received == 0 && local_send_failures == sent) {
    r.status = CheckStatus::kUnknown;
    r.summary = fmt::format("cannot send ICMP echoes to {}: {}{}", who, std::strerror(send_errno),
                            send_errno == EPERM ? " (a local firewall rule?)" : "");
    return {r};
  }

  const double loss = 1.0 - static_cast<double>(received) / sent;
  r.metrics.push_back({"ping_packets_sent", {}, static_cast<double>(sent), "packets"});
  r.metrics.push_back({"ping_packets_received", {}, static_cast<double>(received), "packets"});
  r.metrics.push_back({"ping_loss_ratio", {}, loss, "ratio"});

  std::vector<std::string> problems;
  CheckStatus status = o.loss_percent.Grade(loss * 100.0);
  if (received == 0) status = CheckStatus::kCritical;
  if (status != CheckStatus::kOk && received > 0) {
    double limit = status == CheckStatus::kCritical ? *o.loss_percent.critical
                                                    : *o.loss_percent.warning;
    problems.push_back(fmt::format("loss >= {}%", Percent(limit)));
  }
  std::string summary;
  if (received == 0) {
    summary = fmt::format("no reply to {} echo{} to {} (100% loss)", sent, sent == 1 ? "" : "es",
                          who);
    if (!icmp_error.empty()) {
      summary += ": " + icmp_error;
    } else if (send_errno != 0) {
      summary += ": " + std::string(std::strerror(send_errno));
    }
  } else {
    const auto [min_it, max_it] = std::minmax_element(rtts.begin(), rtts.end());
    double sum = 0;
    for (double v : rtts) sum += v;
    const double avg = sum / static_cast<double>(rtts.size());
    double jitter = 0;
    for (size_t i = 1; i < rtts.size(); ++i) jitter += std::fabs(rtts[i] - rtts[i - 1]);
    if (rtts.size() > 1) jitter /= static_cast<double>(rtts.size() - 1);
    r.metrics.push_back({"ping_rtt_min_seconds", {}, *min_it / 1000.0, "seconds"});
    r.metrics.push_back({"ping_rtt_avg_seconds", {}, avg / 1000.0, "seconds"});
    r.metrics.push_back({"ping_rtt_max_seconds", {}, *max_it / 1000.0, "seconds"});
    r.metrics.push_back({"ping_jitter_seconds", {}, jitter / 1000.0, "seconds"});
    CheckStatus rtt_status = o.rtt_ms.Grade(avg);
    if (rtt_status != CheckStatus::kOk) {
      double limit = rtt_status == CheckStatus::kCritical ? *o.rtt_ms.critical : *o.rtt_ms.warning;
      problems.push_back(fmt::format("avg rtt >= {} ms", Ms(limit)));
    }
    status = protocol::WorseStatus(status, rtt_status);
    summary = fmt::format("{}/{} replies from {} ({}% loss), rtt min/avg/max {}/{}/{} ms, jitter {} ms",
                          received, sent, who, Percent(loss * 100.0), Ms(*min_it), Ms(avg),
                          Ms(*max_it), Ms(jitter));
    if (!icmp_error.empty()) summary += "; " + icmp_error;
  }
  if (sent < n) summary += fmt::format("; only {} of {} echoes sent before the deadline", sent, n);
  if (!problems.empty()) summary += fmt::format(" [{}]", fmt::join(problems, ", "));
  r.status = status;
  r.summary = std::move(summary);
  return {r};
}

StatusOr<std::unique_ptr<Check>> NewPingCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"host", "family", "count", "wait", "packet_size", "socket", "warning_loss_percent",
                "critical_loss_percent", "warning_rtt_ms", "critical_rtt_ms",
                // `interval` is the check's schedule (a common key): the echoes' spacing is
                // echo_interval.
                "echo_interval"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  PingCheckOptions o;
  if (!n["host"].present()) return n["host"].Error("required key is missing");
  SF_ASSIGN_OR_RETURN(o.host, n["host"].RequiredString());
  if (o.host.empty()) return n["host"].Error("must not be empty");
  SF_ASSIGN_OR_RETURN(std::string family, n["family"].Enum({"auto", "ipv4", "ipv6"}, "auto"));
  o.family = family == "ipv4"   ? PingCheckOptions::Family::kIpv4
             : family == "ipv6" ? PingCheckOptions::Family::kIpv6
                                : PingCheckOptions::Family::kAuto;
  SF_ASSIGN_OR_RETURN(std::string socket, n["socket"].Enum({"auto", "dgram", "raw"}, "auto"));
  o.socket = socket == "dgram" ? PingCheckOptions::Socket::kDgram
             : socket == "raw" ? PingCheckOptions::Socket::kRaw
                               : PingCheckOptions::Socket::kAuto;
  SF_ASSIGN_OR_RETURN(int64_t count, n["count"].Int(5, 1, 100));
  o.count = static_cast<int>(count);
  SF_ASSIGN_OR_RETURN(int64_t echo_interval, n["echo_interval"].DurationMillis(200, 10, 10'000));
  o.interval = Millis(echo_interval);
  SF_ASSIGN_OR_RETURN(int64_t wait, n["wait"].DurationMillis(1'000, 10, 60'000));
  o.wait = Millis(wait);
  SF_ASSIGN_OR_RETURN(int64_t size, n["packet_size"].Int(56, 8, 65'000));
  o.packet_size = static_cast<int>(size);
  SF_ASSIGN_OR_RETURN(o.loss_percent, ReadThresholds(n, "warning_loss_percent",
                                                     "critical_loss_percent", 20.0, 60.0, 0, 100));
  SF_ASSIGN_OR_RETURN(o.rtt_ms, ReadThresholds(n, "warning_rtt_ms", "critical_rtt_ms", 100.0,
                                               500.0, 0, 3'600'000));
  const int64_t needed = (count - 1) * echo_interval + wait;
  if (needed + kDeadlineMargin.count() > spec.timeout_ms) {
    return n["count"].Error(fmt::format(
        "{} echoes {} apart plus a wait of {} for the last reply take {}, which does not fit in "
        "the check's timeout of {}",
        count, ShortDuration(Millis(echo_interval)), ShortDuration(Millis(wait)),
        ShortDuration(Millis(needed)), ShortDuration(Millis(spec.timeout_ms))));
  }
  return std::unique_ptr<Check>(std::make_unique<PingCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
