#include "agent/checks/dns_check.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <resolv.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/host_port.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using SteadyClock = std::chrono::steady_clock;

constexpr Millis kDeadlineMargin{20};

struct TypeName {
  int type;
  const char* name;
};
constexpr TypeName kTypes[] = {
    {ns_t_a, "A"},       {ns_t_aaaa, "AAAA"}, {ns_t_cname, "CNAME"}, {ns_t_mx, "MX"},
    {ns_t_txt, "TXT"},   {ns_t_ns, "NS"},     {ns_t_ptr, "PTR"},     {ns_t_soa, "SOA"},
    {ns_t_srv, "SRV"},   {ns_t_caa, "CAA"},   {ns_t_any, "ANY"}};

constexpr const char* kRcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                   "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                   "NXRRSET", "NOTAUTH", "NOTZONE"};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string NormaliseName(std::string s) {
  s = Lower(std::move(s));
  while (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

// A (possibly compressed) name at `p` inside the message -> text; false if malformed.
bool ExpandName(const ns_msg& msg, const uint8_t* p, std::string* out, const uint8_t** after) {
  char buf[NS_MAXDNAME];
  int n = ::dn_expand(ns_msg_base(msg), ns_msg_end(msg), p, buf, sizeof(buf));
  if (n < 0) return false;
  *out = NormaliseName(buf);
  if (out->empty()) *out = ".";
  if (after != nullptr) *after = p + n;
  return true;
}

// The record's data in presentation form.
std::string RdataText(const ns_msg& msg, const ns_rr& rr) {
  const uint8_t* d = ns_rr_rdata(rr);
  const size_t len = ns_rr_rdlen(rr);
  const uint8_t* end = d + len;
  char addr[INET6_ADDRSTRLEN];
  std::string name;
  switch (ns_rr_type(rr)) {
    case ns_t_a:
      if (len == 4 && ::inet_ntop(AF_INET, d, addr, sizeof(addr))) return addr;
      break;
    case ns_t_aaaa:
      if (len == 16 && ::inet_ntop(AF_INET6, d, addr, sizeof(addr))) return addr;
      break;
    case ns_t_cname:
    case ns_t_ns:
    case ns_t_ptr:
      if (ExpandName(msg, d, &name, nullptr)) return name;
      break;
    case ns_t_mx:
      if (len > 2 && ExpandName(msg, d + 2, &name, nullptr)) {
        return fmt::format("{} {}", Get16(d), name);
      }
      break;
    case ns_t_srv:
      if (len > 6 && ExpandName(msg, d + 6, &name, nullptr)) {
        return fmt::format("{} {} {} {}", Get16(d), Get16(d + 2), Get16(d + 4), name);
      }
      break;
    case ns_t_txt: {
      std::string text;
      const uint8_t* p = d;
      while (p < end) {
        size_t n = *p++;
        if (p + n > end) return "<malformed TXT>";
        text.append(reinterpret_cast<const char*>(p), n);
        p += n;
      }
      return SanitizeUtf8(text);
    }
    case ns_t_soa: {
      std::string mname, rname;
      const uint8_t* p = d;
      if (!ExpandName(msg, p, &mname, &p) || !ExpandName(msg, p, &rname, &p) || p + 20 > end) {
        break;
      }
      return fmt::format("{} {} {} {} {} {} {}", mname, rname, Get32(p), Get32(p + 4),
                         Get32(p + 8), Get32(p + 12), Get32(p + 16));
    }
    default:
      return fmt::format("<{} bytes>", len);
  }
  return "<malformed>";
}

// Server address as "127.0.0.1:5353" / "[::1]:53".
std::string ServerText(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof(host));
    return fmt::format("{}:{}", host, ntohs(a.sin_port));
  }
  const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
  ::inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof(host));
  return fmt::format("[{}]:{}", host, ntohs(a.sin6_port));
}

std::optional<sockaddr_storage> ParseServer(const std::string& text) {
  std::string host = text;
  uint16_t port = 53;
  const size_t colons = std::count(text.begin(), text.end(), ':');
  if (!text.empty() && text[0] == '[') {
    if (!SplitHostPort(text, &host, &port).ok()) return std::nullopt;
  } else if (colons == 1) {
    if (!SplitHostPort(text, &host, &port).ok()) return std::nullopt;
  }
  if (port == 0) return std::nullopt;
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return ss;
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return ss;
  }
  return std::nullopt;
}

