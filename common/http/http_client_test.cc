// Conformance suite for HttpClient: every test runs against both real implementations, the
// libcurl one (NewCurlHttpClient) and the Beast one (NewBeastHttpClient), with real peers on
// loopback: our HttpServer, a scripted raw HTTP server for what HttpServer never does
// (chunked bodies, closing without an answer, 1xx), a small forwarding proxy, and a plain
// OpenSSL server that insists on a client certificate.
#include "common/http/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/http/beast_http_client.h"
#include "common/http/http_server.h"

namespace steadfast::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------
// Loopback plumbing

// A listening socket on 127.0.0.1 with a kernel-chosen port.
int ListenLoopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A loopback port with nothing listening: bound, read back, released.
uint16_t UnusedPort() {
  uint16_t port = 0;
  int fd = ListenLoopback(&port);
  ::close(fd);
  return port;
}

// Waits up to `timeout` for `fd` to become readable.
bool WaitReadable(int fd, milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string Lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Value of header `name` in a raw request/response head, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  std::string lower = Lowercase(head);
  size_t at = lower.find("\r\n" + Lowercase(name) + ":");
  if (at == std::string::npos) return "";
  size_t start = at + 3 + name.size();
  size_t end = head.find("\r\n", start);
  std::string value = head.substr(start, end - start);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  return value;
}

// ---------------------------------------------------------------------------------------
// ScriptedServer: raw HTTP/1.1 on loopback; a script decides the bytes of every answer.
// One thread polls the listener and every open connection, so a client may hold idle
// connections while it opens new ones.

struct SeenRequest {
  int connection = 0;  // 0-based accept order
  int index = 0;       // 0-based request number on that connection
  std::string head;    // request line and headers
  std::string body;
};

struct ScriptedAnswer {
  std::string bytes;         // sent as they are
  bool close_after = false;  // close the connection after sending
};

class ScriptedServer {
 public:
  using Script = std::function<ScriptedAnswer(const SeenRequest&)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ListenLoopback(&port_);
    thread_ = std::thread([this] { Loop(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    for (auto& c : conns_) ::close(c.fd);
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  int connections() const { return accepted_.load(); }
  std::vector<SeenRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string Url(std::string_view path, bool tls = false) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           std::string(path);
  }

  static ScriptedAnswer Ok(std::string body, std::string extra_headers = "") {
    return {"HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
            extra_headers + "\r\n" + body};
  }

 private:
  struct Conn {
    int fd;
    int index;
    int requests = 0;
    std::string buffer;
  };

  void Loop() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (const auto& c : conns_) fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents != 0) {
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd >= 0) conns_.push_back(Conn{fd, accepted_++, 0, {}});
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Conn& c = conns_[i - 1];
        char chunk[16384];
        ssize_t n = ::recv(c.fd, chunk, sizeof(chunk), 0);
        if (n <= 0) {
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
        c.buffer.append(chunk, static_cast<size_t>(n));
        while (c.fd >= 0) {
          size_t end = c.buffer.find("\r\n\r\n");
          if (end == std::string::npos) break;
          SeenRequest seen;
          seen.connection = c.index;
          seen.index = c.requests;
          seen.head = c.buffer.substr(0, end + 2);
          size_t length =
              std::strtoul(HeaderValue(seen.head, "Content-Length").c_str(), nullptr, 10);
          if (c.buffer.size() < end + 4 + length) break;
          seen.body = c.buffer.substr(end + 4, length);
          c.buffer.erase(0, end + 4 + length);
          ++c.requests;
          {
            std::lock_guard<std::mutex> lock(mu_);
            requests_.push_back(seen);
          }
          ScriptedAnswer answer = script_(seen);
          SendAll(c.fd, answer.bytes);
          if (answer.close_after) {
            ::close(c.fd);
            c.fd = -1;
          }
        }
      }
      std::erase_if(conns_, [](const Conn& c) { return c.fd < 0; });
    }
  }

  const Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<Conn> conns_;  // loop thread only
  mutable std::mutex mu_;
  std::vector<SeenRequest> requests_;  // guarded by mu_
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------
// TestProxy: an HTTP forward proxy. CONNECT host:port opens a tunnel; an absolute-form
// request is forwarded in origin form with "Connection: close" (one request per client
// connection). Records every request head it got. Upstream hosts: 127.0.0.1 or localhost.

