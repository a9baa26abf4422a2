#include "collector/static_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "common/logging.h"
#include "common/random.h"

namespace steadfast::collector {

namespace {

namespace fs = std::filesystem;
using http::HttpRequest;
using http::HttpResponse;

constexpr char kCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

HttpResponse NotFound() { return HttpResponse::Error(404, "not_found", "no such file"); }
HttpResponse BadPath(const std::string& why) { return HttpResponse::Error(400, "invalid_argument", why); }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool SegmentAllowed(const std::string& seg) {
  if (seg.empty() || seg.front() == '.') return false;
  return std::all_of(seg.begin(), seg.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// True if `if_none_match` ("\"a\", W/\"b\"" or "*") names `etag`.
bool EtagMatches(const std::string& if_none_match, const std::string& etag) {
  std::stringstream ss(if_none_match);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b == std::string::npos) continue;
    std::string tag = item.substr(b, e - b + 1);
    if (tag == "*") return true;
    if (tag.rfind("W/", 0) == 0) tag = tag.substr(2);
    if (tag == etag) return true;
  }
  return false;
}

}  // namespace

StaticFiles::StaticFiles(std::string web_root, size_t max_file_bytes) : max_file_bytes_(max_file_bytes) {
  std::error_code ec;
  fs::path canonical = fs::canonical(web_root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    SF_LOG_WARN("web_root '{}' is not a readable directory; the console will answer 404", web_root);
    return;
  }
  root_ = canonical.string();
}

std::string StaticFiles::ContentTypeFor(const std::string& file_name) {
  std::string ext = Lower(fs::path(file_name).extension().string());
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

HttpResponse StaticFiles::Serve(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = HttpResponse::Error(405, "invalid_argument", "only GET and HEAD are allowed here");
    r.headers.Set("Allow", "GET, HEAD");
    return r;
  }
  // The server percent-decodes the path; look at the raw target too so an encoded dot,
  // slash or backslash can never be smuggled past the checks below.
  std::string raw = Lower(request.target.substr(0, request.target.find('?')));
  for (const char* bad : {"%2e", "%2f", "%5c", "%00", "%25"}) {
    if (raw.find(bad) != std::string::npos) return BadPath("encoded dot, slash, backslash, percent or NUL in path");
  }
  const std::string& path = request.path.empty() ? std::string("/") : request.path;
  if (path.front() != '/') return BadPath("path must start with '/'");
  if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos ||
      path.find('%') != std::string::npos) {
    return BadPath("backslash, percent or NUL in path");
  }

  std::vector<std::string> segments;
  {
    std::stringstream ss(path.substr(1));
    std::string seg;
    while (std::getline(ss, seg, '/')) {
      if (seg.empty()) continue;
      if (seg == "..") return BadPath("'..' in path");
      if (!SegmentAllowed(seg)) return NotFound();
      segments.push_back(seg);
    }
  }
  if (path.back() == '/' || segments.empty()) segments.push_back("index.html");
  if (root_.empty()) return NotFound();

  fs::path candidate(root_);
  for (const std::string& seg : segments) candidate /= seg;
  std::error_code ec;
  fs::path resolved = fs::canonical(candidate, ec);  // follows symlinks; fails if missing
  if (ec) return NotFound();
  const std::string resolved_str = resolved.string();
  if (resolved_str.size() <= root_.size() || resolved_str.compare(0, root_.size(), root_) != 0 ||
      resolved_str[root_.size()] != '/') {
    SF_LOG_WARN("static: refusing '{}': resolves outside the web root", request.path);
    return NotFound();
  }
  if (!fs::is_regular_file(resolved, ec) || ec) return NotFound();
  uintmax_t size = fs::file_size(resolved, ec);
  if (ec) return NotFound();
  if (size > max_file_bytes_) {
    SF_LOG_WARN("static: '{}' is larger than {} bytes; not served", resolved_str, max_file_bytes_);
    return NotFound();
  }
  std::ifstream in(resolved, std::ios::binary);
  if (!in) return NotFound();
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  const std::string file_name = segments.back();
  const std::string type = ContentTypeFor(file_name);
  const bool html = type.rfind("text/html", 0) == 0;
  const std::string etag = "\"" + Sha256Hex(content).substr(0, 32) + "\"";

  HttpResponse r;
  r.status = 200;
  r.headers.Set("ETag", etag);
  r.headers.Set("Cache-Control", html ? "no-cache" : "public, max-age=3600");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  if (html) {
    r.headers.Set("Content-Security-Policy", kCsp);
    r.headers.Set("X-Frame-Options", "DENY");
    r.headers.Set("Referrer-Policy", "no-referrer");
  }
  std::optional<std::string> inm = request.headers.Get("If-None-Match");
  if (inm && EtagMatches(*inm, etag)) {
    r.status = 304;
    return r;
  }
  r.headers.Set("Content-Type", type);
  r.body = std::move(content);
  return r;
}

}  // namespace steadfast::collector
