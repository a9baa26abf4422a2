#include "agent/checks/ups_check.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::MetricValue;
using testing::SpecFromYaml;

// Replies recorded from upsd 2.8.0 (Debian nut-server) with the dummy-ups driver.
std::string Fixture(const std::string& name) { return testing::Testdata("ups/" + name); }

std::map<std::string, std::string> Vars(const std::string& fixture) {
  auto vars = ParseNutListVar(Fixture(fixture), "ups");
  EXPECT_TRUE(vars.ok()) << vars.status().ToString();
  return vars.ok() ? *vars : std::map<std::string, std::string>{};
}

UpsGrade Grade(const std::map<std::string, std::string>& vars, UpsThresholds t = {}) {
  return GradeUps(UpsStateFromNutVars(vars), t);
}

std::optional<double> Metric(const UpsGrade& g, const std::string& name) {
  for (const auto& m : g.metrics) {
    if (m.name == name) return m.value;
  }
  return std::nullopt;
}

TEST(NutProtocolTest, SplitsQuotedWordsWithEscapes) {
  auto w = SplitNutWords(R"(VAR ups ups.alarm "Replace \"battery\" now \\ soon")");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 4u);
  EXPECT_EQ((*w)[3], R"(Replace "battery" now \ soon)");
  auto empty = SplitNutWords(R"(VAR ups x "")");
  ASSERT_TRUE(empty.ok());
  ASSERT_EQ(empty->size(), 4u);
  EXPECT_EQ((*empty)[3], "");
  EXPECT_FALSE(SplitNutWords(R"(VAR ups x "open)").ok());
}

TEST(NutProtocolTest, ParsesRecordedListVar) {
  auto vars = ParseNutListVar(Fixture("list_var_online.txt"), "ups");
  ASSERT_TRUE(vars.ok()) << vars.status().ToString();
  EXPECT_EQ(vars->size(), 24u);
  EXPECT_EQ(vars->at("ups.status"), "OL CHRG");
  EXPECT_EQ(vars->at("device.model"), "SimUPS 1500");
  EXPECT_EQ(vars->at("battery.charge"), "100");
  EXPECT_EQ(vars->at("input.voltage"), "229.5");
}

TEST(NutProtocolTest, ErrorRepliesNameTheReason) {
  auto unknown = ParseNutListVar(Fixture("err_unknown_ups.txt"), "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(unknown.status().message(), "upsd does not know this UPS (ERR UNKNOWN-UPS)");
  auto driver = ParseNutListVar(Fixture("err_driver_not_connected.txt"), "ups");
  ASSERT_FALSE(driver.ok());
  EXPECT_EQ(driver.status().message(),
            "upsd is not connected to the UPS driver (ERR DRIVER-NOT-CONNECTED)");
  // Not reproducible with dummy-ups here; the lines as upsd's net protocol documents them.
  auto stale = ParseNutListVar("ERR DATA-STALE\n", "ups");
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.status().message().find("stale"), std::string::npos);
  EXPECT_NE(stale.status().message().find("(ERR DATA-STALE)"), std::string::npos);
  auto denied = ParseNutListVar("ERR ACCESS-DENIED\n", "ups");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().message(),
            "upsd denied access (credentials or host not allowed) (ERR ACCESS-DENIED)");
}

TEST(NutProtocolTest, RejectsMalformedReplies) {
  EXPECT_EQ(ParseNutListVar("", "ups").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseNutListVar("BEGIN LIST VAR ups\nVAR ups a \"1\"\n", "ups").status().code(),
            StatusCode::kDataLoss);  // no END
  EXPECT_EQ(ParseNutListVar("BEGIN LIST VAR ups\nVAR other a \"1\"\nEND LIST VAR ups\n", "ups")
                .status()
                .code(),
            StatusCode::kDataLoss);  // another UPS's line
  EXPECT_EQ(ParseNutListVar("OK\n", "ups").status().code(), StatusCode::kDataLoss);
}

