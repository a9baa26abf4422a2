// HttpServer on Boost.Beast 1.74 / Asio. Everything Beast- or Asio-specific stays in this file.
//
// Threads: `io_threads` run the io_context; every connection has its own strand, so a
// session's I/O callbacks never run concurrently. A complete request is handed to a
// separate thread pool (`handler_threads`) where the HttpHandler may block; its response is
// posted back to the session's strand and written there. One request at a time per
// connection: the next read starts only after the response has been written.
//
// Shutdown: stop accepting, tell every session the server is stopping (idle ones close at
// once, busy ones close after their current response), wait up to shutdown_grace for the
// sessions to end, close whatever is left, stop the io_context and join all threads.
//
// Errors never leave as exceptions: Asio/Beast are called through error_code overloads and
// the remaining throwing calls (context construction, thread bodies, handlers) are wrapped.
#include "common/http/http_server.h"

#include <openssl/ssl.h>
#include <time.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>

#include "common/logging.h"
#include "common/tls/openssl_loader.h"

namespace steadfast::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

using PlainStream = beast::tcp_stream;
using TlsStream = ssl::stream<beast::tcp_stream>;

// Request line plus headers. Our clients send a handful of short headers; 16 KiB leaves
// room for long bearer tokens and cookies while bounding what one connection can pin.
constexpr uint32_t kHeaderLimit = 16 * 1024;
// Bytes asked for per read while waiting for the first byte of a request.
constexpr size_t kReadChunk = 4096;
// After we decided to close (error reply, Connection: close) we half-close and read what
// the client still sends for a short while, so the client sees our response instead of a
// reset caused by unread data (a rejected upload is the usual case).
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr size_t kMaxLingerBytes = 64 * 1024 * 1024;
// After force-closing the connections left at the end of the grace period, how long
// Shutdown waits for their callbacks to run before stopping the io_context.
constexpr std::chrono::milliseconds kForceCloseWait{1000};
// Pause before accepting again after an accept error such as EMFILE, so we do not spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

// RFC 9110 IMF-fixdate, independent of the C locale.
std::string HttpDate(std::chrono::system_clock::time_point now) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = std::chrono::system_clock::to_time_t(now);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                     kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// Beast 1.74 uses boost::string_view.
std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }
beast::string_view ToBeast(std::string_view s) { return {s.data(), s.size()}; }

bool IEquals(std::string_view a, std::string_view b) { return beast::iequals(ToBeast(a), ToBeast(b)); }

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Headers the server owns: framing and connection management are decided here, not by handlers.
bool IsManagedHeader(std::string_view name) {
  return IEquals(name, "Content-Length") || IEquals(name, "Transfer-Encoding") || IEquals(name, "Connection") ||
         IEquals(name, "Keep-Alive") || IEquals(name, "Date") || IEquals(name, "Server");
}

HttpResponse RunHandler(const HttpHandler& handler, const HttpRequest& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    SF_LOG_ERROR("http: handler for {} {} threw: {}", request.method, request.path, e.what());
  } catch (...) {
    SF_LOG_ERROR("http: handler for {} {} threw a non-standard exception", request.method, request.path);
  }
  return HttpResponse::Error(500, "internal", "internal error");
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Both post to the session's strand; callable from any thread.
  virtual void NotifyStopping() = 0;
  virtual void ForceClose() = 0;
};

// Shared by the server object and every session, so a session that outlives the server's
// threads (its last callback dropped while the io_context is destroyed) still finds it.
struct ServerState {
  HttpServerOptions options;
  HttpHandler handler;
  std::optional<asio::thread_pool::executor_type> pool;  // set before the first accept
  std::unique_ptr<ssl::context> tls;                     // null without TLS

  std::mutex mu;
  std::condition_variable sessions_changed;
  bool stopping = false;  // guarded by mu
  uint64_t next_id = 0;   // guarded by mu
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions;  // guarded by mu

