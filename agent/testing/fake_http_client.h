// Test doubles for the agent's HTTP side (test targets only):
//   FakeHttpClient  an HttpClient that answers from a script of queued responses, else from a
//                   handler, and records every request.
//   FakeCollector   a handler that behaves like the collector's report and enrol endpoints:
//                   decompresses, decodes, stores results keyed by seq (duplicates counted, as
//                   the real one deduplicates on (agent, seq)) and acks; it can be told to fail
//                   in the ways the uplink must survive. It also keeps every inventory PUT
//                   to /api/v1/inventory (answered 200; 401 for a wrong token).
//   FixedRandom     a Random that returns a chosen value (clamped below the bound).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/http/http_client.h"
#include "common/protocol/protocol.h"
#include "common/random.h"

namespace steadfast::agent::testing {

class FakeHttpClient : public http::HttpClient {
 public:
  using Handler = std::function<StatusOr<http::HttpResponse>(const http::HttpClientRequest&)>;

  // Queued answers are used first, in order; then the handler; without one, Unavailable.
  void Push(StatusOr<http::HttpResponse> answer);
  void PushStatus(int status, std::string body = "");
  void SetHandler(Handler handler);

  StatusOr<http::HttpResponse> Do(const http::HttpClientRequest& request) override;

  std::vector<http::HttpClientRequest> requests() const;
  size_t request_count() const;

 private:
  mutable std::mutex mu_;
  std::deque<StatusOr<http::HttpResponse>> queue_;
  Handler handler_;
  std::vector<http::HttpClientRequest> requests_;
};

class FakeCollector {
 public:
  // Answer for the next reports: 200 with an ack, or an error status.
  void SetStatus(int status) {
    std::lock_guard<std::mutex> l(mu_);
    status_ = status;
  }
  // Store the batch but make the response go missing (the client sees Unavailable).
  void LoseResponses(int count) {
    std::lock_guard<std::mutex> l(mu_);
    lose_ = count;
  }
  // Answer 400 (field naming the result) to any batch containing this seq.
  void RejectSeq(uint64_t seq) {
    std::lock_guard<std::mutex> l(mu_);
    poison_.insert(seq);
  }
  void SetEnrollToken(std::string token) {
    std::lock_guard<std::mutex> l(mu_);
    enroll_token_ = std::move(token);
  }

  StatusOr<http::HttpResponse> Handle(const http::HttpClientRequest& request);
  FakeHttpClient::Handler AsHandler() {
    return [this](const http::HttpClientRequest& r) { return Handle(r); };
  }

  // Stored results by seq.
  std::map<uint64_t, protocol::CheckResult> stored() const;
  int duplicates() const;
  int batches() const;
  std::vector<size_t> batch_sizes() const;
  std::vector<std::string> content_encodings() const;
  // Inventories received, oldest first.
  std::vector<protocol::HostInventory> inventories() const;

 private:
  mutable std::mutex mu_;
  int status_ = 200;
  int lose_ = 0;
  std::set<uint64_t> poison_;
  std::string enroll_token_ = "enrol-secret";
  std::map<uint64_t, protocol::CheckResult> stored_;
  int duplicates_ = 0;
  std::vector<size_t> batch_sizes_;
  std::vector<std::string> encodings_;
  std::vector<protocol::HostInventory> inventories_;
};

class FixedRandom : public Random {
 public:
  explicit FixedRandom(uint64_t value = 0) : value_(value) {}
  uint64_t Uniform(uint64_t bound) override {
    if (bound == 0) return 0;
    return value_ < bound ? value_ : bound - 1;
  }
  void set(uint64_t value) { value_ = value; }

 private:
  uint64_t value_;
};

// A Random that always returns the largest value below the bound (the backoff cap).
class MaxRandom : public Random {
 public:
  uint64_t Uniform(uint64_t bound) override { return bound == 0 ? 0 : bound - 1; }
};

}  // namespace steadfast::agent::testing
