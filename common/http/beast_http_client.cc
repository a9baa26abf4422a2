// BeastHttpClient on Boost.Beast 1.74 / Asio and OpenSSL. Everything Beast- or Asio-specific
// stays in this file.
//
// Each connection owns a private io_context. A call takes a connection (from the pool or a
// new one) and drives its asynchronous operations with run_one() on the calling thread until
// the operation completes; asynchronous operations are what make beast::tcp_stream's
// expiry work, and a private io_context means no other thread ever runs our handlers. So a
// call is synchronous, and concurrent calls share nothing but the idle pool (mu_) and the
// lazily made TLS context (mu_).
//
// Errors never leave as exceptions: Asio/Beast are called through error_code overloads and
// the rest (allocation, context construction, thread creation) is caught in Do().
#include "common/http/beast_http_client.h"

#include <fmt/format.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

#include "common/http/http_client_proxy.h"
#include "common/tls/openssl_loader.h"

namespace steadfast::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// Idle keep-alive connections kept per pool key and in total. The agent needs one.
constexpr size_t kMaxIdlePerKey = 4;
constexpr size_t kMaxIdleTotal = 16;
// A pooled connection idle for longer is dropped rather than reused: servers close idle
// connections after a while (ours after 75 s) and a fresh connect beats a failed reuse.
constexpr std::chrono::seconds kMaxIdleTime{50};
// Status line plus headers of a response; libcurl allows 100 KB per header line.
constexpr uint32_t kHeaderLimit = 256 * 1024;
// 1xx responses (100 Continue, 103 Early Hints) skipped before the final one.
constexpr int kMaxInterimResponses = 8;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }
beast::string_view ToBeast(std::string_view s) { return {s.data(), s.size()}; }

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(ToBeast(a), ToBeast(b));
}

// RFC 9110 token characters: methods and header names.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos)
      return false;
  }
  return true;
}

bool IsValidHeaderValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Beast's own encoder (its websocket handshake uses it), not OpenSSL's: a proxy password on a
// plain-HTTP route must not make the agent load libssl (common/tls/openssl_loader.h).
std::string Base64(std::string_view in) {
  std::string out(beast::detail::base64::encoded_size(in.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), in.data(), in.size()));
  return out;
}

struct Url {
  bool tls = false;
  std::string scheme;  // "http" or "https"
  std::string host;    // IPv6 without brackets
  bool host_is_ip = false;
  uint16_t port = 0;
  std::string target;  // origin-form: "/path?query"

  bool DefaultPort() const { return port == (tls ? 443 : 80); }
  // "host:port" as the Host header and CONNECT want it; IPv6 in brackets.
  std::string Authority(bool always_port) const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (always_port || !DefaultPort()) h += ":" + std::to_string(port);
    return h;
  }
};

StatusOr<Url> ParseUrl(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("bad URL '{}': {}", text, why));
  };
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return invalid("no scheme");
  std::string_view scheme = text.substr(0, sep);
  if (IEquals(scheme, "http")) {
    url.scheme = "http";
  } else if (IEquals(scheme, "https")) {
    url.scheme = "https";
    url.tls = true;
  } else {
    return invalid(fmt::format("unsupported scheme '{}'", scheme));
  }
  std::string_view rest = text.substr(sep + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return invalid("credentials in the URL are not supported");

  StatusOr<HostPort> split = SplitHostPort(authority);
  if (!split.ok()) return invalid(split.status().message());
  url.host = std::move(split->host);
  error_code ec;
  if (split->bracketed) {
    asio::ip::make_address_v6(url.host, ec);
    if (ec) return invalid("bad IPv6 address");
    url.host_is_ip = true;
  } else {
    for (char c : url.host) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_';
      if (!ok) return invalid("bad character in the host name");
    }
    asio::ip::make_address_v4(url.host, ec);
    url.host_is_ip = !ec;
  }
  url.port = split->port.value_or(url.tls ? 443 : 80);
  rest = rest.substr(0, rest.find('#'));
  for (unsigned char c : rest) {
    if (c <= 0x20 || c == 0x7f) return invalid("space or control character in the path");
  }
  if (rest.empty()) {
    url.target = "/";
  } else if (rest.front() == '?') {
    url.target = "/" + std::string(rest);
  } else {
    url.target = std::string(rest);
  }
  return url;
}

