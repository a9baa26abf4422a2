// libFuzzer target: tree blobs (FORMAT.md 7.1) as DecodeTree reads them. A tree comes from a
// repository someone else may have damaged: whatever the bytes, DecodeTree returns nodes or an
// error, never crashes, and what it accepts is safe to restore (EncodeTree takes it back).
#include <cstdlib>

#include "backup/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace steadfast::backup;
  auto nodes = DecodeTree(std::span<const uint8_t>(data, size), "fuzz");
  if (!nodes.ok()) return 0;
  for (const Node& n : *nodes) {
    if (n.name.empty() || n.name == "." || n.name == ".." || n.name.find('/') != std::string::npos) std::abort();
  }
  auto again = EncodeTree(*nodes);
  if (!again.ok()) std::abort();
  auto back = DecodeTree(*again, "fuzz again");
  if (!back.ok() || back->size() != nodes->size()) std::abort();
  return 0;
}
