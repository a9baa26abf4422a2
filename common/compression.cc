#include "common/compression.h"

#include <zstd.h>

#include <algorithm>
#include <memory>

namespace steadfast {

namespace {

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};
using DCtxPtr = std::unique_ptr<ZSTD_DCtx, DCtxDeleter>;

// A context that has grown past this (a frame with a huge window) is freed after the call
// instead of being kept for the thread's next one.
constexpr size_t kMaxRetainedDCtxBytes = 4u << 20;

// Frames that declare their size are decoded in one call into a buffer of exactly that size,
// but only if the claim is plausible for the input's size: a 20-byte frame that claims 60 MiB
// must not make us allocate 60 MiB before finding out it lies. Otherwise they stream.
constexpr size_t kMaxOneShotRatio = 256;

Status TooLarge(size_t max_output_bytes) {
  return ResourceExhaustedError("zstd: decompressed data exceeds " + std::to_string(max_output_bytes) + " bytes");
}

Status Damaged(size_t zstd_error) {
  return InvalidArgumentError(std::string("zstd: damaged input: ") + ZSTD_getErrorName(zstd_error));
}

// Streaming decompression into `out`, which grows only as far as the data really
// decompresses and never past max_output_bytes + 1 (one byte more tells us the limit is
// passed): a frame that omits or lies about its size cannot make us allocate more.
StatusOr<std::string> DecompressStreaming(ZSTD_DCtx* ctx, std::string_view data, size_t max_output_bytes) {
  const size_t cap_limit = max_output_bytes == SIZE_MAX ? max_output_bytes : max_output_bytes + 1;
  std::string out(std::min(ZSTD_DStreamOutSize(), cap_limit), '\0');
  size_t produced = 0;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t last = 1;  // 0 once the current frame is complete and fully flushed
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= cap_limit) return TooLarge(max_output_bytes);
      out.resize(std::min(out.size() * 2, cap_limit));
    }
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    const size_t in_before = in.pos;
    last = ZSTD_decompressStream(ctx, &ob, &in);
    if (ZSTD_isError(last)) return Damaged(last);
    produced += ob.pos;
    if (produced > max_output_bytes) return TooLarge(max_output_bytes);
    if (in.pos == in.size && last == 0) break;  // every frame complete and flushed
    // Nothing consumed, nothing produced although there was room: the input ends mid-frame.
    if (ob.pos == 0 && in.pos == in_before) break;
  }
  if (last != 0) return InvalidArgumentError("zstd: truncated input");
  out.resize(produced);
  return out;
}

}  // namespace

std::string ZstdCompress(std::string_view data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  // Compressing into a buffer of ZSTD_compressBound bytes cannot fail for valid levels.
  SF_CHECK(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

StatusOr<std::string> ZstdDecompress(std::string_view data, size_t max_output_bytes) {
  // One context per thread, reused: creating one allocates and initialises ~100 KiB, which on
  // the collector's ingest path cost more than decompressing a typical report batch.
  if (data.empty()) return InvalidArgumentError("zstd: truncated input");
  thread_local DCtxPtr cached;
  DCtxPtr ctx = std::move(cached);
  if (ctx == nullptr) ctx.reset(ZSTD_createDCtx());
  if (ctx == nullptr) return InternalError("zstd: cannot allocate a decompression context");
  // The previous call may have stopped mid-frame (damaged input, limit reached).
  ZSTD_DCtx_reset(ctx.get(), ZSTD_reset_session_only);

  StatusOr<std::string> result = [&]() -> StatusOr<std::string> {
    // A single frame that declares its size (as ZSTD_compress writes it) is decoded in one
    // call into a buffer of exactly that size; zstd checks that the frame decodes to exactly
    // the declared size, so a claim over the limit is refused at once. Everything else
    // (several frames, no declared size, damaged or truncated input) streams.
    const size_t frame_bytes = ZSTD_findFrameCompressedSize(data.data(), data.size());
    if (!ZSTD_isError(frame_bytes) && frame_bytes == data.size()) {
      const unsigned long long declared = ZSTD_getFrameContentSize(data.data(), data.size());
      if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
        if (declared > max_output_bytes) return TooLarge(max_output_bytes);
        if (declared / kMaxOneShotRatio <= data.size()) {
          std::string out(static_cast<size_t>(declared), '\0');
          size_t n = ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), data.data(), data.size());
          if (ZSTD_isError(n)) return Damaged(n);
          out.resize(n);
          return out;
        }
      }
    }
    return DecompressStreaming(ctx.get(), data, max_output_bytes);
  }();

  if (ZSTD_sizeof_DCtx(ctx.get()) <= kMaxRetainedDCtxBytes) cached = std::move(ctx);
  return result;
}

}  // namespace steadfast
