#include "agent/checks/nagios_plugin_check.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/posix_command_runner.h"
#include "agent/testing/fake_command_runner.h"
#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;
using std::chrono::milliseconds;
using testing::FakeCommandRunner;
using testing::FakeOutcome;
using testing::SpecFromYaml;

const std::string kPlugins = "/usr/lib/nagios/plugins";

std::string Fixture(const std::string& name) { return testing::Testdata("nagios_plugin/" + name); }

const Metric* FindMetric(const CheckResult& r, const std::string& name, const std::string& label) {
  for (const Metric& m : r.metrics) {
    auto it = m.labels.find("label");
    if (m.name == name && it != m.labels.end() && it->second == label) return &m;
  }
  return nullptr;
}

TEST(PerfdataTest, SplitsTextLongOutputAndPerfdataLikeThePluginApi) {
  PluginOutput p = SplitPluginOutput(Fixture("plugin_api_long_output.out"));
  EXPECT_EQ(p.summary, "DISK OK - free space: / 3326 MB (56%);");
  EXPECT_EQ(p.long_output,
            "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%); ");
  EXPECT_EQ(p.perfdata,
            "/=2643MB;5948;5958;0;5968 /boot=68MB;88;93;0;98 /home=69357MB;253404;253409;0;253414 "
            "/var/log=818MB;970;975;0;980");
  std::vector<std::string> errors;
  auto items = ParsePerfdata(p.perfdata, &errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[3].label, "/var/log");
  EXPECT_EQ(items[3].value, 818);
  EXPECT_EQ(items[3].uom, "MB");
  EXPECT_EQ(items[3].warn, "970");
  EXPECT_EQ(items[3].crit, "975");
  EXPECT_EQ(items[3].min, "0");
  EXPECT_EQ(items[3].max, "980");
}

TEST(PerfdataTest, OneLineWithoutPerfdataAndEmptyOutput) {
  PluginOutput p = SplitPluginOutput("PING OK - Packet loss = 0%\n");
  EXPECT_EQ(p.summary, "PING OK - Packet loss = 0%");
  EXPECT_EQ(p.long_output, "");
  EXPECT_EQ(p.perfdata, "");
  EXPECT_EQ(SplitPluginOutput("").summary, "");
  // Windows line ends from a plugin run over some bridge.
  p = SplitPluginOutput("OK - fine|a=1\r\nmore text\r\n");
  EXPECT_EQ(p.summary, "OK - fine");
  EXPECT_EQ(p.long_output, "more text");
  EXPECT_EQ(p.perfdata, "a=1");
}

TEST(PerfdataTest, QuotedLabelsUnitsUnknownValuesAndErrors) {
  PluginOutput p = SplitPluginOutput(Fixture("quoted_labels_and_units.out"));
  EXPECT_EQ(p.summary, "HTTP OK: HTTP/1.1 200 OK - 5213 bytes in 0.012 second response time");
  EXPECT_EQ(p.long_output, "Server: nginx\nContent-Type: text/html ");
  std::vector<std::string> errors;
  auto items = ParsePerfdata(p.perfdata, &errors);
  ASSERT_EQ(items.size(), 10u) << p.perfdata;
  EXPECT_EQ(items[2].label, "response time ms");
  EXPECT_EQ(items[3].label, "it's quoted");
  EXPECT_EQ(items[3].value, 5);
  EXPECT_EQ(items[3].uom, "");
  EXPECT_EQ(items[4].label, "cpu %");
  EXPECT_EQ(items[6].label, "queue");
  EXPECT_FALSE(items[6].value.has_value());
  EXPECT_EQ(items[6].warn, "10");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_NE(errors[0].find("bad-item"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("=7"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("novalue"), std::string::npos) << errors[2];
  EXPECT_NE(errors[3].find("abc"), std::string::npos) << errors[3];
}

TEST(PerfdataTest, NumbersInEveryNotation) {
  std::vector<std::string> errors;
  auto items = ParsePerfdata("a=-1.5 b=+2 c=1e3 d=2.5E-2s e=0,25 f=.5 g=7.", &errors);
  EXPECT_TRUE(errors.empty()) << errors[0];
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0].value, -1.5);
  EXPECT_EQ(items[1].value, 2);
  EXPECT_EQ(items[2].value, 1000);
  EXPECT_EQ(items[3].value, 0.025);
  EXPECT_EQ(items[3].uom, "s");
  EXPECT_EQ(items[4].value, 0.25);  // a locale's decimal comma
  EXPECT_EQ(items[5].value, 0.5);
  EXPECT_EQ(items[6].value, 7);
  items = ParsePerfdata("'unterminated=5", &errors);
  EXPECT_TRUE(items.empty());
  EXPECT_NE(errors.back().find("unterminated"), std::string::npos);
}

