#include "common/compression.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace steadfast
