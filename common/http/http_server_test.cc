#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/http_client.h"

namespace steadfast::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A blocking loopback socket for the cases a real client cannot produce (partial requests,
// pipelining, HTTP/1.0). Every receive gives up after 3 s so a broken server fails the test
// instead of hanging it.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{3, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  struct Response {
    std::string head;  // status line and headers
    std::string body;
    int status = 0;
    bool HasHeaderLine(std::string_view line) const { return head.find(std::string(line) + "\r\n") != std::string::npos; }
  };

  // Reads one response framed by Content-Length (or none for HEAD and 1xx/204).
  std::optional<Response> ReadResponse(bool head_request = false) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    Response r;
    r.head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    if (r.head.size() < 12) return std::nullopt;
    r.status = std::atoi(r.head.substr(9, 3).c_str());
    size_t length = 0;
    size_t cl = r.head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::strtoul(r.head.c_str() + cl + 16, nullptr, 10);
    if (head_request || r.status < 200 || r.status == 204) length = 0;
    while (buffer_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  // True when the server closed the connection (EOF or reset) before the receive timeout.
  bool WaitForClose() {
    char c[256];
    while (true) {
      ssize_t n = ::recv(fd_, c, sizeof(c), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool Fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

HttpResponse Echo(const HttpRequest& r) {
  HttpResponse resp = HttpResponse::Text(200, r.method + " " + r.path + " " + r.body);
  resp.headers.Add("X-Seen-Target", r.target);
  return resp;
}

std::string Url(const HttpServer& server, std::string_view path, bool tls = false) {
  return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(server.port()) + std::string(path);
}

std::unique_ptr<HttpServer> MustStart(const HttpServerOptions& options, HttpHandler handler) {
  auto server = HttpServer::Start(options, std::move(handler));
  if (!server.ok()) {
    ADD_FAILURE() << server.status().ToString();
    return nullptr;
  }
  return std::move(server).value();
}

HttpClientRequest Get(std::string url) {
  HttpClientRequest req;
  req.url = std::move(url);
  req.timeout = milliseconds(3000);
  return req;
}

TEST(HttpServerTest, ServesRequestThroughCurl) {
  HttpRequest seen;
  std::mutex mu;
  auto server = MustStart({}, [&](const HttpRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen = r;
    HttpResponse resp = HttpResponse::Json(201, R"({"ok":true})");
    resp.headers.Add("X-Reply", "yes");
    return resp;
  });
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  EXPECT_FALSE(server->tls());
  auto client = NewCurlHttpClient({});
  HttpClientRequest req;
  req.method = "POST";
  req.url = Url(*server, "/api/v1/things/a%20b?limit=5&q=x+y");
  req.headers.Add("X-Test", "value");
  req.headers.Add("Content-Type", "application/json");
  req.body = R"({"n":1})";
  auto resp = client->Do(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, R"({"ok":true})");
  EXPECT_EQ(resp->headers.Get("X-Reply"), "yes");
  EXPECT_EQ(resp->headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(resp->headers.Get("Server"), "steadfast");
  EXPECT_EQ(resp->headers.Get("Content-Length"), "11");
  auto date = resp->headers.Get("Date");
  ASSERT_TRUE(date.has_value());
  EXPECT_EQ(date->size(), 29u) << *date;
  EXPECT_EQ(date->substr(26), "GMT");

  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/v1/things/a%20b?limit=5&q=x+y");
  EXPECT_EQ(seen.path, "/api/v1/things/a b");
  EXPECT_EQ(seen.query["limit"], "5");
  EXPECT_EQ(seen.query["q"], "x y");
  EXPECT_EQ(seen.headers.Get("x-test"), "value");
  EXPECT_EQ(seen.body, R"({"n":1})");
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
}

TEST(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::atomic<int> calls{0};
  auto server = MustStart({}, [&](const HttpRequest& r) {
    ++calls;
    return Echo(r);
  });
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn.Send("POST /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
    auto r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /n/" + std::to_string(i) + " hi");
    EXPECT_FALSE(r->HasHeaderLine("Connection: close"));
  }
  // Two pipelined requests are answered in order.
  ASSERT_TRUE(conn.Send("GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p1 = conn.ReadResponse();
  auto p2 = conn.ReadResponse();
  ASSERT_TRUE(p1 && p2);
  EXPECT_EQ(p1->body, "GET /p1 ");
  EXPECT_EQ(p2->body, "GET /p2 ");
  // Connection: close is honoured.
  ASSERT_TRUE(conn.Send("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto last = conn.ReadResponse();
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->HasHeaderLine("Connection: close"));
  EXPECT_TRUE(conn.WaitForClose());
  EXPECT_EQ(calls.load(), 6);
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAliveAsked) {
  auto server = MustStart({}, Echo);
  ASSERT_NE(server, nullptr);
  {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.Send("GET /old HTTP/1.0\r\n\r\n"));
    auto r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->head.substr(0, 12), "HTTP/1.0 200");
    EXPECT_EQ(r->body, "GET /old ");
    EXPECT_TRUE(conn.WaitForClose());
  }
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto a = conn.ReadResponse();
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->HasHeaderLine("Connection: keep-alive"));
  ASSERT_TRUE(conn.Send("GET /b HTTP/1.0\r\n\r\n"));
  auto b = conn.ReadResponse();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->body, "GET /b ");
}

TEST(HttpServerTest, HeadSendsLengthButNoBody) {
  auto server = MustStart({}, [](const HttpRequest& r) { return HttpResponse::Text(200, "twelve bytes"); });
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = conn.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_TRUE(head->HasHeaderLine("Content-Length: 12"));
  // Had the server sent a body, it would be read as the start of the next response.
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto get = conn.ReadResponse();
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "twelve bytes");
}

TEST(HttpServerTest, NoContentHasNoBody) {
  auto server = MustStart({}, [](const HttpRequest& r) {
    HttpResponse resp;
    resp.status = r.path == "/empty" ? 204 : 200;
    resp.body = r.path == "/empty" ? "ignored" : "body";
    return resp;
  });
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("DELETE /empty HTTP/1.1\r\nHost: x\r\n\r\nGET /full HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto a = conn.ReadResponse();
  auto b = conn.ReadResponse();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 204);
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(b->body, "body");
}

TEST(HttpServerTest, BadTargetIs400WithoutCallingHandler) {
  std::atomic<int> calls{0};
  auto server = MustStart({}, [&](const HttpRequest& r) {
    ++calls;
    return Echo(r);
  });
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["code"], "invalid_argument");
  EXPECT_EQ(calls.load(), 0);
  // The connection is still usable.
  ASSERT_TRUE(conn.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto ok = conn.ReadResponse();
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServerTest, MalformedRequestIs400AndClose) {
  auto server = MustStart({}, Echo);
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n"));
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(conn.WaitForClose());
  RawConnection junk(server->port());
  ASSERT_TRUE(junk.Send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 15)));
  EXPECT_TRUE(junk.WaitForClose());
}

TEST(HttpServerTest, HandlerExceptionBecomes500) {
  auto server = MustStart({}, [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  ASSERT_NE(server, nullptr);
  auto resp = NewCurlHttpClient({})->Do(Get(Url(*server, "/")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 500);
  EXPECT_EQ(nlohmann::json::parse(resp->body)["error"]["code"], "internal");
}

TEST(HttpServerTest, BodyOverLimitIs413) {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  auto server = MustStart(options, [&](const HttpRequest& r) {
    ++calls;
    return Echo(r);
  });
  ASSERT_NE(server, nullptr);
  auto client = NewCurlHttpClient({});
  HttpClientRequest big = Get(Url(*server, "/upload"));
  big.method = "POST";
  big.body = std::string(200 * 1000, 'x');
  auto resp = client->Do(big);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 413);
  EXPECT_EQ(nlohmann::json::parse(resp->body)["error"]["code"], "resource_exhausted");

  HttpClientRequest small = big;
  small.body = std::string(1000, 'y');
  resp = client->Do(small);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);

  // A chunked body is limited as it arrives.
  RawConnection conn(server->port());
  std::string chunk(800, 'z');
  ASSERT_TRUE(conn.Send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk +
                        "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(r->HasHeaderLine("Connection: close"));
  EXPECT_TRUE(conn.WaitForClose());
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServerTest, ExpectContinueIsAnswered) {
  HttpServerOptions options;
  options.max_body_bytes = 100;
  auto server = MustStart(options, Echo);
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = conn.ReadResponse();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(conn.Send("hello"));
  auto final_response = conn.ReadResponse();
  ASSERT_TRUE(final_response.has_value());
  EXPECT_EQ(final_response->body, "PUT /e hello");
  // Too large: 413 straight away instead of 100.
  ASSERT_TRUE(conn.Send("PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n"));
  auto refused = conn.ReadResponse();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 413);
}

TEST(HttpServerTest, ReadTimeoutClosesSlowClient) {
  HttpServerOptions options;
  options.read_timeout = milliseconds(200);
  auto server = MustStart(options, Echo);
  ASSERT_NE(server, nullptr);
  RawConnection partial(server->port());
  RawConnection silent(server->port());
  auto start = steady_clock::now();
  ASSERT_TRUE(partial.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finishes the headers
  EXPECT_TRUE(partial.WaitForClose());
  EXPECT_TRUE(silent.WaitForClose());  // connected but never sent a byte
  auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(150));
  EXPECT_LT(elapsed, milliseconds(1500));
}

TEST(HttpServerTest, IdleTimeoutClosesKeepAliveConnection) {
  HttpServerOptions options;
  options.idle_timeout = milliseconds(200);
  auto server = MustStart(options, Echo);
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(conn.ReadResponse().has_value());
  auto start = steady_clock::now();
  EXPECT_TRUE(conn.WaitForClose());
  auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(150));
  EXPECT_LT(elapsed, milliseconds(1500));
}

TEST(HttpServerTest, HandlersRunConcurrently) {
  constexpr int kRequests = 4;
  HttpServerOptions options;
  options.handler_threads = kRequests;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  // Each handler blocks until all requests are inside a handler at the same time; with a
  // serial handler pool they would time out and answer 503.
  auto server = MustStart(options, [&](const HttpRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    ++arrived;
    cv.notify_all();
    bool together = cv.wait_for(lock, milliseconds(1500), [&] { return arrived >= kRequests; });
    return HttpResponse::Text(together ? 200 : 503, "");
  });
  ASSERT_NE(server, nullptr);
  auto client = NewCurlHttpClient({});
  std::vector<int> statuses(kRequests, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      auto resp = client->Do(Get(Url(*server, "/block")));
      statuses[i] = resp.ok() ? resp->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  for (int s : statuses) EXPECT_EQ(s, 200);
}

TEST(HttpServerTest, ShutdownFinishesInFlightRequest) {
  std::atomic<bool> entered{false};
  HttpServerOptions options;
  options.shutdown_grace = milliseconds(1500);
  auto server = MustStart(options, [&](const HttpRequest&) {
    entered = true;
    std::this_thread::sleep_for(milliseconds(300));
    return HttpResponse::Text(200, "done");
  });
  ASSERT_NE(server, nullptr);
  std::string url = Url(*server, "/slow");
  auto client = NewCurlHttpClient({});
  StatusOr<HttpResponse> result = InternalError("not run");
  std::thread caller([&] { result = client->Do(Get(url)); });
  auto wait_start = steady_clock::now();
  while (!entered && steady_clock::now() - wait_start < milliseconds(2000)) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  ASSERT_TRUE(entered.load());
  server->Shutdown();
  caller.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "done");
  EXPECT_EQ(result->headers.Get("Connection"), "close");
  server->Shutdown();  // idempotent
  auto after = client->Do(Get(url));
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable) << after.status().ToString();
}

