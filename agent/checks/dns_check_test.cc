// The dns check's parsing and config on hand-made messages; the check against a real DNS
// server (dnsmasq) is in tests/integration/agent_net_integration_test.cc.
#include "agent/checks/dns_check.h"

#include <arpa/nameser.h>
#include <gtest/gtest.h>

#include "agent/testing/test_util.h"

namespace steadfast::agent {
namespace {

using testing::SpecFromYaml;

// Appends a name in wire format ("www.example" -> 3www7example0).
void PutName(std::vector<uint8_t>& m, const std::string& name) {
  size_t i = 0;
  while (i < name.size()) {
    size_t dot = name.find('.', i);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<uint8_t>(dot - i));
    m.insert(m.end(), name.begin() + static_cast<long>(i), name.begin() + static_cast<long>(dot));
    i = dot + 1;
  }
  m.push_back(0);
}
void Put16(std::vector<uint8_t>& m, int v) {
  m.push_back(static_cast<uint8_t>(v >> 8));
  m.push_back(static_cast<uint8_t>(v));
}

// A response to "www.example A" with id 0x1234: a CNAME to web.example (compressed pointer to
// the question name), then two A records, and an MX and a TXT for good measure.
std::vector<uint8_t> Response(int rcode) {
  std::vector<uint8_t> m;
  Put16(m, 0x1234);
  Put16(m, 0x8580 | rcode);  // QR, AA, RD, RA
  Put16(m, 1);                // QD
  Put16(m, rcode == 0 ? 5 : 0);
  Put16(m, 0);
  Put16(m, 0);
  PutName(m, "WWW.Example");  // offset 12
  Put16(m, ns_t_a);
  Put16(m, ns_c_in);
  if (rcode != 0) return m;
  auto rr = [&](int type, const std::vector<uint8_t>& rdata, bool owner_is_question) {
    if (owner_is_question) {
      Put16(m, 0xc00c);
    } else {
      PutName(m, "web.example");
    }
    Put16(m, type);
    Put16(m, ns_c_in);
    Put16(m, 0);
    Put16(m, 300);
    Put16(m, static_cast<int>(rdata.size()));
    m.insert(m.end(), rdata.begin(), rdata.end());
  };
  std::vector<uint8_t> cname;
  PutName(cname, "Web.Example");
  rr(ns_t_cname, cname, true);
  rr(ns_t_a, {192, 0, 2, 10}, false);
  rr(ns_t_a, {192, 0, 2, 11}, false);
  std::vector<uint8_t> mx = {0, 10};
  PutName(mx, "mail.example");
  rr(ns_t_mx, mx, false);
  rr(ns_t_txt, {5, 'h', 'e', 'l', 'l', 'o', 6, ' ', 'w', 'o', 'r', 'l', 'd'}, false);
  return m;
}

TEST(DnsParseTest, ParsesAnswerRecords) {
  auto m = Response(0);
  auto a = ParseDnsResponse(m.data(), m.size());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->id, 0x1234);
  EXPECT_EQ(a->rcode, 0);
  EXPECT_TRUE(a->authoritative);
  EXPECT_FALSE(a->truncated);
  EXPECT_EQ(a->question_name, "www.example");
  EXPECT_EQ(a->question_type, ns_t_a);
  ASSERT_EQ(a->records.size(), 5u);
  EXPECT_EQ(a->records[0].type_name, "CNAME");
  EXPECT_EQ(a->records[0].name, "www.example");
  EXPECT_EQ(a->records[0].value, "web.example");
  EXPECT_EQ(a->records[1].value, "192.0.2.10");
  EXPECT_EQ(a->records[1].ttl, 300u);
  EXPECT_EQ(a->records[2].value, "192.0.2.11");
  EXPECT_EQ(a->records[3].value, "10 mail.example");
  EXPECT_EQ(a->records[4].value, "hello world");
}

