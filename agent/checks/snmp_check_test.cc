#include "agent/checks/snmp_check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FindTarget;
using testing::MetricValue;
using testing::SpecFromYaml;

// Objects in the "OID TYPE VALUE" format of the fixtures (and of tests/peers/ups_mib_pass.sh).
std::map<Oid, SnmpValue> LoadObjects(const std::string& name) {
  std::ifstream in(std::string(SF_AGENT_TESTDATA_DIR) + "/snmp/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::map<Oid, SnmpValue> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string oid_text, type;
    fields >> oid_text >> type;
    std::string value;
    std::getline(fields, value);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    auto oid = ParseOid(oid_text);
    EXPECT_TRUE(oid.ok()) << line;
    SnmpValue v;
    v.text = value;
    if (type == "string") {
      v.type = SnmpValue::Type::kOctetString;
    } else {
      v.type = type == "integer"     ? SnmpValue::Type::kInteger
               : type == "gauge"     ? SnmpValue::Type::kUnsigned
               : type == "counter"   ? SnmpValue::Type::kCounter32
               : type == "counter64" ? SnmpValue::Type::kCounter64
                                     : SnmpValue::Type::kTimeTicks;
      v.number = std::stod(value);
    }
    out[*oid] = v;
  }
  return out;
}

// An SNMP agent made of a table of objects; records what was asked.
class FakeSnmpClient final : public SnmpClient {
 public:
  std::map<Oid, SnmpValue> objects;
  Status open_error = OkStatus();
  Status request_error = OkStatus();
  std::vector<SnmpTarget> opened;

  StatusOr<std::unique_ptr<SnmpSession>> Open(const SnmpTarget& target,
                                              std::chrono::steady_clock::time_point) override {
    opened.push_back(target);
    if (!open_error.ok()) return open_error;
    return std::unique_ptr<SnmpSession>(std::make_unique<Session>(this));
  }

 private:
  class Session final : public SnmpSession {
   public:
    explicit Session(FakeSnmpClient* c) : c_(c) {}
    StatusOr<std::vector<SnmpVarBind>> Get(const std::vector<Oid>& oids) override {
      if (!c_->request_error.ok()) return c_->request_error;
      std::vector<SnmpVarBind> out;
      for (const Oid& o : oids) {
        auto it = c_->objects.find(o);
        SnmpValue missing;
        missing.type = SnmpValue::Type::kNoSuchObject;
        missing.text = "noSuchObject";
        out.push_back({o, it == c_->objects.end() ? missing : it->second});
      }
      return out;
    }
    StatusOr<std::vector<SnmpVarBind>> Walk(const Oid& root, size_t max_rows) override {
      if (!c_->request_error.ok()) return c_->request_error;
      std::vector<SnmpVarBind> out;
      for (const auto& [oid, value] : c_->objects) {
        if (!OidIsBelow(oid, root)) continue;
        if (out.size() >= max_rows) return ResourceExhaustedError("too many");
        out.push_back({oid, value});
      }
      return out;
    }

   private:
    FakeSnmpClient* c_;
  };
};

SnmpValue Int(int64_t v) {
  SnmpValue s;
  s.type = SnmpValue::Type::kInteger;
  s.number = static_cast<double>(v);
  s.text = std::to_string(v);
  return s;
}

SnmpValue Str(std::string text) {
  SnmpValue s;
  s.type = SnmpValue::Type::kOctetString;
  s.text = std::move(text);
  return s;
}

