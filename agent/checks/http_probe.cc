#include "agent/checks/http_probe.h"

#include <fmt/format.h>
#include <strings.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/http/beast_http_client.h"

namespace steadfast::agent {
namespace {

using protocol::CheckStatus;
using SteadyClock = std::chrono::steady_clock;

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// "https://host:port" and "/path?query" of an absolute http(s) URL (fragment dropped).
bool SplitUrl(const std::string& url, std::string* origin, std::string* path_query) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) return false;
  size_t path_at = url.find_first_of("/?#", sep + 3);
  *origin = url.substr(0, path_at);
  std::string rest = path_at == std::string::npos ? "" : url.substr(path_at);
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty() || rest[0] != '/') rest = "/" + rest;
  *path_query = rest;
  return true;
}

// RFC 3986 section 5.2.4 on a path that starts with '/'.
std::string RemoveDotSegments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 1;
  bool trailing_slash = false;
  while (i <= path.size()) {
    size_t next = path.find('/', i);
    std::string seg = path.substr(i, next == std::string::npos ? std::string::npos : next - i);
    trailing_slash = false;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = true;
    } else if (seg == ".") {
      trailing_slash = true;
    } else {
      out.push_back(seg);
    }
    if (next == std::string::npos) break;
    i = next + 1;
  }
  std::string result;
  for (const auto& seg : out) result += "/" + seg;
  if (trailing_slash || result.empty()) result += "/";
  return result;
}

std::string Ms(double seconds) {
  const double ms = seconds * 1000.0;
  if (ms < 10) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.0f} ms", ms);
}

