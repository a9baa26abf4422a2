// The chunker (FORMAT.md 5.1): sizes within bounds and clustered around the average, the same
// cuts for the same key and data, different cuts for another key, and an insertion that changes
// only the chunks around it.
#include "backup/chunker.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

namespace steadfast::backup {
namespace {

std::array<uint8_t, 32> Key(uint8_t seed) {
  std::array<uint8_t, 32> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i * 7);
  return k;
}

std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    for (size_t b = 0; b < 8 && i + b < n; ++b) out[i + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  return out;
}

// Every chunk of `data`, as (offset, length).
std::vector<std::pair<size_t, size_t>> Chunks(const Chunker& c, const std::vector<uint8_t>& data) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t at = 0;
  while (at < data.size()) {
    const size_t rest = data.size() - at;
    const size_t len = c.Cut(std::span<const uint8_t>(data.data() + at, std::min(rest, c.params().max)));
    EXPECT_GT(len, 0u);
    if (len == 0) break;
    out.emplace_back(at, len);
    at += len;
  }
  return out;
}

std::set<std::string> Contents(const std::vector<uint8_t>& data, const std::vector<std::pair<size_t, size_t>>& chunks) {
  std::set<std::string> out;
  for (const auto& [off, len] : chunks) out.insert(std::string(data.begin() + static_cast<std::ptrdiff_t>(off), data.begin() + static_cast<std::ptrdiff_t>(off + len)));
  return out;
}

TEST(ChunkerTest, SizesStayWithinBoundsAndClusterAroundTheAverage) {
  const ChunkerParams p;  // 512 KiB / 1 MiB / 8 MiB
  const Chunker c(MakeGearTable(Key(1)), p);
  const std::vector<uint8_t> data = RandomBytes(96 << 20, 42);
  const auto chunks = Chunks(c, data);
  size_t total = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    total += chunks[i].second;
    if (i + 1 < chunks.size()) {
      EXPECT_GT(chunks[i].second, p.min) << i;
      EXPECT_LE(chunks[i].second, p.max) << i;
    }
  }
  EXPECT_EQ(total, data.size());
  const double mean = static_cast<double>(data.size()) / static_cast<double>(chunks.size());
  // Normalised chunking: the mean lands near min + avg rather than spreading to max.
  EXPECT_GT(mean, 0.9 * static_cast<double>(p.avg)) << chunks.size() << " chunks";
  EXPECT_LT(mean, 1.8 * static_cast<double>(p.avg)) << chunks.size() << " chunks";
  size_t at_max = 0;
  for (const auto& [off, len] : chunks) at_max += len == p.max ? 1 : 0;
  EXPECT_LE(at_max, chunks.size() / 50) << "random data rarely runs to the maximum";
}

TEST(ChunkerTest, TheSameKeyCutsTheSameAndAnotherKeyElsewhere) {
  const std::vector<uint8_t> data = RandomBytes(24 << 20, 7);
  const Chunker a(MakeGearTable(Key(1)), {});
  const Chunker a2(MakeGearTable(Key(1)), {});
  const Chunker b(MakeGearTable(Key(2)), {});
  EXPECT_EQ(Chunks(a, data), Chunks(a2, data));
  EXPECT_NE(Chunks(a, data), Chunks(b, data));
  EXPECT_NE(MakeGearTable(Key(1)), MakeGearTable(Key(2)));
}

TEST(ChunkerTest, AnInsertionChangesOnlyTheChunksAroundIt) {
  const Chunker c(MakeGearTable(Key(3)), {});
  std::vector<uint8_t> data = RandomBytes(48 << 20, 99);
  const auto before = Contents(data, Chunks(c, data));
  std::vector<uint8_t> edited = data;
  const std::vector<uint8_t> insert = RandomBytes(100, 5);
  edited.insert(edited.begin() + (20 << 20), insert.begin(), insert.end());
  const auto after = Contents(edited, Chunks(c, edited));
  size_t changed = 0;
  for (const std::string& chunk : after) changed += before.count(chunk) == 0 ? 1 : 0;
  EXPECT_GE(changed, 1u);
  EXPECT_LE(changed, 3u) << "of " << after.size() << " chunks";
}

TEST(ChunkerTest, DataWithoutBoundariesIsCutAtTheMaximumAndTheTailIsOneChunk) {
  const ChunkerParams p{64 * 1024, 128 * 1024, 256 * 1024};
  const Chunker c(MakeGearTable(Key(4)), p);
  const std::vector<uint8_t> zeros((1 << 20) + 1000, 0);
  const auto chunks = Chunks(c, zeros);
  ASSERT_EQ(chunks.size(), 5u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(chunks[i].second, p.max);
  EXPECT_EQ(chunks[4].second, 1000u);
  EXPECT_EQ(c.Cut({}), 0u);
  const std::vector<uint8_t> small(100, 1);
  EXPECT_EQ(c.Cut(small), 100u) << "a stream shorter than min is one chunk";
}

TEST(ChunkerTest, FedInPiecesItCutsWhereItCutsTheWhole) {
  const ChunkerParams p{64 << 10, 128 << 10, 512 << 10};
  const Chunker c(MakeGearTable(Key(3)), p);
  // Random data (boundaries found) followed by a run without any (cut at the maximum).
  std::vector<uint8_t> data = RandomBytes(3 << 20, 11);
  data.resize(data.size() + (2 << 20), 0);
  const auto whole = Chunks(c, data);
  for (uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    std::vector<std::pair<size_t, size_t>> fed;
    size_t start = 0, have = 0;
    Chunker::State st;
    while (start < data.size()) {
      const bool eof = have == data.size();
      const size_t cut = c.Resume(std::span<const uint8_t>(data.data() + start, have - start), st, eof);
      if (cut == 0) {
        ASSERT_FALSE(eof);
        have = std::min(data.size(), have + 1 + rng() % (100 << 10));  // pieces of 1 byte to 100 KiB
        continue;
      }
      fed.emplace_back(start, cut);
      start += cut;
      st = Chunker::State();
    }
    EXPECT_EQ(fed, whole) << "seed " << seed;
  }
}

TEST(ChunkerTest, ParametersAreCheckedWithTheValueNamed) {
  EXPECT_TRUE(ValidateChunkerParams({}).ok());
  Status st = ValidateChunkerParams({512 * 1024, 1000 * 1000, 8 << 20});
  EXPECT_NE(st.message().find("avg: 1000000"), std::string::npos) << st.ToString();
  st = ValidateChunkerParams({32 * 1024, 1 << 20, 8 << 20});
  EXPECT_NE(st.message().find("min"), std::string::npos) << st.ToString();
  st = ValidateChunkerParams({2 << 20, 1 << 20, 8 << 20});
  EXPECT_NE(st.message().find("min < avg < max"), std::string::npos) << st.ToString();
  EXPECT_FALSE(ValidateChunkerParams({512 * 1024, 1 << 20, 128 << 20}).ok());
}

}  // namespace
}  // namespace steadfast::backup
