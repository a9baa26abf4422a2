// StreamSocket: a connected stream socket (TCP or unix-domain) whose every operation ends by one
// fixed deadline, for the small request/reply protocols some checks speak themselves (NUT upsd's
// line protocol, clamd's NUL-terminated commands). The socket is non-blocking underneath; each
// call polls until it can proceed or the deadline passes, so a peer that accepts and then goes
// silent costs at most the time left until the deadline.
//
// Errors (Status codes; the messages are meant for a check's summary, after the caller's own
// "cannot reach X: "; they name the numeric address only when X was a host name):
//   Unavailable       connection refused / reset / closed by the peer, unreachable, missing socket
//   DeadlineExceeded  the deadline passed ("timed out connecting to ...", "timed out waiting ...")
//   NotFound          the host name does not resolve, or the unix socket path does not exist
//   PermissionDenied  the unix socket is not accessible to us
//   ResourceExhausted a reply longer than the caller's limit without its delimiter
//
// Not thread-safe; one owner at a time (movable, not copyable).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace steadfast::agent {

// `deadline` when it is set (not the epoch, which CheckContext uses for "none"), otherwise now
// plus `fallback`: the deadline a check's network I/O runs to.
std::chrono::steady_clock::time_point DeadlineOr(std::chrono::steady_clock::time_point deadline,
                                                 std::chrono::milliseconds fallback);

class StreamSocket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Resolves `host` (getaddrinfo; note it has no timeout of its own) and tries each address in
  // turn until one connects, all by `deadline`. The error names the last address tried.
  static StatusOr<StreamSocket> ConnectTcp(const std::string& host, uint16_t port,
                                           TimePoint deadline);
  // Connects to the unix-domain stream socket at `path` (at most 107 bytes).
  static StatusOr<StreamSocket> ConnectUnix(const std::string& path, TimePoint deadline);

  StreamSocket(StreamSocket&& other) noexcept;
  StreamSocket& operator=(StreamSocket&& other) noexcept;
  StreamSocket(const StreamSocket&) = delete;
  StreamSocket& operator=(const StreamSocket&) = delete;
  ~StreamSocket();

  // Writes all of `data` (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
  Status WriteAll(std::string_view data);
  // Returns the bytes before the next `delim` (which is consumed). Unavailable when the peer
  // closes first (the message says so), ResourceExhausted after `max_bytes` without `delim`.
  StatusOr<std::string> ReadUntil(char delim, size_t max_bytes);

  // "127.0.0.1:3493", "[::1]:3493" or the unix socket path: what we are connected to.
  const std::string& peer() const { return peer_; }

 private:
  StreamSocket(int fd, TimePoint deadline, std::string peer, std::string suffix)
      : fd_(fd), deadline_(deadline), peer_(std::move(peer)), suffix_(std::move(suffix)) {}
  // Waits for `events` on the socket until the deadline: OK, or DeadlineExceeded naming `what`.
  Status WaitFor(short events, std::string_view what);
  void Close();

  int fd_ = -1;
  TimePoint deadline_{};
  std::string peer_;
  // Appended to error messages: " (10.0.0.5:3493)" when that address is not literally what the
  // caller asked for (a host name), else "": the caller names the host or socket path itself.
  std::string suffix_;
  std::string buffer_;  // bytes read past the last delimiter
};

}  // namespace steadfast::agent