socklen_t AddrLen(const sockaddr_storage& ss) {
  return ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on fd until `until`; false on timeout.
bool WaitFor(int fd, short events, SteadyClock::time_point until) {
  while (true) {
    auto left = std::chrono::ceil<Millis>(until - SteadyClock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Whether `answer` answers `query`: same ID, and the same question.
bool Answers(const DnsAnswer& answer, int id, const std::string& qname, int qtype) {
  return answer.id == id && answer.question_type == qtype && answer.question_name == qname;
}

struct Exchange {
  bool answered = false;
  std::string error;  // why not (for the summary)
  DnsAnswer answer;
  bool used_tcp = false;
};

Exchange AskUdp(const sockaddr_storage& server, const std::vector<uint8_t>& query, int id,
                const std::string& qname, int qtype, SteadyClock::time_point until) {
  Exchange ex;
  Fd fd(::socket(server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 ||
      ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server), AddrLen(server)) != 0) {
    ex.error = std::strerror(errno);
    return ex;
  }
  const SteadyClock::time_point start = SteadyClock::now();
  const SteadyClock::time_point resend = start + (until - start) / 2;
  bool resent = false;
  if (::send(fd.get(), query.data(), query.size(), 0) < 0) {
    ex.error = std::strerror(errno);
    return ex;
  }
  std::vector<uint8_t> buf(65'535);
  while (true) {
    SteadyClock::time_point wake = resent ? until : resend;
    if (!WaitFor(fd.get(), POLLIN, wake)) {
      if (!resent && SteadyClock::now() < until) {
        resent = true;
        ::send(fd.get(), query.data(), query.size(), 0);
        continue;
      }
      if (ex.error.empty()) ex.error = "timeout";
      return ex;
    }
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      // ECONNREFUSED: an ICMP port unreachable came back; nothing listens there.
      ex.error = errno == ECONNREFUSED ? "connection refused (nothing listens there)"
                                       : std::strerror(errno);
      if (errno == ECONNREFUSED) return ex;
      continue;
    }
    auto parsed = ParseDnsResponse(buf.data(), static_cast<size_t>(n));
    if (!parsed.ok() || !Answers(*parsed, id, qname, qtype)) continue;  // not ours
    ex.answered = true;
    ex.answer = std::move(parsed).value();
    return ex;
  }
}

Exchange AskTcp(const sockaddr_storage& server, const std::vector<uint8_t>& query, int id,
                const std::string& qname, int qtype, SteadyClock::time_point until) {
  Exchange ex;
  ex.used_tcp = true;
  Fd fd(::socket(server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    ex.error = std::strerror(errno);
    return ex;
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server), AddrLen(server)) != 0) {
    if (errno != EINPROGRESS) {
      ex.error = std::strerror(errno);
      return ex;
    }
    if (!WaitFor(fd.get(), POLLOUT, until)) {
      ex.error = "timeout connecting over TCP";
      return ex;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ex.error = fmt::format("TCP: {}", std::strerror(err));
      return ex;
    }
  }
  std::vector<uint8_t> framed = {static_cast<uint8_t>(query.size() >> 8),
                                 static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  size_t off = 0;
  while (off < framed.size()) {
    if (!WaitFor(fd.get(), POLLOUT, until)) {
      ex.error = "timeout sending over TCP";
      return ex;
    }
    ssize_t n = ::send(fd.get(), framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      ex.error = fmt::format("TCP: {}", std::strerror(errno));
      return ex;
    }
    if (n > 0) off += static_cast<size_t>(n);
  }
  std::vector<uint8_t> in;
  size_t want = 2;
  while (in.size() < want) {
    if (!WaitFor(fd.get(), POLLIN, until)) {
      ex.error = "timeout";
      return ex;
    }
    uint8_t buf[4096];
    ssize_t n = ::recv(fd.get(), buf, std::min(sizeof(buf), want - in.size()), 0);
    if (n == 0) {
      ex.error = "the server closed the TCP connection without an answer";
      return ex;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      ex.error = fmt::format("TCP: {}", std::strerror(errno));
      return ex;
    }
    in.insert(in.end(), buf, buf + n);
    if (want == 2 && in.size() == 2) {
      want = 2 + Get16(in.data());
    }
  }
  auto parsed = ParseDnsResponse(in.data() + 2, in.size() - 2);
  if (!parsed.ok() || !Answers(*parsed, id, qname, qtype)) {
    ex.error = "the TCP answer does not match the query";
    return ex;
  }
  ex.answered = true;
  ex.answer = std::move(parsed).value();
  return ex;
}

std::string LatencyText(double ms) {
  if (ms < 10) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.0f} ms", ms);
}

}  // namespace

std::optional<int> DnsTypeFromName(const std::string& name) {
  const std::string upper = [&] {
    std::string u = name;
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  }();
  for (const auto& t : kTypes) {
    if (upper == t.name) return t.type;
  }
  return std::nullopt;
}

std::string DnsTypeName(int type) {
  for (const auto& t : kTypes) {
    if (type == t.type) return t.name;
  }
  return fmt::format("TYPE{}", type);
}

std::string DnsRcodeName(int rcode) {
  if (rcode >= 0 && rcode < static_cast<int>(std::size(kRcodes))) return kRcodes[rcode];
  return fmt::format("RCODE{}", rcode);
}

std::optional<int> DnsRcodeFromName(const std::string& name) {
  for (int i = 0; i < static_cast<int>(std::size(kRcodes)); ++i) {
    if (strcasecmp(name.c_str(), kRcodes[i]) == 0) return i;
  }
  return std::nullopt;
}

StatusOr<DnsAnswer> ParseDnsResponse(const uint8_t* data, size_t size) {
  ns_msg msg;
  if (::ns_initparse(data, static_cast<int>(size), &msg) != 0) {
    return InvalidArgumentError("not a DNS message");
  }
  DnsAnswer out;
  out.id = ns_msg_id(msg);
  if (!ns_msg_getflag(msg, ns_f_qr)) return InvalidArgumentError("a query, not a response");
  out.rcode = ns_msg_getflag(msg, ns_f_rcode);
  out.truncated = ns_msg_getflag(msg, ns_f_tc) != 0;
  out.authoritative = ns_msg_getflag(msg, ns_f_aa) != 0;
  if (ns_msg_count(msg, ns_s_qd) != 1) return InvalidArgumentError("not exactly one question");
  ns_rr q;
  if (::ns_parserr(&msg, ns_s_qd, 0, &q) != 0) return InvalidArgumentError("bad question");
  out.question_name = NormaliseName(ns_rr_name(q));
  out.question_type = ns_rr_type(q);
  if (out.truncated) return out;  // the answer section may be cut anywhere
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (::ns_parserr(&msg, ns_s_an, i, &rr) != 0) return InvalidArgumentError("bad answer record");
    DnsRecord rec;
    rec.type = ns_rr_type(rr);
    rec.type_name = DnsTypeName(rec.type);
    rec.name = NormaliseName(ns_rr_name(rr));
    rec.ttl = ns_rr_ttl(rr);
    rec.value = RdataText(msg, rr);
    out.records.push_back(std::move(rec));
  }
  return out;
}

