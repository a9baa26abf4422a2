#include "agent/checks/icmp.h"

#include <gtest/gtest.h>

namespace steadfast::agent::icmp {
namespace {

constexpr uint64_t kCookie = 0x0123456789abcdefULL;

// The reply a peer would send to `request`: the type flipped, the checksum redone (IPv4).
std::vector<uint8_t> ReplyTo(std::vector<uint8_t> request, bool ipv6) {
  request[0] = ipv6 ? 129 : 0;
  request[2] = request[3] = 0;
  if (!ipv6) {
    uint16_t sum = Checksum(request);
    request[2] = static_cast<uint8_t>(sum >> 8);
    request[3] = static_cast<uint8_t>(sum);
  }
  return request;
}

// A minimal IPv4 header (protocol ICMP) in front of `payload`.
std::vector<uint8_t> WithIpv4Header(const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(20, 0);
  out[0] = 0x45;
  out[9] = 1;
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// An ICMP error of `type`/`code` quoting `quoted` (an IP header and the start of the echo).
std::vector<uint8_t> ErrorQuoting(uint8_t type, uint8_t code, const std::vector<uint8_t>& quoted,
                                  bool ipv6) {
  std::vector<uint8_t> out = {type, code, 0, 0, 0, 0, 0, 0};
  out.insert(out.end(), quoted.begin(), quoted.end());
  if (!ipv6) {
    uint16_t sum = Checksum(out);
    out[2] = static_cast<uint8_t>(sum >> 8);
    out[3] = static_cast<uint8_t>(sum);
  }
  return out;
}

TEST(IcmpTest, ChecksumMatchesRfc1071Example) {
  // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (one's complement: 220d).
  std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(Checksum(data), 0x220d);
  // An odd length pads with a zero byte.
  std::vector<uint8_t> odd = {0x00, 0x01, 0xf2};
  EXPECT_EQ(Checksum(odd), static_cast<uint16_t>(~(0x0001 + 0xf200)));
  EXPECT_EQ(Checksum(nullptr, 0), 0xffff);
}

TEST(IcmpTest, EchoRequestLayout) {
  auto payload = MakePayload(kCookie, 56);
  ASSERT_EQ(payload.size(), 56u);
  EXPECT_EQ(payload[0], 0x01);
  EXPECT_EQ(payload[7], 0xef);
  auto v4 = BuildEchoRequest(false, 0xbeef, 0x0102, payload);
  ASSERT_EQ(v4.size(), 64u);
  EXPECT_EQ(v4[0], 8);
  EXPECT_EQ(v4[1], 0);
  EXPECT_EQ(v4[4], 0xbe);
  EXPECT_EQ(v4[5], 0xef);
  EXPECT_EQ(v4[6], 0x01);
  EXPECT_EQ(v4[7], 0x02);
  EXPECT_EQ(Checksum(v4), 0) << "a correct checksum field sums the packet to zero";
  auto v6 = BuildEchoRequest(true, 1, 2, payload);
  EXPECT_EQ(v6[0], 128);
  EXPECT_EQ(v6[2], 0);  // the kernel fills the ICMPv6 checksum
  EXPECT_EQ(v6[3], 0);
  EXPECT_EQ(MakePayload(kCookie, 3).size(), kCookieSize) << "never shorter than the cookie";
}

TEST(IcmpTest, ParsesEchoRepliesWithAndWithoutIpHeader) {
  auto request = BuildEchoRequest(false, 7, 9, MakePayload(kCookie, 56));
  auto reply = ReplyTo(request, false);
  for (bool with_header : {false, true}) {
    auto bytes = with_header ? WithIpv4Header(reply) : reply;
    auto m = Parse(bytes.data(), bytes.size(), false, with_header);
    ASSERT_TRUE(m.has_value()) << with_header;
    EXPECT_EQ(m->kind, Kind::kEchoReply);
    EXPECT_EQ(m->identifier, 7);
    EXPECT_EQ(m->sequence, 9);
    ASSERT_TRUE(m->cookie.has_value());
    EXPECT_EQ(*m->cookie, kCookie);
  }
  auto v6 = ReplyTo(BuildEchoRequest(true, 7, 9, MakePayload(kCookie, 8)), true);
  auto m6 = Parse(v6.data(), v6.size(), true, false);
  ASSERT_TRUE(m6.has_value());
  EXPECT_EQ(m6->sequence, 9);
  EXPECT_EQ(*m6->cookie, kCookie);
}

TEST(IcmpTest, RejectsWhatIsNotOurKindOfReply) {
  auto request = BuildEchoRequest(false, 7, 9, MakePayload(kCookie, 56));
  // Our own request (a raw socket on loopback sees it too) is not a reply.
  EXPECT_FALSE(Parse(request.data(), request.size(), false, false).has_value());
  auto reply = ReplyTo(request, false);
  auto corrupt = reply;
  corrupt[20] ^= 0xff;
  EXPECT_FALSE(Parse(corrupt.data(), corrupt.size(), false, false).has_value()) << "bad checksum";
  EXPECT_FALSE(Parse(reply.data(), 7, false, false).has_value()) << "truncated";
  auto with_header = WithIpv4Header(reply);
  with_header[9] = 17;  // UDP
  EXPECT_FALSE(Parse(with_header.data(), with_header.size(), false, true).has_value());
  std::vector<uint8_t> tiny_header = {0x41, 0, 0, 0};
  EXPECT_FALSE(Parse(tiny_header.data(), tiny_header.size(), false, true).has_value());
  // An ICMPv4 reply type read as ICMPv6 is nothing.
  EXPECT_FALSE(Parse(reply.data(), reply.size(), true, false).has_value());
}

TEST(IcmpTest, ParsesErrorsQuotingOurEcho) {
  auto request = BuildEchoRequest(false, 0x1234, 77, MakePayload(kCookie, 56));
  auto error = ErrorQuoting(3, 1, WithIpv4Header(request), false);
  auto m = Parse(error.data(), error.size(), false, false);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->kind, Kind::kUnreachable);
  EXPECT_EQ(m->code, 1);
  EXPECT_EQ(m->identifier, 0x1234);
  EXPECT_EQ(m->sequence, 77);
  EXPECT_EQ(*m->cookie, kCookie);
  EXPECT_EQ(ErrorText(*m, false), "host unreachable");

  // A router quoting only the first 8 bytes of the echo: no cookie.
  std::vector<uint8_t> short_quote = WithIpv4Header({request.begin(), request.begin() + 8});
  auto ttl = ErrorQuoting(11, 0, short_quote, false);
  auto m2 = Parse(ttl.data(), ttl.size(), false, false);
  ASSERT_TRUE(m2.has_value());
  EXPECT_EQ(m2->kind, Kind::kTimeExceeded);
  EXPECT_FALSE(m2->cookie.has_value());
  EXPECT_EQ(ErrorText(*m2, false), "TTL exceeded in transit");

  // ICMPv6: a 40-byte IPv6 header (next header 58) before the quoted echo.
  auto request6 = BuildEchoRequest(true, 5, 6, MakePayload(kCookie, 8));
  std::vector<uint8_t> quoted6(40, 0);
  quoted6[0] = 0x60;
  quoted6[6] = 58;
  quoted6.insert(quoted6.end(), request6.begin(), request6.end());
  auto error6 = ErrorQuoting(1, 3, quoted6, true);
  auto m6 = Parse(error6.data(), error6.size(), true, false);
  ASSERT_TRUE(m6.has_value());
  EXPECT_EQ(m6->kind, Kind::kUnreachable);
  EXPECT_EQ(m6->sequence, 6);
  EXPECT_EQ(ErrorText(*m6, true), "address unreachable");

  // An error quoting something other than an echo request is not ours.
  auto reply = ReplyTo(request, false);
  auto other = ErrorQuoting(3, 3, WithIpv4Header(reply), false);
  EXPECT_FALSE(Parse(other.data(), other.size(), false, false).has_value());
}

TEST(IcmpTest, MatchesIdentifierSequenceAndCookie) {
  Message m;
  m.identifier = 100;
  m.sequence = 65'535;  // first sequence 65534, so index 1
  m.cookie = kCookie;
  EXPECT_EQ(Match(m, true, 100, 65'534, 5, kCookie), 1);
  m.sequence = 2;  // wrapped: 65534, 65535, 0, 1, 2 -> index 4
  EXPECT_EQ(Match(m, true, 100, 65'534, 5, kCookie), 4);
  m.sequence = 3;  // index 5: not sent
  EXPECT_FALSE(Match(m, true, 100, 65'534, 5, kCookie).has_value());
  m.sequence = 65'533;  // before the first
  EXPECT_FALSE(Match(m, true, 100, 65'534, 5, kCookie).has_value());
  m.sequence = 65'534;
  EXPECT_FALSE(Match(m, true, 101, 65'534, 5, kCookie).has_value()) << "another identifier";
  EXPECT_EQ(Match(m, false, 101, 65'534, 5, kCookie), 0) << "ping sockets: identifier ignored";
  EXPECT_FALSE(Match(m, true, 100, 65'534, 5, kCookie + 1).has_value()) << "another run's cookie";
  m.cookie.reset();
  EXPECT_FALSE(Match(m, true, 100, 65'534, 5, kCookie).has_value()) << "a reply without cookie";
  m.kind = Kind::kUnreachable;
  EXPECT_EQ(Match(m, true, 100, 65'534, 5, kCookie), 0) << "a short quote in an error";
}

}  // namespace
}  // namespace steadfast::agent::icmp
