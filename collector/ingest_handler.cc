#include "collector/ingest_handler.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cctype>
#include <utility>

#include "collector/auth/tokens.h"
#include "common/compression.h"
#include "common/logging.h"
#include "common/protocol/protocol.h"
#include "common/random.h"

namespace steadfast::collector {

namespace {

using http::HttpRequest;
using http::HttpResponse;

// An enrolment request is a few hundred bytes; anything much larger is not one.
constexpr size_t kMaxEnrollBodyBytes = 64 * 1024;
constexpr size_t kMaxTokenBytes = 256;

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The agent token of "Authorization: Bearer <token>"; "" when absent, malformed or too long.
std::string AgentToken(const HttpRequest& request) {
  std::optional<std::string> header = request.headers.Get("Authorization");
  std::optional<std::string> token = header ? auth::BearerToken(*header) : std::nullopt;
  if (!token || token->size() > kMaxTokenBytes) return "";
  return *token;
}

HttpResponse Unauthenticated(std::string message) {
  HttpResponse r = HttpResponse::Error(401, "unauthenticated", message);
  r.headers.Set("WWW-Authenticate", "Bearer");
  return r;
}

HttpResponse TooLarge(std::string message) { return HttpResponse::Error(413, "resource_exhausted", message); }

HttpResponse StorageUnavailable(const Status& st) {
  HttpResponse r = HttpResponse::Error(503, "unavailable", st.message());
  r.headers.Set("Retry-After", "1");
  return r;
}

// The body's Content-Encoding: "" (identity), "zstd", or anything else (unsupported).
std::string ContentEncoding(const HttpRequest& request) {
  std::optional<std::string> header = request.headers.Get("Content-Encoding");
  if (!header) return "";
  std::string enc = Lower(Trim(*header));
  return enc == "identity" ? "" : enc;
}

}  // namespace

IngestHandler::IngestHandler(Storage& storage, const Clock& clock, prometheus::Registry& registry,
                             IngestOptions options)
    : storage_(storage),
      clock_(clock),
      options_(std::move(options)),
      results_total_(prometheus::BuildCounter()
                         .Name("steadfast_collector_ingest_results_total")
                         .Help("Check results newly stored from agent reports")
                         .Register(registry)
                         .Add({})),
      duplicate_results_total_(prometheus::BuildCounter()
                                   .Name("steadfast_collector_ingest_duplicate_results_total")
                                   .Help("Check results received again that were already stored (retries)")
                                   .Register(registry)
                                   .Add({})),
      batches_total_(prometheus::BuildCounter()
                         .Name("steadfast_collector_ingest_batches_total")
                         .Help("Report batches received, by outcome")
                         .Register(registry)),
      batch_duration_(prometheus::BuildHistogram()
                          .Name("steadfast_collector_ingest_batch_duration_seconds")
                          .Help("Time to handle one report batch, including the durable commit")
                          .Register(registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01,
                                                                           0.025, 0.05, 0.1, 0.25, 0.5,
                                                                           1, 2.5, 5, 10})),
      enrollments_total_(prometheus::BuildCounter()
                             .Name("steadfast_collector_enrollments_total")
                             .Help("Agent enrolment requests, by outcome")
                             .Register(registry)) {
  for (const std::string& token : options_.enrollment_tokens) {
    enrollment_token_hashes_.push_back(Sha256Hex(token));
  }
  // Pre-create the usual outcomes so they are exported as 0 before the first event.
  for (const char* result : {"ok", "unauthenticated", "forbidden", "invalid", "too_large",
                             "unsupported_encoding", "unavailable"}) {
    batches_total_.Add({{"result", result}});
  }
  for (const char* result : {"ok", "unauthenticated", "invalid", "unavailable"}) {
    enrollments_total_.Add({{"result", result}});
  }
}

