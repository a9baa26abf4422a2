#include "common/protocol/protocol.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "common/clock.h"
#include "common/protocol/fast_json_reader.h"
#include "common/protocol/protocol_internal.h"

namespace steadfast::protocol {
namespace {

ReportBatch SampleBatch() {
  ReportBatch b;
  b.agent_id = "a-0123";
  b.sent_at_ms = 1'796'870'674'000;
  b.host = HostInfo{"srv-01", "Debian GNU/Linux 12 (bookworm)", "6.1.0", "x86_64", "0.1.0"};
  CheckResult r;
  r.check = "root-fs";
  r.target = "/";
  r.status = CheckStatus::kWarning;
  r.summary = "/ is 85% full";
  r.observed_at_ms = 1'796'870'673'500;
  r.duration_ms = 3;
  r.metrics = {Metric{"filesystem_used_ratio", {{"mountpoint", "/"}}, 0.85, "ratio"},
               Metric{"filesystem_free_bytes", {}, 1.5e9, "bytes"}};
  r.details_json = R"({"fstype":"ext4"})";
  b.results.push_back({41, r});
  r.status = CheckStatus::kOk;
  r.metrics.clear();
  r.details_json = "{}";
  b.results.push_back({42, r});
  return b;
}

TEST(ProtocolTest, ReportBatchRoundTrips) {
  ReportBatch b = SampleBatch();
  auto back = DecodeReportBatch(EncodeReportBatch(b));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, b);
}

TEST(ProtocolTest, ReportAckTextIsTheJsonDump) {
  for (ReportAck ack : {ReportAck{0, 0, 0, {}}, ReportAck{42, 1, 1, {}}, ReportAck{UINT64_MAX, INT32_MAX, -1, {}},
                        ReportAck{1'796'870'674'123'000, 50, 0, {}}}) {
    EXPECT_EQ(EncodeReportAck(ack), nlohmann::json({{"acked_through", ack.acked_through},
                                                    {"accepted", ack.accepted},
                                                    {"duplicates", ack.duplicates}})
                                        .dump());
  }
}

TEST(ProtocolTest, OtherMessagesRoundTrip) {
  ReportAck ack{42, 1, 1, {}};
  auto a = DecodeReportAck(EncodeReportAck(ack));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->acked_through, 42u);
  EXPECT_EQ(a->duplicates, 1);
  EnrollRequest req;
  req.enrollment_token = "enrol-me";
  req.host.hostname = "srv-01";
  auto r = DecodeEnrollRequest(EncodeEnrollRequest(req));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->enrollment_token, "enrol-me");
  auto e = DecodeEnrollResponse(EncodeEnrollResponse({"a-1", "tok"}));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->agent_token, "tok");
}

// Each case mutates a valid batch and names the field the error must point at.
struct Rejection {
  std::string name;
  std::function<void(nlohmann::json&)> mutate;
  std::string field;
};

class ProtocolRejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(ProtocolRejectionTest, NamesTheField) {
  nlohmann::json j = nlohmann::json::parse(EncodeReportBatch(SampleBatch()));
  GetParam().mutate(j);
  auto r = DecodeReportBatch(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(r.status()), GetParam().field) << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    All, ProtocolRejectionTest,
    ::testing::Values(
        Rejection{"missing_version", [](auto& j) { j.erase("version"); }, "version"},
        Rejection{"future_version", [](auto& j) { j["version"] = 99; }, "version"},
        Rejection{"agent_id_number", [](auto& j) { j["agent_id"] = 5; }, "agent_id"},
        Rejection{"missing_host", [](auto& j) { j.erase("host"); }, "host"},
        Rejection{"empty_hostname", [](auto& j) { j["host"]["hostname"] = ""; }, "host.hostname"},
        Rejection{"results_not_array", [](auto& j) { j["results"] = "x"; }, "results"},
        Rejection{"bad_status", [](auto& j) { j["results"][1]["status"] = "fine"; }, "results[1].status"},
        Rejection{"status_wrong_type", [](auto& j) { j["results"][0]["status"] = 2; }, "results[0].status"},
        Rejection{"negative_seq", [](auto& j) { j["results"][0]["seq"] = -1; }, "results[0].seq"},
        Rejection{"seq_not_increasing", [](auto& j) { j["results"][1]["seq"] = 41; }, "results[1].seq"},
        Rejection{"bad_time", [](auto& j) { j["results"][0]["observed_at"] = "noon"; },
                  "results[0].observed_at"},
        Rejection{"metric_value_string", [](auto& j) { j["results"][0]["metrics"][0]["value"] = "1"; },
                  "results[0].metrics[0].value"},
        Rejection{"label_not_string", [](auto& j) { j["results"][0]["metrics"][0]["labels"]["x"] = 1; },
                  "results[0].metrics[0].labels.x"},
        Rejection{"details_array", [](auto& j) { j["results"][0]["details"] = nlohmann::json::array(); },
                  "results[0].details"},
        Rejection{"huge_summary", [](auto& j) { j["results"][0]["summary"] = std::string(5000, 'x'); },
                  "results[0].summary"},
        Rejection{"too_many_results",
                  [](auto& j) {
                    auto one = j["results"][0];
                    j["results"] = nlohmann::json::array();
                    for (size_t i = 0; i <= kMaxResultsPerBatch; ++i) {
                      one["seq"] = i + 1;
                      j["results"].push_back(one);
                    }
                  },
                  "results"},
        Rejection{"action_results_object", [](auto& j) { j["action_results"] = nlohmann::json::object(); },
                  "action_results"},
        Rejection{"action_result_bad_state",
                  [](auto& j) { j["action_results"] = {{{"id", "act-1"}, {"state", "done"}}}; },
                  "action_results[0].state"},
        Rejection{"action_result_no_id", [](auto& j) { j["action_results"] = {{{"state", "running"}}}; },
                  "action_results[0].id"},
        Rejection{"action_result_id_with_slash",
                  [](auto& j) { j["action_results"] = {{{"id", "../x"}, {"state", "failed"}}}; },
                  "action_results[0].id"},
        Rejection{"action_result_bad_time",
                  [](auto& j) {
                    j["action_results"] = {{{"id", "act-1"}, {"state", "failed"}, {"finished_at", "soon"}}};
                  },
                  "action_results[0].finished_at"},
        Rejection{"too_many_action_results",
                  [](auto& j) {
                    j["action_results"] = nlohmann::json::array();
                    for (size_t i = 0; i <= kMaxActionResultsPerBatch; ++i) {
                      j["action_results"].push_back({{"id", "act-" + std::to_string(i)}, {"state", "running"}});
                    }
                  },
                  "action_results"}),
    [](const auto& info) { return info.param.name; });

