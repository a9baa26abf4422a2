#include "agent/testing/fake_http_client.h"

#include "common/compression.h"

namespace steadfast::agent::testing {

void FakeHttpClient::Push(StatusOr<http::HttpResponse> answer) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(answer));
}

void FakeHttpClient::PushStatus(int status, std::string body) {
  http::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  Push(std::move(r));
}

void FakeHttpClient::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

StatusOr<http::HttpResponse> FakeHttpClient::Do(const http::HttpClientRequest& request) {
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      StatusOr<http::HttpResponse> answer = std::move(queue_.front());
      queue_.pop_front();
      return answer;
    }
    handler = handler_;
  }
  if (handler) return handler(request);
  return UnavailableError("fake: connection refused");
}

std::vector<http::HttpClientRequest> FakeHttpClient::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeHttpClient::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

StatusOr<http::HttpResponse> FakeCollector::Handle(const http::HttpClientRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  auto ends_with = [&request](const std::string& suffix) {
    return request.url.size() >= suffix.size() &&
           request.url.compare(request.url.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("/api/v1/enroll")) {
    auto req = protocol::DecodeEnrollRequest(request.body);
    if (!req.ok()) return http::HttpResponse::Error(req.status(), protocol::FieldOf(req.status()));
    if (req->enrollment_token != enroll_token_) {
      return http::HttpResponse::Error(401, "unauthenticated", "unknown enrolment token");
    }
    return http::HttpResponse::Json(
        200, protocol::EncodeEnrollResponse({"a-test", "agent-secret-token"}));
  }
  if (ends_with("/api/v1/inventory")) {
    auto auth = request.headers.Get("Authorization");
    if (!auth || *auth != "Bearer agent-secret-token") {
      return http::HttpResponse::Error(401, "unauthenticated", "bad token");
    }
    auto inventory = protocol::DecodeHostInventory(request.body);
    if (!inventory.ok())
      return http::HttpResponse::Error(inventory.status(), protocol::FieldOf(inventory.status()));
    inventories_.push_back(std::move(inventory).value());
    return http::HttpResponse::Json(200, R"({"changed":true})");
  }
  if (!ends_with("/api/v1/reports")) {
    return http::HttpResponse::Error(404, "not_found", "no such path");
  }
  if (status_ != 200) return http::HttpResponse::Error(status_, "unavailable", "scripted failure");
  auto auth = request.headers.Get("Authorization");
  if (!auth || *auth != "Bearer agent-secret-token") {
    return http::HttpResponse::Error(401, "unauthenticated", "bad token");
  }
  std::string body = request.body;
  auto encoding = request.headers.Get("Content-Encoding");
  encodings_.push_back(encoding.value_or(""));
  if (encoding && *encoding == "zstd") {
    auto plain = ZstdDecompress(body, 64 << 20);
    if (!plain.ok()) return http::HttpResponse::Error(400, "invalid_argument", "bad zstd body");
    body = std::move(plain).value();
  }
  auto batch = protocol::DecodeReportBatch(body);
  if (!batch.ok()) {
    return http::HttpResponse::Error(batch.status(), protocol::FieldOf(batch.status()));
  }
  batch_sizes_.push_back(batch->results.size());
  for (size_t i = 0; i < batch->results.size(); ++i) {
    if (poison_.count(batch->results[i].seq) != 0) {
      return http::HttpResponse::Error(400, "invalid_argument", "poison result",
                                       "results[" + std::to_string(i) + "].status");
    }
  }
  protocol::ReportAck ack;
  for (const auto& e : batch->results) {
    if (stored_.emplace(e.seq, e.result).second) {
      ++ack.accepted;
    } else {
      ++ack.duplicates;
      ++duplicates_;
    }
    ack.acked_through = std::max(ack.acked_through, e.seq);
  }
  if (lose_ > 0) {
    --lose_;
    return UnavailableError("fake: connection reset after the collector stored the batch");
  }
  return http::HttpResponse::Json(200, protocol::EncodeReportAck(ack));
}

std::map<uint64_t, protocol::CheckResult> FakeCollector::stored() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stored_;
}
int FakeCollector::duplicates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return duplicates_;
}
int FakeCollector::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(batch_sizes_.size());
}
std::vector<size_t> FakeCollector::batch_sizes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batch_sizes_;
}
std::vector<std::string> FakeCollector::content_encodings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return encodings_;
}

std::vector<protocol::HostInventory> FakeCollector::inventories() const {
  std::lock_guard<std::mutex> l(mu_);
  return inventories_;
}

}  // namespace steadfast::agent::testing
