#include "common/protocol/protocol.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

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

TEST(ProtocolTest, OtherMessagesRoundTrip) {
  ReportAck ack{42, 1, 1};
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
                  "results"}),
    [](const auto& info) { return info.param.name; });

TEST(ProtocolTest, RejectsNonJsonAndTruncation) {
  std::string full = EncodeReportBatch(SampleBatch());
  for (size_t cut : {size_t{0}, size_t{1}, full.size() / 2, full.size() - 1}) {
    auto r = DecodeReportBatch(full.substr(0, cut));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << cut;
  }
  EXPECT_FALSE(DecodeReportBatch("[1,2,3]").ok());
  EXPECT_FALSE(DecodeReportBatch("\xff\xfe").ok());
}

TEST(ProtocolTest, WorseStatusOrdersByGravity) {
  EXPECT_EQ(WorseStatus(CheckStatus::kOk, CheckStatus::kWarning), CheckStatus::kWarning);
  EXPECT_EQ(WorseStatus(CheckStatus::kCritical, CheckStatus::kWarning), CheckStatus::kCritical);
  EXPECT_EQ(WorseStatus(CheckStatus::kUnknown, CheckStatus::kOk), CheckStatus::kUnknown);
  EXPECT_EQ(WorseStatus(CheckStatus::kUnknown, CheckStatus::kWarning), CheckStatus::kWarning);
}

}  // namespace
}  // namespace steadfast::protocol
