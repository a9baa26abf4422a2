// PasswordHasher: argon2id (RFC 9106) password hashes through libargon2, stored as PHC strings:
//
//   $argon2id$v=19$m=65536,t=3,p=4$<salt, base64 no padding>$<hash, base64 no padding>
//
// (the format libargon2's own argon2id_hash_encoded writes and argon2id_verify reads; the
// tests hold the two to each other).
//
// Cost: one Hash or Verify with the defaults fills 64 MiB and takes in the order of 100 ms of
// CPU. At most `max_concurrent` computations run at once per hasher (the others wait), so a
// burst of logins cannot take handler_threads x 64 MiB of memory.
//
// Thread-safety: all methods may be called concurrently; the SecureRandom must be thread-safe
// (every implementation is).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "collector/auth/secure_random.h"
#include "common/status.h"

namespace steadfast::collector::auth {

struct Argon2Options {
  // Defaults: RFC 9106 §4, second recommended option ("if much less memory is available"):
  // argon2id, t=3, p=4 lanes, m=64 MiB, 128-bit salt, 256-bit tag.
  uint32_t memory_kib = 64 * 1024;  // m, in KiB
  uint32_t iterations = 3;          // t, passes over memory
  uint32_t parallelism = 4;         // p, lanes (libargon2 runs one thread per lane)
  uint32_t salt_bytes = 16;
  uint32_t hash_bytes = 32;
  // Hash/Verify computations allowed to run at once on one hasher; more callers wait.
  int max_concurrent = 4;
};

// Bounds that any use must respect (those of argon2 itself, plus sanity caps that also guard
// Verify against a damaged stored string asking for absurd costs): 1 <= p <= 64,
// 8*p <= m <= 4 GiB, 1 <= t <= 100, salt 8..64 bytes, hash 16..64 bytes, max_concurrent >= 1.
// The collector config applies stricter floors on top (auth_config.h). InvalidArgument naming
// the field otherwise.
Status ValidateArgon2Options(const Argon2Options& options);

// The parameters and bytes of a decoded PHC string.
struct Argon2Encoded {
  uint32_t version = 0x13;
  uint32_t memory_kib = 0;
  uint32_t iterations = 0;
  uint32_t parallelism = 0;
  std::string salt;  // raw bytes
  std::string hash;  // raw bytes
};

// Parses an argon2id PHC string strictly: "argon2id" only (argon2i/argon2d are refused),
// version 19 only, parameters in the order m,t,p with plain decimal values inside the
// ValidateArgon2Options bounds, salt and hash in unpadded standard base64 of allowed lengths,
// no trailing data. InvalidArgument saying what is wrong (never echoing the hash).
StatusOr<Argon2Encoded> ParseArgon2Encoded(std::string_view encoded);
// The inverse of ParseArgon2Encoded.
std::string FormatArgon2Encoded(const Argon2Encoded& encoded);

class PasswordHasher {
 public:
  // `options` must pass ValidateArgon2Options (crashes otherwise: options come from
  // ParseAuthConfig, which validates them, or from code). `random` must outlive the hasher.
  PasswordHasher(const Argon2Options& options, SecureRandom& random);
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // Hashes `password` (any bytes, including empty — the policy decides what is acceptable)
  // with a fresh random salt and the configured parameters. ResourceExhausted when argon2
  // cannot allocate its memory; Internal for any other libargon2 failure.
  StatusOr<std::string> Hash(std::string_view password) const;

  // True when `password` matches `encoded`, false when it does not. The final comparison is
  // constant-time; the time taken depends only on the parameters stored in `encoded`.
  // InvalidArgument when `encoded` is not a valid argon2id PHC string (see ParseArgon2Encoded);
  // ResourceExhausted/Internal as for Hash.
  StatusOr<bool> Verify(std::string_view password, std::string_view encoded) const;

  // Spends the same time as Verify against a hash made with the current parameters, and
  // returns nothing. Call it when the user does not exist or has no local password, so that
  // the response time does not reveal which usernames exist.
  void DummyVerify(std::string_view password) const;

  // True when `encoded` was made with other parameters than the configured ones (m, t, p,
  // hash length, or a shorter salt): re-hash the password after the next successful login.
  // InvalidArgument for a malformed string.
  StatusOr<bool> NeedsRehash(std::string_view encoded) const;

  const Argon2Options& options() const { return options_; }

 private:
  // Runs argon2id into `out` (sized to the wanted tag length) under the concurrency limit.
  Status Compute(std::string_view password, const Argon2Encoded& params, std::string* out) const;

  const Argon2Options options_;
  SecureRandom& random_;
  std::string dummy_salt_;  // fixed per hasher; DummyVerify's result is thrown away

  mutable std::mutex mu_;
  mutable std::condition_variable slot_free_;
  mutable int running_ = 0;  // guarded by mu_
};

}  // namespace steadfast::collector::auth