TEST(OidTest, ParsesAndFormats) {
  auto o = ParseOid(".1.3.6.1.2.1.1.3.0");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (Oid{1, 3, 6, 1, 2, 1, 1, 3, 0}));
  EXPECT_EQ(FormatOid(*o), "1.3.6.1.2.1.1.3.0");
  EXPECT_TRUE(OidIsBelow({1, 3, 6, 1, 2, 1, 1, 3, 0}, {1, 3, 6, 1, 2, 1, 1}));
  EXPECT_FALSE(OidIsBelow({1, 3, 6, 1, 2, 1, 1}, {1, 3, 6, 1, 2, 1, 1}));
  EXPECT_FALSE(OidIsBelow({1, 3, 6, 1, 2, 1, 2, 1}, {1, 3, 6, 1, 2, 1, 1}));
  EXPECT_FALSE(ParseOid("SNMPv2-MIB::sysUpTime.0").ok());
  EXPECT_FALSE(ParseOid("1..3").ok());
  EXPECT_FALSE(ParseOid("1.3.").ok());
  EXPECT_FALSE(ParseOid("1").ok());
  EXPECT_FALSE(ParseOid("1.3.99999999999").ok());
}

TEST(SnmpGradeTest, NumericThresholdsAboveAndBelow) {
  SnmpOidSpec spec;
  spec.name = "temp";
  spec.scale = 0.1;
  spec.unit = "celsius";
  spec.warning_above = 30;
  spec.critical_above = 35;
  spec.warning_below = 10;
  spec.critical_below = 5;
  SnmpValueGrade g = GradeSnmpValue(spec, Int(235));
  EXPECT_EQ(g.status, CheckStatus::kOk);
  EXPECT_EQ(g.text, "23.5 celsius");
  EXPECT_DOUBLE_EQ(*g.number, 23.5);
  g = GradeSnmpValue(spec, Int(300));
  EXPECT_EQ(g.status, CheckStatus::kWarning);
  EXPECT_EQ(g.text, "30 celsius (warning >= 30)");
  g = GradeSnmpValue(spec, Int(361));
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_EQ(g.text, "36.1 celsius (critical >= 35)");
  EXPECT_EQ(GradeSnmpValue(spec, Int(90)).status, CheckStatus::kWarning);
  g = GradeSnmpValue(spec, Int(40));
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_EQ(g.text, "4 celsius (critical <= 5)");
}

TEST(SnmpGradeTest, NumericStringsAndMissingObjects) {
  SnmpOidSpec spec;
  spec.critical_above = 4;
  // UCD-SNMP-MIB laLoad is an octet string holding a number.
  EXPECT_EQ(GradeSnmpValue(spec, Str("0.15")).status, CheckStatus::kOk);
  EXPECT_EQ(GradeSnmpValue(spec, Str("4.50")).status, CheckStatus::kCritical);
  SnmpValueGrade g = GradeSnmpValue(spec, Str("n/a"));
  EXPECT_EQ(g.status, CheckStatus::kUnknown);
  EXPECT_EQ(g.text, "'n/a' is not a number");
  SnmpValue missing;
  missing.type = SnmpValue::Type::kNoSuchInstance;
  missing.text = "noSuchInstance";
  g = GradeSnmpValue(spec, missing);
  EXPECT_EQ(g.status, CheckStatus::kUnknown);
  EXPECT_EQ(g.text, "noSuchInstance");
}

TEST(SnmpGradeTest, ExpectedValues) {
  SnmpOidSpec spec;
  spec.expect = {"1"};
  EXPECT_EQ(GradeSnmpValue(spec, Int(1)).status, CheckStatus::kOk);
  SnmpValueGrade g = GradeSnmpValue(spec, Int(2));
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_EQ(g.text, "'2' (expected '1')");
  spec.expect = {"normal", "charging"};
  spec.expect_status = CheckStatus::kWarning;
  g = GradeSnmpValue(spec, Str("fault"));
  EXPECT_EQ(g.status, CheckStatus::kWarning);
  EXPECT_EQ(g.text, "'fault' (expected one of 'normal', 'charging')");
  EXPECT_EQ(GradeSnmpValue(spec, Str("charging")).status, CheckStatus::kOk);
}

UpsMibReading ReadingFrom(const std::string& fixture) {
  std::map<Oid, SnmpValue> objects = LoadObjects(fixture);
  UpsMibReading r;
  for (const auto& [oid, value] : objects) {
    if (OidIsBelow(oid, upsmib::kInputVoltage)) {
      r.input_voltage.push_back({oid, value});
    } else if (OidIsBelow(oid, upsmib::kOutputVoltage)) {
      r.output_voltage.push_back({oid, value});
    } else if (OidIsBelow(oid, upsmib::kOutputPercentLoad)) {
      r.output_load.push_back({oid, value});
    } else {
      r.scalars[oid] = value;
    }
  }
  return r;
}

