#include "backup/repository.h"

#include "backup/document.h"
#include "common/clock.h"

namespace steadfast::backup {

using nlohmann::json;

namespace {

std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

json ConfigDoc(const RepositoryConfig& c) {
  return {{"version", c.version},
          {"id", json::binary(std::vector<uint8_t>(c.id.begin(), c.id.end()))},
          {"created", c.created},
          {"cipher", CipherName(c.cipher)},
          {"chunker", {{"min", c.chunker.min}, {"avg", c.chunker.avg}, {"max", c.chunker.max}}},
          {"pack_size", c.pack_size},
          {"compression", c.compression}};
}

}  // namespace

StatusOr<RepositoryConfig> Repository::ParseConfig(const json& doc) {
  constexpr std::string_view w = "config";
  RepositoryConfig c;
  SF_ASSIGN_OR_RETURN(int64_t version, DocInt(doc, "version", w));
  if (version != 1) {
    return FailedPreconditionError("this repository was made by a newer steadfast-backup (format " +
                                   std::to_string(version) + "); upgrade");
  }
  SF_ASSIGN_OR_RETURN(Bytes id, DocBytes(doc, "id", w));
  if (id.size() != 32) return DataLossError("config: bad 'id'");
  std::copy(id.begin(), id.end(), c.id.begin());
  SF_ASSIGN_OR_RETURN(c.created, DocString(doc, "created", w));
  SF_ASSIGN_OR_RETURN(std::string cipher, DocString(doc, "cipher", w));
  StatusOr<Cipher> parsed = ParseCipher(cipher);
  if (!parsed.ok()) return DataLossError("config: " + parsed.status().message());
  c.cipher = *parsed;
  auto chunker = doc.find("chunker");
  if (chunker == doc.end() || !chunker->is_object()) return DataLossError("config: missing or bad 'chunker'");
  SF_ASSIGN_OR_RETURN(int64_t min, DocInt(*chunker, "min", "config chunker"));
  SF_ASSIGN_OR_RETURN(int64_t avg, DocInt(*chunker, "avg", "config chunker"));
  SF_ASSIGN_OR_RETURN(int64_t max, DocInt(*chunker, "max", "config chunker"));
  c.chunker = {static_cast<size_t>(min), static_cast<size_t>(avg), static_cast<size_t>(max)};
  if (Status valid = ValidateChunkerParams(c.chunker); !valid.ok()) return DataLossError("config: " + valid.message());
  SF_ASSIGN_OR_RETURN(int64_t pack_size, DocInt(doc, "pack_size", w));
  SF_ASSIGN_OR_RETURN(int64_t compression, DocInt(doc, "compression", w));
  if (pack_size < (1 << 20) || pack_size > (int64_t{1} << 32) || compression < 0 || compression > 22) {
    return DataLossError("config: 'pack_size' or 'compression' out of range");
  }
  c.pack_size = static_cast<uint64_t>(pack_size);
  c.compression = static_cast<int>(compression);
  return c;
}

StatusOr<std::unique_ptr<Repository>> Repository::Init(std::unique_ptr<Backend> backend, std::string_view password,
                                                       const InitOptions& options) {
  SF_RETURN_IF_ERROR(ValidateChunkerParams(options.chunker));
  if (options.compression < 0 || options.compression > 22) {
    return InvalidArgumentError("compression: zstd levels are 0 (none) to 22, got " + std::to_string(options.compression));
  }
  if (options.pack_size < (1u << 20) || options.pack_size > (uint64_t{1} << 32)) {
    return InvalidArgumentError("the pack size must be 1 MiB .. 4 GiB");
  }
  if (password.empty()) return InvalidArgumentError("the password is empty");
  SF_RETURN_IF_ERROR(backend->Create());
  MasterKey key = MasterKey::Generate(options.cipher);
  RepositoryConfig c;
  FillRandom(c.id);
  c.created = options.info.created.empty() ? FormatRfc3339Millis(RealClock().NowMillis()) : options.info.created;
  c.cipher = options.cipher;
  c.chunker = options.chunker;
  c.compression = options.compression;
  c.pack_size = options.pack_size;
  SF_ASSIGN_OR_RETURN(std::string key_file, WrapMasterKey(key, password, options.kdf, options.info));
  const std::string key_id = Hex(Sha256(AsBytes(key_file)));
  SF_RETURN_IF_ERROR(backend->Save(FileType::kKey, key_id, AsBytes(key_file)));
  const Bytes config = SealEnvelope(key, EnvelopeKind::kConfig, EncodeDocument(ConfigDoc(c)));
  SF_RETURN_IF_ERROR(backend->Save(FileType::kConfig, "config", config));
  return std::unique_ptr<Repository>(new Repository(std::move(backend), std::move(key), std::move(c), key_id));
}

StatusOr<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<Backend> backend, std::string_view password) {
  StatusOr<Bytes> config = backend->Load(FileType::kConfig, "config");
  if (!config.ok() && config.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no repository at " + backend->Location() + " (no config; make one with init)");
  }
  if (!config.ok()) return config.status();
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> keys, backend->List(FileType::kKey));
  Status last = UnauthenticatedError("no key file at " + backend->Location() + "/keys opens with this password");
  for (const FileInfo& f : keys) {
    StatusOr<Bytes> text = backend->Load(FileType::kKey, f.name);
    if (!text.ok()) continue;
    StatusOr<MasterKey> key = UnwrapMasterKey(std::string(text->begin(), text->end()), password, "keys/" + f.name);
    if (!key.ok()) {
      if (key.status().code() != StatusCode::kUnauthenticated) last = key.status();
      continue;
    }
    // A key left by an interrupted init opens with the password but not the config: try the next.
    StatusOr<Bytes> doc = OpenEnvelope(*key, EnvelopeKind::kConfig, *config, "config");
    if (!doc.ok()) {
      last = doc.status();
      continue;
    }
    SF_ASSIGN_OR_RETURN(json parsed, DecodeDocument(*doc, "config"));
    SF_ASSIGN_OR_RETURN(RepositoryConfig c, ParseConfig(parsed));
    if (c.cipher != key->cipher) return DataLossError("config: its cipher differs from the key file's");
    return std::unique_ptr<Repository>(new Repository(std::move(backend), std::move(key).value(), std::move(c), f.name));
  }
  return last;
}

