#include "alerting/notify/email_notifier.h"

#include <curl/curl.h>

#include <algorithm>
#include <ctime>

#include "alerting/labels.h"
#include "alerting/notify/hmac.h"

namespace steadfast::alerting {
namespace {

bool IsAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// RFC 2047 for a header value that is not plain ASCII.
std::string EncodeHeader(const std::string& value) {
  if (IsAscii(value)) return value;
  return "=?UTF-8?B?" + Base64(value) + "?=";
}

std::string Base64Lines(const std::string& bytes) {
  const std::string b = Base64(bytes);
  std::string out;
  for (size_t i = 0; i < b.size(); i += 76) {
    out += b.substr(i, 76);
    out += "\r\n";
  }
  return out;
}

std::string RfcDate(int64_t now_ms) {
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// "Name <addr>" -> "<addr>"; "addr" -> "<addr>".
std::string Envelope(const std::string& address) {
  size_t lt = address.find('<');
  size_t gt = address.find('>', lt == std::string::npos ? 0 : lt);
  if (lt != std::string::npos && gt != std::string::npos) return address.substr(lt, gt - lt + 1);
  return "<" + address + ">";
}

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadCallback(char* buffer, size_t size, size_t nitems, void* userdata) {
  Upload* u = static_cast<Upload*>(userdata);
  const size_t n = std::min(size * nitems, u->data->size() - u->offset);
  std::copy_n(u->data->data() + u->offset, n, buffer);
  u->offset += n;
  return n;
}

}  // namespace

std::string BuildEmail(const EmailConfig& c, const RenderedMessage& m, const std::string& message_id,
                       int64_t now_ms) {
  const std::string boundary = "sf-" + FingerprintText(LabelPairHash("boundary", message_id));
  std::string to;
  for (const std::string& t : c.to) {
    if (!to.empty()) to += ", ";
    to += t;
  }
  std::string out;
  out += "From: " + c.from + "\r\n";
  out += "To: " + to + "\r\n";
  out += "Subject: " + EncodeHeader(m.subject) + "\r\n";
  out += "Date: " + RfcDate(now_ms) + "\r\n";
  out += "Message-ID: <" + message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += Base64Lines(m.text);
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += Base64Lines(m.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

Status SendEmail(const EmailConfig& c, const RenderedMessage& m, const std::string& dedup_key, int64_t now_ms) {
  const std::string message_id = FingerprintText(LabelPairHash("notification", dedup_key)) + "@steadfast";
  const std::string message = BuildEmail(c, m, message_id, now_ms);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return UnavailableError("smtp: curl_easy_init failed");
  const std::string url = std::string(c.tls == SmtpTls::kImplicit ? "smtps://" : "smtp://") + c.smarthost + "/steadfast";
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* rcpt = nullptr;
  for (const std::string& t : c.to) rcpt = curl_slist_append(rcpt, Envelope(t).c_str());
  const std::string from = Envelope(c.from);
  Upload upload{&message};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadCallback);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(c.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(c.timeout_ms, 10'000)));
  if (c.tls == SmtpTls::kStartTls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!c.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca_file.c_str());
  if (!c.auth_username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, c.auth_username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, c.auth_password.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) return OkStatus();
  const std::string what = "smtp " + c.smarthost + ": " + (error[0] != 0 ? std::string(error) : curl_easy_strerror(rc)) +
                           (reply != 0 ? " (reply " + std::to_string(reply) + ")" : "");
  switch (rc) {
    case CURLE_LOGIN_DENIED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
    case CURLE_URL_MALFORMAT:
      return FailedPreconditionError(what);
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(what);
    default:
      if (reply >= 500) return FailedPreconditionError(what);
      return UnavailableError(what);
  }
}

Status SendEmailNotification(const EmailConfig& c, const std::string& body_json, const std::string& dedup_key,
                             int64_t now_ms) {
  StatusOr<RenderedMessage> message = RenderMessage(body_json, c.templates, c.language);
  if (!message.ok()) return FailedPreconditionError("cannot render the message: " + message.status().message());
  return SendEmail(c, *message, dedup_key, now_ms);
}

}  // namespace steadfast::alerting
