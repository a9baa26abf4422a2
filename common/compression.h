// zstd compression helpers (the uplink's Content-Encoding: zstd).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace steadfast {

std::string ZstdCompress(std::string_view data, int level = 3);
// Errors: InvalidArgument for damaged input; ResourceExhausted when the decompressed size
// would pass max_output_bytes (a zip bomb is refused, not expanded).
StatusOr<std::string> ZstdDecompress(std::string_view data, size_t max_output_bytes);

}  // namespace steadfast