TEST(HttpServerTest, ShutdownClosesIdleConnectionsPromptly) {
  HttpServerOptions options;
  options.shutdown_grace = milliseconds(5000);
  auto server = MustStart(options, Echo);
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(conn.ReadResponse().has_value());
  RawConnection never_sent(server->port());
  ASSERT_TRUE(never_sent.connected());
  std::this_thread::sleep_for(milliseconds(20));  // let the server accept it
  auto start = steady_clock::now();
  server->Shutdown();
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
  EXPECT_TRUE(conn.WaitForClose());
  EXPECT_TRUE(never_sent.WaitForClose());
}

TEST(HttpServerTest, ShutdownForceClosesAfterGrace) {
  HttpServerOptions options;
  options.shutdown_grace = milliseconds(100);
  options.read_timeout = milliseconds(5000);
  auto server = MustStart(options, Echo);
  ASSERT_NE(server, nullptr);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // a request that never completes
  std::this_thread::sleep_for(milliseconds(50));
  auto start = steady_clock::now();
  server.reset();  // the destructor shuts down
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
  EXPECT_TRUE(conn.WaitForClose());
}

TEST(HttpServerTest, PortInUseIsUnavailable) {
  auto first = MustStart({}, Echo);
  ASSERT_NE(first, nullptr);
  HttpServerOptions options;
  options.port = first->port();
  auto second = HttpServer::Start(options, Echo);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(first->port())), std::string::npos)
      << second.status().message();
}