TEST(NutProtocolTest, ParsesListUps) {
  auto list = ParseNutListUps(Fixture("list_ups.txt"));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "ups");
  EXPECT_EQ((*list)[0].description, "Simulated UPS for tests");
  auto empty = ParseNutListUps("BEGIN LIST UPS\nEND LIST UPS\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(UpsGradeTest, OnLineIsOk) {
  UpsGrade g = Grade(Vars("list_var_online.txt"));
  EXPECT_EQ(g.status, CheckStatus::kOk) << g.summary;
  EXPECT_EQ(g.summary,
            "on line: charge 100%, runtime left 20m 0s, load 23%, input 229.5 V, output 230.0 V; "
            "charging");
  EXPECT_EQ(*Metric(g, "ups_on_battery"), 0);
  EXPECT_DOUBLE_EQ(*Metric(g, "ups_battery_charge_ratio"), 1.0);
  EXPECT_EQ(*Metric(g, "ups_battery_runtime_seconds"), 1200);
  EXPECT_DOUBLE_EQ(*Metric(g, "ups_load_ratio"), 0.23);
  EXPECT_DOUBLE_EQ(*Metric(g, "ups_input_voltage_volts"), 229.5);
  EXPECT_DOUBLE_EQ(*Metric(g, "ups_output_voltage_volts"), 230.0);
  EXPECT_FALSE(Metric(g, "ups_temperature_celsius").has_value());
}

TEST(UpsGradeTest, OnBatteryIsUnmistakable) {
  UpsGrade g = Grade(Vars("list_var_on_battery.txt"));
  EXPECT_EQ(g.status, CheckStatus::kWarning);
  EXPECT_EQ(g.summary.rfind("ON BATTERY — ", 0), 0u) << g.summary;
  EXPECT_EQ(g.summary,
            "ON BATTERY — charge 40% (warning at 50%), runtime left 20m 0s, load 23%, "
            "input 0.0 V, output 230.0 V");
  EXPECT_EQ(*Metric(g, "ups_on_battery"), 1);
  EXPECT_EQ(*Metric(g, "ups_low_battery"), 0);
}

TEST(UpsGradeTest, OnBatteryWithHealthyChargeIsStillWarning) {
  auto vars = Vars("list_var_on_battery.txt");
  vars["battery.charge"] = "95";
  UpsGrade g = Grade(vars);
  EXPECT_EQ(g.status, CheckStatus::kWarning);
  EXPECT_EQ(g.summary.rfind("ON BATTERY — charge 95%, ", 0), 0u) << g.summary;
}

TEST(UpsGradeTest, LowBatteryIsCritical) {
  UpsGrade g = Grade(Vars("list_var_low_battery.txt"));
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_EQ(g.summary,
            "ON BATTERY — LOW BATTERY: charge 8% (critical at 20%), runtime left 2m 30s "
            "(critical at 5m 0s), load 23%, input 0.0 V, output 230.0 V");
  EXPECT_EQ(*Metric(g, "ups_low_battery"), 1);
  EXPECT_EQ(*Metric(g, "ups_on_battery"), 1);
}

TEST(UpsGradeTest, OnBatteryCriticalChargeOrRuntimeWithoutLbFlag) {
  auto vars = Vars("list_var_on_battery.txt");
  vars["battery.charge"] = "18";
  EXPECT_EQ(Grade(vars).status, CheckStatus::kCritical);
  vars["battery.charge"] = "90";
  vars["battery.runtime"] = "240";
  EXPECT_EQ(Grade(vars).status, CheckStatus::kCritical);
  vars["battery.runtime"] = "500";
  EXPECT_EQ(Grade(vars).status, CheckStatus::kWarning);
}

TEST(UpsGradeTest, LowChargeOnLineIsCappedAtWarning) {
  auto vars = Vars("list_var_online.txt");
  vars["battery.charge"] = "10";
  vars["battery.runtime"] = "100";
  UpsGrade g = Grade(vars);
  EXPECT_EQ(g.status, CheckStatus::kWarning) << g.summary;
  EXPECT_EQ(g.summary.rfind("on line: charge 10% (critical at 20%)", 0), 0u) << g.summary;
}

