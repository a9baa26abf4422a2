// ICMP/ICMPv6 echo packets as the ping check sends and reads them: building, the internet
// checksum, parsing what a socket returned, and deciding whether a packet answers one of our
// echoes. Pure functions on bytes, no sockets, so every case is unit-tested
// (icmp_test.cc).
//
// Matching: a raw ICMP socket sees every ICMP message the host receives, including replies to
// other programs' pings and to other ping checks running in other threads of this agent, and
// an unprivileged (SOCK_DGRAM) socket may be handed replies by identifier only. So an echo of
// ours carries a per-run random 64-bit cookie as the first 8 payload bytes, and a reply
// counts only when its identifier (if we know it), its sequence number (one we sent) and its
// cookie all match. An ICMP error (destination unreachable, time exceeded) quotes the start of
// our echo; it counts when the quoted identifier, sequence and cookie match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace steadfast::agent::icmp {

// Bytes of the ICMP header (type, code, checksum, identifier, sequence) and of the cookie.
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kCookieSize = 8;

// RFC 1071 one's-complement sum of `data`, complemented; 0 sums to 0xffff. A packet whose
// checksum field is set correctly checksums to 0.
uint16_t Checksum(const uint8_t* data, size_t size);
inline uint16_t Checksum(const std::vector<uint8_t>& data) {
  return Checksum(data.data(), data.size());
}

// `size` payload bytes: the cookie (big-endian) and then a fixed pattern. size >= kCookieSize.
std::vector<uint8_t> MakePayload(uint64_t cookie, size_t size);

// An echo request (ICMP type 8, or ICMPv6 type 128) with `payload`. For IPv4 the checksum is
// computed here (a raw socket sends it as is); for ICMPv6 it is left 0 because it covers the
// IPv6 pseudo-header, which the kernel fills in on both raw and ping sockets.
std::vector<uint8_t> BuildEchoRequest(bool ipv6, uint16_t identifier, uint16_t sequence,
                                      const std::vector<uint8_t>& payload);

enum class Kind {
  kEchoReply,    // an answer to an echo request
  kUnreachable,  // destination unreachable, quoting an echo request
  kTimeExceeded, // TTL/hop limit exceeded on the way, quoting an echo request
};

struct Message {
  Kind kind = Kind::kEchoReply;
  uint8_t code = 0;          // ICMP code (for errors: which unreachable)
  uint16_t identifier = 0;   // of the echo (quoted one for errors)
  uint16_t sequence = 0;
  std::optional<uint64_t> cookie;  // first 8 payload bytes, when present
};

// Parses one datagram as read from an ICMP socket. `ip_header_included`: the bytes start with
// the IPv4 header (raw IPv4 sockets); ping sockets and all ICMPv6 sockets deliver the ICMP
// message alone. Returns nullopt for anything that is not an echo reply or an error quoting an
// echo request, for truncated packets, and for IPv4 packets whose checksum is wrong (the
// kernel verifies ICMPv6 checksums itself).
std::optional<Message> Parse(const uint8_t* data, size_t size, bool ipv6, bool ip_header_included);

// Whether `m` answers (or reports the loss of) an echo of this run: identifier (unless
// `check_identifier` is false: a ping socket's kernel rewrites it and demultiplexes by it),
// a sequence number in [first_sequence, first_sequence + count) (mod 2^16), and the cookie.
// An error message whose quote is too short to hold the cookie is accepted on identifier and
// sequence alone. Returns the echo's index (0-based) or nullopt.
std::optional<int> Match(const Message& m, bool check_identifier, uint16_t identifier,
                         uint16_t first_sequence, int count, uint64_t cookie);

// "host unreachable", "port unreachable", "TTL exceeded in transit", ... for a summary.
std::string ErrorText(const Message& m, bool ipv6);

}  // namespace steadfast::agent::icmp
