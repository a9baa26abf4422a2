#include "collector/ingest_handler.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <nlohmann/json.hpp>

#include "collector/store/sqlite_storage.h"
#include "collector/testing/test_util.h"
#include "common/compression.h"
#include "common/random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;
using testutil::Batch;

constexpr char kEnrollToken[] = "enrol-token-0123456789abcdef";

class IngestHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStorageOptions so;
    so.path = dir_.path() + "/collector.db";
    auto s = SqliteStorage::Open(so, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::move(s).value();
    IngestOptions options;
    options.enrollment_tokens = {"another-token-0123456789", kEnrollToken};
    options.max_body_bytes = 64 * 1024;
    options.max_decompressed_bytes = 256 * 1024;
    handler_ = std::make_unique<IngestHandler>(*storage_, clock_, registry_, options);
  }

  HttpResponse Enroll(const std::string& token, const std::string& hostname = "srv-01") {
    protocol::EnrollRequest req;
    req.enrollment_token = token;
    req.host = testutil::Host(hostname);
    HttpRequest r;
    r.method = "POST";
    r.target = r.path = "/api/v1/enroll";
    r.body = protocol::EncodeEnrollRequest(req);
    return handler_->Enroll(r);
  }

  // Enrols and returns {agent_id, agent_token}.
  protocol::EnrollResponse EnrollOk(const std::string& hostname = "srv-01") {
    HttpResponse resp = Enroll(kEnrollToken, hostname);
    EXPECT_EQ(resp.status, 200) << resp.body;
    auto decoded = protocol::DecodeEnrollResponse(resp.body);
    EXPECT_TRUE(decoded.ok()) << resp.body;
    return decoded.ok() ? *decoded : protocol::EnrollResponse{};
  }

  static HttpRequest ReportRequest(const std::string& token, std::string body, const std::string& encoding = "zstd") {
    HttpRequest r;
    r.method = "POST";
    r.target = r.path = "/api/v1/reports";
    if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
    r.headers.Add("Content-Type", "application/json");
    if (!encoding.empty()) r.headers.Add("Content-Encoding", encoding);
    r.body = encoding == "zstd" ? ZstdCompress(body) : std::move(body);
    return r;
  }

  size_t StoredCount(const std::string& agent_id) {
    HistoryQuery q;
    q.agent_id = agent_id;
    q.limit = 1'000'000;
    auto rows = storage_->History(q);
    return rows.ok() ? rows->size() : 0;
  }

  static std::string ErrorField(const HttpResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return "<no error object>";
    return j["error"].value("field", "");
  }
  static std::string ErrorCode(const HttpResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return "<no error object>";
    return j["error"].value("code", "");
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  testutil::TempDir dir_;
  testing::FakeClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<IngestHandler> handler_;
};

TEST_F(IngestHandlerTest, EnrolWithAValidTokenCreatesAnAgent) {
  protocol::EnrollResponse e = EnrollOk("web-01");
  EXPECT_EQ(e.agent_id.rfind("a-", 0), 0u) << e.agent_id;
  EXPECT_GE(e.agent_token.size(), 32u);
  auto agent = storage_->FindAgentByTokenHash(Sha256Hex(e.agent_token));
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->agent_id, e.agent_id);
  EXPECT_EQ(agent->host.hostname, "web-01");
  EXPECT_EQ(agent->enrolled_at_ms, clock_.NowMillis());
  // The same host enrolling again gets a new identity.
  protocol::EnrollResponse again = EnrollOk("web-01");
  EXPECT_NE(again.agent_id, e.agent_id);
  EXPECT_NE(again.agent_token, e.agent_token);
  EXPECT_EQ(storage_->ListHosts(10, 0)->total, 2);
  EXPECT_NE(Metrics().find("steadfast_collector_enrollments_total{result=\"ok\"} 2"), std::string::npos);
}

TEST_F(IngestHandlerTest, EnrolWithABadTokenIs401AndCreatesNothing) {
  HttpResponse r = Enroll("wrong-token-0123456789abcdef");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthenticated");
  EXPECT_EQ(Enroll("").status, 401);
  EXPECT_EQ(Enroll(std::string(kEnrollToken) + "x").status, 401);
  EXPECT_EQ(storage_->ListHosts(10, 0)->total, 0);
}

TEST_F(IngestHandlerTest, MalformedEnrolmentIs400NamingTheField) {
  HttpRequest r;
  r.method = "POST";
  r.body = R"({"version":1,"enrollment_token":"x","host":{"hostname":5}})";
  HttpResponse resp = handler_->Enroll(r);
  EXPECT_EQ(resp.status, 400);
  EXPECT_EQ(ErrorField(resp), "host.hostname");
  r.headers.Add("Content-Encoding", "zstd");
  EXPECT_EQ(handler_->Enroll(r).status, 415);
  EXPECT_EQ(storage_->ListHosts(10, 0)->total, 0);
}

