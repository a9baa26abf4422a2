#include "backup/document.h"

#include <zstd.h>

namespace steadfast::backup {

using nlohmann::json;

Bytes EncodeDocument(const json& doc) {
  const std::vector<uint8_t> cbor = json::to_cbor(doc);
  Bytes out(ZSTD_compressBound(cbor.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), cbor.data(), cbor.size(), 3);
  if (ZSTD_isError(n)) std::abort();  // only a bug can make compressing into the bound fail
  out.resize(n);
  return out;
}

StatusOr<json> DecodeDocument(std::span<const uint8_t> bytes, std::string_view what) {
  const std::string w(what);
  const unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return DataLossError(w + ": the document is not a zstd frame");
  }
  if (size > kMaxDocumentSize) return DataLossError(w + ": the document claims " + std::to_string(size) + " bytes");
  Bytes cbor(size);
  const size_t n = ZSTD_decompress(cbor.data(), cbor.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(n) || n != size) return DataLossError(w + ": the document cannot be decompressed");
  SF_ASSIGN_OR_RETURN(json doc, ParseCbor(cbor, what));
  if (!doc.is_object()) return DataLossError(w + ": the document is not a CBOR map");
  return doc;
}

StatusOr<json> ParseCbor(std::span<const uint8_t> cbor, std::string_view what) {
  // nlohmann's reader throws for some malformed input (a length beyond what it can hold) even
  // when told not to; a damaged repository file must be an error, never an exception.
  try {
    json doc = json::from_cbor(cbor.begin(), cbor.end(), /*strict=*/true, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return DataLossError(std::string(what) + ": not well-formed CBOR");
    return doc;
  } catch (const std::exception& e) {
    return DataLossError(std::string(what) + ": not well-formed CBOR (" + e.what() + ")");
  }
}

StatusOr<std::string> DocString(const json& doc, const char* key, std::string_view what) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) return DataLossError(std::string(what) + ": missing or bad '" + key + "'");
  return it->get<std::string>();
}

StatusOr<int64_t> DocInt(const json& doc, const char* key, std::string_view what) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_integer()) return DataLossError(std::string(what) + ": missing or bad '" + key + "'");
  return it->get<int64_t>();
}

StatusOr<Bytes> DocBytes(const json& doc, const char* key, std::string_view what) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_binary()) return DataLossError(std::string(what) + ": missing or bad '" + key + "'");
  const auto& b = it->get_binary();
  return Bytes(b.begin(), b.end());
}

}  // namespace steadfast::backup
