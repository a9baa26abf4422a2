#include "alerting/notify/webhook_notifier.h"

#include "alerting/notify/webhook_payload.h"

namespace steadfast::alerting {

Status SendWebhook(http::HttpClient& client, const WebhookConfig& config, const std::string& body,
                   const std::string& dedup_key, int64_t now_ms) {
  http::HttpClientRequest request;
  request.method = "POST";
  request.url = config.url;
  request.body = body;
  request.timeout = std::chrono::milliseconds(config.timeout_ms);
  request.headers.Set("Content-Type", "application/json");
  request.headers.Set("Idempotency-Key", dedup_key);
  if (!config.secret.empty()) {
    const int64_t ts = now_ms / 1000;
    request.headers.Set("X-Steadfast-Timestamp", std::to_string(ts));
    request.headers.Set("X-Steadfast-Signature", WebhookSignature(config.secret, ts, body));
  }
  StatusOr<http::HttpResponse> response = client.Do(request);
  if (!response.ok()) return response.status().WithContext("POST " + config.url);
  const int code = response->status;
  if (code >= 200 && code < 300) return OkStatus();
  std::string answer = response->body.substr(0, 200);
  for (char& c : answer) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  const std::string message = "POST " + config.url + ": HTTP " + std::to_string(code) +
                              (answer.empty() ? "" : " (" + answer + ")");
  if (code >= 400 && code < 500 && code != 408 && code != 429) return FailedPreconditionError(message);
  return UnavailableError(message);
}

}  // namespace steadfast::alerting
