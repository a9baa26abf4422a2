// The audit key: 32 random bytes kept outside the database (`audit.key` in the data directory,
// mode 0600) under which every audit record is sealed (HMAC-SHA-256). Whoever can write the
// database but not read this file cannot forge, edit, remove or insert records unnoticed.
//
// AuditKey deliberately has no operator<< and no fmt formatter, so it cannot end up in a log
// line by accident; bytes() is for the HMAC code only.
#pragma once

#include <string>

#include "common/fs/file_system.h"
#include "common/status.h"

namespace steadfast::collector::audit {

inline constexpr size_t kAuditKeyBytes = 32;

class AuditKey {
 public:
  // InvalidArgument unless `bytes` is exactly kAuditKeyBytes long.
  static StatusOr<AuditKey> FromBytes(std::string bytes);
  const std::string& bytes() const { return bytes_; }

 private:
  explicit AuditKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

// Reads an existing key file. NotFound when absent; FailedPrecondition (naming the path and the
// fix, never the content) when it is not exactly 32 bytes or is accessible by group or others.
StatusOr<AuditKey> LoadAuditKey(FileSystem& fs, const std::string& path);

// LoadAuditKey, or — when `path` does not exist — creates it once with 32 bytes from the OS
// CSPRNG (OpenSSL RAND_bytes), mode 0600, written atomically. Only the collector daemon calls
// this (one process per data directory); read-only tools use LoadAuditKey so that a missing
// key is reported, not silently replaced.
StatusOr<AuditKey> LoadOrCreateAuditKey(FileSystem& fs, const std::string& path);

}  // namespace steadfast::collector::audit