  // Returns false once Shutdown has begun: the caller drops the connection.
  bool Register(const std::shared_ptr<SessionBase>& session, uint64_t* id) {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) return false;
    *id = ++next_id;
    sessions.emplace(*id, session);
    return true;
  }
  void Unregister(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.erase(id);
    sessions_changed.notify_all();
  }
  bool IsStopping() {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }
  std::vector<std::shared_ptr<SessionBase>> LiveSessions() {
    std::vector<std::shared_ptr<SessionBase>> out;
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [id, weak] : sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }
};

// One connection. All member functions except NotifyStopping/ForceClose run on the strand.
template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  template <typename... Args>
  Session(std::shared_ptr<ServerState> state, std::string remote_address, tcp::socket socket, Args&&... args)
      : state_(std::move(state)),
        executor_(socket.get_executor()),
        stream_(std::move(socket), std::forward<Args>(args)...),
        remote_address_(std::move(remote_address)) {}

  ~Session() override {
    if (registered_) state_->Unregister(id_);
  }

  bool Register() {
    registered_ = state_->Register(this->shared_from_this(), &id_);
    return registered_;
  }

  void Start() {
    asio::dispatch(executor_, [self = this->shared_from_this()] { self->DoStart(); });
  }

  void NotifyStopping() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->OnStopping(); });
  }

  void ForceClose() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->CloseNow(); });
  }

 private:
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  const HttpServerOptions& options() const { return state_->options; }

  void DoStart() {
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Lowest().expires_after(options().read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
    } else {
      WaitForRequest();
    }
  }

  void OnHandshake(const error_code& ec) {
    if (ec) {
      SF_LOG_DEBUG("http: TLS handshake with {} failed: {}", remote_address_, ec.message());
      return CloseNow();
    }
    WaitForRequest();
  }

  void OnStopping() {
    stopping_ = true;
    if (phase_ == Phase::kIdle || phase_ == Phase::kHandshake) CloseNow();
    // Otherwise the connection closes after the response to the request in progress.
  }

  // Waits for the first byte of the next request: the idle timeout applies (the read
  // timeout for a connection's first request), then the read timeout for the request.
  void WaitForRequest() {
    if (phase_ == Phase::kClosed) return;
    if (stopping_) return CloseNow();
    phase_ = Phase::kIdle;
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    if (buffer_.size() > 0) return ReadHeader();
    Lowest().expires_after(served_any_ ? options().idle_timeout : options().read_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](const error_code& ec, size_t n) {
                              self->OnFirstBytes(ec, n);
                            });
  }

  void OnFirstBytes(const error_code& ec, size_t n) {
    if (ec) return CloseNow();  // idle timeout, peer closed, or closed by Shutdown
    buffer_.commit(n);
    ReadHeader();
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    Lowest().expires_after(options().read_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](const error_code& ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(const error_code& ec) {
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    auto expect = req.find(bhttp::field::expect);
    if (req.version() >= 11 && expect != req.end() && IEquals(ToStd(expect->value()), "100-continue") &&
        !parser_->is_done()) {
      continue_.emplace(bhttp::status::continue_, req.version());
      bhttp::async_write(stream_, *continue_, [self = this->shared_from_this()](const error_code& wec, size_t) {
        self->continue_.reset();
        if (wec) return self->CloseNow();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    Lowest().expires_after(options().read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](const error_code& ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->OnRequest();
    });
  }

  void OnReadError(const error_code& ec) {
    // Whatever of the request line we parsed decides the version of an error reply.
    version_ = parser_ && parser_->get().version() == 10 ? 10 : 11;
    head_ = false;
    keep_alive_ = false;
    if (ec == bhttp::error::body_limit) {
      return Send(HttpResponse::Error(413, "resource_exhausted",
                                      fmt::format("request body exceeds {} bytes", options().max_body_bytes)),
                  /*force_close=*/true);
    }
    if (ec == bhttp::error::header_limit) {
      return Send(HttpResponse::Error(431, "invalid_argument",
                                      fmt::format("request headers exceed {} bytes", kHeaderLimit)),
                  /*force_close=*/true);
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec.category() != bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
      // Peer went away, a timeout, or a socket error: nobody to answer.
      if (ec == beast::error::timeout) {
        SF_LOG_DEBUG("http: read timeout from {}", remote_address_);
      }
      return CloseNow();
    }
    Send(HttpResponse::Error(400, "invalid_argument", "malformed HTTP request: " + ec.message()),
         /*force_close=*/true);
  }

  void OnRequest() {
    phase_ = Phase::kHandling;
    auto& req = parser_->get();
    version_ = req.version() == 10 ? 10 : 11;
    head_ = req.method() == bhttp::verb::head;
    keep_alive_ = req.keep_alive();

    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    Status parsed = ParseTarget(request.target, &request.path, &request.query);
    if (!parsed.ok()) {
      parser_.reset();
      return Send(HttpResponse::Error(parsed));
    }
    for (const auto& field : req) {
      request.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.remote_address = remote_address_;
    parser_.reset();

    asio::post(*state_->pool, [self = this->shared_from_this(), request = std::move(request)]() {
      HttpResponse response = RunHandler(self->state_->handler, request);
      asio::post(self->executor_, [self, response = std::move(response)]() mutable {
        self->Send(std::move(response));
      });
    });
  }

  void Send(HttpResponse response, bool force_close = false) {
    if (phase_ == Phase::kClosed) return;  // force-closed while the handler ran
    phase_ = Phase::kWriting;
    int status = response.status;
    if (status < 200 || status > 599) {
      SF_LOG_ERROR("http: handler returned status {} for a request from {}", status, remote_address_);
      response = HttpResponse::Error(500, "internal", "internal error");
      status = 500;
    }
    bool close = force_close || !keep_alive_ || stopping_;
    res_.emplace();
    res_->version(version_);
    res_->result(static_cast<unsigned>(status));
    for (const auto& [name, value] : response.headers.items()) {
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) {
        SF_LOG_WARN("http: dropping malformed response header '{}'", name);
        continue;
      }
      if (IEquals(name, "Connection")) {
        if (IEquals(value, "close")) close = true;
        continue;
      }
      if (IsManagedHeader(name)) continue;
      res_->insert(ToBeast(name), ToBeast(value));
    }
    res_->set(bhttp::field::server, options().server_name);
    res_->set(bhttp::field::date, HttpDate(std::chrono::system_clock::now()));
    bool bodyless_status = status == 204 || status == 304;
    if (!bodyless_status) res_->content_length(response.body.size());
    // HEAD: the headers describe the GET response, including its length, but no body is sent.
    if (!head_ && !bodyless_status) res_->body() = std::move(response.body);
    res_->keep_alive(!close);
    close_after_write_ = close;

    Lowest().expires_after(options().read_timeout);
    bhttp::async_write(stream_, *res_, [self = this->shared_from_this()](const error_code& ec, size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(const error_code& ec) {
    res_.reset();
    if (ec) return CloseNow();
    served_any_ = true;
    if (close_after_write_ || stopping_) return GracefulClose();
    WaitForRequest();
  }

  void GracefulClose() {
    phase_ = Phase::kClosing;
    Lowest().expires_after(kLingerTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](const error_code&) { self->CloseNow(); });
    } else {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      buffer_.consume(buffer_.size());
      Drain();
    }
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](const error_code& ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxLingerBytes) return self->CloseNow();
                              self->Drain();
                            });
  }

  void CloseNow() {
    phase_ = Phase::kClosed;
    Lowest().close();
  }

  const std::shared_ptr<ServerState> state_;
  const asio::any_io_executor executor_;  // the connection's strand
  Stream stream_;
  const std::string remote_address_;
  uint64_t id_ = 0;
  bool registered_ = false;

  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  Phase phase_ = Phase::kIdle;
  bool stopping_ = false;
  bool served_any_ = false;
  bool close_after_write_ = false;
  unsigned version_ = 11;
  bool head_ = false;
  bool keep_alive_ = false;
  size_t drained_ = 0;
};

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(const HttpServerOptions& options, HttpHandler handler)
      : state_(std::make_shared<ServerState>()),
        ioc_(options.io_threads),
        accept_strand_(asio::make_strand(ioc_)),
        acceptor_(accept_strand_),
        accept_retry_(accept_strand_) {
    state_->options = options;
    state_->handler = std::move(handler);
  }

  ~BeastHttpServer() override { Shutdown(); }

  Status Listen() {
    const HttpServerOptions& options = state_->options;
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      SF_RETURN_IF_ERROR(SetUpTls());
    }
    std::string host = options.bind_address;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    error_code ec;
    asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) {
      return InvalidArgumentError(
          fmt::format("http server: bind address '{}' is not an IP address", options.bind_address));
    }
    tcp::endpoint endpoint(address, options.port);
    std::string where = FormatEndpoint(endpoint);
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return UnavailableError(fmt::format("http server: cannot open socket for {}: {}", where, ec.message()));
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return UnavailableError(fmt::format("http server: cannot set SO_REUSEADDR on {}: {}", where, ec.message()));
    acceptor_.bind(endpoint, ec);
    if (ec) return UnavailableError(fmt::format("http server: cannot bind {}: {}", where, ec.message()));
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return UnavailableError(fmt::format("http server: cannot listen on {}: {}", where, ec.message()));
    tcp::endpoint local = acceptor_.local_endpoint(ec);
    if (ec) return UnavailableError(fmt::format("http server: cannot read the address of {}: {}", where, ec.message()));
    port_ = local.port();
    return OkStatus();
  }

  // Starts the threads and the accept loop. Only after a successful Listen().
  Status Run() {
    try {
      pool_ = std::make_unique<asio::thread_pool>(static_cast<size_t>(state_->options.handler_threads));
      state_->pool.emplace(pool_->get_executor());
      // From here on Shutdown has threads to join, even if starting the rest fails.
      started_ = true;
      work_.emplace(ioc_.get_executor());
      asio::dispatch(accept_strand_, [this] { DoAccept(); });
      for (int i = 0; i < state_->options.io_threads; ++i) io_threads_.emplace_back([this] { RunIo(); });
    } catch (const std::exception& e) {
      return InternalError(fmt::format("http server: cannot start threads: {}", e.what()));
    }
    SF_LOG_INFO("http server listening on {}:{}{}", state_->options.bind_address, port_, tls() ? " (TLS)" : "");
    return OkStatus();
  }

  uint16_t port() const override { return port_; }
  bool tls() const override { return state_->tls != nullptr; }

  void Shutdown() override {
    std::call_once(shutdown_once_, [this] { DoShutdown(); });
  }

 private:
  Status SetUpTls() {
    const HttpServerOptions& options = state_->options;
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return InvalidArgumentError("http server: TLS needs both a certificate file and a key file");
    }
    if (Status loaded = tls::LoadOpenSsl(); !loaded.ok()) {
      return loaded.WithContext("http server");
    }
    std::unique_ptr<ssl::context> ctx;
    try {
      ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    } catch (const std::exception& e) {
      return InternalError(fmt::format("http server: cannot create a TLS context: {}", e.what()));
    }
    error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::single_dh_use, ec);
    if (ec) return InternalError(fmt::format("http server: TLS options: {}", ec.message()));
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
      return InternalError("http server: cannot require TLS 1.2");
    }
    ctx->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgumentError(
          fmt::format("http server: TLS certificate file {}: {}", options.tls_cert_file, ec.message()));
    }
    ctx->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError(fmt::format("http server: TLS key file {}: {}", options.tls_key_file, ec.message()));
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return InvalidArgumentError(fmt::format("http server: TLS key {} does not match certificate {}",
                                              options.tls_key_file, options.tls_cert_file));
    }
    state_->tls = std::move(ctx);
    return OkStatus();
  }

  void RunIo() {
    while (true) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        SF_LOG_ERROR("http server: unexpected exception in the I/O loop: {}", e.what());
      } catch (...) {
        SF_LOG_ERROR("http server: unexpected non-standard exception in the I/O loop");
      }
    }
  }

  // Runs on accept_strand_.
  void DoAccept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [this](const error_code& ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
  }

  void OnAccept(const error_code& ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open() || state_->IsStopping()) return;
      SF_LOG_WARN("http server: accept failed: {}", ec.message());
      accept_retry_.expires_after(kAcceptRetryDelay);
      accept_retry_.async_wait([this](const error_code& wait_ec) {
        if (!wait_ec && acceptor_.is_open()) DoAccept();
      });
      return;
    }
    error_code peer_ec;
    tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    if (!peer_ec) {
      // Responses go out in more than one write (header, body); without TCP_NODELAY the
      // second one can wait for the client's delayed ACK.
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::string remote = peer.address().to_string();
      if (state_->tls) {
        StartSession(std::make_shared<Session<TlsStream>>(state_, std::move(remote), std::move(socket), *state_->tls));
      } else {
        StartSession(std::make_shared<Session<PlainStream>>(state_, std::move(remote), std::move(socket)));
      }
    }
    DoAccept();
  }

  template <typename S>
  void StartSession(const std::shared_ptr<S>& session) {
    if (session->Register()) session->Start();
  }

  void DoShutdown() {
    if (!started_) return;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->stopping = true;
    }
    asio::post(accept_strand_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      accept_retry_.cancel();
    });
    // Snapshots are dropped before waiting so that sessions can be destroyed meanwhile.
    for (const auto& session : state_->LiveSessions()) session->NotifyStopping();

    auto deadline = std::chrono::steady_clock::now() + state_->options.shutdown_grace;
    bool drained = WaitForSessions(deadline);
    if (!drained) {
      SF_LOG_WARN("http server: closing connections still busy after the {} ms shutdown grace",
                  state_->options.shutdown_grace.count());
      for (const auto& session : state_->LiveSessions()) session->ForceClose();
      // Sessions whose handler is still running stay alive until it returns; that is fine.
      WaitForSessions(std::chrono::steady_clock::now() + kForceCloseWait);
    }
    work_.reset();
    ioc_.stop();
    for (std::thread& t : io_threads_) t.join();
    io_threads_.clear();
    // Waits for handlers still running; their responses go nowhere.
    pool_->join();
  }

  bool WaitForSessions(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(state_->mu);
    return state_->sessions_changed.wait_until(lock, deadline, [this] { return state_->sessions.empty(); });
  }

  // Declaration order matters for destruction: the io_context goes after the thread pool
  // and the acceptor; sessions still queued in it keep state_ alive through their own pointer.
  std::shared_ptr<ServerState> state_;
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;        // used on accept_strand_ only
  asio::steady_timer accept_retry_;  // used on accept_strand_ only
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<asio::thread_pool> pool_;
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;  // constant after Listen()
  bool started_ = false;  // set once by Run()
  std::once_flag shutdown_once_;
};

}  // namespace

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler handler) {
  if (options.io_threads < 1 || options.handler_threads < 1) {
    return InvalidArgumentError("http server: io_threads and handler_threads must be at least 1");
  }
  if (!handler) return InvalidArgumentError("http server: no handler");
  std::unique_ptr<BeastHttpServer> server;
  try {
    server = std::make_unique<BeastHttpServer>(options, std::move(handler));
  } catch (const std::exception& e) {
    return InternalError(fmt::format("http server: {}", e.what()));
  }
  SF_RETURN_IF_ERROR(server->Listen());
  SF_RETURN_IF_ERROR(server->Run());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace steadfast::http
