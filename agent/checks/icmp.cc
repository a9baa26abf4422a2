#include "agent/checks/icmp.h"

namespace steadfast::agent::icmp {
namespace {

constexpr uint8_t kEchoRequest4 = 8, kEchoReply4 = 0, kUnreachable4 = 3, kTimeExceeded4 = 11;
constexpr uint8_t kEchoRequest6 = 128, kEchoReply6 = 129, kUnreachable6 = 1, kTimeExceeded6 = 3;
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoIcmpv6 = 58;

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint64_t Be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// Reads the echo header (and cookie) at `p`; `expected_type` is the echo type it must have.
std::optional<Message> ReadEcho(const uint8_t* p, size_t size, uint8_t expected_type) {
  if (size < kHeaderSize || p[0] != expected_type) return std::nullopt;
  Message m;
  m.identifier = Be16(p + 4);
  m.sequence = Be16(p + 6);
  if (size >= kHeaderSize + kCookieSize) m.cookie = Be64(p + kHeaderSize);
  return m;
}

}  // namespace

uint16_t Checksum(const uint8_t* data, size_t size) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < size; i += 2) sum += Be16(data + i);
  if (size % 2 == 1) sum += static_cast<uint32_t>(data[size - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> MakePayload(uint64_t cookie, size_t size) {
  std::vector<uint8_t> payload(size < kCookieSize ? kCookieSize : size);
  for (size_t i = 0; i < kCookieSize; ++i) {
    payload[i] = static_cast<uint8_t>(cookie >> (8 * (kCookieSize - 1 - i)));
  }
  for (size_t i = kCookieSize; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
  return payload;
}

std::vector<uint8_t> BuildEchoRequest(bool ipv6, uint16_t identifier, uint16_t sequence,
                                      const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> packet(kHeaderSize + payload.size());
  packet[0] = ipv6 ? kEchoRequest6 : kEchoRequest4;
  packet[1] = 0;
  packet[4] = static_cast<uint8_t>(identifier >> 8);
  packet[5] = static_cast<uint8_t>(identifier);
  packet[6] = static_cast<uint8_t>(sequence >> 8);
  packet[7] = static_cast<uint8_t>(sequence);
  for (size_t i = 0; i < payload.size(); ++i) packet[kHeaderSize + i] = payload[i];
  if (!ipv6) {
    uint16_t sum = Checksum(packet);
    packet[2] = static_cast<uint8_t>(sum >> 8);
    packet[3] = static_cast<uint8_t>(sum);
  }
  return packet;
}

std::optional<Message> Parse(const uint8_t* data, size_t size, bool ipv6,
                             bool ip_header_included) {
  if (!ipv6 && ip_header_included) {
    if (size < kIpv4MinHeader || (data[0] >> 4) != 4 || data[9] != kProtoIcmp) return std::nullopt;
    size_t ihl = static_cast<size_t>(data[0] & 0x0f) * 4;
    if (ihl < kIpv4MinHeader || ihl > size) return std::nullopt;
    data += ihl;
    size -= ihl;
  }
  if (size < kHeaderSize) return std::nullopt;
  if (!ipv6 && Checksum(data, size) != 0) return std::nullopt;
  const uint8_t type = data[0];
  const uint8_t reply = ipv6 ? kEchoReply6 : kEchoReply4;
  if (type == reply) {
    if (data[1] != 0) return std::nullopt;
    return ReadEcho(data, size, reply);
  }
  Kind kind;
  if (type == (ipv6 ? kUnreachable6 : kUnreachable4)) {
    kind = Kind::kUnreachable;
  } else if (type == (ipv6 ? kTimeExceeded6 : kTimeExceeded4)) {
    kind = Kind::kTimeExceeded;
  } else {
    return std::nullopt;
  }
  // The quoted packet: the original IP header, then (the start of) our echo request.
  const uint8_t* quote = data + kHeaderSize;
  size_t left = size - kHeaderSize;
  if (ipv6) {
    if (left < kIpv6Header || (quote[0] >> 4) != 6 || quote[6] != kProtoIcmpv6) return std::nullopt;
    quote += kIpv6Header;
    left -= kIpv6Header;
  } else {
    if (left < kIpv4MinHeader || (quote[0] >> 4) != 4 || quote[9] != kProtoIcmp) return std::nullopt;
    size_t ihl = static_cast<size_t>(quote[0] & 0x0f) * 4;
    if (ihl < kIpv4MinHeader || ihl > left) return std::nullopt;
    quote += ihl;
    left -= ihl;
  }
  std::optional<Message> m = ReadEcho(quote, left, ipv6 ? kEchoRequest6 : kEchoRequest4);
  if (!m) return std::nullopt;
  m->kind = kind;
  m->code = data[1];
  return m;
}

std::optional<int> Match(const Message& m, bool check_identifier, uint16_t identifier,
                         uint16_t first_sequence, int count, uint64_t cookie) {
  if (check_identifier && m.identifier != identifier) return std::nullopt;
  const int index = static_cast<uint16_t>(m.sequence - first_sequence);
  if (index >= count) return std::nullopt;
  if (m.cookie) {
    if (*m.cookie != cookie) return std::nullopt;
  } else if (m.kind == Kind::kEchoReply) {
    return std::nullopt;  // our replies always carry the cookie
  }
  return index;
}

std::string ErrorText(const Message& m, bool ipv6) {
  if (m.kind == Kind::kEchoReply) return "echo reply";
  if (m.kind == Kind::kTimeExceeded) {
    return m.code == 0 ? (ipv6 ? "hop limit exceeded in transit" : "TTL exceeded in transit")
                       : "fragment reassembly time exceeded";
  }
  if (ipv6) {
    switch (m.code) {
      case 0: return "no route to destination";
      case 1: return "communication administratively prohibited";
      case 3: return "address unreachable";
      case 4: return "port unreachable";
      default: return "destination unreachable (code " + std::to_string(m.code) + ")";
    }
  }
  switch (m.code) {
    case 0: return "network unreachable";
    case 1: return "host unreachable";
    case 2: return "protocol unreachable";
    case 3: return "port unreachable";
    case 4: return "fragmentation needed";
    case 9:
    case 10:
    case 13: return "communication administratively prohibited";
    default: return "destination unreachable (code " + std::to_string(m.code) + ")";
  }
}

}  // namespace steadfast::agent::icmp
