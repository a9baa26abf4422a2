// A repository (backup/FORMAT.md): made with Init, opened with a password, its keys managed, and
// its envelope files saved and loaded by content address. What packs, indexes and snapshots
// mean is built on top of this.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backup/backend.h"
#include "backup/chunker.h"
#include "backup/crypto.h"
#include "common/status.h"

namespace steadfast::backup {

struct RepositoryConfig {
  int version = 1;
  BlobId id{};
  std::string created;  // RFC 3339
  Cipher cipher = Cipher::kAes256Gcm;
  ChunkerParams chunker;
  uint64_t pack_size = 16u << 20;
  int compression = 3;  // zstd level; 0: none
};

struct InitOptions {
  Cipher cipher = Cipher::kAes256Gcm;
  ChunkerParams chunker;
  uint64_t pack_size = 16u << 20;  // 1 MiB .. 4 GiB
  int compression = 3;
  KdfParams kdf;
  KeyFileInfo info;  // who made the first key, when
};

struct KeyInfo {
  std::string id;  // the key file's name
  std::string created, host, username;
  bool current = false;  // the one this repository was opened with
};

class Repository {
 public:
  // Makes the layout, a master key, a key file for `password`, then the config (in that order:
  // a crash before the config leaves no repository, and Init can run again). AlreadyExists when
  // there is one; InvalidArgument for bad options.
  static StatusOr<std::unique_ptr<Repository>> Init(std::unique_ptr<Backend> backend, std::string_view password,
                                                    const InitOptions& options);
  // NotFound when the backend holds no repository; Unauthenticated when no key file opens with
  // `password`; DataLoss when the config is damaged; FailedPrecondition for a newer format.
  static StatusOr<std::unique_ptr<Repository>> Open(std::unique_ptr<Backend> backend, std::string_view password);

  const RepositoryConfig& config() const { return config_; }
  const MasterKey& key() const { return key_; }
  Backend& backend() { return *backend_; }

  // Key files (FORMAT.md 3).
  StatusOr<std::string> AddKey(std::string_view password, const KdfParams& kdf, const KeyFileInfo& info);
  StatusOr<std::vector<KeyInfo>> ListKeys();
  // FailedPrecondition for the last key; NotFound for an unknown id.
  Status RemoveKey(const std::string& id);

  // An envelope file: its name is the SHA-256 of its bytes (returned by Save, checked by Load,
  // which is DataLoss when the bytes do not match the name or do not open).
  StatusOr<std::string> SaveDocument(FileType type, EnvelopeKind kind, const nlohmann::json& doc);
  StatusOr<nlohmann::json> LoadDocument(FileType type, EnvelopeKind kind, const std::string& name);

 private:
  Repository(std::unique_ptr<Backend> backend, MasterKey key, RepositoryConfig config, std::string key_id)
      : backend_(std::move(backend)), key_(std::move(key)), config_(std::move(config)), key_id_(std::move(key_id)) {}
  static StatusOr<RepositoryConfig> ParseConfig(const nlohmann::json& doc);

  std::unique_ptr<Backend> backend_;
  MasterKey key_;
  RepositoryConfig config_;
  std::string key_id_;
};

}  // namespace steadfast::backup
