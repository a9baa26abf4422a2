#include "common/compression.h"

#include <zstd.h>

namespace steadfast {

std::string ZstdCompress(std::string_view data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  // Compressing into a buffer of ZSTD_compressBound bytes cannot fail for valid levels.
  SF_CHECK(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

StatusOr<std::string> ZstdDecompress(std::string_view data, size_t max_output_bytes) {
  // Streaming decompression so a frame that lies about (or omits) its content size cannot
  // make us allocate more than max_output_bytes.
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return InternalError("zstd: cannot allocate a decompression context");
  std::string out;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  size_t last = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(ctx, &ob, &in);
    if (ZSTD_isError(last)) {
      std::string msg = std::string("zstd: damaged input: ") + ZSTD_getErrorName(last);
      ZSTD_freeDCtx(ctx);
      return InvalidArgumentError(msg);
    }
    if (out.size() + ob.pos > max_output_bytes) {
      ZSTD_freeDCtx(ctx);
      return ResourceExhaustedError("zstd: decompressed data exceeds " + std::to_string(max_output_bytes) +
                                    " bytes");
    }
    out.append(chunk.data(), ob.pos);
    if (last == 0 && in.pos < in.size) continue;  // next frame
  }
  // Flush whatever the decoder still holds.
  while (last != 0) {
    ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(ctx, &ob, &in);
    if (ZSTD_isError(last)) {
      ZSTD_freeDCtx(ctx);
      return InvalidArgumentError(std::string("zstd: damaged input: ") + ZSTD_getErrorName(last));
    }
    if (ob.pos == 0) break;
    if (out.size() + ob.pos > max_output_bytes) {
      ZSTD_freeDCtx(ctx);
      return ResourceExhaustedError("zstd: decompressed data exceeds " + std::to_string(max_output_bytes) +
                                    " bytes");
    }
    out.append(chunk.data(), ob.pos);
  }
  ZSTD_freeDCtx(ctx);
  if (last != 0) return InvalidArgumentError("zstd: truncated input");
  return out;
}

}  // namespace steadfast