TEST(UpsMibTest, MapsRfc1628ToTheUpsGrading) {
  auto online = UpsStateFromUpsMib(ReadingFrom("ups_mib_online.txt"));
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  EXPECT_EQ(online->source, UpsState::Source::kOnline);
  EXPECT_EQ(online->raw_status, "upsOutputSource=normal(3), upsBatteryStatus=batteryNormal(2)");
  EXPECT_EQ(*online->runtime_seconds, 45 * 60);
  UpsGrade g = GradeUps(*online, UpsThresholds{});
  EXPECT_EQ(g.status, CheckStatus::kOk);
  EXPECT_EQ(g.summary,
            "on line: charge 100%, runtime left 45m 0s, load 23%, input 229.0 V, output 230.0 V, "
            "temperature 27.0 °C");

  auto ob = UpsStateFromUpsMib(ReadingFrom("ups_mib_on_battery.txt"));
  ASSERT_TRUE(ob.ok());
  g = GradeUps(*ob, UpsThresholds{});
  EXPECT_EQ(g.status, CheckStatus::kWarning);
  EXPECT_EQ(g.summary,
            "ON BATTERY — charge 81%, runtime left 31m 0s, load 23%, on battery for 2m 5s, "
            "input 0.0 V, output 230.0 V, temperature 27.0 °C");

  auto lb = UpsStateFromUpsMib(ReadingFrom("ups_mib_low_battery.txt"));
  ASSERT_TRUE(lb.ok());
  g = GradeUps(*lb, UpsThresholds{});
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_EQ(g.summary.rfind("ON BATTERY — LOW BATTERY, ALARM: 2 alarms present: charge 12% "
                            "(critical at 20%), runtime left 3m 0s (critical at 5m 0s)",
                            0),
            0u)
      << g.summary;
}

TEST(UpsMibTest, OutputSourcesAndMissingMib) {
  auto with = [](int64_t source, int64_t battery) {
    UpsMibReading r;
    r.scalars[upsmib::kOutputSource] = Int(source);
    r.scalars[upsmib::kBatteryStatus] = Int(battery);
    return *UpsStateFromUpsMib(r);
  };
  EXPECT_EQ(with(2, 2).source, UpsState::Source::kOff);
  EXPECT_EQ(with(4, 2).source, UpsState::Source::kBypass);
  UpsState boost = with(6, 2);
  EXPECT_EQ(boost.source, UpsState::Source::kOnline);
  EXPECT_EQ(boost.notes, std::vector<std::string>{"boosting low input voltage"});
  EXPECT_EQ(with(7, 2).notes, std::vector<std::string>{"trimming high input voltage"});
  EXPECT_EQ(with(1, 2).source, UpsState::Source::kUnknown);
  UpsState depleted = with(5, 4);
  EXPECT_TRUE(depleted.low_battery);
  EXPECT_EQ(GradeUps(depleted, UpsThresholds{}).status, CheckStatus::kCritical);

  UpsMibReading none;
  SnmpValue missing;
  missing.type = SnmpValue::Type::kNoSuchObject;
  none.scalars[upsmib::kOutputSource] = missing;
  auto st = UpsStateFromUpsMib(none);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kNotFound);
}

