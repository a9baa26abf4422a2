#include "collector/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "collector/testing/test_util.h"

namespace steadfast::collector {
namespace {

using http::HttpRequest;
using http::HttpResponse;

void Write(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/web";
    Write(root_ + "/index.html", "<!doctype html><title>console</title>");
    Write(root_ + "/app.js", "console.log('hi');");
    Write(root_ + "/style.css", "body{}");
    Write(root_ + "/img/logo.svg", "<svg/>");
    Write(root_ + "/data.json", "{}");
    Write(root_ + "/.hidden", "hidden");
    Write(root_ + "/font.woff2", "wOF2");
    Write(dir_.path() + "/secret.txt", "TOP SECRET");
    std::filesystem::create_symlink(dir_.path() + "/secret.txt", root_ + "/link.txt");
    std::filesystem::create_directory_symlink(dir_.path(), root_ + "/up");
    files_ = std::make_unique<StaticFiles>(root_);
  }

  // As the server builds it: raw target, decoded path. `path_override` bypasses decoding to
  // test the handler's own checks against a path the server would have refused.
  HttpResponse Get(const std::string& target, const std::string& method = "GET") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    Status st = http::ParseTarget(target, &r.path, &r.query);
    if (!st.ok()) r.path = target;  // the handler must be safe on its own
    return files_->Serve(r);
  }
  HttpResponse GetPath(const std::string& path) {
    HttpRequest r;
    r.method = "GET";
    r.target = path;
    r.path = path;
    return files_->Serve(r);
  }

  testutil::TempDir dir_;
  std::string root_;
  std::unique_ptr<StaticFiles> files_;
};

TEST_F(StaticFilesTest, RootServesIndexWithSecurityHeaders) {
  HttpResponse r = Get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>console</title>");
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_EQ(r.headers.Get("Cache-Control").value_or(""), "no-cache");
  EXPECT_EQ(r.headers.Get("X-Content-Type-Options").value_or(""), "nosniff");
  std::string csp = r.headers.Get("Content-Security-Policy").value_or("");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(Get("/index.html").body, r.body);
  EXPECT_EQ(Get("/?x=1").status, 200);
}

TEST_F(StaticFilesTest, AssetsHaveTypesAndCaching) {
  struct Case {
    std::string path, type;
  };
  for (const Case& c : std::vector<Case>{{"/app.js", "text/javascript; charset=utf-8"},
                                         {"/style.css", "text/css; charset=utf-8"},
                                         {"/img/logo.svg", "image/svg+xml"},
                                         {"/data.json", "application/json"},
                                         {"/font.woff2", "font/woff2"}}) {
    HttpResponse r = Get(c.path);
    ASSERT_EQ(r.status, 200) << c.path;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), c.type) << c.path;
    EXPECT_EQ(r.headers.Get("Cache-Control").value_or(""), "public, max-age=3600") << c.path;
    EXPECT_EQ(r.headers.Get("X-Content-Type-Options").value_or(""), "nosniff");
    EXPECT_FALSE(r.headers.Get("Content-Security-Policy").has_value());
  }
  EXPECT_EQ(StaticFiles::ContentTypeFor("x.png"), "image/png");
  EXPECT_EQ(StaticFiles::ContentTypeFor("x.ico"), "image/x-icon");
  EXPECT_EQ(StaticFiles::ContentTypeFor("x.bin"), "application/octet-stream");
}

TEST_F(StaticFilesTest, EtagGives304) {
  HttpResponse r = Get("/app.js");
  std::string etag = r.headers.Get("ETag").value_or("");
  ASSERT_FALSE(etag.empty());
  HttpRequest again;
  again.method = "GET";
  again.target = again.path = "/app.js";
  again.headers.Add("If-None-Match", "\"other\", W/" + etag);
  HttpResponse cached = files_->Serve(again);
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  EXPECT_EQ(cached.headers.Get("ETag").value_or(""), etag);
  again.headers.Set("If-None-Match", "\"stale\"");
  EXPECT_EQ(files_->Serve(again).status, 200);
  // A changed file gets a new ETag.
  Write(root_ + "/app.js", "console.log('v2');");
  EXPECT_NE(Get("/app.js").headers.Get("ETag").value_or(""), etag);
}

TEST_F(StaticFilesTest, OnlyGetAndHead) {
  EXPECT_EQ(Get("/app.js", "HEAD").status, 200);
  HttpResponse r = Get("/app.js", "POST");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.Get("Allow").value_or(""), "GET, HEAD");
}

TEST_F(StaticFilesTest, TraversalAttemptsNeverEscapeTheRoot) {
  const std::vector<std::string> targets = {
      "/../secret.txt",
      "/img/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E/secret.txt",
      "/.%2e/secret.txt",
      "/%2e%2e%2fsecret.txt",
      "/..%2fsecret.txt",
      "/..%5csecret.txt",
      "/%252e%252e/secret.txt",
      "/img%2f..%2f..%2fsecret.txt",
      "/..\\secret.txt",
      "/img\\..\\..\\secret.txt",
      "/link.txt",         // symlink to a file outside the root
      "/up/secret.txt",    // symlinked directory outside the root
      "/.hidden",
      "/img/.",
      "/secret.txt%00.html",
      "//etc/passwd",
      "/etc/passwd",
  };
  for (const std::string& t : targets) {
    HttpResponse r = Get(t);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << t << " -> " << r.status;
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << t;
  }
  // Decoded paths the server would refuse, handed straight to the handler.
  for (const std::string& p : {std::string("/../secret.txt"), std::string("/a/../../secret.txt"),
                               std::string("/..\\secret.txt"), std::string("/x\0y", 4), std::string("/%2e%2e/x")}) {
    HttpResponse r = GetPath(p);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << p << " -> " << r.status;
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos);
  }
}

TEST_F(StaticFilesTest, MissingFilesAndDirectoriesAre404) {
  EXPECT_EQ(Get("/nope.js").status, 404);
  EXPECT_EQ(Get("/img").status, 404);       // a directory without index.html
  EXPECT_EQ(Get("/img/").status, 404);
  EXPECT_EQ(Get("/api/v1/unknown").status, 404);
  StaticFiles missing(dir_.path() + "/does-not-exist");
  HttpRequest r;
  r.method = "GET";
  r.target = r.path = "/";
  EXPECT_EQ(missing.Serve(r).status, 404);
}

TEST(StaticFilesConsoleTest, ShippedConsoleIsServable) {
  StaticFiles files(SF_WEB_ROOT);
  for (const std::string path : {"/", "/app.js", "/style.css"}) {
    HttpRequest r;
    r.method = "GET";
    r.target = r.path = path;
    HttpResponse resp = files.Serve(r);
    EXPECT_EQ(resp.status, 200) << path;
    EXPECT_FALSE(resp.body.empty()) << path;
  }
}

}  // namespace
}  // namespace steadfast::collector