TEST_F(IngestHandlerTest, ReportIsStoredAndAcked) {
  auto e = EnrollOk();
  HttpResponse r = handler_->Reports(ReportRequest(e.agent_token, protocol::EncodeReportBatch(Batch(e.agent_id, {7, 8, 9}))));
  ASSERT_EQ(r.status, 200) << r.body;
  auto ack = protocol::DecodeReportAck(r.body);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->acked_through, 9u);
  EXPECT_EQ(ack->accepted, 3);
  EXPECT_EQ(ack->duplicates, 0);
  EXPECT_EQ(StoredCount(e.agent_id), 3u);
  auto host = storage_->GetHost(e.agent_id);
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->agent.last_seen_ms, clock_.NowMillis());
  // Identity encoding works too, with or without the header.
  r = handler_->Reports(ReportRequest(e.agent_token, protocol::EncodeReportBatch(Batch(e.agent_id, {10})), "identity"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = handler_->Reports(ReportRequest(e.agent_token, protocol::EncodeReportBatch(Batch(e.agent_id, {11})), ""));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(StoredCount(e.agent_id), 5u);
  std::string m = Metrics();
  EXPECT_NE(m.find("steadfast_collector_ingest_results_total 5"), std::string::npos) << m;
  EXPECT_NE(m.find("steadfast_collector_ingest_batches_total{result=\"ok\"} 3"), std::string::npos) << m;
  EXPECT_NE(m.find("steadfast_collector_ingest_batch_duration_seconds_count 3"), std::string::npos) << m;
}

TEST_F(IngestHandlerTest, DuplicateReportIsAckedAndNotStoredTwice) {
  auto e = EnrollOk();
  std::string body = protocol::EncodeReportBatch(Batch(e.agent_id, {1, 2}));
  ASSERT_EQ(handler_->Reports(ReportRequest(e.agent_token, body)).status, 200);
  HttpResponse r = handler_->Reports(ReportRequest(e.agent_token, body));
  ASSERT_EQ(r.status, 200) << r.body;
  auto ack = protocol::DecodeReportAck(r.body);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->accepted, 0);
  EXPECT_EQ(ack->duplicates, 2);
  EXPECT_EQ(ack->acked_through, 2u);
  EXPECT_EQ(StoredCount(e.agent_id), 2u);
  EXPECT_NE(Metrics().find("steadfast_collector_ingest_duplicate_results_total 2"), std::string::npos);
}

TEST_F(IngestHandlerTest, MissingOrWrongTokenIs401) {
  auto e = EnrollOk();
  std::string body = protocol::EncodeReportBatch(Batch(e.agent_id, {1}));
  HttpResponse r = handler_->Reports(ReportRequest("", body));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.Get("WWW-Authenticate").value_or(""), "Bearer");
  EXPECT_EQ(handler_->Reports(ReportRequest("not-the-token", body)).status, 401);
  HttpRequest basic = ReportRequest(e.agent_token, body);
  basic.headers.Set("Authorization", "Basic " + e.agent_token);
  EXPECT_EQ(handler_->Reports(basic).status, 401);
  HttpRequest lower = ReportRequest(e.agent_token, body);
  lower.headers.Set("authorization", "bearer " + e.agent_token);
  EXPECT_EQ(handler_->Reports(lower).status, 200);  // the scheme is case-insensitive
  EXPECT_EQ(StoredCount(e.agent_id), 1u);
  EXPECT_NE(Metrics().find("steadfast_collector_ingest_batches_total{result=\"unauthenticated\"} 3"),
            std::string::npos);
}

TEST_F(IngestHandlerTest, AnotherAgentsIdIs403) {
  auto a = EnrollOk("a");
  auto b = EnrollOk("b");
  HttpResponse r = handler_->Reports(ReportRequest(a.agent_token, protocol::EncodeReportBatch(Batch(b.agent_id, {1}))));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorField(r), "agent_id");
  EXPECT_EQ(StoredCount(a.agent_id), 0u);
  EXPECT_EQ(StoredCount(b.agent_id), 0u);
}

TEST_F(IngestHandlerTest, TruncatedJsonIs400) {
  auto e = EnrollOk();
  std::string body = protocol::EncodeReportBatch(Batch(e.agent_id, {1, 2}));
  HttpResponse r = handler_->Reports(ReportRequest(e.agent_token, body.substr(0, body.size() / 2)));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_argument");
  EXPECT_NE(r.body.find("not valid JSON"), std::string::npos) << r.body;
  EXPECT_EQ(StoredCount(e.agent_id), 0u);
}