TEST(IfMibTest, BuildsRowsFromTheRecordedWalk) {
  std::map<Oid, SnmpValue> objects = LoadObjects("if_mib_walk.txt");
  std::map<Oid, std::vector<SnmpVarBind>> columns;
  for (const Oid* column :
       {&ifmib::kIfDescr, &ifmib::kIfName, &ifmib::kIfAlias, &ifmib::kIfAdminStatus,
        &ifmib::kIfOperStatus, &ifmib::kIfHCInOctets, &ifmib::kIfHCOutOctets, &ifmib::kIfInErrors,
        &ifmib::kIfOutErrors, &ifmib::kIfHighSpeed}) {
    for (const auto& [oid, value] : objects) {
      if (OidIsBelow(oid, *column)) columns[*column].push_back({oid, value});
    }
  }
  std::vector<IfMibRow> rows = BuildIfMibRows(columns);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].name, "lo");
  EXPECT_EQ(rows[3].name, "eth0");
  EXPECT_EQ(rows[3].index, 4u);
  EXPECT_EQ(*rows[3].admin_status, 1);
  EXPECT_EQ(*rows[3].oper_status, 1);
  EXPECT_DOUBLE_EQ(*rows[3].in_octets, 216193510);
  EXPECT_DOUBLE_EQ(*rows[3].out_octets, 584814);
  EXPECT_EQ(*rows[1].admin_status, 2);
  EXPECT_EQ(GradeIfMibRow(rows[3]).status, CheckStatus::kOk);
  EXPECT_EQ(GradeIfMibRow(rows[3]).summary, "up");
  EXPECT_EQ(GradeIfMibRow(rows[0]).summary, "up, 10 Mbit/s");
  EXPECT_EQ(GradeIfMibRow(rows[1]).status, CheckStatus::kOk);
  EXPECT_EQ(GradeIfMibRow(rows[1]).summary, "administratively down");
}

TEST(IfMibTest, AdminUpOperDownIsCritical) {
  IfMibRow row;
  row.name = "Gi1/0/1";
  row.admin_status = 1;
  row.oper_status = 2;
  row.alias = "uplink to core";
  row.in_errors = 12;
  IfGrade g = GradeIfMibRow(row);
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_EQ(g.summary,
            "LINK DOWN while administratively up (ifOperStatus down), 12 input / 0 output errors "
            "since the counters reset, 'uplink to core'");
  row.oper_status = 7;
  EXPECT_EQ(GradeIfMibRow(row).status, CheckStatus::kCritical);
  row.oper_status = 6;
  EXPECT_EQ(GradeIfMibRow(row).status, CheckStatus::kCritical);
  row.oper_status = 5;
  EXPECT_EQ(GradeIfMibRow(row).status, CheckStatus::kOk);
  row.oper_status = 3;
  EXPECT_EQ(GradeIfMibRow(row).status, CheckStatus::kWarning);
  row.oper_status = 4;
  EXPECT_EQ(GradeIfMibRow(row).status, CheckStatus::kUnknown);
  row.admin_status = 2;
  row.oper_status = 2;
  EXPECT_EQ(GradeIfMibRow(row).status, CheckStatus::kOk);
  row.admin_status.reset();
  EXPECT_EQ(GradeIfMibRow(row).status, CheckStatus::kUnknown);
}

class SnmpCheckRunTest : public ::testing::Test {
 protected:
  std::vector<CheckResult> Run(const std::string& yaml) {
    auto check = NewSnmpCheckWithClient(SpecFromYaml(yaml), client_);
    EXPECT_TRUE(check.ok()) << check.status().ToString();
    if (!check.ok()) return {};
    CheckContext ctx{clock_, fs_};
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    return (*check)->Run(ctx);
  }
  std::shared_ptr<FakeSnmpClient> client_ = std::make_shared<FakeSnmpClient>();
  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
};