// getaddrinfo on a helper thread, abandoned (it finishes on its own) when the deadline
// comes first. The result is shared so the helper never touches a finished call's memory.
struct Resolution {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;                     // guarded by mu
  int rc = 0;                            // guarded by mu
  std::vector<tcp::endpoint> endpoints;  // guarded by mu
};

StatusOr<std::vector<tcp::endpoint>> Resolve(const std::string& host, uint16_t port, bool is_ip,
                                             SteadyClock::time_point deadline) {
  if (is_ip) {
    error_code ec;
    asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) return InvalidArgumentError(fmt::format("bad IP address '{}'", host));
    return std::vector<tcp::endpoint>{tcp::endpoint(address, port)};
  }
  auto state = std::make_shared<Resolution>();
  std::thread([state, host, port] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* list = nullptr;
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
    std::vector<tcp::endpoint> endpoints;
    if (rc == 0) {
      for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        tcp::endpoint endpoint;
        if (ai->ai_addrlen > endpoint.capacity()) continue;
        std::memcpy(endpoint.data(), ai->ai_addr, ai->ai_addrlen);
        endpoint.resize(ai->ai_addrlen);
        endpoints.push_back(endpoint);
      }
      ::freeaddrinfo(list);
    }
    std::lock_guard<std::mutex> lock(state->mu);
    state->rc = rc;
    state->endpoints = std::move(endpoints);
    state->done = true;
    state->done_cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(state->mu);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; })) {
    return DeadlineExceededError(fmt::format("resolving {} timed out", host));
  }
  if (state->rc != 0) {
    return UnavailableError(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(state->rc)));
  }
  if (state->endpoints.empty())
    return UnavailableError(fmt::format("cannot resolve {}: no addresses", host));
  return std::move(state->endpoints);
}

using ResponseParser = bhttp::response_parser<bhttp::string_body>;

// Completion handler of every asynchronous operation below. One concrete type (rather than a
// lambda per call site) means each Asio/Beast operation is instantiated once per stream
// type, which keeps this client's code small; the agent's resident size follows its code.
struct Completion {
  std::optional<error_code>* result;
  size_t* transferred;
  void operator()(const error_code& ec) const { *result = ec; }
  void operator()(const error_code& ec, size_t n) const {
    *result = ec;
    *transferred = n;
  }
  void operator()(const error_code& ec, const tcp::endpoint&) const { *result = ec; }
};

