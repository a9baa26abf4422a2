// Small helpers every REST handler of the collector shares: JSON responses, errors that name
// the field, query-parameter and body parsing. nlohmann/json is part of this header's contract
// (handlers build JSON documents), so it is included here.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/http_types.h"
#include "common/status.h"

namespace steadfast::collector::api {

// A JSON response with `Cache-Control: no-store` (the console polls; nothing may be cached).
http::HttpResponse JsonResponse(int status, const nlohmann::json& doc);

// 204 with no body.
http::HttpResponse NoContent();

// 400 invalid_argument whose message starts with the field and whose "field" is set.
http::HttpResponse BadParam(std::string_view field, std::string_view message);

// A store/service error as a response: the status code's HTTP status; a FieldError
// ("field: reason", accounts::FieldError) names its field; 503 gets Retry-After; unexpected
// codes are logged.
http::HttpResponse ErrorResponse(const Status& status);

// Query parameters. Each returns nullopt and fills `*error` when present but malformed.
std::optional<int64_t> IntParam(const http::HttpRequest& request, const std::string& name, int64_t fallback,
                                int64_t min, int64_t max, http::HttpResponse* error);
// RFC 3339; `fallback` when absent or empty.
std::optional<int64_t> TimeParam(const http::HttpRequest& request, const std::string& name, int64_t fallback,
                                 http::HttpResponse* error);
std::optional<std::string> OptionalParam(const http::HttpRequest& request, const std::string& name);

// A positive decimal id and nothing else ("12"; not "012x", "-1", "").
bool ParsePositiveId(std::string_view text, int64_t* out);

// The path parameter `name` ("" when absent).
std::string PathParam(const http::HttpRequest& request, const std::string& name);

// The request body as a JSON object. Refuses a non-JSON Content-Type (415), malformed JSON
// (400 naming the byte offset) and non-objects (400).
std::optional<nlohmann::json> JsonBody(const http::HttpRequest& request, http::HttpResponse* error);

// Typed members of a JSON object body; each returns false and fills `*error` (400 naming the
// field) when the member is present with the wrong type. Absent members leave `*out` alone.
bool GetString(const nlohmann::json& body, const char* field, std::optional<std::string>* out,
               http::HttpResponse* error);
bool GetInt(const nlohmann::json& body, const char* field, std::optional<int64_t>* out, http::HttpResponse* error);
bool GetBool(const nlohmann::json& body, const char* field, std::optional<bool>* out, http::HttpResponse* error);
// Refuses members not in `known` (a typo must not be silently ignored).
bool CheckKnownFields(const nlohmann::json& body, std::initializer_list<std::string_view> known,
                      http::HttpResponse* error);

// RFC 3339 with milliseconds, or null for 0.
nlohmann::json TimeOrNull(int64_t ms);

}  // namespace steadfast::collector::api