TEST_F(SnmpCheckRunTest, IfMibProfileOneResultPerInterface) {
  client_->objects = LoadObjects("if_mib_walk.txt");
  // eth0 loses its link while administratively up.
  client_->objects[Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 4}] = Int(2);
  auto results = Run("{name: sw, type: snmp, host: 10.0.0.2, profile: if-mib}");
  ASSERT_EQ(results.size(), 4u);
  const CheckResult* eth0 = FindTarget(results, "10.0.0.2/eth0");
  ASSERT_NE(eth0, nullptr);
  EXPECT_EQ(eth0->status, CheckStatus::kCritical);
  EXPECT_EQ(eth0->summary, "LINK DOWN while administratively up (ifOperStatus down)");
  EXPECT_EQ(*MetricValue(*eth0, "snmp_if_up"), 0);
  EXPECT_EQ(*MetricValue(*eth0, "snmp_if_admin_up"), 1);
  EXPECT_EQ(*MetricValue(*eth0, "snmp_if_receive_bytes_total"), 216193510);
  EXPECT_EQ(*MetricValue(*eth0, "snmp_if_transmit_bytes_total"), 584814);
  EXPECT_EQ(*MetricValue(*eth0, "snmp_if_receive_errs_total"), 0);
  for (const auto& m : eth0->metrics) {
    if (m.name == "snmp_if_up") {
      EXPECT_EQ(m.labels.at("device"), "eth0");
      EXPECT_EQ(m.labels.at("ifIndex"), "4");
    }
  }
  EXPECT_EQ(FindTarget(results, "10.0.0.2/ifb0")->status, CheckStatus::kOk);
}

TEST_F(SnmpCheckRunTest, IfMibInterfaceFilter) {
  client_->objects = LoadObjects("if_mib_walk.txt");
  auto results =
      Run("{name: sw, type: snmp, host: 10.0.0.2, port: 1161, profile: if-mib, "
          "interfaces: ['eth*', 'Gi1/0/9']}");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].target, "10.0.0.2:1161/eth0");
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
  EXPECT_EQ(results[1].target, "10.0.0.2:1161/Gi1/0/9");
  EXPECT_EQ(results[1].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[1].summary, "Gi1/0/9 is not in the agent's interface table");
}

TEST_F(SnmpCheckRunTest, UpsMibProfileOnBattery) {
  client_->objects = LoadObjects("ups_mib_on_battery.txt");
  auto results = Run("{name: ups, type: snmp, host: ups1, profile: ups-mib}");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].target, "ups1/ups");
  EXPECT_EQ(results[0].status, CheckStatus::kWarning);
  EXPECT_EQ(results[0].summary.rfind("ON BATTERY — ", 0), 0u) << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "ups_on_battery"), 1);
  EXPECT_EQ(*MetricValue(results[0], "snmp_up"), 1);
  EXPECT_NE(results[0].details_json.find("\"model\":\"SimUPS 1500\""), std::string::npos);
}

TEST_F(SnmpCheckRunTest, UpsMibThresholdKeysApply) {
  client_->objects = LoadObjects("ups_mib_on_battery.txt");
  auto results =
      Run("{name: ups, type: snmp, host: ups1, profile: ups-mib, charge_warning_percent: 90, "
          "charge_critical_percent: 85}");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical) << results[0].summary;
}

TEST_F(SnmpCheckRunTest, UpsMibMissingIsUnknown) {
  client_->objects = LoadObjects("if_mib_walk.txt");
  auto results = Run("{name: ups, type: snmp, host: ups1, profile: ups-mib}");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("no UPS-MIB"), std::string::npos) << results[0].summary;
}

TEST_F(SnmpCheckRunTest, CustomOidsGetAndWalk) {
  client_->objects = LoadObjects("if_mib_walk.txt");
  client_->objects[Oid{1, 3, 6, 1, 4, 1, 99, 1, 0}] = Int(412);
  auto results = Run(R"({name: env, type: snmp, host: pdu1, oids: [
      {oid: 1.3.6.1.4.1.99.1.0, name: inlet_temp, scale: 0.1, unit: celsius, warning_above: 35,
       critical_above: 40},
      {oid: 1.3.6.1.4.1.99.2.0, name: missing},
      {oid: 1.3.6.1.2.1.2.2.1.8, name: ifOperStatus, walk: true, expect: '1'}]})");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].target, "pdu1/inlet_temp");
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_EQ(results[0].summary, "inlet_temp = 41.2 celsius (critical >= 40)");
  EXPECT_DOUBLE_EQ(*MetricValue(results[0], "snmp_value"), 41.2);
  EXPECT_EQ(results[1].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[1].summary, "missing = noSuchObject");
  EXPECT_EQ(results[2].status, CheckStatus::kCritical);
  EXPECT_EQ(results[2].summary,
            "ifOperStatus: 2 of 4 values not ok: .2 = '2' (expected '1'), .3 = '2' (expected '1')");
  size_t rows = 0;
  for (const auto& m : results[2].metrics) {
    if (m.name == "snmp_value") {
      ++rows;
      EXPECT_FALSE(m.labels.at("index").empty());
    }
  }
  EXPECT_EQ(rows, 4u);
}