// Actions ride on reports: the ack carries the actions waiting for the agent, a batch the
// results of those it ran. Both round-trip; an ack without actions is the text it always was.
TEST(ProtocolTest, ActionsRoundTripInAcksAndBatches) {
  ReportAck ack{42, 2, 0, {}};
  ActionRequest req;
  req.id = "act-00ff";
  req.action = "emergency_backup";
  req.params_json = R"({"job":"records"})";
  req.requested_at_ms = 1'796'870'674'000;
  req.requested_by = "alice";
  req.expires_at_ms = 1'796'874'274'000;
  ack.actions = {req, req};
  ack.actions[1].id = "act-0100";
  ack.actions[1].params_json = "{}";
  const std::string text = EncodeReportAck(ack);
  EXPECT_EQ(nlohmann::json::parse(text).dump(), text) << "keys in the order dump() gives";
  auto back = DecodeReportAck(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->acked_through, 42u);
  EXPECT_EQ(back->actions, ack.actions);

  ReportBatch b = SampleBatch();
  ActionResult done;
  done.id = "act-00ff";
  done.state = ActionState::kSucceeded;
  done.summary = "snapshot 3f2a1b0c of job records (12.0 MiB added)";
  done.started_at_ms = 1'796'870'675'000;
  done.finished_at_ms = 1'796'870'699'000;
  done.details_json = R"({"jobs":[{"job":"records","snapshot":"3f2a1b0c"}]})";
  ActionResult running;
  running.id = "act-0100";
  running.state = ActionState::kRunning;
  running.started_at_ms = 1'796'870'700'000;
  b.action_results = {done, running};
  auto decoded = DecodeReportBatch(EncodeReportBatch(b));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, b);
  // The agent's raw encoder carries them too; a batch may hold action results and no results.
  std::vector<RawReportEntry> none;
  ReportBatch only = b;
  only.results.clear();
  auto raw = DecodeReportBatch(EncodeReportBatchRaw(only, none));
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(*raw, only);

  // An answer that is not an action list is an error naming it.
  auto bad = DecodeReportAck(R"({"acked_through":1,"actions":[{"id":"act-1","action":"rm -rf"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(FieldOf(bad.status()), "actions[0].action");
}