TEST(UpsGradeTest, StatusFlags) {
  auto with_status = [](const std::string& status) {
    std::map<std::string, std::string> vars = {{"ups.status", status}};
    return GradeUps(UpsStateFromNutVars(vars), UpsThresholds{});
  };
  EXPECT_EQ(with_status("OL").status, CheckStatus::kOk);
  EXPECT_EQ(with_status("OL").summary, "on line");

  UpsGrade rb = with_status("OL RB");
  EXPECT_EQ(rb.status, CheckStatus::kWarning);
  EXPECT_EQ(rb.summary, "REPLACE BATTERY — on line");
  EXPECT_EQ(*Metric(rb, "ups_replace_battery"), 1);

  UpsGrade fsd = with_status("FSD OB LB");
  EXPECT_EQ(fsd.status, CheckStatus::kCritical);
  EXPECT_EQ(fsd.summary, "ON BATTERY — FORCED SHUTDOWN, LOW BATTERY");

  UpsGrade lb_online = with_status("OL CHRG LB");
  EXPECT_EQ(lb_online.status, CheckStatus::kCritical);
  EXPECT_EQ(lb_online.summary, "LOW BATTERY — on line: charging");

  EXPECT_EQ(with_status("OFF").status, CheckStatus::kCritical);
  EXPECT_EQ(with_status("OFF").summary, "UPS OUTPUT OFF (the load has no power)");
  EXPECT_EQ(with_status("OL BYPASS").status, CheckStatus::kWarning);
  EXPECT_EQ(with_status("OL BYPASS").summary,
            "ON BYPASS (the load is not protected by the battery)");
  EXPECT_EQ(with_status("OL OVER").status, CheckStatus::kCritical);
  EXPECT_EQ(with_status("OL OVER").summary, "OVERLOAD — on line");
  EXPECT_EQ(with_status("OL TRIM").status, CheckStatus::kOk);
  EXPECT_EQ(with_status("OL TRIM").summary, "on line: trimming high input voltage");
  EXPECT_EQ(with_status("OL BOOST").summary, "on line: boosting low input voltage");
  EXPECT_EQ(with_status("OL DISCHRG CAL").summary, "on line: calibrating, discharging");
  EXPECT_EQ(with_status("OB DISCHRG").summary, "ON BATTERY — the UPS reports no charge or runtime");

  UpsGrade wait = with_status("WAIT");
  EXPECT_EQ(wait.status, CheckStatus::kUnknown);
  EXPECT_EQ(wait.summary, "no data from the UPS driver yet (upsd reports WAIT)");
  EXPECT_EQ(with_status("").status, CheckStatus::kUnknown);
  EXPECT_EQ(with_status("").summary, "power source unknown (no status reported)");

  std::map<std::string, std::string> alarm = {{"ups.status", "OL ALARM"},
                                              {"ups.alarm", "Fan failure"}};
  UpsGrade a = GradeUps(UpsStateFromNutVars(alarm), UpsThresholds{});
  EXPECT_EQ(a.status, CheckStatus::kWarning);
  EXPECT_EQ(a.summary, "ALARM: Fan failure — on line");
}

TEST(UpsGradeTest, LoadAndInputVoltageThresholds) {
  auto vars = Vars("list_var_online.txt");
  vars["ups.load"] = "85";
  EXPECT_EQ(Grade(vars).status, CheckStatus::kWarning);
  vars["ups.load"] = "97";
  UpsGrade g = Grade(vars);
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_NE(g.summary.find("load 97% (critical at 95%)"), std::string::npos) << g.summary;

  vars["ups.load"] = "20";
  UpsThresholds t;
  t.input_voltage_min = 210;
  t.input_voltage_max = 250;
  vars["input.voltage"] = "198";
  g = Grade(vars, t);
  EXPECT_EQ(g.status, CheckStatus::kWarning);
  EXPECT_NE(g.summary.find("input 198.0 V (outside 210-250 V)"), std::string::npos) << g.summary;
  vars["input.voltage"] = "231";
  EXPECT_EQ(Grade(vars, t).status, CheckStatus::kOk);
  // On battery the input is gone by definition: no voltage complaint on top.
  auto ob = Vars("list_var_on_battery.txt");
  ob["battery.charge"] = "90";
  g = Grade(ob, t);
  EXPECT_EQ(g.summary.find("outside"), std::string::npos) << g.summary;
}

TEST(UpsGradeTest, TemperatureIsReportedWhenPresent) {
  auto vars = Vars("list_var_online.txt");
  vars["ups.temperature"] = "31.5";
  UpsGrade g = Grade(vars);
  EXPECT_DOUBLE_EQ(*Metric(g, "ups_temperature_celsius"), 31.5);
  EXPECT_NE(g.summary.find("temperature 31.5 °C"), std::string::npos);
}

