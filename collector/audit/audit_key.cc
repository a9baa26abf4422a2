#include "collector/audit/audit_key.h"

#include <openssl/rand.h>

#include <cstdio>

namespace steadfast::collector::audit {

namespace {

std::string OctalMode(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

StatusOr<AuditKey> AuditKey::FromBytes(std::string bytes) {
  if (bytes.size() != kAuditKeyBytes) {
    return InvalidArgumentError("an audit key is " + std::to_string(kAuditKeyBytes) +
                                " bytes, got " + std::to_string(bytes.size()));
  }
  return AuditKey(std::move(bytes));
}

StatusOr<AuditKey> LoadAuditKey(FileSystem& fs, const std::string& path) {
  // Read a little more than a key so that an oversized file is reported as such.
  StatusOr<std::string> data = fs.ReadFile(path, 4096);
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kNotFound) {
      return NotFoundError("audit key " + path +
                           " does not exist (the collector creates it at first start)");
    }
    if (data.status().code() == StatusCode::kInvalidArgument) {
      return FailedPreconditionError("audit key " + path + " is not " +
                                     std::to_string(kAuditKeyBytes) +
                                     " bytes long; it is not an audit key (restore the original)");
    }
    return data.status().WithContext("audit key " + path);
  }
  SF_ASSIGN_OR_RETURN(uint32_t mode, fs.FileMode(path));
  if ((mode & 0077) != 0) {
    return FailedPreconditionError("audit key " + path + " has mode " + OctalMode(mode) +
                                   "; it must be accessible by its owner only (chmod 600 " + path +
                                   ")");
  }
  if (data->size() != kAuditKeyBytes) {
    return FailedPreconditionError("audit key " + path + " is " + std::to_string(data->size()) +
                                   " bytes, not " + std::to_string(kAuditKeyBytes) +
                                   "; it is not an audit key (restore the original)");
  }
  return AuditKey::FromBytes(std::move(*data));
}

StatusOr<AuditKey> LoadOrCreateAuditKey(FileSystem& fs, const std::string& path) {
  if (fs.Exists(path)) return LoadAuditKey(fs, path);
  std::string bytes(kAuditKeyBytes, '\0');
  // RAND_bytes fails only when the OS cannot seed OpenSSL's generator; a key from anything
  // weaker would be worthless, so this is not a recoverable condition.
  SF_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size())) == 1);
  SF_RETURN_IF_ERROR(
      fs.WriteFileAtomic(path, bytes, 0600).WithContext("creating audit key " + path));
  return AuditKey::FromBytes(std::move(bytes));
}

}  // namespace steadfast::collector::audit