TEST(PerfdataTest, UnitsAreConvertedToBaseUnits) {
  struct Case {
    std::string item;
    std::string name;
    double value;
    std::string unit;
  };
  const std::vector<Case> cases = {
      {"t=2s", "perfdata_seconds", 2, "seconds"},
      {"t=250ms", "perfdata_seconds", 0.25, "seconds"},
      {"t=1500us", "perfdata_seconds", 0.0015, "seconds"},
      {"p=55.5%", "perfdata_ratio", 0.555, "ratio"},
      {"b=512B", "perfdata_bytes", 512, "bytes"},
      {"b=2KB", "perfdata_bytes", 2048, "bytes"},
      {"b=3MB", "perfdata_bytes", 3 * 1048576.0, "bytes"},
      {"b=1.5GB", "perfdata_bytes", 1.5 * 1073741824.0, "bytes"},
      {"b=2TB", "perfdata_bytes", 2 * 1099511627776.0, "bytes"},
      {"b=4kb", "perfdata_bytes", 4096, "bytes"},
      {"b=1GiB", "perfdata_bytes", 1073741824.0, "bytes"},
      {"n=1234c", "perfdata_total", 1234, ""},
      {"n=7", "perfdata_value", 7, ""},
      {"n=41.5C", "perfdata_value", 41.5, "C"},  // Celsius, not a counter
  };
  for (const Case& c : cases) {
    auto items = ParsePerfdata(c.item, nullptr);
    ASSERT_EQ(items.size(), 1u) << c.item;
    auto m = PerfdataMetric(items[0]);
    ASSERT_TRUE(m.has_value()) << c.item;
    EXPECT_EQ(m->name, c.name) << c.item;
    EXPECT_DOUBLE_EQ(m->value, c.value) << c.item;
    EXPECT_EQ(m->unit, c.unit) << c.item;
    EXPECT_EQ(m->labels.at("label"), items[0].label);
  }
  EXPECT_FALSE(PerfdataMetric(ParsePerfdata("q=U", nullptr)[0]).has_value());
}

class NagiosPluginCheckTest : public ::testing::Test {
 protected:
  std::unique_ptr<Check> FromYaml(const std::string& yaml, int64_t timeout_ms = 10'000) {
    auto spec = SpecFromYaml(yaml);
    spec.timeout_ms = timeout_ms;
    auto check = NewNagiosPluginCheck(spec);
    EXPECT_TRUE(check.ok()) << check.status().ToString();
    return check.ok() ? std::move(check).value() : nullptr;
  }
  Status ConfigError(const std::string& yaml) {
    auto check = NewNagiosPluginCheck(SpecFromYaml(yaml));
    return check.ok() ? OkStatus() : check.status();
  }
  CheckResult RunOne(Check& check, CommandRunner* runner) {
    CheckContext ctx{clock_, fs_, "/proc"};
    ctx.commands = runner;
    auto results = check.Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  // Scripts `argv` to print `fixture` and exit with `code`.
  void Script(std::vector<std::string> argv, const std::string& fixture, int code) {
    fake_.Script(std::move(argv), FakeOutcome{code, 0, Fixture(fixture), "", milliseconds(12), false});
  }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  FakeCommandRunner fake_;
};

TEST_F(NagiosPluginCheckTest, RecordedCheckDiskOutput) {
  ASSERT_TRUE(fs_.CreateDirectories(kPlugins).ok());
  ASSERT_TRUE(fs_.WriteFileAtomic(kPlugins + "/check_disk", "", 0755).ok());
  Script({kPlugins + "/check_disk", "-w", "20%", "-c", "10%"}, "check_disk.out", 0);
  auto check = FromYaml("{name: disks, type: nagios_plugin, command: [check_disk, -w, 20%, -c, 10%]}");
  CheckResult r = RunOne(*check, &fake_);
  EXPECT_EQ(r.check, "disks");
  EXPECT_EQ(r.target, "check_disk");
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary.rfind("DISK OK - free space: /dev 12045MiB", 0), 0u) << r.summary;
  EXPECT_EQ(r.duration_ms, 12);
  ASSERT_EQ(r.metrics.size(), 4u);
  const Metric* root = FindMetric(r, "perfdata_bytes", "/");
  ASSERT_NE(root, nullptr);
  EXPECT_DOUBLE_EQ(root->value, 37744541696.0);
  EXPECT_EQ(root->unit, "bytes");
  auto details = nlohmann::json::parse(r.details_json);
  EXPECT_EQ(details["command"][0], kPlugins + "/check_disk");
  EXPECT_EQ(details["exit_code"], 0);
  EXPECT_EQ(details["perfdata"][2]["max"], "270552530944");
  EXPECT_FALSE(details.contains("perfdata_errors"));
}

