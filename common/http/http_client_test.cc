#include "common/http/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/http/http_server.h"

namespace steadfast::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A loopback port with nothing listening: bound, read back, released.
uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void StartServer(HttpHandler handler) {
    auto server = HttpServer::Start({}, std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }
  HttpClientRequest Request(std::string method, std::string_view path) const {
    HttpClientRequest req;
    req.method = std::move(method);
    req.url = Url(path);
    req.timeout = milliseconds(3000);
    return req;
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(CurlHttpClientTest, ConnectionRefusedIsUnavailable) {
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/";
  req.timeout = milliseconds(2000);
  auto resp = NewCurlHttpClient({})->Do(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
  EXPECT_TRUE(resp.status().IsRetryable());
}

TEST_F(CurlHttpClientTest, TimeoutIsDeadlineExceeded) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  StartServer([&](const HttpRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, milliseconds(1500), [&] { return release; });
    return HttpResponse::Text(200, "late");
  });
  HttpClientRequest req = Request("GET", "/sleep");
  req.timeout = milliseconds(200);
  auto start = steady_clock::now();
  auto resp = NewCurlHttpClient({})->Do(req);
  auto elapsed = steady_clock::now() - start;
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  server_->Shutdown();  // waits for the handler, which uses this test's locals
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
  EXPECT_LT(elapsed, milliseconds(1000));
}

TEST_F(CurlHttpClientTest, RoundTripsHeadersAndBody) {
  StartServer([](const HttpRequest& r) {
    HttpResponse resp = HttpResponse::Text(201, std::string(r.body.rbegin(), r.body.rend()));
    resp.headers.Add("X-Echo-Token", r.headers.Get("X-Token").value_or("none"));
    resp.headers.Add("X-Method", r.method);
    resp.headers.Add("Set-Cookie", "a=1");
    resp.headers.Add("Set-Cookie", "b=2");
    return resp;
  });
  HttpClientRequest req = Request("POST", "/echo");
  req.headers.Add("X-Token", "t0k3n");
  req.headers.Add("Content-Type", "application/octet-stream");
  req.body = std::string("abc\0def", 7);
  auto resp = NewCurlHttpClient({})->Do(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, std::string("fed\0cba", 7));
  EXPECT_EQ(resp->headers.Get("x-echo-token"), "t0k3n");
  EXPECT_EQ(resp->headers.Get("X-Method"), "POST");
  int cookies = 0;
  for (const auto& [name, value] : resp->headers.items()) {
    if (name == "Set-Cookie") ++cookies;
  }
  EXPECT_EQ(cookies, 2);
}

TEST_F(CurlHttpClientTest, SendsNoImplicitHeaders) {
  std::mutex mu;
  Headers seen;
  StartServer([&](const HttpRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen = r.headers;
    return HttpResponse::Text(200, "");
  });
  HttpClientRequest req = Request("POST", "/p");
  req.body = std::string(4096, 'b');  // large enough for libcurl to consider Expect: 100-continue
  HttpClientOptions options;
  options.user_agent = "steadfast-test/1";
  auto resp = NewCurlHttpClient(options)->Do(req);
  server_->Shutdown();  // the handler uses this test's locals
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_FALSE(seen.Get("Accept-Encoding").has_value());
  EXPECT_FALSE(seen.Get("Content-Type").has_value());
  EXPECT_FALSE(seen.Get("Expect").has_value());
  EXPECT_EQ(seen.Get("User-Agent"), "steadfast-test/1");
  EXPECT_EQ(seen.Get("Content-Length"), "4096");
}

TEST_F(CurlHttpClientTest, OtherMethods) {
  StartServer([](const HttpRequest& r) { return HttpResponse::Text(200, r.method + ":" + r.body); });
  auto client = NewCurlHttpClient({});
  HttpClientRequest put = Request("PUT", "/x");
  put.body = "data";
  auto resp = client->Do(put);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "PUT:data");
  resp = client->Do(Request("DELETE", "/x"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "DELETE:");
  resp = client->Do(Request("HEAD", "/x"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "");
  EXPECT_EQ(resp->headers.Get("Content-Length"), "5");
  resp = client->Do(Request("GET", "/x"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "GET:");
}

TEST_F(CurlHttpClientTest, ErrorStatusIsASuccessfulExchange) {
  StartServer([](const HttpRequest&) { return HttpResponse::Error(UnavailableError("storage down")); });
  auto resp = NewCurlHttpClient({})->Do(Request("GET", "/"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 503);
}

TEST_F(CurlHttpClientTest, BadRequestsAreInvalidArgument) {
  auto client = NewCurlHttpClient({});
  HttpClientRequest req;
  req.timeout = milliseconds(1000);
  for (const char* url : {"http://", "ftp://127.0.0.1/", "http://[::1/"}) {
    req.url = url;
    EXPECT_EQ(client->Do(req).status().code(), StatusCode::kInvalidArgument) << url;
  }
  req.url = "http://127.0.0.1:1/";
  req.headers.Add("X-Bad", "a\r\nInjected: yes");
  EXPECT_EQ(client->Do(req).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CurlHttpClientTest, ThreadSafe) {
  StartServer([](const HttpRequest& r) { return HttpResponse::Text(200, r.path); });
  auto client = NewCurlHttpClient({});
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        auto resp = client->Do(Request("GET", path));
        if (resp.ok() && resp->status == 200 && resp->body == path) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 30);
}

}  // namespace
}  // namespace steadfast::http
