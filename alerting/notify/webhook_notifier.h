// The generic webhook notifier: POSTs the notification body (Alertmanager's webhook format,
// webhook_payload.h) to the receiver's URL, signed with X-Steadfast-Signature when the receiver
// has a secret, with the outbox's dedup key in Idempotency-Key so a receiver can drop the
// duplicate a crash between sending and recording may cause.
#pragma once

#include <cstdint>
#include <string>

#include "alerting/alerting_config.h"
#include "common/http/http_client.h"
#include "common/status.h"

namespace steadfast::alerting {

// OK on a 2xx answer. FailedPrecondition for an answer retrying cannot change (4xx other than
// 408 and 429: a wrong URL or a receiver refusing the body); Unavailable / DeadlineExceeded for
// everything worth retrying (5xx, 408, 429, no answer). Messages carry the status and the
// start of the answer's body, never the secret.
Status SendWebhook(http::HttpClient& client, const WebhookConfig& config, const std::string& body,
                   const std::string& dedup_key, int64_t now_ms);

}  // namespace steadfast::alerting
