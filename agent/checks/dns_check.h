// DnsCheck (type "dns"): asks a DNS server for `query` records of `record_type` and grades
// the answer: the response code, the records against `expect`, and the time it took.
//
// How: the query is built with glibc's resolver (res_nmkquery) and the answer parsed with
// ns_initparse/ns_parserr (<resolv.h>, <arpa/nameser.h>), but sent and received by this check
// on its own socket, so every wait is bounded by ctx.deadline to the millisecond (res_nsend's
// timeouts are whole seconds per try) and the latency is the server's alone. UDP, with the
// query retried over TCP when the answer comes back truncated; `protocol: tcp` uses TCP
// from the start. A reply counts only when its ID and question match the query's.
// Servers: `server` (an IP literal, optional port), else the system's resolvers from
// resolv.conf, tried in order until one answers, each with an equal share of the time left
// (and one UDP retransmission at half of its share).
//
// Config keys (besides name/type/interval/timeout):
//   query (required): the name to look up, absolute (no search domains; a trailing dot is
//     optional); for PTR an IP address is turned into its in-addr.arpa/ip6.arpa name,
//   record_type: A (default), AAAA, CNAME, MX, TXT, NS, PTR, SOA, SRV, CAA... any of those,
//   server: "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353" (default: resolv.conf's),
//   protocol: udp (default) | tcp,
//   expect: one answer or a list, in the presentation form of the record type:
//     A "192.0.2.1", AAAA "2001:db8::1" (any spelling), CNAME/NS/PTR "host.example" (trailing
//     dot and case do not matter), MX "10 mail.example", TXT the text (a record's strings
//     joined), SOA "mname rname serial refresh retry expire minimum", SRV "prio weight port
//     target",
//   expect_match: all (default: every expected answer must be among the records; others may
//     be there too, as in a round-robin pool) | any (at least one) | exact (the same set),
//   expect_rcode: NOERROR (default) | NXDOMAIN | SERVFAIL | REFUSED ... ("the name must not
//     exist" is `expect_rcode: NXDOMAIN`),
//   recursion_desired (true), warning_ms / critical_ms on the lookup time (default 200 / 1000).
// Status: no answer from any server -> critical ("no answer from 127.0.0.1:5353 within 2 s");
// an rcode other than expect_rcode -> critical (NXDOMAIN, SERVFAIL, REFUSED named); NOERROR
// with no record of the type -> critical; expect not met -> critical, naming what was got
// and what was missing; latency thresholds -> warning/critical. Unknown: no resolver
// configured, a socket that cannot be opened.
// Metrics: dns_lookup_seconds, dns_rcode (the numeric code), dns_answer_records (records of
// the asked type), dns_expected_ok (1/0, with expect). details_json has the server, rcode,
// every answer record (the CNAME chain too), authoritative/truncated flags and the protocol.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct DnsRecord {
  int type = 0;          // ns_t_a, ...
  std::string type_name; // "A"
  std::string name;      // owner, lower case, no trailing dot
  uint32_t ttl = 0;
  std::string value;     // presentation form (see DnsCheck's header), normalised
};

struct DnsAnswer {
  int id = 0;
  int rcode = 0;
  bool truncated = false;
  bool authoritative = false;
  std::string question_name;  // lower case, no trailing dot
  int question_type = 0;
  std::vector<DnsRecord> records;  // the answer section
};

// Parses a DNS response message. InvalidArgument when it is not one.
StatusOr<DnsAnswer> ParseDnsResponse(const uint8_t* data, size_t size);

// "A" -> ns_t_a ... (case-insensitive); nullopt for an unknown name.
std::optional<int> DnsTypeFromName(const std::string& name);
std::string DnsTypeName(int type);
// "NOERROR", "NXDOMAIN", ... for an rcode; "RCODE12" for others.
std::string DnsRcodeName(int rcode);
std::optional<int> DnsRcodeFromName(const std::string& name);

// The normalised form of an expected answer for `type` (see the header), or InvalidArgument.
StatusOr<std::string> NormaliseDnsValue(int type, const std::string& text);

struct DnsCheckOptions {
  enum class Match { kAll, kAny, kExact };
  std::string query;
  int type = 1;  // ns_t_a
  // The server to ask; unset: the system's resolvers.
  std::optional<sockaddr_storage> server;
  bool tcp = false;
  bool recursion_desired = true;
  std::vector<std::string> expect;  // normalised
  Match match = Match::kAll;
  int expect_rcode = 0;  // NOERROR
  Millis timeout{10'000};
  Thresholds latency_ms{200.0, 1'000.0};
};

class DnsCheck final : public Check {
 public:
  DnsCheck(std::string name, DnsCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  DnsCheckOptions options_;
};

// Factory for type "dns".
StatusOr<std::unique_ptr<Check>> NewDnsCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