TEST(ProtocolTest, RawBatchIsTheSameDocumentAsTheEncodedOne) {
  ReportBatch b = SampleBatch();
  ASSERT_GE(b.results.size(), 1u);
  std::vector<RawReportEntry> raw;
  for (const auto& e : b.results) raw.push_back({e.seq, EncodeCheckResult(e.result)});
  const std::string text = EncodeReportBatchRaw(b, raw);
  EXPECT_EQ(nlohmann::json::parse(text), nlohmann::json::parse(EncodeReportBatch(b)));
  auto back = DecodeReportBatch(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  EXPECT_EQ(*back, b);
  // No results, and a result object without members, still make valid JSON.
  EXPECT_TRUE(nlohmann::json::accept(EncodeReportBatchRaw(b, {})));
  auto odd = nlohmann::json::parse(EncodeReportBatchRaw(b, {{7, "{}"}}));
  EXPECT_EQ(odd["results"][0], (nlohmann::json{{"seq", 7}}));
}

// EncodeCheckResult writes JSON itself; the document must be the one the json tree gives
// (EncodeReportBatch), for awkward text and numbers too.
TEST(ProtocolTest, EncodedResultIsTheDocumentTheJsonTreeGives) {
  ReportBatch b = SampleBatch();
  ASSERT_GE(b.results.size(), 1u);
  CheckResult r = b.results[0].result;
  r.check = "disk \"sda\" \\ C:\\";
  r.target = std::string("tab\there, nl\nthere, bell\x07, del\x7f, esc\x1b, nul") + '\0' + "end";
  r.summary = "Umlaut \xc3\xa4, \xe6\xb8\xa9\xe5\xba\xa6 (temperature), emoji \xf0\x9f\x94\xa5, \b\f\r";
  r.details_json = R"({"z":[1,2.5,"x\u0001"],"a":{"nested":true,"n":null}})";
  r.duration_ms = -5;
  r.metrics.clear();
  for (double v : {0.0, -0.0, 5.0, 0.1, 1e-300, 1.7976931348623157e308, -123456789.125, 3e20,
                   std::nan(""), std::numeric_limits<double>::infinity()}) {
    Metric m;
    m.name = "m" + std::to_string(r.metrics.size());
    m.value = v;
    if (r.metrics.size() % 2 == 0) m.labels = {{"device", "/dev/sd\"a\""}, {"b", ""}};
    if (r.metrics.size() % 3 == 0) m.unit = "bytes";
    r.metrics.push_back(m);
  }
  auto tree_form = [](const ReportBatch& one) {
    nlohmann::json j = nlohmann::json::parse(EncodeReportBatch(one))["results"][0];
    j.erase("seq");
    return j;
  };
  ReportBatch one = b;
  one.results.resize(1);
  one.results[0].result = r;
  EXPECT_EQ(nlohmann::json::parse(EncodeCheckResult(r)), tree_form(one)) << EncodeCheckResult(r);
  // Details that are not a JSON object, or no details: {}.
  for (const char* d : {"", "[1]", "not json", "{}", " {\"a\": [1, 2]}\n", "{\"a\":\"\xff\"}", "{} {}"}) {
    r.details_json = d;
    one.results[0].result = r;
    EXPECT_EQ(nlohmann::json::parse(EncodeCheckResult(r)), tree_form(one)) << d;
  }
}

// Where the json tree would throw (bytes that are not UTF-8), each such byte becomes U+FFFD.
TEST(ProtocolTest, EncodedResultReplacesBytesThatAreNotUtf8) {
  CheckResult r = SampleBatch().results[0].result;
  r.summary = std::string("a\xff\xc3" "b\xed\xa0\x80" "c");  // a lone byte, a cut sequence, a surrogate
  const std::string text = EncodeCheckResult(r);
  auto back = DecodeCheckResult(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->summary, "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "c");
}

TEST(ProtocolTest, RejectsNonJsonAndTruncation) {
  std::string full = EncodeReportBatch(SampleBatch());
  for (size_t cut : {size_t{0}, size_t{1}, full.size() / 2, full.size() - 1}) {
    auto r = DecodeReportBatch(full.substr(0, cut));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << cut;
  }
  EXPECT_FALSE(DecodeReportBatch("[1,2,3]").ok());
  EXPECT_FALSE(DecodeReportBatch("\xff\xfe").ok());
}

HostInventory SampleInventory() {
  HostInventory inv;
  inv.agent_id = "a-0123";
  inv.collected_at_ms = 1'796'870'674'000;
  inv.host = HostInfo{"srv-01", "Debian GNU/Linux 12 (bookworm)", "6.1.0", "x86_64", "0.1.0"};
  inv.cpu_model = "Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz";
  inv.cpu_count = 48;
  inv.memory_bytes = int64_t{256} << 30;
  inv.disks = {DiskInfo{"nvme0n1", 1'000'204'886'016, "Samsung SSD 980 PRO 1TB", "", "S5GXNX0T123456A",
                        "eui.002538b111b2c3d4", false},
               DiskInfo{"sda", 4'000'787'030'016, "ST4000NM0035-1V4", "ATA", "ZC1ABCDE", "naa.5000c500a1b2c3d4", true}};
  inv.dmi.sys_vendor = "Dell Inc.";
  inv.dmi.product_name = "PowerEdge R740";
  inv.dmi.product_serial = "7XK9Q23";
  inv.dmi.product_uuid = "4c4c4544-0058-4b10-8039-b7c04f513233";
  inv.dmi.chassis_type = "23";
  inv.dmi.bios_version = "2.12.2";
  return inv;
}

TEST(ProtocolTest, HostInventoryRoundTrips) {
  const HostInventory inv = SampleInventory();
  auto back = DecodeHostInventory(EncodeHostInventory(inv));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, inv);
  nlohmann::json j = nlohmann::json::parse(EncodeHostInventory(inv));
  EXPECT_EQ(j["collected_at"], "2026-12-10T02:44:34.000Z");
  EXPECT_EQ(j["cpu"]["count"], 48);
  EXPECT_EQ(j["disks"][1]["rotational"], true);
  EXPECT_EQ(j["dmi"]["chassis_type"], "23");
  // Optional parts may be absent (an old or minimal agent); unknown members are ignored.
  auto minimal = DecodeHostInventory(
      R"({"version":1,"agent_id":"a-1","collected_at":"2026-11-29T02:44:34Z","host":{"hostname":"h"},"future":1})");
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_EQ(minimal->cpu_count, 0);
  EXPECT_TRUE(minimal->disks.empty());
  EXPECT_EQ(minimal->dmi, DmiInfo{});
}

TEST(ProtocolTest, SameInventoryIgnoresOnlyTheCollectionTime) {
  HostInventory a = SampleInventory();
  HostInventory b = a;
  b.collected_at_ms += 86'400'000;
  EXPECT_TRUE(SameInventory(a, b));
  b.disks[1].serial = "OTHER";
  EXPECT_FALSE(SameInventory(a, b));
}

TEST(ProtocolTest, HostInventoryEncodingSurvivesBytesThatAreNotUtf8) {
  HostInventory inv = SampleInventory();
  inv.dmi.board_name = "bad \xff\xfe board";
  std::string text;
  ASSERT_NO_THROW(text = EncodeHostInventory(inv));
  auto back = DecodeHostInventory(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->dmi.board_name, "bad \xef\xbf\xbd\xef\xbf\xbd board");  // U+FFFD twice
}

class InventoryRejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(InventoryRejectionTest, NamesTheField) {
  nlohmann::json j = nlohmann::json::parse(EncodeHostInventory(SampleInventory()));
  GetParam().mutate(j);
  auto r = DecodeHostInventory(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(r.status()), GetParam().field) << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    All, InventoryRejectionTest,
    ::testing::Values(
        Rejection{"missing_version", [](auto& j) { j.erase("version"); }, "version"},
        Rejection{"future_version", [](auto& j) { j["version"] = 2; }, "version"},
        Rejection{"missing_agent_id", [](auto& j) { j.erase("agent_id"); }, "agent_id"},
        Rejection{"empty_agent_id", [](auto& j) { j["agent_id"] = ""; }, "agent_id"},
        Rejection{"missing_collected_at", [](auto& j) { j.erase("collected_at"); }, "collected_at"},
        Rejection{"bad_collected_at", [](auto& j) { j["collected_at"] = "yesterday"; }, "collected_at"},
        Rejection{"missing_host", [](auto& j) { j.erase("host"); }, "host"},
        Rejection{"empty_hostname", [](auto& j) { j["host"]["hostname"] = ""; }, "host.hostname"},
        Rejection{"cpu_not_object", [](auto& j) { j["cpu"] = 4; }, "cpu"},
        Rejection{"cpu_count_string", [](auto& j) { j["cpu"]["count"] = "4"; }, "cpu.count"},
        Rejection{"cpu_count_negative", [](auto& j) { j["cpu"]["count"] = -4; }, "cpu.count"},
        Rejection{"cpu_count_absurd", [](auto& j) { j["cpu"]["count"] = int64_t{1} << 40; }, "cpu.count"},
        Rejection{"cpu_model_long", [](auto& j) { j["cpu"]["model"] = std::string(257, 'x'); }, "cpu.model"},
        Rejection{"memory_negative", [](auto& j) { j["memory_bytes"] = -1; }, "memory_bytes"},
        Rejection{"memory_float", [](auto& j) { j["memory_bytes"] = 1.5; }, "memory_bytes"},
        Rejection{"disks_object", [](auto& j) { j["disks"] = nlohmann::json::object(); }, "disks"},
        Rejection{"disk_not_object", [](auto& j) { j["disks"][1] = "sda"; }, "disks[1]"},
        Rejection{"disk_without_name", [](auto& j) { j["disks"][0].erase("name"); }, "disks[0].name"},
        Rejection{"disk_name_with_slash", [](auto& j) { j["disks"][0]["name"] = "../sda"; }, "disks[0].name"},
        Rejection{"disk_name_duplicate", [](auto& j) { j["disks"][1]["name"] = "nvme0n1"; }, "disks[1].name"},
        Rejection{"disk_size_negative", [](auto& j) { j["disks"][1]["size_bytes"] = -512; }, "disks[1].size_bytes"},
        Rejection{"disk_serial_number", [](auto& j) { j["disks"][0]["serial"] = 12345; }, "disks[0].serial"},
        Rejection{"disk_rotational_string", [](auto& j) { j["disks"][0]["rotational"] = "yes"; },
                  "disks[0].rotational"},
        Rejection{"too_many_disks",
                  [](auto& j) {
                    nlohmann::json one = j["disks"][0];
                    j["disks"] = nlohmann::json::array();
                    for (size_t i = 0; i <= kMaxInventoryDisks; ++i) {
                      one["name"] = "sd" + std::to_string(i);
                      j["disks"].push_back(one);
                    }
                  },
                  "disks"},
        Rejection{"dmi_array", [](auto& j) { j["dmi"] = nlohmann::json::array(); }, "dmi"},
        Rejection{"dmi_serial_long", [](auto& j) { j["dmi"]["product_serial"] = std::string(300, 'x'); },
                  "dmi.product_serial"},
        Rejection{"dmi_chassis_number", [](auto& j) { j["dmi"]["chassis_type"] = 23; }, "dmi.chassis_type"}),
    [](const auto& info) { return info.param.name; });

TEST(ProtocolTest, HostInventoryRejectsNonJson) {
  EXPECT_EQ(DecodeHostInventory("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeHostInventory("[]").status().code(), StatusCode::kInvalidArgument);
  const std::string full = EncodeHostInventory(SampleInventory());
  EXPECT_FALSE(DecodeHostInventory(full.substr(0, full.size() - 1)).ok());
}

TEST(ProtocolTest, WorseStatusOrdersByGravity) {
  EXPECT_EQ(WorseStatus(CheckStatus::kOk, CheckStatus::kWarning), CheckStatus::kWarning);
  EXPECT_EQ(WorseStatus(CheckStatus::kCritical, CheckStatus::kWarning), CheckStatus::kCritical);
  EXPECT_EQ(WorseStatus(CheckStatus::kUnknown, CheckStatus::kOk), CheckStatus::kUnknown);
  EXPECT_EQ(WorseStatus(CheckStatus::kUnknown, CheckStatus::kWarning), CheckStatus::kWarning);
}

// --- DecodeReportBatch's fast path against the reference decoder ----------------------------

// DecodeReportBatch must answer exactly as the reference decoder: the same batch, or the same
// error (code and message, hence field). And whenever the fast path claims a document, its
// batch must be the reference decoder's.
void ExpectSameAsReference(const std::string& text) {
  SCOPED_TRACE(text.substr(0, 300));
  StatusOr<ReportBatch> ref = internal::DecodeReportBatchReference(text);
  StatusOr<ReportBatch> got = DecodeReportBatch(text);
  ASSERT_EQ(got.ok(), ref.ok()) << (got.ok() ? ref.status() : got.status()).ToString();
  if (ref.ok()) {
    EXPECT_EQ(*got, *ref);
  } else {
    EXPECT_EQ(got.status().code(), ref.status().code());
    EXPECT_EQ(got.status().message(), ref.status().message());
  }
  ReportBatch fast;
  if (internal::DecodeReportBatchFast(text, &fast)) {
    ASSERT_TRUE(ref.ok()) << "fast path accepted what the reference rejects: " << ref.status().ToString();
    EXPECT_EQ(fast, *ref);
  }
}

TEST(ProtocolFastPathTest, HandlesWhatAgentsSend) {
  ReportBatch b = SampleBatch();
  // Strings that need escaping, non-ASCII text, nested details, unusual numbers.
  b.results[0].result.summary = "quote \" backslash \\ tab \t newline \n nul-ish \x01 caf\xc3\xa9 \xe2\x82\xac";
  b.results[0].result.details_json = R"({"a":[1,-2,3.5,1e300,true,false,null,{"x":"y"}],"b":{"c":{}},"z":"\u00e9"})";
  b.results[0].result.metrics[0].labels["weird \"label\""] = "v\\al";
  b.results[0].result.metrics[1].value = -0.0;
  b.results[1].seq = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  b.results[1].result.duration_ms = 0;
  const std::string text = EncodeReportBatch(b);
  ReportBatch fast;
  ASSERT_TRUE(internal::DecodeReportBatchFast(text, &fast));
  auto ref = internal::DecodeReportBatchReference(text);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(fast, *ref);
  ExpectSameAsReference(text);
}

// Fields a newer agent may add, offsets in timestamps and other valid rarities stay on the
// fast path (falling back would be correct, only slower).
TEST(ProtocolFastPathTest, KeepsValidVariantsOnTheFastPath) {
  using J = nlohmann::json;
  J base = J::parse(EncodeReportBatch(SampleBatch()));
  std::vector<std::function<void(J&)>> variants = {
      [](J& j) { j["future"] = J{{"a", J::array({1, "x", nullptr, J::object()})}}; },
      [](J& j) { j["host"]["future"] = J::array({J::array()}); },
      [](J& j) { j["results"][0]["future"] = true; },
      [](J& j) { j["results"][0]["metrics"][0]["future"] = 1.5; },
      [](J& j) { j["sent_at"] = "2026-11-29T10:44:34+08:00"; },
      [](J& j) { j["sent_at"] = ""; },
      [](J& j) { j.erase("sent_at"); },
      [](J& j) { j["results"][0]["metrics"] = J::array(); },
      [](J& j) { j["results"][0]["metrics"][0]["labels"] = J::object(); },
      [](J& j) { j["results"][0]["metrics"][0]["value"] = -7; },
      [](J& j) { j["results"][0].erase("details"); },
      [](J& j) { j["results"] = J::array(); },
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    SCOPED_TRACE(i);
    J j = base;
    variants[i](j);
    ReportBatch fast;
    EXPECT_TRUE(internal::DecodeReportBatchFast(j.dump(), &fast));
    ExpectSameAsReference(j.dump());
  }
}

TEST(ProtocolFastPathTest, AgreesWithReferenceOnEveryRejection) {
  nlohmann::json base = nlohmann::json::parse(EncodeReportBatch(SampleBatch()));
  using J = nlohmann::json;
  std::vector<std::function<void(J&)>> mutations = {
      [](J&) {},
      // Everything the parameterised rejection test covers, and more.
      [](J& j) { j.erase("version"); },
      [](J& j) { j["version"] = 99; },
      [](J& j) { j["version"] = 0; },
      [](J& j) { j["version"] = -1; },
      [](J& j) { j["version"] = 1.0; },
      [](J& j) { j["version"] = "1"; },
      [](J& j) { j["version"] = nullptr; },
      [](J& j) { j["agent_id"] = 5; },
      [](J& j) { j["agent_id"] = ""; },
      [](J& j) { j["agent_id"] = std::string(129, 'a'); },
      [](J& j) { j["agent_id"] = std::string(128, 'a'); },
      [](J& j) { j["agent_id"] = nullptr; },
      [](J& j) { j.erase("sent_at"); },
      [](J& j) { j["sent_at"] = ""; },
      [](J& j) { j["sent_at"] = nullptr; },
      [](J& j) { j["sent_at"] = "2026-11-29T10:44:34.5+08:00"; },
      [](J& j) { j["sent_at"] = "2026-11-29T02:44:34Z"; },
      [](J& j) { j["sent_at"] = "2026-02-31T02:44:60.999Z"; },
      [](J& j) { j["sent_at"] = "2026-13-29T02:44:34.123Z"; },
      [](J& j) { j["sent_at"] = "2026-11-29 02:44:34.123Z"; },
      [](J& j) { j["sent_at"] = std::string(65, '1'); },
      [](J& j) { j["sent_at"] = 12; },
      [](J& j) { j.erase("host"); },
      [](J& j) { j["host"] = nullptr; },
      [](J& j) { j["host"] = J::array(); },
      [](J& j) { j["host"] = "srv"; },
      [](J& j) { j["host"]["hostname"] = ""; },
      [](J& j) { j["host"].erase("hostname"); },
      [](J& j) { j["host"]["hostname"] = std::string(256, 'h'); },
      [](J& j) { j["host"]["os"] = nullptr; },
      [](J& j) { j["host"]["os"] = 7; },
      [](J& j) { j["host"]["kernel"] = std::string(4097, 'k'); },
      [](J& j) { j["host"]["extra"] = J{{"nested", J::array({1, 2, J::object()})}}; },
      [](J& j) { j.erase("results"); },
      [](J& j) { j["results"] = "x"; },
      [](J& j) { j["results"] = nullptr; },
      [](J& j) { j["results"] = J::object(); },
      [](J& j) { j["results"] = J::array(); },
      [](J& j) { j["results"][0] = 5; },
      [](J& j) { j["results"][0] = nullptr; },
      [](J& j) { j["results"][0] = J::array(); },
      [](J& j) { j["results"][1]["status"] = "fine"; },
      [](J& j) { j["results"][0]["status"] = 2; },
      [](J& j) { j["results"][0]["status"] = "OK"; },
      [](J& j) { j["results"][0]["status"] = std::string(17, 'x'); },
      [](J& j) { j["results"][0].erase("status"); },
      [](J& j) { j["results"][0]["seq"] = -1; },
      [](J& j) { j["results"][0]["seq"] = 0; },
      [](J& j) { j["results"][0]["seq"] = 1.5; },
      [](J& j) { j["results"][0]["seq"] = "41"; },
      [](J& j) { j["results"][0]["seq"] = nullptr; },
      [](J& j) { j["results"][0].erase("seq"); },
      [](J& j) { j["results"][0]["seq"] = uint64_t{1} << 63; },
      [](J& j) { j["results"][1]["seq"] = 41; },
      [](J& j) { j["results"][1]["seq"] = 40; },
      [](J& j) { j["results"][0]["check"] = ""; },
      [](J& j) { j["results"][0]["check"] = std::string(256, 'c'); },
      [](J& j) { j["results"][0].erase("check"); },
      [](J& j) { j["results"][0]["target"] = nullptr; },
      [](J& j) { j["results"][0].erase("target"); },
      [](J& j) { j["results"][0]["target"] = std::string(1025, 't'); },
      [](J& j) { j["results"][0]["summary"] = std::string(5000, 'x'); },
      [](J& j) { j["results"][0]["summary"] = std::string(4096, 'x'); },
      [](J& j) { j["results"][0]["observed_at"] = "noon"; },
      [](J& j) { j["results"][0]["observed_at"] = ""; },
      [](J& j) { j["results"][0].erase("observed_at"); },
      [](J& j) { j["results"][0]["observed_at"] = "1969-12-31T23:59:59.999Z"; },
      [](J& j) { j["results"][0]["observed_at"] = "0001-01-01T00:00:00.000Z"; },
      [](J& j) { j["results"][0]["duration_ms"] = -5; },
      [](J& j) { j["results"][0]["duration_ms"] = 2.5; },
      [](J& j) { j["results"][0]["duration_ms"] = nullptr; },
      [](J& j) { j["results"][0].erase("duration_ms"); },
      [](J& j) { j["results"][0]["metrics"] = nullptr; },
      [](J& j) { j["results"][0]["metrics"] = J::object(); },
      [](J& j) { j["results"][0]["metrics"][0] = 1; },
      [](J& j) { j["results"][0]["metrics"][0]["value"] = "1"; },
      [](J& j) { j["results"][0]["metrics"][0]["value"] = nullptr; },
      [](J& j) { j["results"][0]["metrics"][0]["value"] = -3; },
      [](J& j) { j["results"][0]["metrics"][0]["value"] = uint64_t{18446744073709551615u}; },
      [](J& j) { j["results"][0]["metrics"][0].erase("value"); },
      [](J& j) { j["results"][0]["metrics"][0]["name"] = ""; },
      [](J& j) { j["results"][0]["metrics"][0]["unit"] = std::string(33, 'u'); },
      [](J& j) { j["results"][0]["metrics"][0]["labels"]["x"] = 1; },
      [](J& j) { j["results"][0]["metrics"][0]["labels"]["x"] = nullptr; },
      [](J& j) { j["results"][0]["metrics"][0]["labels"] = J::array(); },
      [](J& j) { j["results"][0]["metrics"][0]["labels"] = nullptr; },
      [](J& j) { j["results"][0]["metrics"][0]["labels"] = J::object(); },
      [](J& j) { j["results"][0]["details"] = J::array(); },
      [](J& j) { j["results"][0]["details"] = nullptr; },
      [](J& j) { j["results"][0]["details"] = "{}"; },
      [](J& j) { j["results"][0]["details"] = J{{"big", std::string(70'000, 'd')}}; },
      [](J& j) { j["results"][0]["future_field"] = J{{"a", J::array({J::array(), J::object()})}}; },
      [](J& j) { j["future_field"] = J::array({1, "two", nullptr, 3.5}); },
      [](J& j) {
        J many = J::array();
        for (int i = 0; i <= 1000; ++i) many.push_back(J{{"name", "m"}, {"value", i}});
        j["results"][0]["metrics"] = many;
      },
      [](J& j) {
        J one{{"check", "c"}, {"status", "ok"}, {"observed_at", ""}};
        j["results"] = J::array();
        for (size_t i = 0; i <= kMaxResultsPerBatch; ++i) {
          one["seq"] = i + 1;
          j["results"].push_back(one);
        }
      },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    SCOPED_TRACE(i);
    J j = base;
    mutations[i](j);
    ExpectSameAsReference(j.dump());
  }
}

TEST(ProtocolFastPathTest, AgreesWithReferenceOnRawText) {
  const std::string good = EncodeReportBatch(SampleBatch());
  const std::vector<std::string> texts = {
      "", " ", "null", "5", "\"x\"", "[1,2,3]", "[]", "{}", "\xff\xfe", good + " ", " " + good + "\n",
      good + "x", good + "{}", good.substr(0, good.size() - 1),
      // Duplicate keys: the last one wins in the reference decoder.
      R"({"version":1,"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[]})",
      R"({"version":1,"agent_id":"a","agent_id":"b","host":{"hostname":"h"},"results":[]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h","hostname":""},"results":[]})",
      R"({"version":1,"agent_id":"a","host":5,"host":{"hostname":"h"},"results":[]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1}],"results":[]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"seq":2,"check":"c","status":"ok","observed_at":""}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"","metrics":[{"name":"n","value":1,"labels":{"k":"a","k":"b"}}]}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"","metrics":[{"name":"n","value":1,"labels":{"k":1,"k":"b"}}]}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"","details":{"b":1,"a":2,"b":3}}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"","details":{"n":1.50,"e":1E2,"neg0":-0,"u":"\u0041\ud83d\ude00"}}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"","duration_ms":-0}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"","metrics":[{"name":"n","value":1e999}]}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":99999999999999999999,"check":"c","status":"ok","observed_at":""}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"2026-11-29T02:44:34.123z"}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"2026-11-29T02:44:34.1234567Z"}]})",
      R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[{"seq":1,"check":"c","status":"ok","observed_at":"+026-11-29T02:44:34.123Z"}]})",
  };
  for (const std::string& t : texts) ExpectSameAsReference(t);
}