// One connection with its own io_context; used by one call at a time. HTTP/1.1 is written
// by hand (a request head is a few lines) and read with Beast's parser fed from
// ReadSome(), so Beast's composed read/write operations are not instantiated at all.
class Connection {
 public:
  explicit Connection(std::string key) : key_(std::move(key)) { plain_.emplace(ioc_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& key() const { return key_; }
  bool reused() const { return reused_; }
  void MarkIdle() {
    reused_ = true;
    idle_since_ = SteadyClock::now();
  }
  bool HasBufferedBytes() const { return buffer_.size() != 0; }
  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }
  // The server certificate, read once after the handshake (kept for reused connections).
  const std::optional<PeerCertificate>& peer_certificate() const { return peer_certificate_; }
  void set_peer_certificate(std::optional<PeerCertificate> cert) {
    peer_certificate_ = std::move(cert);
  }

  beast::tcp_stream& Tcp() { return tls_ ? tls_->next_layer() : *plain_; }

  // Every later operation fails with beast::error::timeout once `deadline` passes (the
  // stream closes the socket, so the connection is then useless).
  void SetDeadline(SteadyClock::time_point deadline) {
    if (deadline == SteadyClock::time_point::max()) {
      Tcp().expires_never();
    } else {
      Tcp().expires_at(deadline);
    }
  }

  error_code Connect(const std::vector<tcp::endpoint>& endpoints) {
    error_code ec = RunOne([&](Completion done) { plain_->async_connect(endpoints, done); });
    if (!ec) {
      error_code ignored;
      // The request head and body may leave in separate segments; without TCP_NODELAY the
      // second can wait for the server's delayed ACK.
      plain_->socket().set_option(tcp::no_delay(true), ignored);
    }
    return ec;
  }

  // Layers TLS over the connected socket. Only before any TLS and with an empty buffer.
  void StartTls(ssl::context& ctx) {
    tls_.emplace(std::move(*plain_), ctx);
    plain_.reset();
  }

  error_code Handshake() {
    return RunOne([&](Completion done) { tls_->async_handshake(ssl::stream_base::client, done); });
  }

  // Sends `head` and then `body`, in one gathered write.
  error_code Write(std::string_view head, std::string_view body) {
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head.data(), head.size()),
                                              asio::buffer(body.data(), body.size())};
    return RunOne([&](Completion done) {
      if (tls_) {
        asio::async_write(*tls_, buffers, done);
      } else {
        asio::async_write(*plain_, buffers, done);
      }
    });
  }

  // Feeds `parser` until its header (or, with `whole`, the whole message) is complete.
  // Errors as Beast's http::read reports them: end_of_stream when the peer closed before
  // the first byte, partial_message when it closed in the middle, the parser's own errors.
  error_code Read(ResponseParser& parser, bool whole) {
    while (whole ? !parser.is_done() : !parser.is_header_done()) {
      if (buffer_.size() != 0) {
        error_code ec;
        size_t used = parser.put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec && ec != bhttp::error::need_more) return ec;
        if (!ec && used != 0) continue;  // progress; otherwise the parser wants more bytes
      }
      size_t n = 0;
      error_code ec = ReadSome(&n);
      if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
        // A TLS peer may close without close_notify; for HTTP the framing tells whether
        // anything was lost.
        if (!parser.got_some()) return bhttp::error::end_of_stream;
        parser.put_eof(ec);
        if (ec) return ec;
        continue;
      }
      if (ec) return ec;
    }
    return {};
  }

  // Whether an idle pooled connection may still be used: the peer has not closed it and,
  // on plain HTTP, sent nothing unasked (which would break the next exchange). On TLS,
  // pending bytes may be a harmless post-handshake message, so only EOF and errors count.
  bool LooksReusable() {
    if (SteadyClock::now() - idle_since_ > kMaxIdleTime || buffer_.size() != 0) return false;
    char byte;
    ssize_t n = ::recv(Tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    return tls_.has_value();
  }

 private:
  static constexpr size_t kReadChunk = 16 * 1024;

  error_code ReadSome(size_t* n) {
    asio::mutable_buffer space = buffer_.prepare(kReadChunk);
    error_code ec = RunOne([&](Completion done) {
      if (tls_) {
        tls_->async_read_some(space, done);
      } else {
        plain_->async_read_some(space, done);
      }
    });
    buffer_.commit(*n = transferred_);
    return ec;
  }

  // Starts one asynchronous operation and runs this connection's io_context until it
  // completes. Handlers left from earlier operations (a cancelled expiry timer) may run
  // first; they belong to the stream and are harmless.
  template <typename Initiate>
  error_code RunOne(Initiate&& initiate) {
    std::optional<error_code> result;
    transferred_ = 0;
    initiate(Completion{&result, &transferred_});
    ioc_.restart();
    while (!result && ioc_.run_one() > 0) {
    }
    // run_one() returns 0 only when nothing is pending, and the operation is pending until
    // its handler ran; still, do not trust that with a crash.
    return result.value_or(asio::error::make_error_code(asio::error::operation_aborted));
  }

  const std::string key_;
  asio::io_context ioc_{1};
  std::optional<beast::tcp_stream> plain_;
  std::optional<ssl::stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  size_t transferred_ = 0;
  bool reused_ = false;
  SteadyClock::time_point idle_since_;
  std::optional<PeerCertificate> peer_certificate_;
};

bool IsTimeout(const error_code& ec) { return ec == beast::error::timeout; }

std::string NameText(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string text(data != nullptr && n > 0 ? std::string(data, static_cast<size_t>(n)) : "");
  BIO_free(bio);
  return text;
}

std::optional<int64_t> UnixTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

// The peer's leaf certificate of a finished handshake, if it sent one.
std::optional<PeerCertificate> ReadPeerCertificate(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  std::optional<PeerCertificate> out;
  auto not_before = UnixTime(X509_get0_notBefore(cert));
  auto not_after = UnixTime(X509_get0_notAfter(cert));
  if (not_before && not_after) {
    out.emplace();
    out->not_before_unix = *not_before;
    out->not_after_unix = *not_after;
    out->subject = NameText(X509_get_subject_name(cert));
    out->issuer = NameText(X509_get_issuer_name(cert));
  }
  X509_free(cert);
  return out;
}

