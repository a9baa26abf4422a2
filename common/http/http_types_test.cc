#include "common/http/http_types.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace steadfast::http {
namespace {

HttpRequest Req(std::string method, std::string target) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  Status s = ParseTarget(r.target, &r.path, &r.query);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

HttpHandler Named(std::string name) {
  return [name](const HttpRequest& r) {
    std::string body = name;
    for (const auto& [k, v] : r.path_params) body += " " + k + "=" + v;
    return HttpResponse::Text(200, body);
  };
}

TEST(HttpHeadersTest, CaseInsensitiveGetAndSet) {
  Headers h;
  h.Add("Content-Type", "text/plain");
  h.Add("X-Multi", "a");
  h.Add("x-multi", "b");
  EXPECT_EQ(h.Get("content-type"), "text/plain");
  EXPECT_EQ(h.Get("X-MULTI"), "a");
  EXPECT_FALSE(h.Get("Missing").has_value());
  h.Set("X-MULTI", "c");
  EXPECT_EQ(h.Get("x-multi"), "c");
  EXPECT_EQ(h.items().size(), 2u);
}

TEST(HttpResponseTest, TextAndJsonSetContentType) {
  HttpResponse t = HttpResponse::Text(201, "hi");
  EXPECT_EQ(t.status, 201);
  EXPECT_EQ(t.body, "hi");
  EXPECT_EQ(t.headers.Get("Content-Type"), "text/plain; charset=utf-8");
  HttpResponse j = HttpResponse::Json(200, "{}");
  EXPECT_EQ(j.headers.Get("content-type"), "application/json");
}

TEST(HttpResponseTest, ErrorJsonShape) {
  HttpResponse r = HttpResponse::Error(InvalidArgumentError("bad \"status\"\n"), "results[3].status");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["error"]["code"], "invalid_argument");
  EXPECT_EQ(doc["error"]["message"], "bad \"status\"\n");
  EXPECT_EQ(doc["error"]["field"], "results[3].status");
  EXPECT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc["error"].size(), 3u);
}

TEST(HttpResponseTest, ErrorOmitsEmptyField) {
  HttpResponse r = HttpResponse::Error(UnauthenticatedError("no token"));
  EXPECT_EQ(r.status, 401);
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_FALSE(doc["error"].contains("field"));
  EXPECT_EQ(doc["error"]["code"], "unauthenticated");
}

TEST(HttpResponseTest, ErrorWithExplicitStatusAndInvalidUtf8) {
  HttpResponse r = HttpResponse::Error(413, "resource_exhausted", std::string("too big \xff"));
  EXPECT_EQ(r.status, 413);
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["error"]["code"], "resource_exhausted");
}

TEST(HttpResponseTest, StatusMapping) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 422);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
}

TEST(HttpTargetTest, SplitsAndDecodes) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/api/v1/hosts/web%201?limit=10&q=a+b%26c&flag&limit=99&=x", &path, &query).ok());
  EXPECT_EQ(path, "/api/v1/hosts/web 1");
  EXPECT_EQ(query["limit"], "10");  // the first occurrence wins
  EXPECT_EQ(query["q"], "a b&c");
  EXPECT_EQ(query["flag"], "");
  EXPECT_EQ(query.count(""), 1u);
}

TEST(HttpTargetTest, PlusIsLiteralInPath) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/a+b", &path, &query).ok());
  EXPECT_EQ(path, "/a+b");
  EXPECT_TRUE(query.empty());
}

TEST(HttpTargetTest, RejectsBadTargets) {
  std::string path;
  std::map<std::string, std::string> query;
  for (const char* bad : {"", "api/v1", "http://example.com/", "*", "/a%zz", "/a%2", "/a%", "/x?q=%g1",
                          "/a/%00", "/a/../etc/passwd", "/a/%2e%2e/b", "/a#frag"}) {
    Status s = ParseTarget(bad, &path, &query);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpTargetTest, PercentEncodeKeepsOnlyUnreservedAndRoundTrips) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("a b/c?d&e=%"), "a%20b%2Fc%3Fd%26e%3D%25");
  EXPECT_EQ(PercentEncode("\xE5\xBC\xA0"), "%E5%BC%A0");
  bool ok = false;
  const std::string text("x\0y:/\xff", 6);
  EXPECT_EQ(PercentDecode(PercentEncode(text), false, &ok), text);
  EXPECT_TRUE(ok);
}