// details_json is written directly for flat objects and through nlohmann's dump() otherwise;
// both must give dump()'s text.
TEST(ProtocolFastPathTest, DetailsTextIsTheReferenceDump) {
  const std::vector<std::string> details = {
      R"({})", R"({"a":"x"})", R"({"b":1,"a":2})", R"({"a":1,"a":2})", R"({"a":1,"ab":2,"b":-3,"c":-0})",
      R"({"":"empty key","z":null,"y":true,"x":false})", R"({"u":18446744073709551615,"i":-9223372036854775808})",
      R"({"f":1.5})", R"({"f":1.0,"g":1e300,"h":-0.0,"i":0.1})", R"({"s":"with \"quote\""})",
      R"({"s":"tab\there"})", R"({"s":"back\\slash","t":"sl\/ash"})", R"({"k\"ey":1})",
      "{\"\xc3\xa9\":1,\"z\":2}", "{\"z\":1,\"\xc3\xa9\":2}", R"({"s":"\u00e9\u0001"})",
      R"({"a":1,"n":{"b":[1,{"c":2}],"a":null},"m":2})", R"({"n":[],"a":1})", R"({"a":[1,2.5,"x"],"a":{}})",
      R"({"b":1,"a":{"y":1,"x":2},"a":3})",
  };
  for (const std::string& d : details) {
    const std::string text = R"({"version":1,"agent_id":"a","host":{"hostname":"h"},"results":[)"
                             R"({"seq":1,"check":"c","status":"ok","observed_at":"","details":)" +
                             d + R"(},{"seq":2,"check":"c","status":"ok","observed_at":"","details":)" + d + "}]}";
    ReportBatch fast;
    EXPECT_TRUE(internal::DecodeReportBatchFast(text, &fast)) << d;
    ExpectSameAsReference(text);
  }
}