class BeastHttpClient final : public HttpClient {
 public:
  explicit BeastHttpClient(const HttpClientOptions& options)
      : options_(options), env_(ProcessEnvironment()) {}

  // Every error message starts with "METHOD URL: ", as the curl client's do.
  StatusOr<HttpResponse> Do(const HttpClientRequest& request) override {
    try {
      StatusOr<HttpResponse> result = DoChecked(request);
      if (result.ok()) return result;
      return Status(result.status().code(), fmt::format("{} {}: {}", request.method, request.url,
                                                        result.status().message()));
    } catch (const std::exception& e) {
      return InternalError(fmt::format("{} {}: {}", request.method, request.url, e.what()));
    }
  }

 private:
  // Where a call goes and through what.
  struct Route {
    Url url;
    std::optional<ProxyEndpoint> proxy;
    std::string key;  // pool key
    bool Tunnel() const { return proxy && url.tls; }
    bool AbsoluteForm() const { return proxy && !url.tls; }
  };

  StatusOr<HttpResponse> DoChecked(const HttpClientRequest& request) {
    const SteadyClock::time_point start = SteadyClock::now();
    const SteadyClock::time_point deadline =
        request.timeout.count() > 0 ? start + request.timeout : SteadyClock::time_point::max();

    if (!IsToken(request.method))
      return InvalidArgumentError(fmt::format("bad HTTP method '{}'", request.method));
    for (const auto& [name, value] : request.headers.items()) {
      if (!IsToken(name) || !IsValidHeaderValue(value)) {
        return InvalidArgumentError(fmt::format("malformed request header '{}'", name));
      }
    }
    SF_ASSIGN_OR_RETURN(Route route, MakeRoute(request.url));

    std::unique_ptr<Connection> conn = TakeIdle(route.key);
    for (int attempt = 0;; ++attempt) {
      if (!conn) {
        SteadyClock::time_point connect_deadline = deadline;
        if (options_.connect_timeout.count() > 0) {
          connect_deadline = std::min(deadline, SteadyClock::now() + options_.connect_timeout);
        }
        SF_ASSIGN_OR_RETURN(conn, Open(route, connect_deadline));
      }
      bool retry = false, reusable = false;
      StatusOr<HttpResponse> result = Exchange(*conn, route, request, deadline, &retry, &reusable);
      if (result.ok()) {
        if (reusable) PutIdle(std::move(conn));
        return result;
      }
      // A reused connection the server had already closed: once, on a fresh connection.
      if (retry && attempt == 0 && SteadyClock::now() < deadline) {
        conn.reset();
        continue;
      }
      return result;
    }
  }

  StatusOr<Route> MakeRoute(const std::string& url_text) {
    Route route;
    SF_ASSIGN_OR_RETURN(route.url, ParseUrl(url_text));
    SF_ASSIGN_OR_RETURN(route.proxy, ProxyForUrl(route.url.scheme, route.url.host, env_));
    if (!route.proxy) {
      route.key =
          fmt::format("{}://{}", route.url.scheme, route.url.Authority(/*always_port=*/true));
    } else {
      // The credentials are part of the key: a connection authorised as one user is not
      // handed to a call configured for another.
      std::string via = fmt::format("{}:{}:{}:{}", route.proxy->host, route.proxy->port,
                                    route.proxy->user.value_or(""), route.proxy->password);
      route.key = route.url.tls ? fmt::format("https://{} via {}", route.url.Authority(true), via)
                                : fmt::format("http via {}", via);
    }
    return route;
  }

  static std::optional<std::string> ProxyAuthorization(const Route& route) {
    if (!route.proxy || !route.proxy->user) return std::nullopt;
    return "Basic " + Base64(*route.proxy->user + ":" + route.proxy->password);
  }