TEST(HttpServerTest, BadOptionsAreInvalidArgument) {
  HttpServerOptions options;
  options.bind_address = "not an address";
  EXPECT_EQ(HttpServer::Start(options, Echo).status().code(), StatusCode::kInvalidArgument);
  options = {};
  options.handler_threads = 0;
  EXPECT_EQ(HttpServer::Start(options, Echo).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpServer::Start({}, nullptr).status().code(), StatusCode::kInvalidArgument);
}

// TLS: a self-signed certificate for 127.0.0.1 made once with the openssl command line.
class HttpServerTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string dir_template = ::testing::TempDir() + "/sf_http_tls_XXXXXX";
    std::vector<char> buf(dir_template.begin(), dir_template.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) return;
    dir_ = new std::string(buf.data());
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
                      " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
                      " -keyout " + *dir_ + "/key.pem -out " + *dir_ + "/cert.pem >/dev/null 2>&1";
    generated_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(*dir_, ec);
      delete dir_;
      dir_ = nullptr;
    }
  }
  void SetUp() override {
    if (!generated_) GTEST_SKIP() << "openssl could not make a test certificate";
  }
  static std::string Cert() { return *dir_ + "/cert.pem"; }
  static std::string Key() { return *dir_ + "/key.pem"; }

  std::unique_ptr<HttpServer> StartTls() {
    HttpServerOptions options;
    options.tls_cert_file = Cert();
    options.tls_key_file = Key();
    return MustStart(options, Echo);
  }

  static std::string* dir_;
  static bool generated_;
};
std::string* HttpServerTlsTest::dir_ = nullptr;
bool HttpServerTlsTest::generated_ = false;

