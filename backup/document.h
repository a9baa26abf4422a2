// The documents inside envelopes (backup/FORMAT.md, section 2): CBOR (RFC 8949) compressed as
// one zstd frame. Readers ignore keys they do not know and name the file and key they miss.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "backup/crypto.h"
#include "common/status.h"

namespace steadfast::backup {

inline constexpr size_t kMaxDocumentSize = 256u << 20;

Bytes EncodeDocument(const nlohmann::json& doc);
// DataLoss naming `what` when it is not a zstd frame of CBOR, or decompresses past
// kMaxDocumentSize.
StatusOr<nlohmann::json> DecodeDocument(std::span<const uint8_t> bytes, std::string_view what);
// CBOR bytes to a document; DataLoss naming `what` for anything malformed (never an exception).
StatusOr<nlohmann::json> ParseCbor(std::span<const uint8_t> cbor, std::string_view what);

// Typed reads of a document's fields; DataLoss "<what>: missing or bad '<key>'".
StatusOr<std::string> DocString(const nlohmann::json& doc, const char* key, std::string_view what);
StatusOr<int64_t> DocInt(const nlohmann::json& doc, const char* key, std::string_view what);
StatusOr<Bytes> DocBytes(const nlohmann::json& doc, const char* key, std::string_view what);

}  // namespace steadfast::backup