StatusOr<std::string> NormaliseDnsValue(int type, const std::string& text) {
  char buf[INET6_ADDRSTRLEN];
  if (type == ns_t_a || type == ns_t_aaaa) {
    const int family = type == ns_t_a ? AF_INET : AF_INET6;
    uint8_t addr[16];
    if (::inet_pton(family, text.c_str(), addr) != 1 ||
        ::inet_ntop(family, addr, buf, sizeof(buf)) == nullptr) {
      return InvalidArgumentError(fmt::format("'{}' is not an {} address", text,
                                              type == ns_t_a ? "IPv4" : "IPv6"));
    }
    return std::string(buf);
  }
  if (type == ns_t_cname || type == ns_t_ns || type == ns_t_ptr) return NormaliseName(text);
  if (type == ns_t_mx || type == ns_t_srv || type == ns_t_soa) {
    // Numbers as they are; names normalised; single spaces.
    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
      size_t j = text.find_first_of(" \t", i);
      std::string w = text.substr(i, j == std::string::npos ? std::string::npos : j - i);
      if (!w.empty()) words.push_back(NormaliseName(w));
      if (j == std::string::npos) break;
      i = j + 1;
    }
    const size_t want = type == ns_t_mx ? 2 : type == ns_t_srv ? 4 : 7;
    if (words.size() != want) {
      return InvalidArgumentError(fmt::format("'{}' is not a {} record ({} fields expected)", text,
                                              DnsTypeName(type), want));
    }
    return fmt::format("{}", fmt::join(words, " "));
  }
  return text;
}