std::string StatusRangeText(const std::vector<std::pair<int, int>>& ranges) {
  std::vector<std::string> parts;
  for (const auto& [lo, hi] : ranges) {
    if (lo == hi) {
      parts.push_back(std::to_string(lo));
    } else if (lo % 100 == 0 && hi == lo + 99) {
      parts.push_back(fmt::format("{}xx", lo / 100));
    } else {
      parts.push_back(fmt::format("{}-{}", lo, hi));
    }
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Whether the JSON `field` equals the configured text (see HttpProbeOptions::json_equals).
bool JsonEquals(const nlohmann::json& field, const std::string& expected) {
  if (field.is_string()) return field.get<std::string>() == expected;
  nlohmann::json want = nlohmann::json::parse(expected, nullptr, /*allow_exceptions=*/false);
  if (want.is_discarded()) return false;
  return field == want;
}

void Add(HttpProbeOutcome& out, CheckStatus status, std::string problem) {
  out.status = protocol::WorseStatus(out.status, status);
  out.problems.push_back(std::move(problem));
}

}  // namespace

StatusOr<std::pair<int, int>> ParseStatusRange(const std::string& text) {
  auto bad = [&] {
    return InvalidArgumentError(
        fmt::format("'{}' is not a status code, a class like 2xx or a range like 200-299", text));
  };
  auto number = [](const std::string& s, int* v) {
    if (s.size() != 3) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    *v = std::stoi(s);
    return *v >= 100 && *v <= 599;
  };
  int lo = 0, hi = 0;
  if (text.size() == 3 && (text[1] == 'x' || text[1] == 'X') &&
      (text[2] == 'x' || text[2] == 'X')) {
    if (text[0] < '1' || text[0] > '5') return bad();
    lo = (text[0] - '0') * 100;
    return std::make_pair(lo, lo + 99);
  }
  size_t dash = text.find('-');
  if (dash == std::string::npos) {
    if (!number(text, &lo)) return bad();
    return std::make_pair(lo, lo);
  }
  if (!number(text.substr(0, dash), &lo) || !number(text.substr(dash + 1), &hi) || hi < lo) {
    return bad();
  }
  return std::make_pair(lo, hi);
}

StatusOr<std::string> ResolveUrl(const std::string& base, const std::string& location) {
  std::string loc = location.substr(0, location.find('#'));
  size_t scheme_end = loc.find("://");
  size_t first_special = loc.find_first_of("/?");
  if (scheme_end != std::string::npos &&
      (first_special == std::string::npos || scheme_end < first_special)) {
    return loc;  // absolute
  }
  std::string origin, base_path;
  if (!SplitUrl(base, &origin, &base_path)) {
    return InvalidArgumentError(fmt::format("bad base URL '{}'", base));
  }
  if (loc.rfind("//", 0) == 0) return base.substr(0, base.find("://") + 1) + loc;
  const std::string base_path_only = base_path.substr(0, base_path.find('?'));
  if (loc.empty()) return origin + base_path;
  if (loc[0] == '?') return origin + base_path_only + loc;
  std::string path, query;
  size_t q = loc.find('?');
  path = loc.substr(0, q);
  if (q != std::string::npos) query = loc.substr(q);
  if (path.empty() || path[0] != '/') {
    path = base_path_only.substr(0, base_path_only.rfind('/') + 1) + path;
  }
  return origin + RemoveDotSegments(path) + query;
}

HttpProbe::HttpProbe(HttpProbeOptions options, std::unique_ptr<http::HttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {
  if (!client_) {
    http::HttpClientOptions co;
    co.verify_tls = options_.verify_tls;
    co.ca_file = options_.ca_file;
    co.max_response_bytes = options_.max_body_bytes;
    co.user_agent = "steadfast-agent";
    client_ = http::NewBeastHttpClient(co);
  }
}

HttpProbeOutcome HttpProbe::Probe(const CheckContext& ctx) const {
  return RunHttpProbe(*client_, options_, ctx);
}

HttpProbeOutcome RunHttpProbe(http::HttpClient& client, const HttpProbeOptions& o,
                              const CheckContext& ctx) {
  HttpProbeOutcome out;
  out.status = CheckStatus::kOk;
  const SteadyClock::time_point start = ctx.clock.Monotonic();
  const int64_t now_unix = ctx.clock.NowMillis() / 1000;

  http::HttpClientRequest req;
  req.method = o.method;
  req.url = o.url;
  req.headers = o.headers;
  req.body = o.body;
  if (!req.headers.Get("Connection")) req.headers.Add("Connection", "close");

  std::optional<http::HttpResponse> final_response;
  std::string transport_error;
  StatusCode transport_code = StatusCode::kOk;
  while (true) {
    req.timeout = TimeLeft(
        ctx, o.timeout - std::chrono::duration_cast<Millis>(ctx.clock.Monotonic() - start));
    const SteadyClock::time_point hop_start = ctx.clock.Monotonic();
    StatusOr<http::HttpResponse> resp = client.Do(req);
    HttpHop hop;
    hop.method = req.method;
    hop.url = req.url;
    hop.seconds = std::chrono::duration<double>(ctx.clock.Monotonic() - hop_start).count();
    if (!resp.ok()) {
      transport_error = resp.status().message();
      transport_code = resp.status().code();
      out.hops.push_back(std::move(hop));
      break;
    }
    hop.status = resp->status;
    if (resp->peer_certificate) {
      const double days =
          static_cast<double>(resp->peer_certificate->not_after_unix - now_unix) / 86'400.0;
      if (!out.cert_days_left || days < *out.cert_days_left) {
        out.cert_days_left = days;
        out.cert_subject = resp->peer_certificate->subject;
        out.cert_url = req.url;
      }
    }
    std::optional<std::string> location = resp->headers.Get("Location");
    if (location) hop.location = *location;
    out.hops.push_back(hop);
    if (!o.follow_redirects || !IsRedirect(resp->status) || !location) {
      final_response = std::move(resp).value();
      break;
    }
    if (out.redirects == o.max_redirects) {
      final_response = std::move(resp).value();
      Add(out, CheckStatus::kCritical,
          fmt::format("more than {} redirect{}", o.max_redirects, o.max_redirects == 1 ? "" : "s"));
      break;
    }
    StatusOr<std::string> next = ResolveUrl(req.url, *location);
    if (!next.ok()) {
      transport_error =
          fmt::format("redirect from {} to unusable location '{}'", req.url, *location);
      transport_code = StatusCode::kInvalidArgument;
      break;
    }
    ++out.redirects;
    if (resp->status == 303 ||
        ((resp->status == 301 || resp->status == 302) && req.method == "POST")) {
      req.method = "GET";
      req.body.clear();
    }
    req.url = *next;
  }
  out.total_seconds = std::chrono::duration<double>(ctx.clock.Monotonic() - start).count();
  out.final_url = req.url;
  const std::string& p = o.metric_prefix;

  nlohmann::json hops = nlohmann::json::array();
  for (const auto& h : out.hops) {
    nlohmann::json j{{"method", h.method}, {"url", h.url}, {"seconds", h.seconds}};
    if (h.status != 0) j["status"] = h.status;
    if (!h.location.empty()) j["location"] = h.location;
    hops.push_back(std::move(j));
  }
  nlohmann::json details{
      {"url", o.url}, {"final_url", out.final_url}, {"redirects", out.redirects}, {"hops", hops}};

  out.metrics.push_back({p + "_up", {}, final_response ? 1.0 : 0.0, ""});
  out.metrics.push_back({p + "_duration_seconds", {}, out.total_seconds, "seconds"});
  out.metrics.push_back({p + "_redirects", {}, static_cast<double>(out.redirects), ""});
  if (out.cert_days_left) {
    out.metrics.push_back({p + "_tls_cert_days_left", {}, *out.cert_days_left, "days"});
    details["certificate"] = {
        {"subject", out.cert_subject}, {"url", out.cert_url}, {"days_left", *out.cert_days_left}};
  }

  if (!final_response) {
    const bool cannot_tell = transport_code == StatusCode::kInternal ||
                             (transport_code == StatusCode::kFailedPrecondition &&
                              !o.ca_file.empty() && ::access(o.ca_file.c_str(), R_OK) != 0);
    Add(out, cannot_tell ? CheckStatus::kUnknown : CheckStatus::kCritical, transport_error);
    out.status = cannot_tell ? CheckStatus::kUnknown : CheckStatus::kCritical;
    details["error"] = transport_error;
    out.details_json = details.dump();
    out.summary = transport_error;
    if (out.redirects > 0) out.summary += fmt::format(" (after {} redirects)", out.redirects);
    return out;
  }
  out.responded = true;
  const http::HttpResponse& resp = *final_response;
  out.metrics.push_back({p + "_status_code", {}, static_cast<double>(resp.status), ""});
  out.metrics.push_back(
      {p + "_content_length_bytes", {}, static_cast<double>(resp.body.size()), "bytes"});
  details["status"] = resp.status;
  details["body_bytes"] = resp.body.size();

  // Status code.
  std::vector<std::pair<int, int>> expected = o.expected_status;
  if (expected.empty()) expected = {{200, o.follow_redirects ? 299 : 399}};
  bool status_ok = false;
  for (const auto& [lo, hi] : expected)
    status_ok = status_ok || (resp.status >= lo && resp.status <= hi);
  if (!status_ok) {
    std::string problem =
        fmt::format("status {}, expected {}", resp.status, StatusRangeText(expected));
    if (IsRedirect(resp.status) && !o.follow_redirects) {
      problem += fmt::format(" (redirect to {}; set follow_redirects?)",
                             resp.headers.Get("Location").value_or("?"));
    }
    Add(out, CheckStatus::kCritical, std::move(problem));
  }
  // Body keywords.
  for (const auto& word : o.body_contains) {
    if (resp.body.find(word) == std::string::npos) {
      Add(out, CheckStatus::kCritical, fmt::format("body does not contain \"{}\"", word));
    }
  }
  for (const auto& word : o.body_not_contains) {
    if (resp.body.find(word) != std::string::npos) {
      Add(out, CheckStatus::kCritical, fmt::format("body contains \"{}\"", word));
    }
  }
  // JSON field.
  if (!o.json_pointer.empty()) {
    nlohmann::json doc = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      Add(out, CheckStatus::kCritical, "body is not JSON");
    } else {
      nlohmann::json::json_pointer ptr(o.json_pointer);  // validated at start-up
      if (!doc.contains(ptr)) {
        Add(out, CheckStatus::kCritical, fmt::format("JSON has no {}", o.json_pointer));
      } else {
        const nlohmann::json& field = doc.at(ptr);
        details["json_value"] = field;
        if (o.json_equals && !JsonEquals(field, *o.json_equals)) {
          std::string shown = field.is_string() ? field.get<std::string>() : field.dump();
          if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
          Add(out, CheckStatus::kCritical,
              fmt::format("JSON {} is \"{}\", expected \"{}\"", o.json_pointer, SanitizeUtf8(shown),
                          *o.json_equals));
        }
      }
    }
  }
  // Latency.
  const double total_ms = out.total_seconds * 1000.0;
  CheckStatus latency = o.latency_ms.Grade(total_ms);
  if (latency != CheckStatus::kOk) {
    double limit =
        latency == CheckStatus::kCritical ? *o.latency_ms.critical : *o.latency_ms.warning;
    Add(out, latency, fmt::format("took {} (limit {} ms)", Ms(out.total_seconds), limit));
  }
  // Certificate.
  if (out.cert_days_left) {
    const double days = *out.cert_days_left;
    CheckStatus cert = CheckStatus::kOk;
    double limit = 0;
    if (o.cert_critical_days && days < *o.cert_critical_days) {
      cert = CheckStatus::kCritical;
      limit = *o.cert_critical_days;
    } else if (o.cert_warning_days && days < *o.cert_warning_days) {
      cert = CheckStatus::kWarning;
      limit = *o.cert_warning_days;
    }
    if (cert != CheckStatus::kOk) {
      Add(out, cert,
          days < 0 ? fmt::format("certificate expired {:.1f} days ago", -days)
                   : fmt::format("certificate expires in {:.1f} days (< {:g})", days, limit));
    }
  }

  std::string what = fmt::format("HTTP {} in {}", resp.status, Ms(out.total_seconds));
  if (out.redirects > 0) {
    what += fmt::format(" after {} redirect{} to {}", out.redirects, out.redirects == 1 ? "" : "s",
                        out.final_url);
  }
  if (out.cert_days_left && *out.cert_days_left >= 0) {
    what += fmt::format(", certificate valid {:.0f} more days", std::floor(*out.cert_days_left));
  }
  if (!o.body_contains.empty() && out.status == CheckStatus::kOk) what += ", keyword found";
  if (!o.json_pointer.empty() && out.status == CheckStatus::kOk) {
    what += fmt::format(", {} ok", o.json_pointer);
  }
  out.summary =
      out.problems.empty() ? what : fmt::format("{} ({})", fmt::join(out.problems, "; "), what);
  out.details_json = details.dump();
  out.response = std::move(final_response);
  return out;
}

const std::vector<std::string>& HttpProbeKeys() {
  static const std::vector<std::string> kKeys = {"url",
                                                 "method",
                                                 "headers",
                                                 "body",
                                                 "expected_status",
                                                 "follow_redirects",
                                                 "max_redirects",
                                                 "body_contains",
                                                 "body_not_contains",
                                                 "json_pointer",
                                                 "json_equals",
                                                 "verify_tls",
                                                 "ca_file",
                                                 "warning_ms",
                                                 "critical_ms",
                                                 "cert_warning_days",
                                                 "cert_critical_days"};
  return kKeys;
}

namespace {

// A string or a list of strings.
StatusOr<std::vector<std::string>> OneOrMany(const config::ConfigNode& n) {
  if (!n.present()) return std::vector<std::string>{};
  if (n.IsList()) return n.StringList();
  SF_ASSIGN_OR_RETURN(std::string one, n.RequiredString());
  return std::vector<std::string>{one};
}

}  // namespace

StatusOr<HttpProbeOptions> ReadHttpProbeOptions(const config::ConfigNode& n, int64_t timeout_ms) {
  HttpProbeOptions o;
  o.timeout = Millis(timeout_ms);
  if (!n["url"].present()) return n["url"].Error("required key is missing");
  SF_ASSIGN_OR_RETURN(o.url, n["url"].RequiredString());
  if (strncasecmp(o.url.c_str(), "http://", 7) != 0 &&
      strncasecmp(o.url.c_str(), "https://", 8) != 0) {
    return n["url"].Error("must start with http:// or https://");
  }
  if (o.url.find_first_of(" \t\r\n") != std::string::npos) {
    return n["url"].Error("must not contain spaces (percent-encode them as %20)");
  }
  SF_ASSIGN_OR_RETURN(o.method, n["method"].String("GET"));
  if (o.method.empty() ||
      o.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
    return n["method"].Error("expected an upper-case HTTP method like GET, HEAD or POST");
  }
  if (n["headers"].present()) {
    SF_ASSIGN_OR_RETURN(std::vector<std::string> names, n["headers"].Keys());
    for (const auto& name : names) {
      SF_ASSIGN_OR_RETURN(std::string value, n["headers"][name].String());
      if (value.find_first_of("\r\n") != std::string::npos) {
        return n["headers"][name].Error("a header value must be one line");
      }
      o.headers.Add(name, value);
    }
  }
  SF_ASSIGN_OR_RETURN(o.body, n["body"].String(""));
  if (n["expected_status"].present()) {
    std::vector<std::string> items;
    if (n["expected_status"].IsList()) {
      SF_ASSIGN_OR_RETURN(items, n["expected_status"].StringList());
    } else {
      SF_ASSIGN_OR_RETURN(std::string one, n["expected_status"].RequiredString());
      items.push_back(one);
    }
    if (items.empty()) return n["expected_status"].Error("must not be empty");
    for (const auto& item : items) {
      auto range = ParseStatusRange(item);
      if (!range.ok()) return n["expected_status"].Error(range.status().message());
      o.expected_status.push_back(*range);
    }
  }
  SF_ASSIGN_OR_RETURN(o.follow_redirects, n["follow_redirects"].Bool(false));
  SF_ASSIGN_OR_RETURN(int64_t max_redirects, n["max_redirects"].Int(5, 0, 20));
  o.max_redirects = static_cast<int>(max_redirects);
  if (n["max_redirects"].present() && !o.follow_redirects) {
    return n["max_redirects"].Error("has no effect without follow_redirects: true");
  }
  SF_ASSIGN_OR_RETURN(o.body_contains, OneOrMany(n["body_contains"]));
  SF_ASSIGN_OR_RETURN(o.body_not_contains, OneOrMany(n["body_not_contains"]));
  for (const auto* list : {&o.body_contains, &o.body_not_contains}) {
    for (const auto& word : *list) {
      if (word.empty()) {
        return n[list == &o.body_contains ? "body_contains" : "body_not_contains"].Error(
            "an empty keyword matches every body");
      }
    }
  }
  SF_ASSIGN_OR_RETURN(o.json_pointer, n["json_pointer"].String(""));
  if (!o.json_pointer.empty()) {
    try {
      nlohmann::json::json_pointer check(o.json_pointer);
      (void)check;
    } catch (const nlohmann::json::exception&) {
      return n["json_pointer"].Error(fmt::format(
          "'{}' is not a JSON pointer (RFC 6901: \"/status\", \"/items/0/name\")", o.json_pointer));
    }
    if (o.json_pointer.empty() || o.json_pointer[0] != '/') {
      return n["json_pointer"].Error("a JSON pointer starts with '/'");
    }
  }
  if (n["json_equals"].present()) {
    if (o.json_pointer.empty()) return n["json_equals"].Error("needs json_pointer");
    SF_ASSIGN_OR_RETURN(std::string eq, n["json_equals"].RequiredString());
    o.json_equals = eq;
  }
  SF_ASSIGN_OR_RETURN(o.verify_tls, n["verify_tls"].Bool(true));
  SF_ASSIGN_OR_RETURN(o.ca_file, n["ca_file"].String(""));
  if (!o.ca_file.empty() && ::access(o.ca_file.c_str(), R_OK) != 0) {
    return n["ca_file"].Error(fmt::format("cannot read {}", o.ca_file));
  }
  SF_ASSIGN_OR_RETURN(
      o.latency_ms, ReadThresholds(n, "warning_ms", "critical_ms", 1'000.0, 5'000.0, 0, 3'600'000));
  // Days-left thresholds grade "below", so critical must not exceed warning.
  SF_ASSIGN_OR_RETURN(double warn_days, n["cert_warning_days"].Double(21, 0, 3650));
  SF_ASSIGN_OR_RETURN(double crit_days, n["cert_critical_days"].Double(7, 0, 3650));
  if (crit_days > warn_days) {
    return n["cert_critical_days"].Error(
        fmt::format("{:g} days is more than cert_warning_days ({:g}): critical must come later",
                    crit_days, warn_days));
  }
  o.cert_warning_days = warn_days > 0 ? std::optional<double>(warn_days) : std::nullopt;
  o.cert_critical_days = crit_days > 0 ? std::optional<double>(crit_days) : std::nullopt;
  return o;
}

}  // namespace steadfast::agent