TEST_F(NagiosPluginCheckTest, ExitCodesMapToStatuses) {
  const std::vector<std::pair<std::string, int>> fixtures = {
      {"check_procs.out", 0}, {"check_load_scaled.out", 1}, {"check_swap.out", 2}};
  for (const auto& [fixture, code] : fixtures) {
    Script({"/opt/plugins/check_x"}, fixture, code);
    auto check = FromYaml("{name: x, type: nagios_plugin, command: [/opt/plugins/check_x]}");
    CheckResult r = RunOne(*check, &fake_);
    EXPECT_EQ(static_cast<int>(r.status), code) << fixture;
  }
  Script({"/opt/plugins/check_x"}, "check_load_scaled.out", 1);
  auto check = FromYaml("{name: x, type: nagios_plugin, command: [/opt/plugins/check_x]}");
  CheckResult r = RunOne(*check, &fake_);
  EXPECT_EQ(r.summary,
            "LOAD WARNING - scaled load average: 1.00, 1.06, 1.07 - total load average: 2.00, "
            "2.13, 2.15");
  ASSERT_NE(FindMetric(r, "perfdata_value", "scaled_load5"), nullptr);
  EXPECT_DOUBLE_EQ(FindMetric(r, "perfdata_value", "scaled_load5")->value, 1.065);
  // 3 is unknown; anything above is a broken plugin, also unknown but saying so.
  fake_.Script({"/opt/plugins/check_x"}, FakeOutcome{3, 0, "UNKNOWN - cannot parse\n", "", {}, false});
  r = RunOne(*check, &fake_);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "UNKNOWN - cannot parse");
  fake_.Script({"/opt/plugins/check_x"}, FakeOutcome{127, 0, "", "check_x: libfoo.so: missing\n", {}, false});
  r = RunOne(*check, &fake_);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "plugin exited with code 127: check_x: libfoo.so: missing");
  fake_.Script({"/opt/plugins/check_x"}, FakeOutcome{0, SIGSEGV, "", "", {}, false});
  r = RunOne(*check, &fake_);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary.rfind("plugin killed by signal 11", 0), 0u) << r.summary;
  fake_.Script({"/opt/plugins/check_x"}, FakeOutcome{2, 0, "", "", {}, false});
  r = RunOne(*check, &fake_);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary, "(no output, exit code 2 = critical)");
}

TEST_F(NagiosPluginCheckTest, LongOutputAndPerfdataOnLaterLines) {
  Script({"/p/check_multi"}, "plugin_api_long_output.out", 0);
  auto check = FromYaml("{name: m, type: nagios_plugin, command: [/p/check_multi], target: nas}");
  CheckResult r = RunOne(*check, &fake_);
  EXPECT_EQ(r.target, "nas");
  EXPECT_EQ(r.summary, "DISK OK - free space: / 3326 MB (56%);");
  ASSERT_EQ(r.metrics.size(), 4u);
  EXPECT_DOUBLE_EQ(FindMetric(r, "perfdata_bytes", "/home")->value, 69357.0 * 1048576);
  auto details = nlohmann::json::parse(r.details_json);
  EXPECT_EQ(details["long_output"].get<std::string>().rfind("/ 15272 MB (77%);\n/boot", 0), 0u);

  Script({"/p/check_http"}, "quoted_labels_and_units.out", 0);
  check = FromYaml("{name: web, type: nagios_plugin, command: [/p/check_http]}");
  r = RunOne(*check, &fake_);
  EXPECT_EQ(r.metrics.size(), 9u);  // ten items, one "U"
  EXPECT_DOUBLE_EQ(FindMetric(r, "perfdata_seconds", "response time ms")->value, 0.0123);
  EXPECT_DOUBLE_EQ(FindMetric(r, "perfdata_ratio", "cpu %")->value, 0.555);
  EXPECT_DOUBLE_EQ(FindMetric(r, "perfdata_total", "requests")->value, 1234);
  EXPECT_DOUBLE_EQ(FindMetric(r, "perfdata_seconds", "wait")->value, 36e-6);
  details = nlohmann::json::parse(r.details_json);
  EXPECT_EQ(details["perfdata_errors"].size(), 4u);
  EXPECT_TRUE(details["perfdata"][6]["value"].is_null());
}

