// libFuzzer target: packs (FORMAT.md 5.3) read as check --read-data and restore read them: the
// header from the pack's ends, then every blob it lists opened and checked against its id.
#include "backup/fuzz/fuzz_key.h"
#include "backup/pack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace steadfast::backup;
  const std::span<const uint8_t> pack(data, size);
  auto header = ReadPackHeader(fuzz::Key(), pack, pack, size, "fuzz");
  if (!header.ok()) return 0;
  static const BlobHasher hasher(fuzz::Key().id);
  for (const PackEntry& e : *header) {
    if (e.offset + e.stored_length > size) __builtin_trap();  // the header's entries must fit the pack
    (void)OpenBlob(fuzz::Key(), hasher, pack.first(kPackPrefix), e, pack.subspan(e.offset, e.stored_length), "fuzz");
  }
  return 0;
}