TEST(DnsParseTest, RcodesAndGarbage) {
  auto m = Response(3);
  auto a = ParseDnsResponse(m.data(), m.size());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(DnsRcodeName(a->rcode), "NXDOMAIN");
  EXPECT_TRUE(a->records.empty());
  m[2] &= 0x7f;  // QR cleared: a query
  EXPECT_FALSE(ParseDnsResponse(m.data(), m.size()).ok());
  std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_FALSE(ParseDnsResponse(junk.data(), junk.size()).ok());
  auto cut = Response(0);
  cut.resize(cut.size() - 4);  // the last record's data cut short
  EXPECT_FALSE(ParseDnsResponse(cut.data(), cut.size()).ok());
}

TEST(DnsParseTest, NamesTypesAndValues) {
  EXPECT_EQ(*DnsTypeFromName("aaaa"), ns_t_aaaa);
  EXPECT_FALSE(DnsTypeFromName("AAAAA").has_value());
  EXPECT_EQ(DnsTypeName(ns_t_soa), "SOA");
  EXPECT_EQ(DnsTypeName(99), "TYPE99");
  EXPECT_EQ(*DnsRcodeFromName("nxdomain"), 3);
  EXPECT_EQ(DnsRcodeName(5), "REFUSED");
  EXPECT_EQ(*NormaliseDnsValue(ns_t_aaaa, "2001:DB8:0:0::1"), "2001:db8::1");
  EXPECT_FALSE(NormaliseDnsValue(ns_t_a, "300.1.1.1").ok());
  EXPECT_EQ(*NormaliseDnsValue(ns_t_cname, "Web.Example."), "web.example");
  EXPECT_EQ(*NormaliseDnsValue(ns_t_mx, "10  Mail.Example."), "10 mail.example");
  EXPECT_FALSE(NormaliseDnsValue(ns_t_mx, "mail.example").ok());
  EXPECT_EQ(*NormaliseDnsValue(ns_t_txt, "v=spf1 -all"), "v=spf1 -all");
}

TEST(DnsCheckFactoryTest, ValidatesItsKeys) {
  auto ok = NewDnsCheck(SpecFromYaml(
      "{name: web, type: dns, query: www.example.com, record_type: AAAA, server: '[::1]:5353', "
      "protocol: tcp, expect: ['2001:db8::1'], expect_match: exact, warning_ms: 50, "
      "critical_ms: 500, recursion_desired: false}"));
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(NewDnsCheck(SpecFromYaml("{name: r, type: dns, query: 192.0.2.1, record_type: PTR}"))
                  .ok());
  EXPECT_TRUE(NewDnsCheck(SpecFromYaml(
                              "{name: g, type: dns, query: gone.example, expect_rcode: NXDOMAIN, "
                              "server: 127.0.0.1}"))
                  .ok());

  auto expect_error = [](const std::string& yaml, const std::string& text) {
    auto r = NewDnsCheck(SpecFromYaml(yaml));
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
  };
  const std::string head = "name: d\ntype: dns\n";
  expect_error(head, "query: required key is missing");
  expect_error(head + "query: a.example\nrecord_type: AXFR2\n",
               "agent.yaml:4: record_type: unknown record type 'AXFR2'");
  expect_error(head + "query: a.example\nserver: dns.example\n",
               "agent.yaml:4: server: 'dns.example' is not an IP address");
  expect_error(head + "query: a.example\nserver: 127.0.0.1:0\n", "agent.yaml:4: server");
  expect_error(head + "query: a.example\nexpect: 10.0.0.300\n",
               "agent.yaml:4: expect: '10.0.0.300' is not an IPv4 address");
  expect_error(head + "query: a.example\nexpect_match: some\n", "agent.yaml:4: expect_match");
  expect_error(head + "query: a.example\nexpect_rcode: BROKEN\n", "unknown response code");
  expect_error(head + "query: a.example\nexpect_rcode: NXDOMAIN\nexpect: 10.0.0.1\n",
               "an NXDOMAIN answer has no records to expect");
  expect_error(head + "query: a..example\n", "agent.yaml:3: query: 'a..example' is not a valid");
  expect_error(head + "query: a.example\nrecord: A\n", "record");
}

}  // namespace
}  // namespace steadfast::agent