TEST_F(NagiosPluginCheckTest, TimeoutIsUnknownAndTheCommandGetsWhatIsLeftOfTheDeadline) {
  fake_.Script({"/p/check_slow"}, FakeOutcome{0, 0, "partial\n", "", milliseconds(60'000), false});
  auto check = FromYaml("{name: slow, type: nagios_plugin, command: [/p/check_slow]}", 10'000);
  CheckContext ctx{clock_, fs_, "/proc"};
  ctx.commands = &fake_;
  ctx.deadline = clock_.Monotonic() + milliseconds(2'000);
  auto results = check->Run(ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "timed out after 2 s (last output: partial)");
  EXPECT_EQ(fake_.calls().back().timeout, milliseconds(2'000));
  // Without a deadline in the context, the check's own timeout.
  RunOne(*check, &fake_);
  EXPECT_EQ(fake_.calls().back().timeout, milliseconds(10'000));
}

TEST_F(NagiosPluginCheckTest, MissingPluginOrRunnerIsUnknownWithTheReason) {
  auto check = FromYaml("{name: gone, type: nagios_plugin, command: [check_nothing_here]}");
  CheckResult r = RunOne(*check, &fake_);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "plugin check_nothing_here not found");
  fake_.AddNonExecutable("/p/check_noexec");
  check = FromYaml("{name: noexec, type: nagios_plugin, command: [/p/check_noexec]}");
  EXPECT_EQ(RunOne(*check, &fake_).summary, "plugin /p/check_noexec is not executable");
  r = RunOne(*check, nullptr);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "cannot run plugins here: no command runner");
}

TEST_F(NagiosPluginCheckTest, EnvironmentAndBareNamesOutsideThePluginDirs) {
  fake_.AddProgram("/usr/bin/my_check", [](const CommandRequest& req, const auto& env) {
    return FakeOutcome{0, 0, "OK - " + env.at("MY_OPTION") + " " + req.argv[1] + "\n", "", {}, false};
  });
  auto check = FromYaml(
      "{name: mine, type: nagios_plugin, command: [my_check, --fast], env: {MY_OPTION: yes please}}");
  CheckResult r = RunOne(*check, &fake_);
  EXPECT_EQ(r.summary, "OK - yes please --fast");
  EXPECT_EQ(fake_.calls().back().argv[0], "my_check");  // looked up by the runner's fixed PATH
}

TEST_F(NagiosPluginCheckTest, NonUtf8OutputBecomesValidText) {
  fake_.Script({"/p/check_latin1"}, FakeOutcome{0, 0, "OK - Temp\xe9rature 21\xb0|'t\xe9'=21\n", "", {}, false});
  auto check = FromYaml("{name: l1, type: nagios_plugin, command: [/p/check_latin1]}");
  CheckResult r = RunOne(*check, &fake_);
  EXPECT_EQ(r.summary, "OK - Temp\xef\xbf\xbdrature 21\xef\xbf\xbd");
  ASSERT_EQ(r.metrics.size(), 1u);
  EXPECT_EQ(r.metrics[0].labels.at("label"), "t\xef\xbf\xbd");
  EXPECT_NO_THROW(protocol::EncodeCheckResult(r));
}

TEST_F(NagiosPluginCheckTest, ConfigIsValidated) {
  EXPECT_NE(ConfigError("{name: a, type: nagios_plugin}").message().find("command: required"),
            std::string::npos);
  EXPECT_NE(ConfigError("{name: a, type: nagios_plugin, command: check_load -w 1}")
                .message()
                .find("without a shell"),
            std::string::npos);
  EXPECT_NE(ConfigError("{name: a, type: nagios_plugin, command: []}").message().find("first element"),
            std::string::npos);
  EXPECT_NE(ConfigError("{name: a, type: nagios_plugin, command: [plugins/check_x]}")
                .message()
                .find("relative path"),
            std::string::npos);
  EXPECT_NE(ConfigError("{name: a, type: nagios_plugin, command: [check_x], env: {BAD-NAME: 1}}")
                .message()
                .find("environment variable names"),
            std::string::npos);
  EXPECT_NE(ConfigError("{name: a, type: nagios_plugin, command: [check_x], plugin_dirs: [rel]}")
                .message()
                .find("absolute"),
            std::string::npos);
  EXPECT_NE(ConfigError("{name: a, type: nagios_plugin, command: [check_x], shell: true}")
                .message()
                .find("shell"),
            std::string::npos);
  EXPECT_TRUE(ConfigError("{name: a, type: nagios_plugin, command: [check_x], timeout: 5s}").ok());
}

// Real plugins from Debian's monitoring-plugins-basic through the real runner.
class RealPluginTest : public NagiosPluginCheckTest {
 protected:
  void SetUp() override {
    if (::access((kPlugins + "/check_dummy").c_str(), X_OK) != 0) {
      GTEST_SKIP() << "install monitoring-plugins-basic (" << kPlugins << "/check_dummy)";
    }
  }
  CheckResult RunReal(const std::string& yaml, int64_t timeout_ms = 10'000) {
    auto check = FromYaml(yaml, timeout_ms);
    CheckContext ctx{real_clock_, *real_fs_, "/proc"};
    ctx.commands = &runner_;
    ctx.deadline = real_clock_.Monotonic() + milliseconds(timeout_ms);
    auto results = check->Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  RealClock real_clock_;
  std::unique_ptr<FileSystem> real_fs_ = NewPosixFileSystem();
  PosixCommandRunner runner_;
};

TEST_F(RealPluginTest, CheckDummyEveryStatus) {
  for (int code = 0; code <= 3; ++code) {
    CheckResult r = RunReal("{name: d, type: nagios_plugin, command: [check_dummy, '" +
                            std::to_string(code) + "', 'hello from dummy']}");
    EXPECT_EQ(static_cast<int>(r.status), code);
    EXPECT_NE(r.summary.find("hello from dummy"), std::string::npos) << r.summary;
    EXPECT_EQ(nlohmann::json::parse(r.details_json)["command"][0], kPlugins + "/check_dummy");
  }
  // check_dummy refuses a state above 3 and says so.
  CheckResult r = RunReal("{name: d, type: nagios_plugin, command: [check_dummy, '7']}");
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
}

TEST_F(RealPluginTest, CheckLoadReportsTheLoadAverages) {
  CheckResult r = RunReal(
      "{name: load, type: nagios_plugin, command: [check_load, -w, '1000,1000,1000', -c, "
      "'2000,2000,2000']}");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.summary.rfind("LOAD OK", 0), 0u) << r.summary;
  for (const char* label : {"load1", "load5", "load15"}) {
    const Metric* m = FindMetric(r, "perfdata_value", label);
    ASSERT_NE(m, nullptr) << label << " in " << r.details_json;
    EXPECT_GE(m->value, 0);
    EXPECT_LT(m->value, 1000);
  }
}

TEST_F(RealPluginTest, CheckDiskReportsBytes) {
  CheckResult r = RunReal("{name: root, type: nagios_plugin, command: [check_disk, -w, '1', -c, '1', -p, /]}");
  EXPECT_NE(r.status, CheckStatus::kUnknown) << r.summary;
  const Metric* m = FindMetric(r, "perfdata_bytes", "/");
  ASSERT_NE(m, nullptr) << r.details_json;
  EXPECT_GT(m->value, 0);
  EXPECT_EQ(m->unit, "bytes");
}

TEST_F(RealPluginTest, HungPluginIsKilledAtTheTimeout) {
  const auto before = std::chrono::steady_clock::now();
  CheckResult r = RunReal("{name: hang, type: nagios_plugin, command: [/bin/sleep, '30']}", 300);
  // Killed at the timeout, not after the plugin's 30 s (the margin absorbs a loaded machine).
  EXPECT_LT(std::chrono::steady_clock::now() - before, milliseconds(10'000));
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "timed out after 300 ms");
}

}  // namespace
}  // namespace steadfast::agent
