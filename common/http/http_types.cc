#include "common/http/http_types.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace steadfast::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "/a/b/" -> {"a", "b", ""}; "/" -> {""}. The leading slash is required by the callers.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      break;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool IsCapture(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Headers::Set(std::string name, std::string value) {
  items_.erase(std::remove_if(items_.begin(), items_.end(),
                              [&](const auto& item) { return EqualsIgnoreCase(item.first, name); }),
               items_.end());
  items_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> Headers::Get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string json_body) {
  return Text(status, std::move(json_body), "application/json");
}

HttpResponse HttpResponse::Error(const Status& status, std::string_view field) {
  return Error(HttpStatusFor(status.code()), StatusCodeName(status.code()), status.message(), field);
}

HttpResponse HttpResponse::Error(int http_status, std::string_view code, std::string_view message,
                                 std::string_view field) {
  nlohmann::json error = {{"code", code}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  nlohmann::json doc = {{"error", std::move(error)}};
  // Messages may quote bytes from the request; invalid UTF-8 is replaced rather than
  // letting dump() throw.
  return Json(http_status, doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kAborted: return 409;
    case StatusCode::kFailedPrecondition: return 422;
    // Callers that mean "body too large" pass 413 explicitly.
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kDataLoss: return 500;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string PercentEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string PercentDecode(std::string_view in, bool plus_is_space, bool* ok) {
  std::string out;
  out.reserve(in.size());
  bool good = true;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        good = false;
        out.push_back(c);
        continue;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (ok != nullptr) *ok = good;
  return out;
}

Status ParseTarget(std::string_view target, std::string* path, std::map<std::string, std::string>* query) {
  if (target.empty() || target.front() != '/') {
    return InvalidArgumentError("request target must start with '/'");
  }
  std::string_view raw_path = target;
  std::string_view raw_query;
  size_t q = target.find('?');
  if (q != std::string_view::npos) {
    raw_path = target.substr(0, q);
    raw_query = target.substr(q + 1);
  }
  if (raw_path.find('#') != std::string_view::npos || raw_query.find('#') != std::string_view::npos) {
    return InvalidArgumentError("request target must not contain a fragment");
  }
  bool ok = true;
  std::string decoded = PercentDecode(raw_path, /*plus_is_space=*/false, &ok);
  if (!ok) return InvalidArgumentError("bad percent-encoding in request path");
  if (decoded.find('\0') != std::string::npos) return InvalidArgumentError("NUL byte in request path");
  // Handlers such as a static file server map the path onto a directory; a ".." segment
  // never comes from a well-behaved client (they normalise it away), so refuse it here.
  for (std::string_view segment : SplitPath(decoded)) {
    if (segment == "..") return InvalidArgumentError("'..' segment in request path");
  }

  std::map<std::string, std::string> params;
  size_t start = 0;
  while (!raw_query.empty()) {
    size_t amp = raw_query.find('&', start);
    std::string_view piece =
        raw_query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!piece.empty()) {
      size_t eq = piece.find('=');
      std::string_view raw_key = piece.substr(0, eq);
      std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
      bool key_ok = true;
      bool value_ok = true;
      std::string key = PercentDecode(raw_key, /*plus_is_space=*/true, &key_ok);
      std::string value = PercentDecode(raw_value, /*plus_is_space=*/true, &value_ok);
      if (!key_ok || !value_ok) return InvalidArgumentError("bad percent-encoding in query string");
      // The first occurrence of a repeated parameter wins.
      params.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }

  if (path != nullptr) *path = std::move(decoded);
  if (query != nullptr) *query = std::move(params);
  return OkStatus();
}

void Router::Handle(std::string method, std::string pattern, HttpHandler handler) {
  Route route;
  route.method = std::move(method);
  std::string_view p = pattern;
  if (p == "/*" || p == "*") {
    route.wildcard = true;
  } else {
    if (p.size() >= 2 && p.substr(p.size() - 2) == "/*") {
      route.wildcard = true;
      p.remove_suffix(2);
    }
    for (std::string_view segment : SplitPath(p)) route.segments.emplace_back(segment);
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

namespace {

struct Match {
  size_t route_index;
  std::map<std::string, std::string> params;
};

// True when route `a` is more specific than `b`, both having matched the same path:
// exact before wildcard, longer wildcard prefix first, then literal beats capture at the
// first segment where they differ. Ties keep registration order.
template <typename Route>
bool MoreSpecific(const Route& a, const Route& b) {
  if (a.wildcard != b.wildcard) return !a.wildcard;
  if (a.segments.size() != b.segments.size()) return a.segments.size() > b.segments.size();
  for (size_t i = 0; i < a.segments.size(); ++i) {
    bool ca = IsCapture(a.segments[i]);
    bool cb = IsCapture(b.segments[i]);
    if (ca != cb) return !ca;
  }
  return false;
}

}  // namespace

HttpResponse Router::Dispatch(const HttpRequest& request) const {
  std::vector<std::string_view> parts = SplitPath(request.path);
  const Route* best = nullptr;
  std::map<std::string, std::string> best_params;
  std::set<std::string> allowed;
  const Route* best_get = nullptr;  // for HEAD falling back to GET
  std::map<std::string, std::string> best_get_params;

  for (const Route& route : routes_) {
    if (route.wildcard ? parts.size() < route.segments.size() : parts.size() != route.segments.size()) {
      continue;
    }
    std::map<std::string, std::string> params;
    bool matched = true;
    for (size_t i = 0; i < route.segments.size(); ++i) {
      const std::string& seg = route.segments[i];
      if (IsCapture(seg)) {
        if (parts[i].empty()) {
          matched = false;
          break;
        }
        params[seg.substr(1, seg.size() - 2)] = std::string(parts[i]);
      } else if (seg != parts[i]) {
        matched = false;
        break;
      }
    }
    if (!matched) continue;
    if (route.wildcard) {
      std::string rest;
      for (size_t i = route.segments.size(); i < parts.size(); ++i) {
        if (i > route.segments.size()) rest.push_back('/');
        rest.append(parts[i]);
      }
      params["*"] = std::move(rest);
    }
    allowed.insert(route.method);
    if (route.method == "GET") allowed.insert("HEAD");
    if (route.method == request.method && (best == nullptr || MoreSpecific(route, *best))) {
      best = &route;
      best_params = params;
    }
    if (route.method == "GET" && (best_get == nullptr || MoreSpecific(route, *best_get))) {
      best_get = &route;
      best_get_params = std::move(params);
    }
  }

  if (best == nullptr && request.method == "HEAD" && best_get != nullptr) {
    // The server drops the body of a HEAD response but keeps its Content-Length.
    best = best_get;
    best_params = std::move(best_get_params);
  }
  if (best == nullptr) {
    if (allowed.empty()) return HttpResponse::Error(404, "not_found", "no such path: " + request.path);
    std::string allow;
    for (const std::string& m : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += m;
    }
    HttpResponse r = HttpResponse::Error(405, "invalid_argument",
                                         "method " + request.method + " not allowed on " + request.path);
    r.headers.Set("Allow", allow);
    return r;
  }
  if (best_params.empty() && request.path_params.empty()) return best->handler(request);
  HttpRequest routed = request;
  routed.path_params = std::move(best_params);
  return best->handler(routed);
}

}  // namespace steadfast::http
