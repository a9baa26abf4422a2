// libFuzzer target: envelopes (FORMAT.md 2) opened with the corpus's key: magic, kind, salt and
// the authentication tag; then the document inside.
#include "backup/crypto.h"
#include "backup/document.h"
#include "backup/fuzz/fuzz_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace steadfast::backup;
  if (size == 0) return 0;
  const auto kind = static_cast<EnvelopeKind>(data[0] % 5 + 1);
  auto plain = OpenEnvelope(fuzz::Key(), kind, std::span<const uint8_t>(data + 1, size - 1), "fuzz");
  if (plain.ok()) (void)DecodeDocument(*plain, "fuzz");
  return 0;
}