// upsd stand-in on loopback: accepts one connection and answers each request line with the
// scripted reply (or stays silent).
class ScriptedUpsd {
 public:
  explicit ScriptedUpsd(std::map<std::string, std::string> replies, bool silent = false)
      : replies_(std::move(replies)), silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedUpsd() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string buf;
    char chunk[512];
    while (true) {
      ssize_t n = ::recv(c, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (silent_) continue;
        auto it = replies_.find(line);
        std::string reply = it == replies_.end() ? "ERR UNKNOWN-COMMAND\n" : it->second;
        ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
    }
    ::close(c);
  }

  std::map<std::string, std::string> replies_;
  bool silent_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

class UpsCheckRunTest : public ::testing::Test {
 protected:
  std::vector<CheckResult> Run(
      UpsCheckOptions o, std::chrono::milliseconds budget = std::chrono::milliseconds(2'000)) {
    UpsCheck check("ups", std::move(o));
    CheckContext ctx{clock_, fs_};
    ctx.deadline = std::chrono::steady_clock::now() + budget;
    return check.Run(ctx);
  }
  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
};

TEST_F(UpsCheckRunTest, ListsEveryUpsAndGradesEach) {
  ScriptedUpsd upsd({{"LIST UPS", "BEGIN LIST UPS\nUPS a \"A\"\nUPS b \"B\"\nEND LIST UPS\n"},
                     {"LIST VAR a", "BEGIN LIST VAR a\nVAR a ups.status \"OL\"\nEND LIST VAR a\n"},
                     {"LIST VAR b", "BEGIN LIST VAR b\nVAR b ups.status \"OB\"\nEND LIST VAR b\n"},
                     {"LOGOUT", "OK Goodbye\n"}});
  UpsCheckOptions o;
  o.port = upsd.port();
  auto results = Run(o);
  ASSERT_EQ(results.size(), 2u);
  const std::string server = "@127.0.0.1:" + std::to_string(upsd.port());
  EXPECT_EQ(results[0].target, "a" + server);
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
  EXPECT_EQ(results[1].target, "b" + server);
  EXPECT_EQ(results[1].status, CheckStatus::kWarning);
  EXPECT_EQ(results[1].summary, "ON BATTERY — the UPS reports no charge or runtime");
  EXPECT_EQ(*MetricValue(results[1], "ups_up"), 1);
}

TEST_F(UpsCheckRunTest, SendsCredentialsFromTheFileQuoted) {
  ASSERT_TRUE(fs_.CreateDirectories("/etc/steadfast").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/etc/steadfast/upsd.pass", "se cret\"x\n").ok());
  ScriptedUpsd upsd({{"USERNAME mon", "OK\n"},
                     {"PASSWORD \"se cret\\\"x\"", "OK\n"},
                     {"LIST VAR ups", Fixture("list_var_online.txt")},
                     {"LOGOUT", "OK Goodbye\n"}});
  UpsCheckOptions o;
  o.port = upsd.port();
  o.ups = "ups";
  o.username = "mon";
  o.password_file = "/etc/steadfast/upsd.pass";
  auto results = Run(o);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_EQ(results[0].summary.find("cret"), std::string::npos);
}

TEST_F(UpsCheckRunTest, ErrorReplyIsUnknownWithTheReason) {
  ScriptedUpsd upsd({{"LIST VAR ups", "ERR DATA-STALE\n"}, {"LOGOUT", "OK Goodbye\n"}});
  UpsCheckOptions o;
  o.port = upsd.port();
  o.ups = "ups";
  auto results = Run(o);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("(ERR DATA-STALE)"), std::string::npos) << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "ups_up"), 0);
}