TEST(HttpTargetTest, PercentDecodeReportsErrors) {
  bool ok = false;
  EXPECT_EQ(PercentDecode("a%41%6a+", false, &ok), "aAj+");
  EXPECT_TRUE(ok);
  EXPECT_EQ(PercentDecode("a+b", true, &ok), "a b");
  EXPECT_TRUE(ok);
  PercentDecode("%4", false, &ok);
  EXPECT_FALSE(ok);
  PercentDecode("%x1", false, &ok);
  EXPECT_FALSE(ok);
}

TEST(RouterTest, MatchesLiteralsAndCaptures) {
  Router router;
  router.Handle("GET", "/api/v1/hosts", Named("list"));
  router.Handle("GET", "/api/v1/hosts/{id}", Named("get"));
  router.Handle("GET", "/api/v1/hosts/{id}/checks/{check}", Named("check"));
  EXPECT_EQ(router.Dispatch(Req("GET", "/api/v1/hosts")).body, "list");
  EXPECT_EQ(router.Dispatch(Req("GET", "/api/v1/hosts/h1")).body, "get id=h1");
  EXPECT_EQ(router.Dispatch(Req("GET", "/api/v1/hosts/h%201/checks/disk?x=1")).body,
            "check check=disk id=h 1");
}

TEST(RouterTest, LiteralBeatsCaptureRegardlessOfOrder) {
  Router router;
  router.Handle("GET", "/hosts/{id}", Named("get"));
  router.Handle("GET", "/hosts/summary", Named("summary"));
  EXPECT_EQ(router.Dispatch(Req("GET", "/hosts/summary")).body, "summary");
  EXPECT_EQ(router.Dispatch(Req("GET", "/hosts/x")).body, "get id=x");
}

TEST(RouterTest, UnknownPathIs404Json) {
  Router router;
  router.Handle("GET", "/a", Named("a"));
  HttpResponse r = router.Dispatch(Req("GET", "/b"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "not_found");
  // Captures do not match empty segments, and segment counts must agree.
  router.Handle("GET", "/h/{id}", Named("h"));
  EXPECT_EQ(router.Dispatch(Req("GET", "/h/")).status, 404);
  EXPECT_EQ(router.Dispatch(Req("GET", "/h/x/y")).status, 404);
  EXPECT_EQ(router.Dispatch(Req("GET", "/a/")).status, 404);
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  Router router;
  router.Handle("GET", "/items/{id}", Named("get"));
  router.Handle("DELETE", "/items/{id}", Named("delete"));
  router.Handle("POST", "/items", Named("create"));
  HttpResponse r = router.Dispatch(Req("PUT", "/items/7"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.Get("Allow"), "DELETE, GET, HEAD");
  EXPECT_TRUE(nlohmann::json::parse(r.body).contains("error"));
  EXPECT_EQ(router.Dispatch(Req("GET", "/items")).headers.Get("Allow"), "POST");
  EXPECT_EQ(router.Dispatch(Req("DELETE", "/items/7")).body, "delete id=7");
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router;
  router.Handle("GET", "/status", Named("get"));
  EXPECT_EQ(router.Dispatch(Req("HEAD", "/status")).body, "get");
  router.Handle("HEAD", "/status", Named("head"));
  EXPECT_EQ(router.Dispatch(Req("HEAD", "/status")).body, "head");
}

TEST(RouterTest, TrailingWildcard) {
  Router router;
  router.Handle("GET", "/ui/*", Named("ui"));
  router.Handle("GET", "/ui/api/{x}", Named("api"));
  router.Handle("GET", "/*", Named("root"));
  EXPECT_EQ(router.Dispatch(Req("GET", "/ui/js/app.js")).body, "ui *=js/app.js");
  EXPECT_EQ(router.Dispatch(Req("GET", "/ui/")).body, "ui *=");
  EXPECT_EQ(router.Dispatch(Req("GET", "/ui")).body, "ui *=");
  EXPECT_EQ(router.Dispatch(Req("GET", "/ui/api/1")).body, "api x=1");
  EXPECT_EQ(router.Dispatch(Req("GET", "/ui/api/1/2")).body, "ui *=api/1/2");
  EXPECT_EQ(router.Dispatch(Req("GET", "/other/x")).body, "root *=other/x");
  EXPECT_EQ(router.Dispatch(Req("GET", "/")).body, "root *=");
}

TEST(RouterTest, AsHandlerDispatches) {
  Router router;
  router.Handle("POST", "/echo", [](const HttpRequest& r) { return HttpResponse::Text(200, r.body); });
  HttpHandler h = router.AsHandler();
  HttpRequest req = Req("POST", "/echo");
  req.body = "payload";
  EXPECT_EQ(h(req).body, "payload");
}

}  // namespace
}  // namespace steadfast::http