std::vector<CheckResult> DnsCheck::Run(const CheckContext& ctx) {
  const DnsCheckOptions& o = options_;
  CheckResult r = NewResult(ctx, fmt::format("{} {}", o.query, DnsTypeName(o.type)));
  const SteadyClock::time_point start = SteadyClock::now();
  SteadyClock::time_point until = start + TimeLeft(ctx, o.timeout);
  if (ctx.deadline != SteadyClock::time_point{}) {
    // ctx.deadline is on ctx.clock's monotonic scale; the waits below use the real one.
    until = std::min(until, start + (ctx.deadline - ctx.clock.Monotonic()) - kDeadlineMargin);
  }

  struct __res_state state;
  std::memset(&state, 0, sizeof(state));
  if (::res_ninit(&state) != 0) {
    r.status = CheckStatus::kUnknown;
    r.summary = "cannot initialise the resolver library (res_ninit)";
    return {r};
  }
  std::vector<sockaddr_storage> servers;
  if (o.server) {
    servers.push_back(*o.server);
  } else {
    for (int i = 0; i < state.nscount && i < MAXNS; ++i) {
      sockaddr_storage ss{};
      if (state.nsaddr_list[i].sin_family == AF_INET) {
        std::memcpy(&ss, &state.nsaddr_list[i], sizeof(sockaddr_in));
        servers.push_back(ss);
      } else if (state._u._ext.nsaddrs[i] != nullptr) {
        std::memcpy(&ss, state._u._ext.nsaddrs[i], sizeof(sockaddr_in6));
        servers.push_back(ss);
      }
    }
  }
  std::vector<uint8_t> query(NS_PACKETSZ);
  int qlen = ::res_nmkquery(&state, ns_o_query, o.query.c_str(), ns_c_in, o.type, nullptr, 0,
                            nullptr, query.data(), static_cast<int>(query.size()));
  ::res_nclose(&state);
  if (qlen < 0) {
    r.status = CheckStatus::kUnknown;
    r.summary = fmt::format("cannot build a query for '{}'", o.query);
    return {r};
  }
  query.resize(static_cast<size_t>(qlen));
  if (!o.recursion_desired) query[2] &= static_cast<uint8_t>(~0x01);  // clear RD
  const int id = Get16(query.data());
  const std::string qname = NormaliseName(o.query);
  if (servers.empty()) {
    r.status = CheckStatus::kUnknown;
    r.summary = "no DNS server configured (resolv.conf lists none; set server)";
    return {r};
  }

  Exchange ex;
  std::string server_text;
  std::vector<std::string> failures;
  SteadyClock::time_point asked_at = start;
  for (size_t i = 0; i < servers.size(); ++i) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (now >= until) break;
    const SteadyClock::time_point share = now + (until - now) / static_cast<int>(servers.size() - i);
    server_text = ServerText(servers[i]);
    asked_at = now;
    ex = o.tcp ? AskTcp(servers[i], query, id, qname, o.type, share)
               : AskUdp(servers[i], query, id, qname, o.type, share);
    if (ex.answered && ex.answer.truncated && !o.tcp) {
      ex = AskTcp(servers[i], query, id, qname, o.type, share);
    }
    if (ex.answered) break;
    failures.push_back(fmt::format("{}: {}", server_text, ex.error));
  }
  const double ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - asked_at).count();
  r.duration_ms = std::chrono::duration_cast<Millis>(SteadyClock::now() - start).count();

  nlohmann::json details{{"query", o.query},
                         {"type", DnsTypeName(o.type)},
                         {"server", server_text},
                         {"protocol", ex.used_tcp ? "tcp" : "udp"}};
  if (!ex.answered) {
    r.status = CheckStatus::kCritical;
    const auto budget = std::chrono::ceil<Millis>(until - start);
    if (servers.size() == 1) {
      r.summary = ex.error == "timeout"
                      ? fmt::format("no answer from {} within {}", server_text, ShortDuration(budget))
                      : fmt::format("no answer from {}: {}", server_text, ex.error);
    } else {
      r.summary = fmt::format("no answer from any of {} servers within {} ({})", servers.size(),
                              ShortDuration(budget), fmt::join(failures, "; "));
    }
    details["errors"] = failures;
    r.details_json = details.dump();
    r.metrics.push_back({"dns_up", {}, 0, ""});
    return {r};
  }

  const DnsAnswer& a = ex.answer;
  std::vector<std::string> values;
  nlohmann::json records = nlohmann::json::array();
  for (const auto& rec : a.records) {
    records.push_back({{"name", rec.name}, {"type", rec.type_name}, {"ttl", rec.ttl},
                       {"value", rec.value}});
    if (rec.type == o.type || o.type == ns_t_any) values.push_back(rec.value);
  }
  details["rcode"] = DnsRcodeName(a.rcode);
  details["authoritative"] = a.authoritative;
  details["records"] = records;
  r.metrics.push_back({"dns_up", {}, 1, ""});
  r.metrics.push_back({"dns_lookup_seconds", {}, ms / 1000.0, "seconds"});
  r.metrics.push_back({"dns_rcode", {}, static_cast<double>(a.rcode), ""});
  r.metrics.push_back({"dns_answer_records", {}, static_cast<double>(values.size()), ""});

  std::vector<std::string> problems;
  CheckStatus status = CheckStatus::kOk;
  const std::string where = fmt::format("from {} in {}", server_text, LatencyText(ms));
  std::string what;
  if (a.rcode != o.expect_rcode) {
    status = CheckStatus::kCritical;
    problems.push_back(fmt::format("{} for {} {}{}", DnsRcodeName(a.rcode), o.query,
                                   DnsTypeName(o.type),
                                   o.expect_rcode == 0 ? ""
                                                       : fmt::format(", expected {}",
                                                                     DnsRcodeName(o.expect_rcode))));
    what = where;
  } else if (a.rcode != 0) {
    what = fmt::format("{} {}: {} as expected, {}", o.query, DnsTypeName(o.type),
                       DnsRcodeName(a.rcode), where);
  } else {
    if (values.empty()) {
      status = CheckStatus::kCritical;
      problems.push_back(fmt::format("no {} record for {} (NOERROR, empty answer)",
                                     DnsTypeName(o.type), o.query));
    }
    std::string shown = fmt::format("{}", fmt::join(values, ", "));
    if (shown.size() > 200) shown = shown.substr(0, 197) + "...";
    what = fmt::format("{} {} {} {}", o.query, DnsTypeName(o.type),
                       values.empty() ? "-" : shown, where);
  }
  if (!o.expect.empty() && a.rcode == o.expect_rcode) {
    std::set<std::string> got(values.begin(), values.end());
    std::vector<std::string> missing, present;
    for (const auto& e : o.expect) (got.count(e) ? present : missing).push_back(e);
    bool ok = false;
    std::string problem;
    switch (o.match) {
      case DnsCheckOptions::Match::kAll:
        ok = missing.empty();
        problem = fmt::format("missing {}", fmt::join(missing, ", "));
        break;
      case DnsCheckOptions::Match::kAny:
        ok = !present.empty();
        problem = fmt::format("none of {} in the answer", fmt::join(o.expect, ", "));
        break;
      case DnsCheckOptions::Match::kExact: {
        std::set<std::string> want(o.expect.begin(), o.expect.end());
        ok = want == got;
        std::vector<std::string> extra;
        for (const auto& g : got) {
          if (!want.count(g)) extra.push_back(g);
        }
        problem = missing.empty() ? fmt::format("unexpected {}", fmt::join(extra, ", "))
                  : extra.empty() ? fmt::format("missing {}", fmt::join(missing, ", "))
                                  : fmt::format("missing {}, unexpected {}", fmt::join(missing, ", "),
                                                fmt::join(extra, ", "));
        break;
      }
    }
    r.metrics.push_back({"dns_expected_ok", {}, ok ? 1.0 : 0.0, ""});
    if (!ok && !values.empty()) {
      status = CheckStatus::kCritical;
      problems.push_back(fmt::format("wrong answer: {}", problem));
    }
  }
  CheckStatus latency = o.latency_ms.Grade(ms);
  if (latency != CheckStatus::kOk) {
    double limit = latency == CheckStatus::kCritical ? *o.latency_ms.critical : *o.latency_ms.warning;
    problems.push_back(fmt::format("slow answer ({} >= {} ms)", LatencyText(ms), limit));
    status = protocol::WorseStatus(status, latency);
  }
  r.status = status;
  r.summary = problems.empty() ? what : fmt::format("{} ({})", fmt::join(problems, "; "), what);
  r.details_json = details.dump();
  return {r};
}