class TestProxy {
 public:
  explicit TestProxy(bool refuse = false) : refuse_(refuse) {
    listen_fd_ = ListenLoopback(&port_);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestProxy() {
    stop_ = true;
    accept_thread_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::vector<std::string> heads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      if (!WaitReadable(listen_fd_, milliseconds(20))) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, fd] {
        Serve(fd);
        ::close(fd);
      });
    }
  }

  void Serve(int client) {
    std::string buffer;
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (stop_ || !WaitReadable(client, milliseconds(5000))) return;
      char chunk[4096];
      ssize_t n = ::recv(client, chunk, sizeof(chunk), 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    std::string head = buffer.substr(0, end + 2);
    std::string rest = buffer.substr(end + 4);
    {
      std::lock_guard<std::mutex> lock(mu_);
      heads_.push_back(head);
    }
    if (refuse_) {
      SendAll(client, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    std::string request_line = head.substr(0, head.find("\r\n"));
    std::string method = request_line.substr(0, request_line.find(' '));
    std::string target =
        request_line.substr(method.size() + 1, request_line.rfind(' ') - method.size() - 1);
    std::string authority = target;
    std::string forward;
    if (method != "CONNECT") {
      // http://host:port/path -> /path, and the headers without proxy ones.
      authority = target.substr(7, target.find('/', 7) - 7);
      forward = method + " " + target.substr(7 + authority.size()) + " HTTP/1.1\r\n";
      size_t pos = head.find("\r\n") + 2;
      while (pos < head.size()) {
        size_t eol = head.find("\r\n", pos);
        std::string line = head.substr(pos, eol - pos);
        std::string name = Lowercase(line.substr(0, line.find(':')));
        if (name != "proxy-authorization" && name != "proxy-connection" && name != "connection")
          forward += line + "\r\n";
        pos = eol + 2;
      }
      forward += "Connection: close\r\n\r\n" + rest;
    }
    uint16_t port =
        static_cast<uint16_t>(std::atoi(authority.substr(authority.rfind(':') + 1).c_str()));
    int upstream = ConnectLoopback(port);
    if (upstream < 0) {
      SendAll(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    if (method == "CONNECT") {
      SendAll(client, "HTTP/1.1 200 Connection established\r\n\r\n");
      if (!rest.empty()) SendAll(upstream, rest);
    } else {
      SendAll(upstream, forward);
    }
    Relay(client, upstream);
    ::close(upstream);
  }

  // Copies bytes both ways until either side closes.
  void Relay(int a, int b) {
    while (!stop_) {
      pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        char chunk[16384];
        ssize_t n = ::recv(fds[i].fd, chunk, sizeof(chunk), 0);
        if (n <= 0 || !SendAll(fds[1 - i].fd, std::string_view(chunk, static_cast<size_t>(n))))
          return;
      }
    }
  }

  const bool refuse_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;  // guarded by mu_
  std::vector<std::string> heads_;    // guarded by mu_
};

// ---------------------------------------------------------------------------------------
// ClientCertServer: TLS with OpenSSL directly, because HttpServer does not ask for client
// certificates. Every connection must present one signed by `ca_file`; the answer's body
// is the certificate's subject.

class ClientCertServer {
 public:
  ClientCertServer(const std::string& cert, const std::string& key, const std::string& ca_file) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    ok_ = ctx_ != nullptr && SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) == 1 &&
          SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) == 1 &&
          SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) == 1;
    if (ctx_ != nullptr)
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    listen_fd_ = ListenLoopback(&port_);
    thread_ = std::thread([this] { Loop(); });
  }
  ~ClientCertServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }

 private:
  void Loop() {
    while (!stop_) {
      if (!WaitReadable(listen_fd_, milliseconds(20))) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      timeval tv{3, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char chunk[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl, chunk, sizeof(chunk));
          if (n <= 0) break;
          request.append(chunk, static_cast<size_t>(n));
        }
        std::string subject = "none";
        if (X509* peer = SSL_get1_peer_certificate(ssl)) {
          char name[256];
          X509_NAME_oneline(X509_get_subject_name(peer), name, sizeof(name));
          subject = name;
          X509_free(peer);
        }
        std::string response =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(subject.size()) +
            "\r\nConnection: close\r\n\r\n" + subject;
        SSL_write(ssl, response.data(), static_cast<int>(response.size()));
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(fd);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  bool ok_ = false;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sets (or unsets, for nullopt) environment variables for the lifetime of the object and
// then restores them. Tests in one binary run one at a time, so this is safe.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, std::optional<std::string>>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      Set(name, value);
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) Set(it->first.c_str(), it->second);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  static void Set(const char* name, const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// ---------------------------------------------------------------------------------------
// Test certificates, made once with the openssl command line: a CA, a server certificate
// for DNS:localhost only (so https://127.0.0.1 is a host name mismatch), a client one.

struct TestPki {
  std::string dir;
  bool ok = false;
  std::string Path(std::string_view name) const { return dir + "/" + std::string(name); }
};

bool Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

TestPki* MakePki() {
  auto* pki = new TestPki;
  std::string dir_template = ::testing::TempDir() + "/sf_http_client_XXXXXX";
  std::vector<char> buf(dir_template.begin(), dir_template.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return pki;
  pki->dir = buf.data();
  const std::string d = pki->dir;
  const std::string ec_key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::ofstream(d + "/server.ext") << "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                      "extendedKeyUsage=serverAuth\n";
  std::ofstream(d + "/client.ext") << "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
  pki->ok =
      Run("openssl req -x509" + ec_key + " -days 2 -subj '/CN=Steadfast Test CA' -keyout " + d +
          "/ca.key -out " + d + "/ca.pem") &&
      Run("openssl req" + ec_key + " -subj /CN=localhost -keyout " + d + "/server.key -out " + d +
          "/server.csr") &&
      Run("openssl x509 -req -days 2 -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
          "/ca.key -CAcreateserial -extfile " + d + "/server.ext -out " + d + "/server.pem") &&
      Run("openssl req" + ec_key + " -subj /CN=agent-1 -keyout " + d + "/client.key -out " + d +
          "/client.csr") &&
      Run("openssl x509 -req -days 2 -in " + d + "/client.csr -CA " + d + "/ca.pem -CAkey " + d +
          "/ca.key -CAcreateserial -extfile " + d + "/client.ext -out " + d + "/client.pem");
  return pki;
}

// ---------------------------------------------------------------------------------------

enum class Impl { kCurl, kBeast };

std::string ImplName(const ::testing::TestParamInfo<Impl>& info) {
  return info.param == Impl::kCurl ? "Curl" : "Beast";
}

class HttpClientTest : public ::testing::TestWithParam<Impl> {
 protected:
  static void SetUpTestSuite() { pki_ = MakePki(); }
  static void TearDownTestSuite() {
    if (!pki_->dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(pki_->dir, ec);
    }
    delete pki_;
    pki_ = nullptr;
  }

  std::unique_ptr<HttpClient> NewClient(const HttpClientOptions& options = {}) const {
    return GetParam() == Impl::kCurl ? NewCurlHttpClient(options) : NewBeastHttpClient(options);
  }

  void StartServer(HttpHandler handler, HttpServerOptions options = {}) {
    auto server = HttpServer::Start(options, std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  void StartTlsServer(HttpHandler handler) {
    HttpServerOptions options;
    options.tls_cert_file = pki_->Path("server.pem");
    options.tls_key_file = pki_->Path("server.key");
    StartServer(std::move(handler), options);
  }
  std::string Url(std::string_view path) const {
    return std::string(server_->tls() ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }
  std::string LocalhostUrl(std::string_view path) const {
    return std::string(server_->tls() ? "https" : "http") +
           "://localhost:" + std::to_string(server_->port()) + std::string(path);
  }
  static HttpClientRequest RequestTo(std::string method, std::string url) {
    HttpClientRequest req;
    req.method = std::move(method);
    req.url = std::move(url);
    req.timeout = milliseconds(5000);
    return req;
  }
  HttpClientRequest Request(std::string method, std::string_view path) const {
    return RequestTo(std::move(method), Url(path));
  }
  HttpClientOptions TrustingOptions() const {
    HttpClientOptions options;
    options.ca_file = pki_->Path("ca.pem");
    return options;
  }
  void RequirePki() const {
    if (!pki_->ok) GTEST_SKIP() << "openssl could not make the test certificates";
  }

  static TestPki* pki_;
  // Proxies in the environment of whoever runs the tests must not reroute loopback calls.
  ScopedEnv clean_env_{{"http_proxy", std::nullopt},  {"HTTP_PROXY", std::nullopt},
                       {"https_proxy", std::nullopt}, {"HTTPS_PROXY", std::nullopt},
                       {"all_proxy", std::nullopt},   {"ALL_PROXY", std::nullopt},
                       {"no_proxy", std::nullopt},    {"NO_PROXY", std::nullopt}};
  std::unique_ptr<HttpServer> server_;
};
TestPki* HttpClientTest::pki_ = nullptr;

HttpResponse Echo(const HttpRequest& r) {
  HttpResponse resp = HttpResponse::Text(200, r.method + " " + r.target + " " + r.body);
  return resp;
}

// --- plain exchanges -------------------------------------------------------------------

TEST_P(HttpClientTest, RoundTripsHeadersAndBody) {
  StartServer([](const HttpRequest& r) {
    HttpResponse resp = HttpResponse::Text(201, std::string(r.body.rbegin(), r.body.rend()));
    resp.headers.Add("X-Echo-Token", r.headers.Get("X-Token").value_or("none"));
    resp.headers.Add("X-Method", r.method);
    resp.headers.Add("X-Target", r.target);
    resp.headers.Add("Set-Cookie", "a=1");
    resp.headers.Add("Set-Cookie", "b=2");
    return resp;
  });
  HttpClientRequest req = Request("POST", "/echo?x=1&y=%20");
  req.headers.Add("X-Token", "t0k3n");
  req.headers.Add("Content-Type", "application/octet-stream");
  req.body = std::string("abc\0def", 7);
  auto resp = NewClient()->Do(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, std::string("fed\0cba", 7));
  EXPECT_EQ(resp->headers.Get("x-echo-token"), "t0k3n");
  EXPECT_EQ(resp->headers.Get("X-Method"), "POST");
  EXPECT_EQ(resp->headers.Get("X-Target"), "/echo?x=1&y=%20");
  int cookies = 0;
  for (const auto& [name, value] : resp->headers.items()) {
    if (name == "Set-Cookie") ++cookies;
  }
  EXPECT_EQ(cookies, 2);
}

TEST_P(HttpClientTest, SendsNoImplicitHeaders) {
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
  auto resp = NewClient(options)->Do(req);
  server_->Shutdown();  // the handler uses this test's locals
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_FALSE(seen.Get("Accept-Encoding").has_value());
  EXPECT_FALSE(seen.Get("Content-Type").has_value());
  EXPECT_FALSE(seen.Get("Expect").has_value());
  EXPECT_FALSE(seen.Get("Transfer-Encoding").has_value());
  EXPECT_EQ(seen.Get("User-Agent"), "steadfast-test/1");
  EXPECT_EQ(seen.Get("Content-Length"), "4096");
  EXPECT_EQ(seen.Get("Host"), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_P(HttpClientTest, RequestUserAgentWins) {
  StartServer([](const HttpRequest& r) {
    return HttpResponse::Text(200, r.headers.Get("User-Agent").value_or(""));
  });
  HttpClientRequest req = Request("GET", "/");
  req.headers.Add("User-Agent", "custom/2");
  auto resp = NewClient()->Do(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "custom/2");
}

TEST_P(HttpClientTest, OtherMethods) {
  StartServer(
      [](const HttpRequest& r) { return HttpResponse::Text(200, r.method + ":" + r.body); });
  auto client = NewClient();
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
  // After a HEAD (a length but no body) the connection is still in step.
  resp = client->Do(Request("GET", "/x"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "GET:");
  HttpClientRequest empty_post = Request("POST", "/x");
  resp = client->Do(empty_post);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "POST:");
}

TEST_P(HttpClientTest, ErrorStatusIsASuccessfulExchange) {
  StartServer(
      [](const HttpRequest&) { return HttpResponse::Error(UnavailableError("storage down")); });
  auto resp = NewClient()->Do(Request("GET", "/"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 503);
  EXPECT_NE(resp->body.find("storage down"), std::string::npos);
}

TEST_P(HttpClientTest, NoContentHasNoBody) {
  StartServer([](const HttpRequest&) { return HttpResponse::Text(204, ""); });
  auto client = NewClient();
  for (int i = 0; i < 2; ++i) {
    auto resp = client->Do(Request("DELETE", "/thing"));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 204);
    EXPECT_EQ(resp->body, "");
  }
}

TEST_P(HttpClientTest, BadRequestsAreInvalidArgument) {
  auto client = NewClient();
  HttpClientRequest req;
  req.timeout = milliseconds(1000);
  for (const char* url : {"http://", "ftp://127.0.0.1/", "http://[::1/", "127.0.0.1:80/",
                          "http://127.0.0.1:99999/", "http://127.0.0.1/a b"}) {
    req.url = url;
    EXPECT_EQ(client->Do(req).status().code(), StatusCode::kInvalidArgument) << url;
  }
  req.url = "http://127.0.0.1:1/";
  req.headers.Add("X-Bad", "a\r\nInjected: yes");
  EXPECT_EQ(client->Do(req).status().code(), StatusCode::kInvalidArgument);
  req.headers = Headers();
  req.method = "GET /evil";
  EXPECT_EQ(client->Do(req).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(HttpClientTest, ThreadSafe) {
  StartServer([](const HttpRequest& r) { return HttpResponse::Text(200, r.path); });
  auto client = NewClient();
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

// --- failures --------------------------------------------------------------------------

TEST_P(HttpClientTest, ConnectionRefusedIsUnavailable) {
  HttpClientRequest req =
      RequestTo("GET", "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/");
  auto resp = NewClient()->Do(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
  EXPECT_TRUE(resp.status().IsRetryable());
  EXPECT_NE(resp.status().message().find(req.url), std::string::npos) << resp.status().message();
}

TEST_P(HttpClientTest, SlowServerIsDeadlineExceeded) {
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
  auto resp = NewClient()->Do(req);
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

TEST_P(HttpClientTest, ConnectTimeoutCoversTheTlsHandshake) {
  // The scripted server reads the ClientHello and never answers it.
  ScriptedServer mute([](const SeenRequest&) { return ScriptedAnswer{}; });
  HttpClientOptions options;
  options.connect_timeout = milliseconds(200);
  options.verify_tls = false;
  HttpClientRequest req = RequestTo("GET", mute.Url("/", /*tls=*/true));
  req.timeout = milliseconds(5000);
  auto start = steady_clock::now();
  auto resp = NewClient(options)->Do(req);
  auto elapsed = steady_clock::now() - start;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
  EXPECT_LT(elapsed, milliseconds(2000));
}

TEST_P(HttpClientTest, FreshConnectionClosedWithoutAnswerIsUnavailable) {
  ScriptedServer rude([](const SeenRequest&) { return ScriptedAnswer{"", /*close_after=*/true}; });
  auto resp = NewClient()->Do(RequestTo("POST", rude.Url("/report")));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
  // A fresh connection is not retried: the server may have acted on the request.
  EXPECT_EQ(rude.requests().size(), 1u);
}

TEST_P(HttpClientTest, ResponseCutShortIsUnavailable) {
  ScriptedServer cut([](const SeenRequest&) {
    return ScriptedAnswer{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part",
                          /*close_after=*/true};
  });
  auto resp = NewClient()->Do(RequestTo("GET", cut.Url("/")));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

TEST_P(HttpClientTest, GarbageAnswerIsUnavailable) {
  ScriptedServer garbage([](const SeenRequest&) {
    return ScriptedAnswer{"SSH-2.0-OpenSSH_9.2\r\n\r\n", true};
  });
  auto resp = NewClient()->Do(RequestTo("GET", garbage.Url("/")));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

// --- connections -----------------------------------------------------------------------

TEST_P(HttpClientTest, ReusesKeepAliveConnection) {
  ScriptedServer server(
      [](const SeenRequest& r) { return ScriptedServer::Ok("n" + std::to_string(r.index)); });
  auto client = NewClient();
  for (int i = 0; i < 3; ++i) {
    auto resp = client->Do(RequestTo("GET", server.Url("/k")));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->body, "n" + std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST_P(HttpClientTest, ServerConnectionCloseIsHonoured) {
  ScriptedServer server([](const SeenRequest& r) {
    ScriptedAnswer a =
        ScriptedServer::Ok("c" + std::to_string(r.connection), "Connection: close\r\n");
    a.close_after = true;
    return a;
  });
  auto client = NewClient();
  for (int i = 0; i < 2; ++i) {
    auto resp = client->Do(RequestTo("GET", server.Url("/")));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->body, "c" + std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 2);
}

TEST_P(HttpClientTest, ReconnectsOnceWhenAReusedConnectionWasClosed) {
  // The first connection answers once, then takes the next request and hangs up without a
  // word: the keep-alive race where the server closed just as the client reused it.
  ScriptedServer server([](const SeenRequest& r) {
    if (r.connection == 0 && r.index == 1) return ScriptedAnswer{"", /*close_after=*/true};
    return ScriptedServer::Ok("c" + std::to_string(r.connection) + "r" + std::to_string(r.index));
  });
  auto client = NewClient();
  auto first = client->Do(RequestTo("POST", server.Url("/a")));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->body, "c0r0");
  auto second = client->Do(RequestTo("POST", server.Url("/b")));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "c1r0");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_P(HttpClientTest, IdleConnectionClosedByServerIsReplaced) {
  HttpServerOptions options;
  options.idle_timeout = milliseconds(100);
  StartServer(Echo, options);
  auto client = NewClient();
  auto first = client->Do(Request("GET", "/1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::this_thread::sleep_for(milliseconds(400));  // the server closes the idle connection
  auto second = client->Do(Request("GET", "/2"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "GET /2 ");
}

// --- framing ---------------------------------------------------------------------------

TEST_P(HttpClientTest, ChunkedResponse) {
  ScriptedServer server([](const SeenRequest&) {
    return ScriptedAnswer{
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n"
        "5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"};
  });
  auto client = NewClient();
  for (int i = 0; i < 2; ++i) {
    auto resp = client->Do(RequestTo("GET", server.Url("/chunked")));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "hello, world");
    EXPECT_EQ(resp->headers.Get("X-Kind"), "chunked");
  }
  EXPECT_EQ(server.connections(), 1);  // the chunked framing kept the connection usable
}

TEST_P(HttpClientTest, BodyDelimitedByClose) {
  ScriptedServer server([](const SeenRequest&) {
    return ScriptedAnswer{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
                          /*close_after=*/true};
  });
  auto resp = NewClient()->Do(RequestTo("GET", server.Url("/")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "until the end");
}

TEST_P(HttpClientTest, InterimResponsesAreSkipped) {
  ScriptedServer server([](const SeenRequest&) {
    return ScriptedAnswer{
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"};
  });
  auto resp = NewClient()->Do(RequestTo("POST", server.Url("/")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 202);
  EXPECT_EQ(resp->body, "ok");
  EXPECT_FALSE(resp->headers.Get("Link").has_value());
}

TEST_P(HttpClientTest, BigBodies) {
  HttpServerOptions options;
  options.max_body_bytes = 32 * 1024 * 1024;
  StartServer(
      [](const HttpRequest& r) {
        size_t n = std::strtoul(r.query.count("n") ? r.query.at("n").c_str() : "0", nullptr, 10);
        std::string body(n, 'x');
        for (size_t i = 0; i < n; i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
        HttpResponse resp = HttpResponse::Text(200, std::move(body));
        resp.headers.Add("X-Received", std::to_string(r.body.size()));
        resp.headers.Add("X-Received-Tail", r.body.empty() ? "" : r.body.substr(r.body.size() - 8));
        return resp;
      },
      options);
  auto client = NewClient();
  HttpClientRequest up = Request("POST", "/big?n=24000000");
  up.body = std::string(20 * 1024 * 1024, 'u');
  up.body.replace(up.body.size() - 8, 8, "THE-TAIL");
  up.timeout = milliseconds(30'000);
  auto resp = client->Do(up);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->headers.Get("X-Received"), std::to_string(20 * 1024 * 1024));
  EXPECT_EQ(resp->headers.Get("X-Received-Tail"), "THE-TAIL");
  ASSERT_EQ(resp->body.size(), 24000000u);
  EXPECT_EQ(resp->body[4096 * 27], 'b');
}

TEST_P(HttpClientTest, BodyOverTheLimitIsResourceExhausted) {
  ScriptedServer server([](const SeenRequest& r) {
    std::string body(1024 * 1024 + (r.head.find("/over") != std::string::npos ? 1 : 0), 'x');
    if (r.head.find("chunked") != std::string::npos) {
      std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      for (size_t i = 0; i < body.size(); i += 65536) {
        size_t n = std::min<size_t>(65536, body.size() - i);
        char size_line[32];
        std::snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
        chunked += size_line + body.substr(i, n) + "\r\n";
      }
      return ScriptedAnswer{chunked + "0\r\n\r\n"};
    }
    return ScriptedServer::Ok(body);
  });
  HttpClientOptions options;
  options.max_response_bytes = 1024 * 1024;
  auto client = NewClient(options);
  for (const char* path : {"/at", "/at-chunked"}) {
    auto resp = client->Do(RequestTo("GET", server.Url(path)));
    ASSERT_TRUE(resp.ok()) << path << ": " << resp.status().ToString();
    EXPECT_EQ(resp->body.size(), 1024u * 1024u) << path;
  }
  for (const char* path : {"/over", "/over-chunked"}) {
    auto resp = client->Do(RequestTo("GET", server.Url(path)));
    EXPECT_EQ(resp.status().code(), StatusCode::kResourceExhausted)
        << path << ": " << resp.status().ToString();
  }
}

// --- TLS -------------------------------------------------------------------------------

TEST_P(HttpClientTest, TlsVerifiesAgainstCaFile) {
  RequirePki();
  StartTlsServer(Echo);
  auto client = NewClient(TrustingOptions());
  for (int i = 0; i < 2; ++i) {  // the second call may reuse the TLS connection
    auto resp = client->Do(RequestTo("POST", LocalhostUrl("/secure")));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "POST /secure ");
  }
}

TEST_P(HttpClientTest, TlsWrongHostNameIsFailedPrecondition) {
  RequirePki();
  StartTlsServer(Echo);  // the certificate names DNS:localhost only
  auto resp = NewClient(TrustingOptions())->Do(RequestTo("GET", Url("/")));
  EXPECT_EQ(resp.status().code(), StatusCode::kFailedPrecondition) << resp.status().ToString();
  EXPECT_FALSE(resp.status().IsRetryable());
}

TEST_P(HttpClientTest, TlsUntrustedCertificateIsFailedPrecondition) {
  RequirePki();
  StartTlsServer(Echo);
  auto resp = NewClient()->Do(RequestTo("GET", LocalhostUrl("/")));
  EXPECT_EQ(resp.status().code(), StatusCode::kFailedPrecondition) << resp.status().ToString();
}

TEST_P(HttpClientTest, TlsVerificationOffAcceptsAnyCertificate) {
  RequirePki();
  StartTlsServer(Echo);
  HttpClientOptions options;
  options.verify_tls = false;
  auto resp = NewClient(options)->Do(RequestTo("GET", Url("/any")));  // untrusted and wrong name
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "GET /any ");
}

TEST_P(HttpClientTest, TlsReportsThePeerCertificate) {
  RequirePki();
  StartTlsServer(Echo);  // MakePki signs the server certificate for 2 days
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (bool verify : {true, false}) {
    HttpClientOptions options = TrustingOptions();
    options.verify_tls = verify;
    // A fresh client: libcurl reports the certificate of a new connection only.
    auto resp = NewClient(options)->Do(RequestTo("GET", LocalhostUrl("/")));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    ASSERT_TRUE(resp->peer_certificate.has_value()) << "verify_tls=" << verify;
    const PeerCertificate& cert = *resp->peer_certificate;
    EXPECT_GT(cert.not_after_unix, now + 86'400);
    EXPECT_LE(cert.not_after_unix, now + 2 * 86'400 + 60);
    EXPECT_LE(cert.not_before_unix, now + 60);
    EXPECT_NE(cert.subject.find("localhost"), std::string::npos) << cert.subject;
    EXPECT_FALSE(cert.issuer.empty());
  }
}

TEST_P(HttpClientTest, PlainHttpHasNoPeerCertificate) {
  StartServer(Echo);
  auto resp = NewClient()->Do(Request("GET", "/"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_FALSE(resp->peer_certificate.has_value());
}

TEST_P(HttpClientTest, TlsUnreadableCaFileIsFailedPrecondition) {
  RequirePki();
  StartTlsServer(Echo);
  HttpClientOptions options;
  options.ca_file = pki_->Path("missing-ca.pem");
  auto resp = NewClient(options)->Do(RequestTo("GET", LocalhostUrl("/")));
  EXPECT_EQ(resp.status().code(), StatusCode::kFailedPrecondition) << resp.status().ToString();
}

TEST_P(HttpClientTest, PlainHttpToTlsServerFails) {
  RequirePki();
  StartTlsServer(Echo);
  auto resp = NewClient()->Do(
      RequestTo("GET", "http://127.0.0.1:" + std::to_string(server_->port()) + "/"));
  EXPECT_FALSE(resp.ok() && resp->status == 200);
}

TEST_P(HttpClientTest, TlsClientCertificate) {
  RequirePki();
  ClientCertServer server(pki_->Path("server.pem"), pki_->Path("server.key"), pki_->Path("ca.pem"));
  ASSERT_TRUE(server.ok());
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/whoami";

  HttpClientOptions with_cert = TrustingOptions();
  with_cert.client_cert_file = pki_->Path("client.pem");
  with_cert.client_key_file = pki_->Path("client.key");
  auto resp = NewClient(with_cert)->Do(RequestTo("GET", url));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_NE(resp->body.find("CN=agent-1"), std::string::npos) << resp->body;

  auto refused = NewClient(TrustingOptions())->Do(RequestTo("GET", url));
  EXPECT_FALSE(refused.ok()) << refused->body;

  HttpClientOptions bad_key = with_cert;
  bad_key.client_key_file = pki_->Path("server.key");  // does not match the certificate
  auto mismatch = NewClient(bad_key)->Do(RequestTo("GET", url));
  EXPECT_FALSE(mismatch.ok());
}

// --- proxies ---------------------------------------------------------------------------

TEST_P(HttpClientTest, HttpGoesThroughProxyInAbsoluteForm) {
  StartServer(Echo);
  TestProxy proxy;
  ScopedEnv env{{"http_proxy", "http://user:p%40ss@127.0.0.1:" + std::to_string(proxy.port())}};
  auto resp = NewClient()->Do(Request("GET", "/via?q=1"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "GET /via?q=1 ");
  auto heads = proxy.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].substr(0, heads[0].find("\r\n")), "GET " + Url("/via?q=1") + " HTTP/1.1");
  EXPECT_EQ(HeaderValue(heads[0], "Proxy-Authorization"), "Basic dXNlcjpwQHNz");  // user:p@ss
}

TEST_P(HttpClientTest, HttpsGoesThroughProxyWithConnect) {
  RequirePki();
  StartTlsServer(Echo);
  TestProxy proxy;
  ScopedEnv env{{"https_proxy", "127.0.0.1:" + std::to_string(proxy.port())}};
  auto client = NewClient(TrustingOptions());
  auto resp = client->Do(RequestTo("GET", LocalhostUrl("/tunnel")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "GET /tunnel ");
  auto heads = proxy.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].substr(0, heads[0].find("\r\n")),
            "CONNECT localhost:" + std::to_string(server_->port()) + " HTTP/1.1");
  // Through the tunnel the certificate is still checked against the origin's name.
  auto mismatch = client->Do(RequestTo("GET", Url("/tunnel")));
  EXPECT_EQ(mismatch.status().code(), StatusCode::kFailedPrecondition)
      << mismatch.status().ToString();
}

TEST_P(HttpClientTest, NoProxyGoesDirect) {
  StartServer(Echo);
  TestProxy proxy;
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto client = NewClient();
  {
    ScopedEnv env{{"http_proxy", proxy_url}, {"no_proxy", "example.com, 127.0.0.0/8"}};
    auto resp = client->Do(Request("GET", "/direct"));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  }
  {
    ScopedEnv env{{"http_proxy", proxy_url}, {"NO_PROXY", ".localhost"}};
    auto resp = client->Do(RequestTo("GET", LocalhostUrl("/direct")));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  }
  {
    ScopedEnv env{{"http_proxy", proxy_url}, {"no_proxy", "*"}};
    auto resp = client->Do(Request("GET", "/direct"));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  }
  {
    // Upper-case HTTP_PROXY is ignored for http (httpoxy), as libcurl does.
    ScopedEnv env{{"HTTP_PROXY", proxy_url}};
    auto resp = client->Do(Request("GET", "/direct"));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  }
  EXPECT_TRUE(proxy.heads().empty());
  {
    // ...and a non-matching no_proxy does not bypass it.
    ScopedEnv env{{"http_proxy", proxy_url}, {"no_proxy", "example.com,10.0.0.0/8"}};
    auto resp = NewClient()->Do(Request("GET", "/proxied"));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  }
  EXPECT_EQ(proxy.heads().size(), 1u);
}

TEST_P(HttpClientTest, ProxyRefusingConnectIsUnavailable) {
  RequirePki();
  StartTlsServer(Echo);
  TestProxy proxy(/*refuse=*/true);
  ScopedEnv env{{"HTTPS_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port())}};
  auto resp = NewClient(TrustingOptions())->Do(RequestTo("GET", LocalhostUrl("/")));
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
  EXPECT_EQ(proxy.heads().size(), 1u);
}

TEST_P(HttpClientTest, UnreachableProxyIsUnavailable) {
  StartServer(Echo);
  ScopedEnv env{{"http_proxy", "127.0.0.1:" + std::to_string(UnusedPort())}};
  auto resp = NewClient()->Do(Request("GET", "/"));
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Clients, HttpClientTest, ::testing::Values(Impl::kCurl, Impl::kBeast),
                         ImplName);

}  // namespace
}  // namespace steadfast::http