bool IngestHandler::EnrollmentTokenValid(const std::string& token) const {
  if (token.empty()) return false;
  // Compare hashes, and look at every configured token, so timing tells nothing about which
  // prefix matched.
  const std::string hash = Sha256Hex(token);
  bool match = false;
  for (const std::string& known : enrollment_token_hashes_) match |= auth::ConstantTimeEquals(hash, known);
  return match;
}

HttpResponse IngestHandler::Enroll(const HttpRequest& request) {
  auto count = [this](const char* result) { enrollments_total_.Add({{"result", result}}).Increment(); };
  if (!ContentEncoding(request).empty()) {
    count("invalid");
    return HttpResponse::Error(415, "invalid_argument", "enrolment requests must not be compressed",
                               "Content-Encoding");
  }
  if (request.body.size() > kMaxEnrollBodyBytes) {
    count("invalid");
    return TooLarge("enrolment request larger than " + std::to_string(kMaxEnrollBodyBytes) + " bytes");
  }
  StatusOr<protocol::EnrollRequest> req = protocol::DecodeEnrollRequest(request.body);
  if (!req.ok()) {
    count("invalid");
    return HttpResponse::Error(req.status(), protocol::FieldOf(req.status()));
  }
  if (!EnrollmentTokenValid(req->enrollment_token)) {
    count("unauthenticated");
    SF_LOG_WARN("enrol: unknown enrolment token from {} (host '{}')", request.remote_address, req->host.hostname);
    return Unauthenticated("unknown enrolment token");
  }

  // Ids and tokens are random; a collision is astronomically unlikely but cheap to survive.
  for (int attempt = 0; attempt < 3; ++attempt) {
    protocol::EnrollResponse resp;
    resp.agent_id = "a-" + RandomHexToken(8);
    resp.agent_token = RandomHexToken(32);
    AgentRecord agent;
    agent.agent_id = resp.agent_id;
    agent.token_sha256 = Sha256Hex(resp.agent_token);
    agent.host = req->host;
    agent.enrolled_at_ms = clock_.NowMillis();
    Status st = storage_.CreateAgent(agent);
    if (st.code() == StatusCode::kAlreadyExists) continue;
    if (!st.ok()) {
      count("unavailable");
      SF_LOG_ERROR("enrol: cannot store the new agent: {}", st.ToString());
      return StorageUnavailable(st);
    }
    count("ok");
    SF_LOG_INFO("enrolled agent {} for host '{}' ({})", resp.agent_id, req->host.hostname, request.remote_address);
    return HttpResponse::Json(200, protocol::EncodeEnrollResponse(resp));
  }
  count("unavailable");
  return HttpResponse::Error(500, "internal", "could not allocate a unique agent id");
}

HttpResponse IngestHandler::Finish(const char* result, std::chrono::steady_clock::time_point started,
                                   HttpResponse response) {
  batches_total_.Add({{"result", result}}).Increment();
  batch_duration_.Observe(std::chrono::duration<double>(clock_.Monotonic() - started).count());
  return response;
}