StatusOr<std::unique_ptr<Check>> NewDnsCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), {"query", "record_type", "server", "protocol", "expect",
                             "expect_match", "expect_rcode", "recursion_desired", "warning_ms",
                             "critical_ms"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  DnsCheckOptions o;
  o.timeout = Millis(spec.timeout_ms);
  if (!n["query"].present()) return n["query"].Error("required key is missing");
  SF_ASSIGN_OR_RETURN(o.query, n["query"].RequiredString());
  if (o.query.empty() || o.query.size() > 253) return n["query"].Error("not a domain name");
  SF_ASSIGN_OR_RETURN(std::string type, n["record_type"].String("A"));
  auto t = DnsTypeFromName(type);
  if (!t) {
    return n["record_type"].Error(fmt::format(
        "unknown record type '{}' (known: A, AAAA, CNAME, MX, TXT, NS, PTR, SOA, SRV, CAA, ANY)",
        type));
  }
  o.type = *t;
  if (o.type == ns_t_ptr) {
    // An address -> its reverse name.
    uint8_t addr[16];
    if (::inet_pton(AF_INET, o.query.c_str(), addr) == 1) {
      o.query = fmt::format("{}.{}.{}.{}.in-addr.arpa", addr[3], addr[2], addr[1], addr[0]);
    } else if (::inet_pton(AF_INET6, o.query.c_str(), addr) == 1) {
      std::string rev;
      for (int i = 15; i >= 0; --i) rev += fmt::format("{:x}.{:x}.", addr[i] & 0xf, addr[i] >> 4);
      o.query = rev + "ip6.arpa";
    }
  }
  {
    // The name must make a valid query.
    uint8_t buf[NS_PACKETSZ];
    if (::res_mkquery(ns_o_query, o.query.c_str(), ns_c_in, o.type, nullptr, 0, nullptr, buf,
                      sizeof(buf)) < 0) {
      return n["query"].Error(fmt::format("'{}' is not a valid domain name", o.query));
    }
  }
  if (n["server"].present()) {
    SF_ASSIGN_OR_RETURN(std::string server, n["server"].RequiredString());
    o.server = ParseServer(server);
    if (!o.server) {
      return n["server"].Error(fmt::format(
          "'{}' is not an IP address with an optional port (127.0.0.1, 127.0.0.1:5353, [::1]:53)",
          server));
    }
  }
  SF_ASSIGN_OR_RETURN(std::string protocol, n["protocol"].Enum({"udp", "tcp"}, "udp"));
  o.tcp = protocol == "tcp";
  SF_ASSIGN_OR_RETURN(o.recursion_desired, n["recursion_desired"].Bool(true));
  std::vector<std::string> expect;
  if (n["expect"].present()) {
    if (n["expect"].IsList()) {
      SF_ASSIGN_OR_RETURN(expect, n["expect"].StringList());
    } else {
      SF_ASSIGN_OR_RETURN(std::string one, n["expect"].RequiredString());
      expect.push_back(one);
    }
    if (expect.empty()) return n["expect"].Error("must not be empty");
  }
  for (const auto& e : expect) {
    auto norm = NormaliseDnsValue(o.type, e);
    if (!norm.ok()) return n["expect"].Error(norm.status().message());
    o.expect.push_back(*norm);
  }
  SF_ASSIGN_OR_RETURN(std::string match, n["expect_match"].Enum({"all", "any", "exact"}, "all"));
  o.match = match == "any"     ? DnsCheckOptions::Match::kAny
            : match == "exact" ? DnsCheckOptions::Match::kExact
                               : DnsCheckOptions::Match::kAll;
  SF_ASSIGN_OR_RETURN(std::string rcode, n["expect_rcode"].String("NOERROR"));
  auto rc = DnsRcodeFromName(rcode);
  if (!rc) return n["expect_rcode"].Error(fmt::format("unknown response code '{}'", rcode));
  o.expect_rcode = *rc;
  if (o.expect_rcode != 0 && !o.expect.empty()) {
    return n["expect"].Error(fmt::format("an {} answer has no records to expect",
                                         DnsRcodeName(o.expect_rcode)));
  }
  SF_ASSIGN_OR_RETURN(o.latency_ms,
                      ReadThresholds(n, "warning_ms", "critical_ms", 200.0, 1'000.0, 0, 3'600'000));
  return std::unique_ptr<Check>(std::make_unique<DnsCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