TEST_F(SnmpCheckRunTest, SecretsComeFromFilesAndAreNotReported) {
  ASSERT_TRUE(fs_.CreateDirectories("/etc/sf").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/etc/sf/community", "s3cr3t-community\n").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/etc/sf/auth", "auth-pass-1\n").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/etc/sf/priv", "priv-pass-1\n").ok());
  client_->objects[Oid{1, 3, 6, 1, 2, 1, 1, 5, 0}] = Str("sw1");
  auto v2 =
      Run("{name: a, type: snmp, host: h, community_file: /etc/sf/community, "
          "oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]}");
  ASSERT_EQ(client_->opened.size(), 1u);
  EXPECT_EQ(client_->opened[0].community, "s3cr3t-community");
  EXPECT_EQ(client_->opened[0].version, SnmpTarget::Version::kV2c);
  auto v3 =
      Run("{name: a, type: snmp, host: h, version: '3', username: mon, auth_protocol: "
          "SHA-256, auth_password_file: /etc/sf/auth, priv_protocol: AES-256, "
          "priv_password_file: /etc/sf/priv, oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]}");
  ASSERT_EQ(client_->opened.size(), 2u);
  const SnmpTarget& t = client_->opened[1];
  EXPECT_EQ(t.version, SnmpTarget::Version::kV3);
  EXPECT_EQ(t.username, "mon");
  EXPECT_EQ(t.security_level, SnmpTarget::SecurityLevel::kAuthPriv);
  EXPECT_EQ(t.auth_protocol, SnmpTarget::AuthProtocol::kSha256);
  EXPECT_EQ(t.auth_password, "auth-pass-1");
  EXPECT_EQ(t.priv_protocol, SnmpTarget::PrivProtocol::kAes256);
  EXPECT_EQ(t.priv_password, "priv-pass-1");
  for (const auto& r : {v2[0], v3[0]}) {
    EXPECT_EQ(r.summary, "sysName = 'sw1'");
    EXPECT_EQ(r.details_json.find("s3cr3t"), std::string::npos);
    EXPECT_EQ(r.details_json.find("pass-1"), std::string::npos);
  }
  auto missing =
      Run("{name: a, type: snmp, host: h, community_file: /etc/sf/nope, "
          "oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]}");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(missing[0].summary.rfind("cannot read the community file", 0), 0u)
      << missing[0].summary;
}

TEST_F(SnmpCheckRunTest, UnreachableAgentMakesEveryTargetUnknown) {
  client_->open_error = DeadlineExceededError("no response from 10.0.0.9:161 within 2.0 s");
  auto results =
      Run("{name: a, type: snmp, host: 10.0.0.9, profile: if-mib, oids: [{oid: 1.3.6.1.2.1.1.5.0, "
          "name: sysName}]}");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].target, "10.0.0.9/interfaces");
  EXPECT_EQ(results[1].target, "10.0.0.9/sysName");
  for (const auto& r : results) {
    EXPECT_EQ(r.status, CheckStatus::kUnknown);
    EXPECT_EQ(r.summary, "no response from 10.0.0.9:161 within 2.0 s");
    EXPECT_EQ(*MetricValue(r, "snmp_up"), 0);
  }
  client_->open_error = OkStatus();
  client_->request_error = UnauthenticatedError("10.0.0.9:161: authentication failure");
  results = Run("{name: a, type: snmp, host: 10.0.0.9, oids: [{oid: 1.3.6.1.2.1.1.5.0}]}");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].target, "10.0.0.9/1.3.6.1.2.1.1.5.0");
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "10.0.0.9:161: authentication failure");
}