TEST_F(HttpServerTlsTest, ServesWithoutVerification) {
  auto server = StartTls();
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(server->tls());
  HttpClientOptions options;
  options.verify_tls = false;
  auto client = NewCurlHttpClient(options);
  for (int i = 0; i < 2; ++i) {
    auto resp = client->Do(Get(Url(*server, "/secure", /*tls=*/true)));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "GET /secure ");
  }
}

TEST_F(HttpServerTlsTest, VerifiesAgainstCaFile) {
  auto server = StartTls();
  ASSERT_NE(server, nullptr);
  HttpClientOptions options;
  options.ca_file = Cert();
  auto resp = NewCurlHttpClient(options)->Do(Get(Url(*server, "/ca", /*tls=*/true)));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
}

TEST_F(HttpServerTlsTest, UntrustedCertificateIsFailedPrecondition) {
  auto server = StartTls();
  ASSERT_NE(server, nullptr);
  auto resp = NewCurlHttpClient({})->Do(Get(Url(*server, "/", /*tls=*/true)));
  EXPECT_EQ(resp.status().code(), StatusCode::kFailedPrecondition) << resp.status().ToString();
}

TEST_F(HttpServerTlsTest, PlainClientIsRefused) {
  auto server = StartTls();
  ASSERT_NE(server, nullptr);
  auto resp = NewCurlHttpClient({})->Do(Get(Url(*server, "/")));
  EXPECT_FALSE(resp.ok() && resp->status == 200);
}

TEST_F(HttpServerTlsTest, UnreadableFilesAreInvalidArgument) {
  HttpServerOptions options;
  options.tls_cert_file = *dir_ + "/missing.pem";
  options.tls_key_file = Key();
  auto missing = HttpServer::Start(options, Echo);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("missing.pem"), std::string::npos) << missing.status().message();

  options.tls_cert_file = Cert();
  options.tls_key_file = Cert();  // a certificate is not a key
  EXPECT_EQ(HttpServer::Start(options, Echo).status().code(), StatusCode::kInvalidArgument);

  options.tls_key_file.clear();  // only one of the two
  EXPECT_EQ(HttpServer::Start(options, Echo).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace steadfast::http
