// The email notifier: sends a rendered notification (templates.h) as a multipart/alternative
// message (plain text + HTML, UTF-8) through an SMTP server with libcurl: plain SMTP, STARTTLS
// (required, not opportunistic) or implicit TLS (smtps, port 465), with optional AUTH.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/notify/templates.h"
#include "common/status.h"

namespace steadfast::alerting {

enum class SmtpTls { kNone, kStartTls, kImplicit };

struct EmailConfig {
  std::vector<std::string> to;
  std::string from;
  std::string smarthost;  // host:port
  SmtpTls tls = SmtpTls::kStartTls;
  std::string ca_file;    // extra CA bundle for the server's certificate; empty: the system's
  std::string auth_username;
  std::string auth_password;  // read from auth_password_file
  std::string auth_password_file;
  bool send_resolved = true;
  int64_t timeout_ms = 30'000;
  std::string language = "en";  // "en" or "zh-CN" (the default templates)
  MessageTemplates templates;
};

// The RFC 5322 message (headers and MIME body, CRLF line ends).
std::string BuildEmail(const EmailConfig& config, const RenderedMessage& message, const std::string& message_id,
                       int64_t now_ms);

// OK once the server accepted the message. FailedPrecondition when retrying cannot help (5xx
// reply, authentication refused, a certificate that does not verify); Unavailable /
// DeadlineExceeded otherwise. Messages never contain the password.
Status SendEmail(const EmailConfig& config, const RenderedMessage& message, const std::string& dedup_key,
                 int64_t now_ms);

// Renders the notification body (webhook_payload.h) with the config's templates and language,
// then SendEmail; a body that does not render is FailedPrecondition.
Status SendEmailNotification(const EmailConfig& config, const std::string& body_json, const std::string& dedup_key,
                             int64_t now_ms);

}  // namespace steadfast::alerting
