#include "common/compression.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <string>
#include <thread>

namespace steadfast {
namespace {

TEST(CompressionTest, RoundTrips) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "result " + std::to_string(i) + "\n";
  std::string packed = ZstdCompress(data);
  EXPECT_LT(packed.size(), data.size());
  auto back = ZstdDecompress(packed, data.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, data);
  EXPECT_EQ(*ZstdDecompress(ZstdCompress(""), 10), "");
}

TEST(CompressionTest, RejectsGarbage) {
  auto r = ZstdDecompress("this is not zstd at all", 1 << 20);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(CompressionTest, RejectsTruncatedFrame) {
  std::string packed = ZstdCompress(std::string(100000, 'x') + "tail");
  auto r = ZstdDecompress(packed.substr(0, packed.size() - 3), 1 << 20);
  EXPECT_FALSE(r.ok());
}

TEST(CompressionTest, RefusesBombs) {
  std::string packed = ZstdCompress(std::string(50 << 20, '\0'));
  EXPECT_LT(packed.size(), 10000u);
  auto r = ZstdDecompress(packed, 1 << 20);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

// A frame without a declared content size (as a streaming compressor writes it), so the
// decompressor cannot size its output up front.
std::string CompressWithoutSize(const std::string& data) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_contentSizeFlag, 0);
  std::string out(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t left = 0;
  do {
    left = ZSTD_compressStream2(ctx, &ob, &in, ZSTD_e_end);
  } while (left != 0 && !ZSTD_isError(left));
  ZSTD_freeCCtx(ctx);
  EXPECT_FALSE(ZSTD_isError(left));
  out.resize(ob.pos);
  return out;
}

std::string Text(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i * 7919 % 100003) + "\n";
  s.resize(n);
  return s;
}

TEST(CompressionTest, FramesWithoutDeclaredSizeRoundTrip) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{300'000}, size_t{3'000'000}}) {
    std::string data = Text(n);
    std::string packed = CompressWithoutSize(data);
    ASSERT_EQ(ZSTD_getFrameContentSize(packed.data(), packed.size()), ZSTD_CONTENTSIZE_UNKNOWN);
    auto back = ZstdDecompress(packed, n);
    ASSERT_TRUE(back.ok()) << n << ": " << back.status().ToString();
    EXPECT_EQ(*back, data);
  }
}

TEST(CompressionTest, LimitIsExactOnBothPaths) {
  std::string data = Text(200'000);
  for (const std::string& packed : {ZstdCompress(data), CompressWithoutSize(data)}) {
    EXPECT_TRUE(ZstdDecompress(packed, data.size()).ok());
    EXPECT_EQ(ZstdDecompress(packed, data.size() - 1).status().code(), StatusCode::kResourceExhausted);
  }
}

TEST(CompressionTest, RefusesBombsWithoutDeclaredSize) {
  std::string packed = CompressWithoutSize(std::string(50 << 20, '\0'));
  EXPECT_LT(packed.size(), 10000u);
  auto r = ZstdDecompress(packed, 1 << 20);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

TEST(CompressionTest, ConcatenatedFramesDecodeToTheirConcatenation) {
  std::string a = Text(5000), b = Text(70'000);
  auto back = ZstdDecompress(ZstdCompress(a) + CompressWithoutSize(b) + ZstdCompress(a), 2 * a.size() + b.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, a + b + a);
  EXPECT_EQ(ZstdDecompress(ZstdCompress(a) + ZstdCompress(b), a.size() + b.size() - 1).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(CompressionTest, RejectsEmptyAndTrailingGarbage) {
  EXPECT_EQ(ZstdDecompress("", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ZstdDecompress(ZstdCompress("hello") + "junk", 100).ok());
  // A frame header that claims far more than the frame holds.
  std::string packed = ZstdCompress(Text(100'000));
  EXPECT_FALSE(ZstdDecompress(packed.substr(0, 40), 1 << 20).ok());
}

// The decompression context is reused per thread; a call that failed half-way must not
// leave anything behind for the next one.
TEST(CompressionTest, ReusedContextRecoversAfterFailures) {
  std::string data = Text(100'000);
  std::string packed = ZstdCompress(data);
  std::string unsized = CompressWithoutSize(data);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(ZstdDecompress(unsized.substr(0, unsized.size() / 2), 1 << 20).ok());
    EXPECT_FALSE(ZstdDecompress(unsized, 1000).ok());
    EXPECT_FALSE(ZstdDecompress(packed.substr(0, packed.size() - 5), 1 << 20).ok());
    EXPECT_EQ(*ZstdDecompress(unsized, 1 << 20), data);
    EXPECT_EQ(*ZstdDecompress(packed, 1 << 20), data);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(*ZstdDecompress(i % 2 == 0 ? packed : unsized, 1 << 20), data);
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace
}  // namespace steadfast
