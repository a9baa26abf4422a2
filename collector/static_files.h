// StaticFiles: serves the web console (dashboards/web) from `web_root` for GET and HEAD.
//
// "/" (and any path ending in "/") maps to index.html. Safety: a path is served only if every
// segment is made of [A-Za-z0-9._-], does not start with '.', and the raw target has no
// encoded dot, slash, backslash, percent or NUL; the file is then resolved with symlinks
// followed and must lie under the canonical root and be a regular file. Anything else is
// 400 (malformed) or 404 (no such file) — never a file outside the root.
//
// Responses carry Content-Type by extension, X-Content-Type-Options: nosniff, an ETag (hash
// of the content) honoured through If-None-Match (304), Cache-Control "no-cache" for HTML
// (always revalidated, so a new release shows at once) and "max-age=3600" for other assets,
// and on HTML a Content-Security-Policy that allows only same-origin scripts, styles and
// fetches. Thread-safe; files are read per request (they are small and change on upgrade).
#pragma once

#include <cstddef>
#include <string>

#include "common/http/http_types.h"

namespace steadfast::collector {

class StaticFiles {
 public:
  explicit StaticFiles(std::string web_root, size_t max_file_bytes = 8u << 20);

  http::HttpResponse Serve(const http::HttpRequest& request) const;

  // Content type for a file name by its extension ("application/octet-stream" if unknown).
  static std::string ContentTypeFor(const std::string& file_name);

 private:
  std::string root_;            // canonical web root, "" if it does not exist
  size_t max_file_bytes_;
};

}  // namespace steadfast::collector
