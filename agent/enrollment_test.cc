#include "agent/enrollment.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/testing/fake_http_client.h"
#include "common/testing/fault_injecting_file_system.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using testing::FakeCollector;
using testing::FakeHttpClient;

class EnrollmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirectories("/var/lib/steadfast-agent").ok());
    client_.SetHandler(collector_.AsHandler());
    options_.collector_url = "https://collector.test/";
    options_.enrollment_token = "enrol-secret";
    options_.host.hostname = "srv-01";
    options_.host.agent_version = "0.1.0";
  }
  steadfast::testing::MemoryFileSystem fs_;
  FakeHttpClient client_;
  FakeCollector collector_;
  EnrollOptions options_;
  const std::string state_dir_ = "/var/lib/steadfast-agent";
};

TEST_F(EnrollmentTest, EnrolsAndStoresTheIdentityWithMode0600) {
  auto id = LoadOrEnroll(fs_, client_, state_dir_, options_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->agent_id, "a-test");
  EXPECT_EQ(id->agent_token, "agent-secret-token");
  EXPECT_EQ(id->collector_url, "https://collector.test");

  auto requests = client_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "https://collector.test/api/v1/enroll");
  auto sent = protocol::DecodeEnrollRequest(requests[0].body);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->enrollment_token, "enrol-secret");
  EXPECT_EQ(sent->host.hostname, "srv-01");

  const std::string path = "/var/lib/steadfast-agent/agent.token";
  EXPECT_EQ(IdentityPath(state_dir_), path);
  EXPECT_EQ(*fs_.FileMode(path), 0600u);
  auto stored = nlohmann::json::parse(*fs_.ReadFile(path));
  EXPECT_EQ(stored["agent_id"], "a-test");
  EXPECT_EQ(stored["agent_token"], "agent-secret-token");
  EXPECT_EQ(stored["collector_url"], "https://collector.test");
}

TEST_F(EnrollmentTest, LaterStartsReadTheStoredIdentityWithoutEnrolling) {
  ASSERT_TRUE(LoadOrEnroll(fs_, client_, state_dir_, options_).ok());
  options_.enrollment_token.clear();  // no longer needed
  auto again = LoadOrEnroll(fs_, client_, state_dir_, options_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->agent_id, "a-test");
  EXPECT_EQ(client_.request_count(), 1u);
}

TEST_F(EnrollmentTest, RefusedTokenIsUnauthenticatedAndStoresNothing) {
  options_.enrollment_token = "wrong";
  auto id = LoadOrEnroll(fs_, client_, state_dir_, options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(fs_.Exists(IdentityPath(state_dir_)));
}

TEST_F(EnrollmentTest, NoIdentityAndNoTokenIsFailedPrecondition) {
  options_.enrollment_token.clear();
  auto id = LoadOrEnroll(fs_, client_, state_dir_, options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(id.status().message().find("agent.token"), std::string::npos);
  EXPECT_EQ(client_.request_count(), 0u);
}

TEST_F(EnrollmentTest, CollectorTroubleIsRetryable) {
  FakeHttpClient down;  // no handler: connection refused
  auto id = LoadOrEnroll(fs_, down, state_dir_, options_);
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(id.status().IsRetryable()) << id.status().ToString();
  down.PushStatus(503);
  id = LoadOrEnroll(fs_, down, state_dir_, options_);
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable);
  down.PushStatus(200, "{}");
  id = LoadOrEnroll(fs_, down, state_dir_, options_);
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs_.Exists(IdentityPath(state_dir_)));
}

TEST_F(EnrollmentTest, FailedWriteIsAnErrorAndTheNextTryEnrolsAgain) {
  steadfast::testing::FaultInjectingFileSystem faulty(&fs_);
  faulty.FailWrites(1);
  auto id = LoadOrEnroll(faulty, client_, state_dir_, options_);
  ASSERT_FALSE(id.ok());
  EXPECT_FALSE(fs_.Exists(IdentityPath(state_dir_)));
  id = LoadOrEnroll(faulty, client_, state_dir_, options_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(client_.request_count(), 2u);
}

TEST_F(EnrollmentTest, DamagedIdentityFileIsDataLoss) {
  ASSERT_TRUE(fs_.WriteFileAtomic(IdentityPath(state_dir_), "{\"agent_id\": 7}", 0600).ok());
  auto id = LoadOrEnroll(fs_, client_, state_dir_, options_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(client_.request_count(), 0u);
}

TEST_F(EnrollmentTest, SaveAndLoadRoundTrip) {
  AgentIdentity id{"a-1", "tok", "http://c:8080"};
  ASSERT_TRUE(SaveIdentity(fs_, state_dir_ + "/", id).ok());
  auto loaded = LoadIdentity(fs_, state_dir_);
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, id);
  auto none = LoadIdentity(fs_, "/elsewhere");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace steadfast::agent