TEST_F(UpsCheckRunTest, SilentServerTimesOutAtTheDeadline) {
  ScriptedUpsd upsd({}, /*silent=*/true);
  UpsCheckOptions o;
  o.port = upsd.port();
  o.ups = "ups";
  const auto start = std::chrono::steady_clock::now();
  auto results = Run(o, std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("timed out waiting for a reply"), std::string::npos)
      << results[0].summary;
  EXPECT_GE(took, std::chrono::milliseconds(280));
  EXPECT_LT(took, std::chrono::milliseconds(1'500));
}

TEST_F(UpsCheckRunTest, RefusedNamesTheAddressOnlyForAHostName) {
  testing::LoopbackSocket refusing(/*listen=*/false);
  UpsCheckOptions o;
  o.port = refusing.port();
  o.ups = "ups";
  auto results = Run(o);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].summary,
            fmt::format("cannot connect to upsd at 127.0.0.1:{}: connection refused", o.port));
  o.host = "localhost";
  results = Run(o);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  // localhost may resolve to ::1 as well; the last address tried is named.
  EXPECT_EQ(
      results[0].summary.rfind(
          fmt::format("cannot connect to upsd at localhost:{}: connection refused (", o.port), 0),
      0u)
      << results[0].summary;
}

TEST_F(UpsCheckRunTest, MissingPasswordFileIsUnknown) {
  UpsCheckOptions o;
  o.port = 1;
  o.username = "mon";
  o.password_file = "/nonexistent";
  auto results = Run(o);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary.rfind("cannot read the upsd password file", 0), 0u);
}

// Host test: this machine runs no upsd (the tests start their own on other ports), so the
// default upsd address refuses the connection.
TEST_F(UpsCheckRunTest, HostWithoutUpsdIsUnknownConnectionRefused) {
  auto check = NewUpsCheck(SpecFromYaml("{name: ups, type: ups}"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  CheckContext ctx{clock_, fs_};
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const auto start = std::chrono::steady_clock::now();
  auto results = (*check)->Run(ctx);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  if (results[0].status != CheckStatus::kUnknown) {
    GTEST_SKIP() << "an upsd answers on 127.0.0.1:3493 here: " << results[0].summary;
  }
  EXPECT_EQ(results[0].target, "upsd@127.0.0.1:3493");
  EXPECT_EQ(results[0].summary, "cannot connect to upsd at 127.0.0.1:3493: connection refused");
  EXPECT_EQ(*MetricValue(results[0], "ups_up"), 0);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(UpsCheckFactoryTest, ValidatesItsKeys) {
  auto ok = NewUpsCheck(SpecFromYaml(
      "{name: u, type: ups, host: nas1, port: 3493, ups: rack-a, username: mon, "
      "password_file: /etc/nut/mon.pass, charge_warning_percent: 60, charge_critical_percent: 30,"
      " runtime_warning: 15m, runtime_critical: 5m, load_warning_percent: 70, "
      "load_critical_percent: 90, input_voltage_min: 200, input_voltage_max: 250}"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(dynamic_cast<UpsCheck*>(ok->get())->Server(), "nas1:3493");
  EXPECT_TRUE(NewUpsCheck(SpecFromYaml("{name: u, type: ups, ups: all}")).ok());

  auto unknown = NewUpsCheck(SpecFromYaml("name: u\ntype: ups\nupsname: x\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("agent.yaml:3: upsname"), std::string::npos)
      << unknown.status().message();
  auto inverted = NewUpsCheck(SpecFromYaml(
      "name: u\ntype: ups\ncharge_warning_percent: 20\ncharge_critical_percent: 50\n"));
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.status().message().find("agent.yaml:4: charge_critical_percent"),
            std::string::npos)
      << inverted.status().message();
  EXPECT_FALSE(NewUpsCheck(SpecFromYaml("{name: u, type: ups, runtime_warning: 1m, "
                                        "runtime_critical: 5m}"))
                   .ok());
  EXPECT_FALSE(NewUpsCheck(SpecFromYaml("{name: u, type: ups, username: mon}")).ok());
  EXPECT_FALSE(NewUpsCheck(SpecFromYaml("{name: u, type: ups, password_file: /x}")).ok());
  EXPECT_FALSE(
      NewUpsCheck(SpecFromYaml("{name: u, type: ups, username: mon, password_file: rel}")).ok());
  EXPECT_FALSE(NewUpsCheck(SpecFromYaml("{name: u, type: ups, port: 0}")).ok());
  EXPECT_FALSE(NewUpsCheck(SpecFromYaml("{name: u, type: ups, ups: 'a b'}")).ok());
  EXPECT_FALSE(NewUpsCheck(SpecFromYaml("{name: u, type: ups, input_voltage_min: 250, "
                                        "input_voltage_max: 200}"))
                   .ok());
}

}  // namespace
}  // namespace steadfast::agent