TEST_F(IngestHandlerTest, WrongTypesAre400NamingTheField) {
  auto e = EnrollOk();
  json batch = json::parse(protocol::EncodeReportBatch(Batch(e.agent_id, {1, 2, 3, 4})));
  struct Case {
    std::function<void(json&)> mutate;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](json& j) { j["results"][3]["status"] = "fine"; }, "results[3].status"},
      {[](json& j) { j["results"][1]["seq"] = "2"; }, "results[1].seq"},
      {[](json& j) { j["results"][0]["metrics"][0]["value"] = "high"; }, "results[0].metrics[0].value"},
      {[](json& j) { j["results"][2]["observed_at"] = "yesterday"; }, "results[2].observed_at"},
      {[](json& j) { j["results"][2]["seq"] = 1; }, "results[2].seq"},
      {[](json& j) { j["host"] = "srv"; }, "host"},
      {[](json& j) { j["version"] = 2; }, "version"},
      {[](json& j) { j["results"] = json::object(); }, "results"},
  };
  for (const Case& c : cases) {
    json j = batch;
    c.mutate(j);
    HttpResponse r = handler_->Reports(ReportRequest(e.agent_token, j.dump()));
    EXPECT_EQ(r.status, 400) << c.field << ": " << r.body;
    EXPECT_EQ(ErrorField(r), c.field) << r.body;
  }
  EXPECT_EQ(StoredCount(e.agent_id), 0u);
}

TEST_F(IngestHandlerTest, TooLargeBodiesAre413) {
  auto e = EnrollOk();
  // Over the compressed limit (64 KiB in this fixture): random-ish data does not compress.
  std::string big(80 * 1024, 'a');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919 % 26));
  HttpRequest over = ReportRequest(e.agent_token, "", "zstd");
  over.body = big;
  EXPECT_EQ(handler_->Reports(over).status, 413);
  // Under the compressed limit but over the decompressed one (256 KiB): a zip bomb.
  std::vector<uint64_t> seqs;
  for (uint64_t i = 1; i <= 2000; ++i) seqs.push_back(i);
  std::string body = protocol::EncodeReportBatch(Batch(e.agent_id, seqs));
  ASSERT_GT(body.size(), 256u * 1024);
  HttpRequest bomb = ReportRequest(e.agent_token, body, "zstd");
  ASSERT_LT(bomb.body.size(), 64u * 1024);
  HttpResponse r = handler_->Reports(bomb);
  EXPECT_EQ(r.status, 413) << r.body;
  // Identity bodies are held to the decompressed limit as well as the compressed one.
  EXPECT_EQ(handler_->Reports(ReportRequest(e.agent_token, body, "")).status, 413);
  EXPECT_EQ(StoredCount(e.agent_id), 0u);
  EXPECT_NE(Metrics().find("steadfast_collector_ingest_batches_total{result=\"too_large\"} 3"), std::string::npos);
}

TEST_F(IngestHandlerTest, BadZstdIs400AndUnknownEncodingIs415) {
  auto e = EnrollOk();
  std::string body = protocol::EncodeReportBatch(Batch(e.agent_id, {1}));
  HttpRequest bad = ReportRequest(e.agent_token, body, "zstd");
  bad.body = "this is not a zstd frame";
  HttpResponse r = handler_->Reports(bad);
  EXPECT_EQ(r.status, 400) << r.body;
  HttpRequest corrupt = ReportRequest(e.agent_token, body, "zstd");
  corrupt.body[corrupt.body.size() / 2] ^= 0x5a;
  corrupt.body.resize(corrupt.body.size() - 3);
  EXPECT_EQ(handler_->Reports(corrupt).status, 400);
  r = handler_->Reports(ReportRequest(e.agent_token, body, "gzip"));
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(ErrorField(r), "Content-Encoding");
  EXPECT_EQ(handler_->Reports(ReportRequest(e.agent_token, body, "zstd, gzip")).status, 415);
  EXPECT_EQ(StoredCount(e.agent_id), 0u);
}

TEST_F(IngestHandlerTest, StorageUnavailableIs503WithRetryAfter) {
  auto e = EnrollOk();
  storage_->Close();
  HttpResponse r = handler_->Reports(ReportRequest(e.agent_token, protocol::EncodeReportBatch(Batch(e.agent_id, {1}))));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.headers.Get("Retry-After").value_or(""), "1");
  EXPECT_EQ(Enroll(kEnrollToken).status, 503);
}

TEST_F(IngestHandlerTest, NoEnrolmentTokensMeansEnrolmentIsClosed) {
  prometheus::Registry other_registry;
  IngestHandler closed(*storage_, clock_, other_registry, IngestOptions{});
  HttpRequest r;
  r.method = "POST";
  protocol::EnrollRequest req;
  req.enrollment_token = "";
  req.host = testutil::Host("x");
  r.body = protocol::EncodeEnrollRequest(req);
  EXPECT_EQ(closed.Enroll(r).status, 401);
}

}  // namespace
}  // namespace steadfast::collector