// Host test with the real net-snmp client: nothing answers SNMP on this machine's default port,
// so the check reports unknown within its deadline (UDP has no refusal that net-snmp reports: it
// is a timeout).
TEST(SnmpHostTest, NoAgentIsUnknownWithinTheDeadline) {
  auto check = NewSnmpCheck(
      SpecFromYaml("{name: snmp, type: snmp, host: 127.0.0.1, retries: 0, profile: if-mib}"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  RealClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  const auto start = std::chrono::steady_clock::now();
  ctx.deadline = start + std::chrono::milliseconds(1'000);
  auto results = (*check)->Run(ctx);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  if (results[0].status != CheckStatus::kUnknown) GTEST_SKIP() << "an SNMP agent answers here";
  EXPECT_EQ(results[0].target, "127.0.0.1/interfaces");
  EXPECT_EQ(results[0].summary.rfind("no response from 127.0.0.1:161 within ", 0), 0u)
      << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "snmp_up"), 0);
  EXPECT_LT(took, std::chrono::milliseconds(1'800));
}

TEST(SnmpCheckFactoryTest, ValidatesItsKeys) {
  auto client = std::make_shared<FakeSnmpClient>();
  auto make = [&](const std::string& yaml) {
    return NewSnmpCheckWithClient(SpecFromYaml(yaml), client);
  };
  EXPECT_TRUE(make("{name: a, type: snmp, host: h, profile: if-mib}").ok());
  EXPECT_TRUE(make("{name: a, type: snmp, host: h, version: 3, username: u, "
                   "security_level: noAuthNoPriv, profile: ups-mib}")
                  .ok());
  auto check = make("{name: a, type: snmp, host: '::1', port: 1161, profile: if-mib}");
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(dynamic_cast<SnmpCheck*>(check->get())->Host(), "[::1]:1161");

  auto no_work = make("name: a\ntype: snmp\nhost: h\n");
  ASSERT_FALSE(no_work.ok());
  EXPECT_NE(no_work.status().message().find("needs a profile"), std::string::npos);
  auto bad_oid = make("name: a\ntype: snmp\nhost: h\noids:\n  - oid: IF-MIB::ifDescr\n");
  ASSERT_FALSE(bad_oid.ok());
  EXPECT_NE(bad_oid.status().message().find("agent.yaml:5: oids[0].oid"), std::string::npos)
      << bad_oid.status().message();
  auto v3_key = make("name: a\ntype: snmp\nhost: h\nusername: u\nprofile: if-mib\n");
  ASSERT_FALSE(v3_key.ok());
  EXPECT_NE(v3_key.status().message().find("agent.yaml:4: username: only for version: 3"),
            std::string::npos)
      << v3_key.status().message();
  EXPECT_FALSE(make("{name: a, type: snmp, profile: if-mib}").ok());  // no host
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, profile: bgp}").ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, version: 1, profile: if-mib}").ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, version: 3, profile: if-mib}").ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, version: 3, username: u, profile: if-mib}")
                   .ok());  // authPriv needs password files
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, version: 3, username: u, "
                    "auth_password_file: /a, priv_password_file: /p, auth_protocol: SHA1, "
                    "profile: if-mib}")
                   .ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, community_file: rel, profile: if-mib}").ok());
  EXPECT_FALSE(
      make("{name: a, type: snmp, host: h, profile: if-mib, charge_warning_percent: 40}").ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, profile: ups-mib, interfaces: [eth0]}").ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, oids: [{oid: 1.3.6.1, name: x}, "
                    "{oid: 1.3.6.2, name: x}]}")
                   .ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, oids: [{oid: 1.3.6.1, warning_above: 5, "
                    "critical_above: 2}]}")
                   .ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, oids: [{oid: 1.3.6.1, treshold: 5}]}").ok());
  EXPECT_FALSE(
      make("{name: a, type: snmp, host: h, oids: [{oid: 1.3.6.1, expect_status: warning}]}").ok());
  EXPECT_FALSE(make("{name: a, type: snmp, host: h, retries: 9, profile: if-mib}").ok());
}

}  // namespace
}  // namespace steadfast::agent
