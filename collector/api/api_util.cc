#include "collector/api/api_util.h"

#include <algorithm>
#include <charconv>

#include "collector/accounts/account_store.h"
#include "common/clock.h"
#include "common/logging.h"

namespace steadfast::collector::api {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

HttpResponse JsonResponse(int status, const json& doc) {
  HttpResponse r = HttpResponse::Json(status, doc.dump(-1, ' ', false, json::error_handler_t::replace));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse BadParam(std::string_view field, std::string_view message) {
  return HttpResponse::Error(400, "invalid_argument", std::string(field) + ": " + std::string(message), field);
}

HttpResponse ErrorResponse(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      break;
    default:
      SF_LOG_WARN("api: {}", status.ToString());
  }
  HttpResponse r = HttpResponse::Error(status, accounts::FieldOfError(status));
  if (r.status == 503) r.headers.Set("Retry-After", "1");
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

std::optional<int64_t> IntParam(const HttpRequest& request, const std::string& name, int64_t fallback, int64_t min,
                                int64_t max, HttpResponse* error) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  const std::string& text = it->second;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    *error = BadParam(name, "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) +
                                ", got '" + text + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> TimeParam(const HttpRequest& request, const std::string& name, int64_t fallback,
                                 HttpResponse* error) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return fallback;
  StatusOr<int64_t> ms = ParseRfc3339Millis(it->second);
  if (!ms.ok()) {
    *error = BadParam(name, "expected an RFC 3339 timestamp like 2026-11-29T02:44:34Z, got '" + it->second + "'");
    return std::nullopt;
  }
  return *ms;
}

std::optional<std::string> OptionalParam(const HttpRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return std::nullopt;
  return it->second;
}

bool ParsePositiveId(std::string_view text, int64_t* out) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value <= 0) return false;
  *out = value;
  return true;
}

std::string PathParam(const HttpRequest& request, const std::string& name) {
  auto it = request.path_params.find(name);
  return it == request.path_params.end() ? std::string() : it->second;
}

std::optional<json> JsonBody(const HttpRequest& request, HttpResponse* error) {
  std::string type = request.headers.Get("Content-Type").value_or("application/json");
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type.rfind("application/json", 0) != 0) {
    *error = HttpResponse::Error(415, "unsupported_media_type", "send the body as application/json");
    return std::nullopt;
  }
  json doc;
  try {
    doc = json::parse(request.body);
  } catch (const json::parse_error& e) {
    *error = HttpResponse::Error(400, "invalid_argument",
                                 "body is not valid JSON (at byte " + std::to_string(e.byte) + ")", "body");
    return std::nullopt;
  }
  if (!doc.is_object()) {
    *error = HttpResponse::Error(400, "invalid_argument", "body must be a JSON object", "body");
    return std::nullopt;
  }
  return doc;
}

namespace {

template <typename T, typename Pred>
bool GetTyped(const json& body, const char* field, std::optional<T>* out, HttpResponse* error, Pred is_type,
              const char* type_name) {
  auto it = body.find(field);
  if (it == body.end()) return true;
  if (!is_type(*it)) {
    *error = BadParam(field, std::string("expected ") + type_name);
    return false;
  }
  *out = it->template get<T>();
  return true;
}

}  // namespace

bool GetString(const json& body, const char* field, std::optional<std::string>* out, HttpResponse* error) {
  return GetTyped(body, field, out, error, [](const json& j) { return j.is_string(); }, "a string");
}

bool GetInt(const json& body, const char* field, std::optional<int64_t>* out, HttpResponse* error) {
  return GetTyped(body, field, out, error, [](const json& j) { return j.is_number_integer(); }, "an integer");
}

bool GetBool(const json& body, const char* field, std::optional<bool>* out, HttpResponse* error) {
  return GetTyped(body, field, out, error, [](const json& j) { return j.is_boolean(); }, "true or false");
}

bool CheckKnownFields(const json& body, std::initializer_list<std::string_view> known, HttpResponse* error) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      *error = BadParam(it.key(), "unknown field");
      return false;
    }
  }
  return true;
}

json TimeOrNull(int64_t ms) { return ms > 0 ? json(FormatRfc3339Millis(ms)) : json(nullptr); }

}  // namespace steadfast::collector::api
