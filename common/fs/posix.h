// Small POSIX helpers shared by the code that does its own file I/O: an errno as a Status
// (the code says what kind of failure it is: missing, no permission, full, read-only), and a
// file descriptor closed when it goes out of scope.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/status.h"

namespace steadfast {

inline Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return NotFoundError(msg);
    case EACCES:
    case EPERM: return PermissionDeniedError(msg);
    case EEXIST: return AlreadyExistsError(msg);
    case ENOSPC:
    case EDQUOT: return ResourceExhaustedError(msg);
    case EROFS: return FailedPreconditionError(msg);
    default: return UnavailableError(msg);
  }
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = other.release();
    }
    return *this;
  }
  int get() const { return fd_; }
  // Hands the descriptor over (to close it and check the result).
  int release() {
    const int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

}  // namespace steadfast