StatusOr<std::string> Repository::AddKey(std::string_view password, const KdfParams& kdf, const KeyFileInfo& info) {
  KeyFileInfo i = info;
  if (i.created.empty()) i.created = FormatRfc3339Millis(RealClock().NowMillis());
  SF_ASSIGN_OR_RETURN(std::string key_file, WrapMasterKey(key_, password, kdf, i));
  const std::string id = Hex(Sha256(AsBytes(key_file)));
  SF_RETURN_IF_ERROR(backend_->Save(FileType::kKey, id, AsBytes(key_file)));
  return id;
}

StatusOr<std::vector<KeyInfo>> Repository::ListKeys() {
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, backend_->List(FileType::kKey));
  std::vector<KeyInfo> out;
  for (const FileInfo& f : files) {
    SF_ASSIGN_OR_RETURN(Bytes text, backend_->Load(FileType::kKey, f.name));
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    KeyInfo k;
    k.id = f.name;
    k.current = f.name == key_id_;
    if (j.is_object()) {
      // Not json::value(): it throws when a field has another type.
      auto text = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string(); };
      k.created = text("created");
      k.host = text("host");
      k.username = text("username");
    }
    out.push_back(std::move(k));
  }
  return out;
}

Status Repository::RemoveKey(const std::string& id) {
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, backend_->List(FileType::kKey));
  if (std::none_of(files.begin(), files.end(), [&](const FileInfo& f) { return f.name == id; })) {
    return NotFoundError("no key " + id);
  }
  if (files.size() == 1) return FailedPreconditionError("key " + id + " is the last one; add another before removing it");
  return backend_->Remove(FileType::kKey, id);
}

StatusOr<std::string> Repository::SaveDocument(FileType type, EnvelopeKind kind, const json& doc) {
  const Bytes file = SealEnvelope(key_, kind, EncodeDocument(doc));
  const std::string name = Hex(Sha256(file));
  SF_RETURN_IF_ERROR(backend_->Save(type, name, file));
  return name;
}

StatusOr<json> Repository::LoadDocument(FileType type, EnvelopeKind kind, const std::string& name) {
  const std::string what = std::string(FileTypeDir(type)) + "/" + name;
  SF_ASSIGN_OR_RETURN(Bytes file, backend_->Load(type, name));
  if (Hex(Sha256(file)) != name) return DataLossError(what + ": its bytes do not match its name (damaged)");
  SF_ASSIGN_OR_RETURN(Bytes doc, OpenEnvelope(key_, kind, file, what));
  return DecodeDocument(doc, what);
}

}  // namespace steadfast::backup