// Random byte edits of a valid batch: almost all are invalid JSON, some are valid JSON with
// odd values; either way the two decoders must agree.
TEST(ProtocolFastPathTest, AgreesWithReferenceOnRandomEdits) {
  ReportBatch b = SampleBatch();
  b.results[0].result.details_json = R"({"k":[1,{"x":null}],"s":"v"})";
  const std::string good = EncodeReportBatch(b);
  std::mt19937 rng(20261129);
  const std::string alphabet = "{}[]\":,0123456789-.eE+ truefalsn\\xyz";
  for (int round = 0; round < 1000; ++round) {
    std::string t = good;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.erase(pos, 1 + rng() % 4); break;
        default: t.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (t.empty()) t = "{";
    }
    ExpectSameAsReference(t);
    if (HasFatalFailure()) return;
  }
}

TEST(ProtocolFastPathTest, TimestampParserMatchesReference) {
  std::mt19937 rng(42);
  std::vector<std::string> texts = {"1970-01-01T00:00:00.000Z", "2026-02-29T12:00:00.000Z", "2024-02-29T23:59:60.999Z",
                                    "2026-04-31T00:00:00.000Z", "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
                                    "1600-03-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "2026-11-29T02:44:34.12Z",
                                    "2026-11-29T02:44:34.123+08:00", "2026-11-29T02:44:34.123", "2026-00-10T00:00:00.000Z",
                                    "2026-01-00T00:00:00.000Z", "2026-01-01T24:00:00.000Z", "2026-01-01T00:60:00.000Z",
                                    "2026-01-01T00:00:61.000Z", "2026-1a-01T00:00:00.000Z", "2026-01-01T00:00:00.0a0Z"};
  for (int i = 0; i < 20000; ++i) {
    texts.push_back(fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", rng() % 10000, rng() % 14,
                                rng() % 33, rng() % 25, rng() % 61, rng() % 62, rng() % 1000));
  }
  for (int i = 0; i < 2000; ++i) texts.push_back(FormatRfc3339Millis(static_cast<int64_t>(rng()) * 997));
  for (const std::string& t : texts) {
    auto want = ParseRfc3339Millis(t);
    auto got = internal::ParseTimestampMillis(t);
    ASSERT_EQ(got.ok(), want.ok()) << t;
    if (want.ok()) {
      ASSERT_EQ(*got, *want) << t;
    } else {
      ASSERT_EQ(got.status().message(), want.status().message()) << t;
    }
  }
}

