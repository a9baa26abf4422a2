// libFuzzer target: the documents inside envelopes (zstd-compressed CBOR, FORMAT.md 2) and the
// readers of index files, snapshots and evidence records on top of them.
#include "backup/document.h"
#include "backup/drill.h"
#include "backup/index.h"
#include "backup/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace steadfast::backup;
  auto doc = DecodeDocument(std::span<const uint8_t>(data, size), "fuzz");
  if (!doc.ok()) return 0;
  std::vector<std::string> supersedes;
  (void)ParseIndexDocument(*doc, "fuzz", &supersedes);
  (void)ParseSnapshotDocument(*doc, "fuzz");
  (void)ParseEvidenceDocument(*doc, "fuzz");
  return 0;
}
