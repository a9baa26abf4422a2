#include "agent/checks/stream_socket.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/checks/check_util.h"

namespace steadfast::agent {
namespace {

using Clock = std::chrono::steady_clock;

std::string NumericPeer(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST] = {};
  char serv[NI_MAXSERV] = {};
  if (::getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  if (sa->sa_family == AF_INET6) return fmt::format("[{}]:{}", host, serv);
  return fmt::format("{}:{}", host, serv);
}

// `suffix` is "" or " (address)" (see StreamSocket::suffix_).
Status ErrnoStatus(int err, const std::string& suffix) {
  std::string msg = SocketErrorText(err) + suffix;
  if (err == ENOENT) return NotFoundError(std::move(msg));
  if (err == EACCES || err == EPERM) return PermissionDeniedError(std::move(msg));
  return UnavailableError(std::move(msg));
}

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  // Round up so a poll never ends a hair before the deadline and spins.
  return static_cast<int>(std::min<int64_t>(left.count() + 1, 24 * 3600 * 1000));
}

// Non-blocking connect of `fd` to `sa`, finished by `deadline`. OK when connected.
Status ConnectFd(int fd, const sockaddr* sa, socklen_t len, Clock::time_point deadline,
                 const std::string& suffix) {
  if (::connect(fd, sa, len) == 0) return OkStatus();
  if (errno != EINPROGRESS && errno != EAGAIN) return ErrnoStatus(errno, suffix);
  while (true) {
    int wait_ms = MillisLeft(deadline);
    if (wait_ms == 0) return DeadlineExceededError("timed out connecting" + suffix);
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, suffix);
    if (n == 0) continue;  // the loop head reports the timeout
    int so_error = 0;
    socklen_t so_len = sizeof(so_error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0) so_error = errno;
    if (so_error == 0) return OkStatus();
    return ErrnoStatus(so_error, suffix);
  }
}

}  // namespace

std::chrono::steady_clock::time_point DeadlineOr(std::chrono::steady_clock::time_point deadline,
                                                 std::chrono::milliseconds fallback) {
  if (deadline != std::chrono::steady_clock::time_point{}) return deadline;
  return Clock::now() + fallback;
}

StatusOr<StreamSocket> StreamSocket::ConnectTcp(const std::string& host, uint16_t port,
                                                TimePoint deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port_text = std::to_string(port);
  int gai = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &list);
  if (gai != 0) {
    return NotFoundError(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(gai)));
  }
  Status last = UnavailableError(fmt::format("no address to connect to for {}", host));
  // The address is worth naming only when it is not what the caller asked for (a host name).
  const std::string asked = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                                : fmt::format("{}:{}", host, port);
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    const std::string peer = NumericPeer(ai->ai_addr, ai->ai_addrlen);
    const std::string suffix = peer == asked ? "" : " (" + peer + ")";
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = ErrnoStatus(errno, suffix);
      continue;
    }
    last = ConnectFd(fd, ai->ai_addr, ai->ai_addrlen, deadline, suffix);
    if (last.ok()) {
      ::freeaddrinfo(list);
      return StreamSocket(fd, deadline, peer, suffix);
    }
    ::close(fd);
    if (last.code() == StatusCode::kDeadlineExceeded) break;
  }
  ::freeaddrinfo(list);
  return last;
}

StatusOr<StreamSocket> StreamSocket::ConnectUnix(const std::string& path, TimePoint deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError(
        fmt::format("unix socket path must be 1-{} bytes: {}", sizeof(addr.sun_path) - 1, path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "");
  Status st = ConnectFd(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), deadline, "");
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  return StreamSocket(fd, deadline, path, "");
}

StreamSocket::StreamSocket(StreamSocket&& other) noexcept
    : fd_(other.fd_),
      deadline_(other.deadline_),
      peer_(std::move(other.peer_)),
      suffix_(std::move(other.suffix_)),
      buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

StreamSocket& StreamSocket::operator=(StreamSocket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    deadline_ = other.deadline_;
    peer_ = std::move(other.peer_);
    suffix_ = std::move(other.suffix_);
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

StreamSocket::~StreamSocket() { Close(); }

void StreamSocket::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status StreamSocket::WaitFor(short events, std::string_view what) {
  while (true) {
    int wait_ms = MillisLeft(deadline_);
    if (wait_ms == 0) {
      return DeadlineExceededError(fmt::format("timed out {}{}", what, suffix_));
    }
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, suffix_);
    if (n > 0) return OkStatus();
  }
}

Status StreamSocket::WriteAll(std::string_view data) {
  if (fd_ < 0) return FailedPreconditionError("socket is closed");
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      SF_RETURN_IF_ERROR(WaitFor(POLLOUT, "sending"));
      continue;
    }
    return ErrnoStatus(n < 0 ? errno : EPIPE, suffix_);
  }
  return OkStatus();
}

StatusOr<std::string> StreamSocket::ReadUntil(char delim, size_t max_bytes) {
  if (fd_ < 0) return FailedPreconditionError("socket is closed");
  size_t scanned = 0;
  while (true) {
    size_t pos = buffer_.find(delim, scanned);
    if (pos != std::string::npos) {
      std::string out = buffer_.substr(0, pos);
      buffer_.erase(0, pos + 1);
      return out;
    }
    scanned = buffer_.size();
    if (buffer_.size() > max_bytes) {
      return ResourceExhaustedError(
          fmt::format("reply longer than {} bytes without an end{}", max_bytes, suffix_));
    }
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      return UnavailableError(
          (buffer_.empty() ? "connection closed by peer" : "connection closed mid-reply") +
          suffix_);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      SF_RETURN_IF_ERROR(WaitFor(POLLIN, "waiting for a reply"));
      continue;
    }
    return ErrnoStatus(errno, suffix_);
  }
}

}  // namespace steadfast::agent