// --- FastJsonReader against nlohmann's SAX parser -------------------------------------------

// Records SAX events as text, doubles by their bits.
class SaxRecorder {
 public:
  using json = nlohmann::json;
  bool null() { return Add("null"); }
  bool boolean(bool v) { return Add(v ? "true" : "false"); }
  bool number_integer(json::number_integer_t v) { return Add("int " + std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return Add("uint " + std::to_string(v)); }
  bool number_float(json::number_float_t v, const std::string&) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(bits));
    return Add("float " + std::to_string(bits));
  }
  bool string(std::string& v) { return Add("string " + v); }
  bool binary(json::binary_t&) { return Add("binary"); }
  bool start_object(std::size_t) { return Add("{"); }
  bool key(std::string& v) { return Add("key " + v); }
  bool end_object() { return Add("}"); }
  bool start_array(std::size_t) { return Add("["); }
  bool end_array() { return Add("]"); }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }
  std::vector<std::string> events;

 private:
  bool Add(std::string e) {
    events.push_back(std::move(e));
    return true;
  }
};

// Returns whether FastJsonReader accepted `text`; when it did, nlohmann must accept it too,
// with the same events.
bool FastReaderAgrees(const std::string& text) {
  SaxRecorder fast;
  FastJsonReader<SaxRecorder> reader(text, &fast);
  const bool fast_ok = reader.Read();
  SaxRecorder ref;
  const bool ref_ok = nlohmann::json::sax_parse(text.begin(), text.end(), &ref);
  if (fast_ok) {
    EXPECT_TRUE(ref_ok) << "fast reader accepted what nlohmann rejects: " << text;
    EXPECT_EQ(fast.events, ref.events) << text;
  }
  return fast_ok;
}