HttpResponse IngestHandler::Reports(const HttpRequest& request) {
  const auto started = clock_.Monotonic();

  const std::string token = AgentToken(request);
  if (token.empty()) {
    return Finish("unauthenticated", started, Unauthenticated("missing or malformed 'Authorization: Bearer' token"));
  }
  // Cheap refusals before any database work.
  if (request.body.size() > options_.max_body_bytes) {
    return Finish("too_large", started,
                  TooLarge("request body of " + std::to_string(request.body.size()) + " bytes exceeds the limit of " +
                           std::to_string(options_.max_body_bytes)));
  }
  const std::string encoding = ContentEncoding(request);
  if (!encoding.empty() && encoding != "zstd") {
    return Finish("unsupported_encoding", started,
                  HttpResponse::Error(415, "invalid_argument",
                                      "unsupported Content-Encoding '" + encoding + "' (use zstd or identity)",
                                      "Content-Encoding"));
  }

  StatusOr<AgentRecord> agent = storage_.FindAgentByTokenHash(Sha256Hex(token));
  if (!agent.ok()) {
    if (agent.status().code() == StatusCode::kNotFound) {
      return Finish("unauthenticated", started, Unauthenticated("unknown agent token; the agent must enrol again"));
    }
    return Finish("unavailable", started, StorageUnavailable(agent.status()));
  }

  std::string decompressed;
  std::string_view json = request.body;
  if (encoding == "zstd") {
    StatusOr<std::string> plain = ZstdDecompress(request.body, options_.max_decompressed_bytes);
    if (!plain.ok()) {
      if (plain.status().code() == StatusCode::kResourceExhausted) {
        return Finish("too_large", started,
                      TooLarge("decompressed body exceeds the limit of " +
                               std::to_string(options_.max_decompressed_bytes) + " bytes"));
      }
      return Finish("invalid", started,
                    HttpResponse::Error(400, "invalid_argument",
                                        "body is not valid zstd: " + plain.status().message()));
    }
    decompressed = std::move(plain).value();
    json = decompressed;
  } else if (request.body.size() > options_.max_decompressed_bytes) {
    return Finish("too_large", started,
                  TooLarge("request body exceeds the limit of " + std::to_string(options_.max_decompressed_bytes) +
                           " bytes"));
  }

  StatusOr<protocol::ReportBatch> batch = protocol::DecodeReportBatch(json);
  if (!batch.ok()) {
    SF_LOG_DEBUG("reports: malformed batch from agent {}: {}", agent->agent_id, batch.status().message());
    return Finish("invalid", started, HttpResponse::Error(batch.status(), protocol::FieldOf(batch.status())));
  }
  if (batch->agent_id != agent->agent_id) {
    return Finish("forbidden", started,
                  HttpResponse::Error(403, "permission_denied",
                                      "agent_id '" + batch->agent_id + "' does not belong to this token",
                                      "agent_id"));
  }

  const int64_t received_at_ms = clock_.NowMillis();
  if (!batch->action_results.empty() && options_.record_actions) {
    Status recorded = options_.record_actions(agent->agent_id, batch->action_results, received_at_ms);
    if (!recorded.ok()) {
      SF_LOG_ERROR("reports: storing the action states of agent {} failed: {}", agent->agent_id, recorded.ToString());
      return Finish("unavailable", started, StorageUnavailable(recorded));
    }
  }
  StatusOr<protocol::ReportAck> ack = storage_.IngestBatch(*batch, received_at_ms);
  if (!ack.ok()) {
    switch (ack.status().code()) {
      case StatusCode::kNotFound:
        return Finish("unauthenticated", started, Unauthenticated(ack.status().message()));
      case StatusCode::kInvalidArgument:
        return Finish("invalid", started, HttpResponse::Error(ack.status(), protocol::FieldOf(ack.status())));
      case StatusCode::kUnavailable:
        return Finish("unavailable", started, StorageUnavailable(ack.status()));
      default:
        SF_LOG_ERROR("reports: storing a batch of agent {} failed: {}", agent->agent_id, ack.status().ToString());
        return Finish("unavailable", started, StorageUnavailable(ack.status()));
    }
  }
  results_total_.Increment(ack->accepted);
  duplicate_results_total_.Increment(ack->duplicates);
  if (options_.after_store) options_.after_store(*batch, received_at_ms);
  if (options_.deliver_actions) {
    StatusOr<std::vector<protocol::ActionRequest>> actions = options_.deliver_actions(agent->agent_id, received_at_ms);
    if (actions.ok()) {
      ack->actions = std::move(actions).value();
    } else {
      SF_LOG_WARN("reports: cannot list the actions waiting for agent {}: {}", agent->agent_id,
                  actions.status().ToString());
    }
  }
  return Finish("ok", started, HttpResponse::Json(200, protocol::EncodeReportAck(*ack)));
}

}  // namespace steadfast::collector
