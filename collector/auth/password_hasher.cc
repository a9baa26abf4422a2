#include "collector/auth/password_hasher.h"

#include <argon2.h>
#include <openssl/crypto.h>

#include <charconv>
#include <vector>

#include "collector/auth/encoding.h"

namespace steadfast::collector::auth {
namespace {

constexpr uint32_t kArgon2Version = 0x13;  // 19: the only version libargon2 writes
constexpr uint32_t kMaxParallelism = 64;
constexpr uint32_t kMaxMemoryKib = 4u * 1024 * 1024;  // 4 GiB
constexpr uint32_t kMaxIterations = 100;
constexpr size_t kMinSaltBytes = 8;
constexpr size_t kMaxSaltBytes = 64;
constexpr size_t kMinHashBytes = 16;
constexpr size_t kMaxHashBytes = 64;

Status CheckParams(uint32_t memory_kib, uint32_t iterations, uint32_t parallelism) {
  if (parallelism < 1 || parallelism > kMaxParallelism) {
    return InvalidArgumentError("argon2 parallelism (p) must be between 1 and " + std::to_string(kMaxParallelism) +
                                ", got " + std::to_string(parallelism));
  }
  if (memory_kib < 8 * parallelism || memory_kib > kMaxMemoryKib) {
    return InvalidArgumentError("argon2 memory (m) must be between 8*p = " + std::to_string(8 * parallelism) +
                                " KiB and " + std::to_string(kMaxMemoryKib) + " KiB, got " +
                                std::to_string(memory_kib));
  }
  if (iterations < 1 || iterations > kMaxIterations) {
    return InvalidArgumentError("argon2 iterations (t) must be between 1 and " + std::to_string(kMaxIterations) +
                                ", got " + std::to_string(iterations));
  }
  return OkStatus();
}

// A decimal uint32 with no sign, no leading zero and nothing after it.
bool ParseDecimal(std::string_view text, uint32_t* out) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

Status Malformed(const std::string& why) { return InvalidArgumentError("malformed argon2id hash: " + why); }

}  // namespace

Status ValidateArgon2Options(const Argon2Options& options) {
  SF_RETURN_IF_ERROR(CheckParams(options.memory_kib, options.iterations, options.parallelism));
  if (options.salt_bytes < kMinSaltBytes || options.salt_bytes > kMaxSaltBytes) {
    return InvalidArgumentError("argon2 salt length must be between 8 and 64 bytes, got " +
                                std::to_string(options.salt_bytes));
  }
  if (options.hash_bytes < kMinHashBytes || options.hash_bytes > kMaxHashBytes) {
    return InvalidArgumentError("argon2 hash length must be between 16 and 64 bytes, got " +
                                std::to_string(options.hash_bytes));
  }
  if (options.max_concurrent < 1) {
    return InvalidArgumentError("argon2 max_concurrent must be at least 1, got " +
                                std::to_string(options.max_concurrent));
  }
  return OkStatus();
}

StatusOr<Argon2Encoded> ParseArgon2Encoded(std::string_view encoded) {
  // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
  std::vector<std::string_view> parts = Split(encoded, '$');
  if (parts.size() != 6 || !parts[0].empty()) {
    return Malformed("expected $argon2id$v=19$m=<kib>,t=<iterations>,p=<lanes>$<salt>$<hash>");
  }
  if (parts[1] != "argon2id") {
    if (parts[1] == "argon2i" || parts[1] == "argon2d") {
      return Malformed("algorithm " + std::string(parts[1]) + " is not supported (argon2id only)");
    }
    return Malformed("not an argon2id string");
  }
  Argon2Encoded out;
  if (parts[2].substr(0, 2) != "v=" || !ParseDecimal(parts[2].substr(2), &out.version)) {
    return Malformed("expected v=19 after the algorithm");
  }
  if (out.version != kArgon2Version) return Malformed("version " + std::to_string(out.version) + " (only 19)");

  std::vector<std::string_view> params = Split(parts[3], ',');
  if (params.size() != 3 || params[0].substr(0, 2) != "m=" || params[1].substr(0, 2) != "t=" ||
      params[2].substr(0, 2) != "p=") {
    return Malformed("expected parameters m=<kib>,t=<iterations>,p=<lanes>");
  }
  if (!ParseDecimal(params[0].substr(2), &out.memory_kib) || !ParseDecimal(params[1].substr(2), &out.iterations) ||
      !ParseDecimal(params[2].substr(2), &out.parallelism)) {
    return Malformed("parameters must be plain decimal numbers");
  }
  Status range = CheckParams(out.memory_kib, out.iterations, out.parallelism);
  if (!range.ok()) return Malformed(range.message());

  StatusOr<std::string> salt = Base64Decode(parts[4], Base64Alphabet::kStandard);
  if (!salt.ok()) return Malformed("salt: " + salt.status().message());
  if (salt->size() < kMinSaltBytes || salt->size() > kMaxSaltBytes) {
    return Malformed("salt of " + std::to_string(salt->size()) + " bytes (8 to 64 allowed)");
  }
  StatusOr<std::string> hash = Base64Decode(parts[5], Base64Alphabet::kStandard);
  if (!hash.ok()) return Malformed("hash: " + hash.status().message());
  if (hash->size() < kMinHashBytes || hash->size() > kMaxHashBytes) {
    return Malformed("hash of " + std::to_string(hash->size()) + " bytes (16 to 64 allowed)");
  }
  out.salt = std::move(salt).value();
  out.hash = std::move(hash).value();
  return out;
}

std::string FormatArgon2Encoded(const Argon2Encoded& e) {
  return "$argon2id$v=" + std::to_string(e.version) + "$m=" + std::to_string(e.memory_kib) +
         ",t=" + std::to_string(e.iterations) + ",p=" + std::to_string(e.parallelism) + "$" +
         Base64Encode(e.salt, Base64Alphabet::kStandard) + "$" + Base64Encode(e.hash, Base64Alphabet::kStandard);
}

PasswordHasher::PasswordHasher(const Argon2Options& options, SecureRandom& random)
    : options_(options), random_(random) {
  // Options reach here from ParseAuthConfig (validated) or from code with fixed values.
  SF_CHECK_OK(ValidateArgon2Options(options_));
  dummy_salt_ = random_.Bytes(options_.salt_bytes);
}

Status PasswordHasher::Compute(std::string_view password, const Argon2Encoded& params, std::string* out) const {
  if (password.size() > ARGON2_MAX_PWD_LENGTH) return InvalidArgumentError("password too long");
  {
    std::unique_lock<std::mutex> lock(mu_);
    slot_free_.wait(lock, [this] { return running_ < options_.max_concurrent; });
    ++running_;
  }
  int rc = argon2id_hash_raw(params.iterations, params.memory_kib, params.parallelism, password.data(),
                             password.size(), params.salt.data(), params.salt.size(), out->data(), out->size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  slot_free_.notify_one();
  if (rc == ARGON2_OK) return OkStatus();
  std::string what = std::string("argon2id: ") + argon2_error_message(rc);
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) return ResourceExhaustedError(what);
  return InternalError(what);
}

StatusOr<std::string> PasswordHasher::Hash(std::string_view password) const {
  Argon2Encoded e;
  e.version = kArgon2Version;
  e.memory_kib = options_.memory_kib;
  e.iterations = options_.iterations;
  e.parallelism = options_.parallelism;
  e.salt = random_.Bytes(options_.salt_bytes);
  e.hash.assign(options_.hash_bytes, '\0');
  SF_RETURN_IF_ERROR(Compute(password, e, &e.hash));
  return FormatArgon2Encoded(e);
}

StatusOr<bool> PasswordHasher::Verify(std::string_view password, std::string_view encoded) const {
  SF_ASSIGN_OR_RETURN(Argon2Encoded e, ParseArgon2Encoded(encoded));
  std::string computed(e.hash.size(), '\0');
  SF_RETURN_IF_ERROR(Compute(password, e, &computed));
  return CRYPTO_memcmp(computed.data(), e.hash.data(), computed.size()) == 0;
}

void PasswordHasher::DummyVerify(std::string_view password) const {
  Argon2Encoded e;
  e.memory_kib = options_.memory_kib;
  e.iterations = options_.iterations;
  e.parallelism = options_.parallelism;
  e.salt = dummy_salt_;
  std::string computed(options_.hash_bytes, '\0');
  // Only the time spent matters; a failure (out of memory) is reported by the real paths.
  Compute(password, e, &computed).IgnoreError();
  std::string reference(options_.hash_bytes, '\0');
  (void)CRYPTO_memcmp(computed.data(), reference.data(), computed.size());
}

StatusOr<bool> PasswordHasher::NeedsRehash(std::string_view encoded) const {
  SF_ASSIGN_OR_RETURN(Argon2Encoded e, ParseArgon2Encoded(encoded));
  return e.memory_kib != options_.memory_kib || e.iterations != options_.iterations ||
         e.parallelism != options_.parallelism || e.hash.size() != options_.hash_bytes ||
         e.salt.size() < options_.salt_bytes;
}

}  // namespace steadfast::collector::auth