TEST(FastJsonReaderTest, AcceptsWhatItShouldLikeNlohmann) {
  const std::vector<std::string> accepted = {
      "{}", "[]", " {\n\t\"a\" : [ 1 , -2 , 3.5 , true , false , null ] } \r\n", R"({"":""})",
      R"(["\"\\\/\b\f\n\r\t"])", "[0,-0,0.0,-0.0,1e2,1E+2,1e-2,12.5e-3,9007199254740993]",
      "[18446744073709551615,-9223372036854775808,9223372036854775807]",
      "[1.7976931348623157e308,2.2250738585072014e-308,0.1,0.30000000000000004,123456789012345678901234567890.5]",
      "[\"caf\xc3\xa9\",\"\xe2\x82\xac\",\"\xf0\x9f\x98\x80\",\"\xed\x9f\xbf\",\"\xef\xbf\xbf\",\"\xf4\x8f\xbf\xbf\"]",
      "\"top-level string\"", "42", "-7", "true", "null", "[[[[[[[[]]]]]]]]",
      R"({"a":{"b":{"c":[{"d":1}]}},"a":2})",
  };
  for (const std::string& t : accepted) EXPECT_TRUE(FastReaderAgrees(t)) << t;
  // What the agent sends stays on the fastest path.
  EXPECT_TRUE(FastReaderAgrees(EncodeReportBatch(SampleBatch())));
}