  // A new connection to the origin, or to the proxy (through a CONNECT tunnel for https),
  // TLS handshake done. Everything here is bounded by `deadline` (the connect timeout).
  StatusOr<std::unique_ptr<Connection>> Open(const Route& route, SteadyClock::time_point deadline) {
    const bool via_proxy = route.proxy.has_value();
    const std::string& host = via_proxy ? route.proxy->host : route.url.host;
    const uint16_t port = via_proxy ? route.proxy->port : route.url.port;
    bool host_is_ip = via_proxy ? false : route.url.host_is_ip;
    if (via_proxy) {
      error_code ec;
      asio::ip::make_address(host, ec);
      host_is_ip = !ec;
    }
    std::string where = via_proxy
                            ? fmt::format("proxy {}:{} (from {})", host, port, route.proxy->source)
                            : fmt::format("{}:{}", host, port);
    SF_ASSIGN_OR_RETURN(std::vector<tcp::endpoint> endpoints,
                        Resolve(host, port, host_is_ip, deadline));

    auto conn = std::make_unique<Connection>(route.key);
    conn->SetDeadline(deadline);
    if (error_code ec = conn->Connect(endpoints)) {
      if (IsTimeout(ec))
        return DeadlineExceededError(fmt::format("connecting to {} timed out", where));
      return UnavailableError(fmt::format("cannot connect to {}: {}", where, ec.message()));
    }
    if (route.Tunnel()) SF_RETURN_IF_ERROR(OpenTunnel(*conn, route));
    if (route.url.tls) {
      SF_ASSIGN_OR_RETURN(ssl::context * ctx, TlsContext());
      SF_RETURN_IF_ERROR(StartTls(*conn, *ctx, route.url));
    }
    return conn;
  }

  Status OpenTunnel(Connection& conn, const Route& route) {
    const std::string authority = route.url.Authority(/*always_port=*/true);
    std::string head = fmt::format("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n", authority);
    if (!options_.user_agent.empty())
      head += fmt::format("User-Agent: {}\r\n", options_.user_agent);
    if (auto auth = ProxyAuthorization(route))
      head += fmt::format("Proxy-Authorization: {}\r\n", *auth);
    head += "\r\n";
    const std::string where = fmt::format("proxy {}:{}", route.proxy->host, route.proxy->port);
    if (error_code ec = conn.Write(head, {})) {
      if (IsTimeout(ec))
        return DeadlineExceededError(fmt::format("CONNECT through {} timed out", where));
      return UnavailableError(fmt::format("CONNECT through {}: {}", where, ec.message()));
    }
    ResponseParser parser;
    parser.header_limit(kHeaderLimit);
    parser.skip(true);  // a 2xx answer to CONNECT has no body; after it the tunnel starts
    if (error_code ec = conn.Read(parser, /*whole=*/true)) {
      if (IsTimeout(ec))
        return DeadlineExceededError(fmt::format("CONNECT through {} timed out", where));
      return UnavailableError(fmt::format("CONNECT through {}: {}", where, ec.message()));
    }
    unsigned status = parser.get().result_int();
    if (status / 100 != 2) {
      return UnavailableError(fmt::format("{} refused CONNECT {}: {} {}", where, authority, status,
                                          ToStd(parser.get().reason())));
    }
    if (conn.HasBufferedBytes()) {
      return UnavailableError(
          fmt::format("{} sent data before the TLS handshake of the tunnel", where));
    }
    return OkStatus();
  }

