// Status and StatusOr<T>: how Steadfast code reports errors. Our code does not throw.
//
// A Status is OK or a code plus a message. The code set is fixed; whether an
// operation may be retried follows from the code (IsRetryable), so callers
// such as the agent's uplink never parse messages.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace steadfast {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from outside: config, request, file
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // the system is not in the state the call needs
  kUnauthenticated,     // no or bad credentials
  kPermissionDenied,    // credentials fine, not allowed
  kResourceExhausted,   // too large, too many; retry later may help
  kUnavailable,         // transient: peer down, connection refused, 5xx
  kDeadlineExceeded,    // timed out; transient
  kAborted,             // conflict, e.g. a busy database; transient
  kDataLoss,            // stored data is damaged
  kUnimplemented,
  kInternal,            // a bug or an unexpected library failure
};

// Stable lower_snake name of a code, as used in JSON errors ("invalid_argument").
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: message", or "ok".
  std::string ToString() const;
  // True for codes where the same call may succeed later (unavailable, deadline, aborted,
  // resource exhausted).
  bool IsRetryable() const;
  // Returns a copy with "context: " put before the message; OK stays OK.
  Status WithContext(std::string_view context) const;
  // Explicitly discards a status where failure is acceptable; the reason is the comment beside it.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status UnauthenticatedError(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status UnimplementedError(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, std::string_view msg);

// StatusOr<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : v_(status) {  // NOLINT: implicit by design
    if (status.ok()) CheckFailed(__FILE__, __LINE__, "!status.ok()", "StatusOr built from OK status");
  }
  StatusOr(Status&& status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) CheckFailed(__FILE__, __LINE__, "!status.ok()", "StatusOr built from OK status");
  }
  StatusOr(const T& value) : v_(value) {}  // NOLINT
  StatusOr(T&& value) : v_(std::move(value)) {}  // NOLINT
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, T>>>
  StatusOr(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  const T& value() const& { Verify(); return std::get<T>(v_); }
  T& value() & { Verify(); return std::get<T>(v_); }
  T&& value() && { Verify(); return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  T value_or(T fallback) const { return ok() ? std::get<T>(v_) : fallback; }

 private:
  void Verify() const {
    if (!ok()) CheckFailed(__FILE__, __LINE__, "ok()", std::get<Status>(v_).ToString());
  }
  std::variant<Status, T> v_;
};

}  // namespace steadfast

#define SF_CONCAT_INNER_(a, b) a##b
#define SF_CONCAT_(a, b) SF_CONCAT_INNER_(a, b)

#define SF_RETURN_IF_ERROR(expr)                         \
  do {                                                   \
    ::steadfast::Status sf_status_ = (expr);             \
    if (!sf_status_.ok()) return sf_status_;             \
  } while (0)

#define SF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#define SF_ASSIGN_OR_RETURN(lhs, expr) \
  SF_ASSIGN_OR_RETURN_IMPL_(SF_CONCAT_(sf_statusor_, __LINE__), lhs, expr)

// Invariant checks: crash with a message. Never for bad input from outside.
#define SF_CHECK(cond)                                                        \
  do {                                                                        \
    if (!(cond)) ::steadfast::CheckFailed(__FILE__, __LINE__, #cond, "");     \
  } while (0)
#define SF_CHECK_OK(expr)                                                              \
  do {                                                                                 \
    ::steadfast::Status sf_check_status_ = (expr);                                     \
    if (!sf_check_status_.ok())                                                        \
      ::steadfast::CheckFailed(__FILE__, __LINE__, #expr, sf_check_status_.ToString()); \
  } while (0)