TEST(FastJsonReaderTest, GivesUpOnWhatNlohmannRejectsOrItDoesNotHandle) {
  const std::vector<std::string> refused = {
      "", " ", "{", "}", "[", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "[01]", "[1.]", "[.5]",
      "[+1]", "[-]", "[1e]", "[1e+]", "[--1]", "[0x10]", "[NaN]", "[Infinity]", "[tru]", "[nul]", "[true false]",
      "{} {}", "{}x", "[\"\\u0041\"]", "[\"\\x\"]", "[\"a\nb\"]", std::string("[\"a\0b\"]", 7), "[\"\xc3\"]",
      "[\"\xc0\x80\"]", "[\"\xe0\x80\x80\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xf5\x80\x80\x80\"]",
      "[\"\xff\"]", "\xef\xbb\xbf{}", "[18446744073709551616]", "[-9223372036854775809]", "[1e400]", "[1e-400]",
      "[\"unterminated]", std::string(100, '[') + std::string(100, ']'),
  };
  for (const std::string& t : refused) EXPECT_FALSE(FastReaderAgrees(t)) << t;
}

// Random documents: numbers in every shape, strings with every kind of byte, random spacing;
// and then random edits of them. The reader must never disagree with nlohmann, and must
// accept every document written only with what it handles.
class JsonGenerator {
 public:
  explicit JsonGenerator(uint32_t seed) : rng_(seed) {}

  // `plain`: only what FastJsonReader handles (no \u escapes, valid UTF-8, numbers in range).
  std::string Document(bool plain) {
    std::string out;
    Value(&out, 0, plain);
    return out;
  }

 private:
  size_t Pick(size_t n) { return rng_() % n; }

  void Space(std::string* out) {
    static const char* kSpace[] = {"", "", "", " ", "\n", "\t ", "\r\n  "};
    *out += kSpace[Pick(7)];
  }

  void Value(std::string* out, int depth, bool plain) {
    Space(out);
    switch (depth >= 4 ? 2 + Pick(4) : Pick(6)) {
      case 0: {
        *out += '{';
        size_t n = Pick(4);
        for (size_t i = 0; i < n; ++i) {
          if (i > 0) *out += ',';
          Space(out);
          String(out, plain);
          Space(out);
          *out += ':';
          Value(out, depth + 1, plain);
        }
        Space(out);
        *out += '}';
        break;
      }
      case 1: {
        *out += '[';
        size_t n = Pick(4);
        for (size_t i = 0; i < n; ++i) {
          if (i > 0) *out += ',';
          Value(out, depth + 1, plain);
        }
        Space(out);
        *out += ']';
        break;
      }
      case 2: String(out, plain); break;
      case 3: Number(out, plain); break;
      case 4: *out += (Pick(3) == 0 ? "true" : Pick(2) == 0 ? "false" : "null"); break;
      default: Number(out, plain); break;
    }
    Space(out);
  }

  void String(std::string* out, bool plain) {
    static const std::vector<std::string> kPlain = {
        "a", "Z", " ", "~", "\x7f", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
        "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "0", "-"};
    static const std::vector<std::string> kOdd = {
        "\\u0041", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\x", "\x01", "\n", "\xc3", "\xc0\x80", "\xe0\x80\x80",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80", "\xf0\x9f\x98"};
    *out += '"';
    size_t n = Pick(6);
    for (size_t i = 0; i < n; ++i) {
      if (!plain && Pick(4) == 0) {
        *out += kOdd[Pick(kOdd.size())];
      } else {
        *out += kPlain[Pick(kPlain.size())];
      }
    }
    *out += '"';
  }

  void Number(std::string* out, bool plain) {
    auto digits = [&](size_t n, bool leading_nonzero) {
      std::string d;
      for (size_t i = 0; i < n; ++i) d += static_cast<char>('0' + (i == 0 && leading_nonzero ? 1 + Pick(9) : Pick(10)));
      return d;
    };
    switch (Pick(plain ? 6 : 8)) {
      case 0: *out += std::to_string(static_cast<int64_t>(rng_()) - (1 << 30)); break;
      case 1: *out += std::to_string((static_cast<uint64_t>(rng_()) << 32) | rng_()); break;
      case 2: *out += (Pick(2) ? "-" : "") + std::string("0"); break;
      case 3:
        *out += (Pick(2) ? "-" : "") + (Pick(3) == 0 ? "0" : digits(1 + Pick(18), true)) + "." + digits(1 + Pick(20), false);
        break;
      case 4:
        *out += (Pick(2) ? "-" : "") + digits(1 + Pick(3), true) + (Pick(2) ? "e" : "E") + (Pick(2) ? "-" : "+") +
                std::to_string(Pick(300));
        break;
      case 5: *out += digits(1 + Pick(17), true) + "." + digits(1 + Pick(5), false) + "e" + std::to_string(Pick(20)); break;
      case 6: *out += digits(21 + Pick(10), true); break;  // beyond 64 bits
      default: *out += (Pick(2) ? "1e" : "5e-") + std::to_string(300 + Pick(30)); break;  // overflow, underflow
    }
  }

  std::mt19937 rng_;
};

TEST(FastJsonReaderTest, AgreesWithNlohmannOnGeneratedDocuments) {
  JsonGenerator gen(7);
  for (int i = 0; i < 3000; ++i) {
    const std::string plain = gen.Document(true);
    ASSERT_TRUE(FastReaderAgrees(plain)) << "gave up on a document in its subset: " << plain;
    FastReaderAgrees(gen.Document(false));
    if (HasFatalFailure() || HasFailure()) return;
  }
}

TEST(FastJsonReaderTest, AgreesWithNlohmannOnRandomEdits) {
  JsonGenerator gen(11);
  std::mt19937 rng(13);
  const std::string alphabet = "{}[]\":,0123456789-+.eE tfnrulase\\/\x01\xc3\xa9\xff";
  for (int i = 0; i < 5000; ++i) {
    std::string t = gen.Document(i % 2 == 0);
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.erase(pos, 1 + rng() % 3); break;
        default: t.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
    }
    FastReaderAgrees(t);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace steadfast::protocol