  Status StartTls(Connection& conn, ssl::context& ctx, const Url& url) {
    conn.StartTls(ctx);
    SSL* ssl = conn.ssl();
    // SNI takes host names only, never IP literals (RFC 6066 section 3).
    if (!url.host_is_ip && SSL_set_tlsext_host_name(ssl, url.host.c_str()) != 1) {
      return InternalError("TLS: cannot set the server name");
    }
    if (options_.verify_tls) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int ok = url.host_is_ip
                   ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
      if (ok != 1) return InternalError("TLS: cannot set the name to verify");
    }
    error_code ec = conn.Handshake();
    if (!ec) {
      conn.set_peer_certificate(ReadPeerCertificate(ssl));
      return OkStatus();
    }
    long verify = SSL_get_verify_result(ssl);
    if (options_.verify_tls && verify != X509_V_OK) {
      return FailedPreconditionError(fmt::format("TLS: certificate of {} not accepted: {}",
                                                 url.Authority(/*always_port=*/true),
                                                 X509_verify_cert_error_string(verify)));
    }
    if (IsTimeout(ec)) return DeadlineExceededError("TLS handshake timed out");
    return UnavailableError(
        fmt::format("TLS handshake with {} failed: {}", url.Authority(true), ec.message()));
  }

  // One request and its response on `conn`. Sets *retry when the connection was reused and
  // failed before any byte of the response arrived (the server had closed it meanwhile), and
  // *reusable when the connection may serve another request.
  StatusOr<HttpResponse> Exchange(Connection& conn, const Route& route,
                                  const HttpClientRequest& request,
                                  SteadyClock::time_point deadline, bool* retry, bool* reusable) {
    *retry = false;
    *reusable = false;
    const bool reused = conn.reused();
    conn.SetDeadline(deadline);

    // The request head by hand: names and values were validated in DoChecked.
    std::string head = request.method + " ";
    if (route.AbsoluteForm()) head += "http://" + route.url.Authority(/*always_port=*/false);
    head += route.url.target + " HTTP/1.1\r\n";
    bool has_host = false, has_user_agent = false, close_asked = false;
    for (const auto& [name, value] : request.headers.items()) {
      // Framing belongs to the client: the body is always sent with its Content-Length.
      if (IEquals(name, "Content-Length") || IEquals(name, "Transfer-Encoding")) continue;
      if (IEquals(name, "Host")) has_host = true;
      if (IEquals(name, "User-Agent")) has_user_agent = true;
      if (IEquals(name, "Connection") && IEquals(value, "close")) close_asked = true;
      head += name + ": " + value + "\r\n";
    }
    if (!has_host) head += "Host: " + route.url.Authority(/*always_port=*/false) + "\r\n";
    if (!has_user_agent && !options_.user_agent.empty())
      head += "User-Agent: " + options_.user_agent + "\r\n";
    if (route.AbsoluteForm()) {
      if (auto auth = ProxyAuthorization(route)) head += "Proxy-Authorization: " + *auth + "\r\n";
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    }
    head += "\r\n";

    if (error_code ec = conn.Write(head, request.body)) {
      if (IsTimeout(ec))
        return DeadlineExceededError(
            fmt::format("timed out after {} ms sending the request", request.timeout.count()));
      *retry = reused;
      return UnavailableError(fmt::format("sending the request: {}", ec.message()));
    }

    const bool head_request = request.method == "HEAD";
    std::optional<ResponseParser> parser;
    for (int interim = 0;; ++interim) {
      parser.emplace();
      parser->header_limit(kHeaderLimit);
      parser->body_limit(options_.max_response_bytes);
      if (head_request) parser->skip(true);
      if (error_code ec = conn.Read(*parser, /*whole=*/false))
        return ReadError(ec, *parser, reused, request, retry);
      unsigned status = parser->get().result_int();
      if (status >= 200 || status == 101) break;
      if (interim == kMaxInterimResponses) return UnavailableError("too many 1xx responses");
    }
    if (!parser->is_done()) {
      // Beast 1.74 does not enforce body_limit against a Content-Length when it parses
      // eagerly (the error is overwritten), so the announced length is checked here.
      if (auto length = parser->content_length(); length && *length > options_.max_response_bytes) {
        return ResourceExhaustedError(
            fmt::format("response body of {} bytes is larger than the limit of {} bytes", *length,
                        options_.max_response_bytes));
      }
      if (error_code ec = conn.Read(*parser, /*whole=*/true))
        return ReadError(ec, *parser, reused, request, retry);
    }

    bhttp::response<bhttp::string_body>& res = parser->get();
    HttpResponse response;
    response.status = static_cast<int>(res.result_int());
    for (const auto& field : res)
      response.headers.Add(std::string(field.name_string()), std::string(field.value()));
    response.body = std::move(res.body());
    response.peer_certificate = conn.peer_certificate();
    *reusable =
        parser->keep_alive() && !close_asked && response.status != 101 && !conn.HasBufferedBytes();
    return response;
  }

  Status ReadError(const error_code& ec, const ResponseParser& parser, bool reused,
                   const HttpClientRequest& request, bool* retry) {
    if (IsTimeout(ec)) {
      return DeadlineExceededError(
          fmt::format("timed out after {} ms waiting for the response", request.timeout.count()));
    }
    if (ec == bhttp::error::body_limit) {
      return ResourceExhaustedError(
          fmt::format("response body larger than {} bytes", options_.max_response_bytes));
    }
    if (ec == bhttp::error::header_limit) {
      return ResourceExhaustedError(
          fmt::format("response headers larger than {} bytes", kHeaderLimit));
    }
    if (!parser.got_some()) {
      *retry = reused;
      if (ec == bhttp::error::end_of_stream)
        return UnavailableError("the server closed the connection without answering");
      return UnavailableError(
          fmt::format("the connection failed before the response: {}", ec.message()));
    }
    if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream) {
      return UnavailableError("the server closed the connection in the middle of the response");
    }
    return UnavailableError(fmt::format("reading the response: {}", ec.message()));
  }

  StatusOr<ssl::context*> TlsContext() {
    std::lock_guard<std::mutex> lock(mu_);
    if (tls_) return tls_.get();
    SF_RETURN_IF_ERROR(tls::LoadOpenSsl());
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
    if (ec) return InternalError(fmt::format("TLS options: {}", ec.message()));
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
      return InternalError("TLS: cannot require TLS 1.2");
    }
    if (options_.verify_tls) {
      ctx->set_verify_mode(ssl::verify_peer, ec);
      if (ec) return InternalError(fmt::format("TLS verify mode: {}", ec.message()));
      // The system store, read on demand: the hashed directory yields only the CA a server
      // needs, where loading the bundle file would parse every system CA up front.
      const char* file = std::getenv(X509_get_default_cert_file_env());
      if (file != nullptr && *file != '\0') SSL_CTX_load_verify_file(ctx->native_handle(), file);
      const char* dir = std::getenv(X509_get_default_cert_dir_env());
      if (dir == nullptr || *dir == '\0') dir = X509_get_default_cert_dir();
      SSL_CTX_load_verify_dir(ctx->native_handle(), dir);
      if (!options_.ca_file.empty()) {
        ctx->load_verify_file(options_.ca_file, ec);
        if (ec) {
          return FailedPreconditionError(
              fmt::format("TLS: CA file {}: {}", options_.ca_file, ec.message()));
        }
      }
    } else {
      ctx->set_verify_mode(ssl::verify_none, ec);
      if (ec) return InternalError(fmt::format("TLS verify mode: {}", ec.message()));
    }
    if (!options_.client_cert_file.empty()) {
      ctx->use_certificate_chain_file(options_.client_cert_file, ec);
      if (ec) {
        return FailedPreconditionError(
            fmt::format("TLS: client certificate {}: {}", options_.client_cert_file, ec.message()));
      }
      const std::string& key =
          options_.client_key_file.empty() ? options_.client_cert_file : options_.client_key_file;
      ctx->use_private_key_file(key, ssl::context::pem, ec);
      if (ec)
        return FailedPreconditionError(fmt::format("TLS: client key {}: {}", key, ec.message()));
      if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        return FailedPreconditionError(fmt::format(
            "TLS: client key {} does not match certificate {}", key, options_.client_cert_file));
      }
    } else if (!options_.client_key_file.empty()) {
      return FailedPreconditionError("TLS: a client key file without a client certificate file");
    }
    tls_ = std::move(ctx);
    return tls_.get();
  }

  std::unique_ptr<Connection> TakeIdle(const std::string& key) {
    while (true) {
      std::unique_ptr<Connection> conn;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
          if ((*it)->key() == key) {
            conn = std::move(*it);
            idle_.erase(std::next(it).base());
            break;
          }
        }
      }
      if (!conn) return nullptr;
      if (conn->LooksReusable()) return conn;
      // Dropped outside the lock; try the next one.
    }
  }

  void PutIdle(std::unique_ptr<Connection> conn) {
    conn->MarkIdle();
    std::unique_ptr<Connection> dropped;
    std::lock_guard<std::mutex> lock(mu_);
    size_t same_key = 0;
    for (const auto& c : idle_) same_key += c->key() == conn->key() ? 1 : 0;
    if (same_key >= kMaxIdlePerKey || idle_.size() >= kMaxIdleTotal) {
      // Drop the oldest: of this key when it has too many, else of any.
      auto victim = idle_.begin();
      if (same_key >= kMaxIdlePerKey) {
        while (victim != idle_.end() && (*victim)->key() != conn->key()) ++victim;
      }
      dropped = std::move(*victim);
      idle_.erase(victim);
    }
    idle_.push_back(std::move(conn));
  }

  const HttpClientOptions options_;
  const EnvLookup env_;
  std::mutex mu_;
  std::unique_ptr<ssl::context> tls_;             // guarded by mu_; made on the first https call
  std::deque<std::unique_ptr<Connection>> idle_;  // guarded by mu_; oldest first
};

}  // namespace

std::unique_ptr<HttpClient> NewBeastHttpClient(const HttpClientOptions& options) {
  return std::make_unique<BeastHttpClient>(options);
}

}  // namespace steadfast::http
