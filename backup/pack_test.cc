// Packs (FORMAT.md 5.3): blobs come back as they went in, compressed only when that pays; the
// header alone lists them; the name is the hash of the bytes; and any damage — a flipped bit,
// a truncation, a blob moved or relabelled, another key — is refused and named.
#include "backup/pack.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <thread>

#include <chrono>

#include <atomic>

#include <map>
#include <random>
#include <string>

namespace steadfast::backup {
namespace {

Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

Bytes Text(size_t n) {
  Bytes out;
  while (out.size() < n) {
    const std::string line = "2026-11-29T10:00:00Z host db1 check disk status ok used 41%\n";
    out.insert(out.end(), line.begin(), line.end());
  }
  out.resize(n);
  return out;
}

class PackTest : public ::testing::Test {
 protected:
  MasterKey key_ = MasterKey::Generate(Cipher::kAes256Gcm);
  BlobHasher hasher_{key_.id};

  struct Input {
    BlobType type;
    Bytes data;
  };

  PackWriter::Pack Write(const std::vector<Input>& blobs, int level = 3) {
    PackWriter w(key_, level);
    for (const Input& b : blobs) EXPECT_TRUE(w.Add(b.type, hasher_.Id(b.data), b.data).ok());
    return w.Finish();
  }

  StatusOr<std::vector<PackEntry>> Header(std::span<const uint8_t> pack) {
    return ReadPackHeader(key_, std::span<const uint8_t>(pack.data(), std::min(pack.size(), kPackPrefix)), pack, pack.size(),
                          "data/ab");
  }

  StatusOr<Bytes> Blob(std::span<const uint8_t> pack, const PackEntry& e) {
    return OpenBlob(key_, hasher_, std::span<const uint8_t>(pack.data(), kPackPrefix), e,
                    std::span<const uint8_t>(pack.data() + e.offset, e.stored_length), "data/ab");
  }
};

TEST_F(PackTest, BlobsComeBackAndOnlyCompressibleOnesAreCompressed) {
  const std::vector<Input> blobs = {{BlobType::kData, Text(300'000)},
                                   {BlobType::kData, RandomBytes(200'000, 1)},
                                   {BlobType::kTree, Text(5'000)},
                                   {BlobType::kData, {}}};
  const PackWriter::Pack p = Write(blobs);
  EXPECT_EQ(p.name, Hex(Sha256(p.bytes)));
  EXPECT_EQ(std::string(p.bytes.begin(), p.bytes.begin() + 8), "SFBKPCK1");
  auto header = Header(p.bytes);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_EQ(header->size(), 4u);
  for (size_t i = 0; i < blobs.size(); ++i) {
    const PackEntry& e = (*header)[i];
    EXPECT_EQ(e.id, p.entries[i].id);
    EXPECT_EQ(e.offset, p.entries[i].offset);
    EXPECT_EQ(e.type, blobs[i].type);
    auto data = Blob(p.bytes, e);
    ASSERT_TRUE(data.ok()) << i << ": " << data.status().ToString();
    EXPECT_EQ(*data, blobs[i].data) << i;
  }
  EXPECT_FALSE((*header)[0].raw);
  EXPECT_LT((*header)[0].stored_length, 300'000u / 10) << "log lines compress";
  EXPECT_TRUE((*header)[1].raw) << "random bytes are stored as they are";
  EXPECT_EQ((*header)[1].stored_length, 200'000u + kTagSize);
  EXPECT_TRUE((*header)[3].raw);

  // Level 0 stores everything raw.
  auto raw = Header(Write({{BlobType::kData, Text(10'000)}}, 0).bytes);
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE((*raw)[0].raw);
}

// The level given is the one compressing: level 19 stores less than 1 and 3 (the compressor sets
// its level and, at level 3, a smaller short-match table on its context, then ZSTD_compress2).
TEST(BlobCompressorTest, TheLevelGivenIsTheOneCompressing) {
  std::mt19937_64 rng(7);
  std::vector<std::string> words;
  for (int i = 0; i < 2000; ++i) words.push_back("w" + std::to_string(rng() % 100000));
  Bytes text;
  while (text.size() < 400'000) {
    const std::string& w = words[rng() % words.size()];
    text.insert(text.end(), w.begin(), w.end());
    text.push_back(rng() % 8 == 0 ? '\n' : ' ');
  }
  std::map<int, size_t> stored;
  for (int level : {1, 3, 19}) {
    BlobCompressor c(level);
    const BlobCompressor::Result r = c.Compress(text);
    ASSERT_FALSE(r.raw) << level;
    stored[level] = r.payload.size();
    const unsigned long long size = ZSTD_getFrameContentSize(r.payload.data(), r.payload.size());
    EXPECT_EQ(size, text.size()) << "the frame records its size (readers check it): level " << level;
    Bytes back(text.size());
    EXPECT_EQ(ZSTD_decompress(back.data(), back.size(), r.payload.data(), r.payload.size()), text.size());
    EXPECT_EQ(back, text) << level;
  }
  EXPECT_LT(stored[19], stored[3]);
  EXPECT_LT(stored[19], stored[1]);
}

TEST_F(PackTest, TheHeaderReadsFromThePacksEndsAlone) {
  const PackWriter::Pack p = Write({{BlobType::kData, Text(100'000)}, {BlobType::kData, RandomBytes(50'000, 2)}});
  const size_t tail = 4 + kTagSize + 2 * kPackEntrySize;
  auto header = ReadPackHeader(key_, std::span<const uint8_t>(p.bytes.data(), kPackPrefix),
                               std::span<const uint8_t>(p.bytes.data() + p.bytes.size() - tail, tail), p.bytes.size(), "x");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->size(), 2u);
  // Too little of the end is not damage: the error says how much to read.
  auto short_tail = ReadPackHeader(key_, std::span<const uint8_t>(p.bytes.data(), kPackPrefix),
                                   std::span<const uint8_t>(p.bytes.data() + p.bytes.size() - 20, 20), p.bytes.size(), "x");
  EXPECT_EQ(short_tail.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(short_tail.status().message().find("needs the last " + std::to_string(tail) + " bytes"), std::string::npos)
      << short_tail.status().ToString();
}

TEST_F(PackTest, EveryFlippedBitIsRefused) {
  const PackWriter::Pack p = Write({{BlobType::kData, Text(2'000)}, {BlobType::kTree, RandomBytes(300, 3)}});
  size_t refused = 0;
  for (size_t i = 0; i < p.bytes.size(); ++i) {
    Bytes bad(p.bytes.begin(), p.bytes.end());
    bad[i] ^= 0x04;
    auto header = Header(bad);
    bool ok = header.ok();
    if (ok) {
      for (const PackEntry& e : *header) ok = ok && Blob(bad, e).ok();
    }
    EXPECT_FALSE(ok) << "byte " << i << " of " << p.bytes.size();
    refused += ok ? 0 : 1;
  }
  EXPECT_EQ(refused, p.bytes.size());
}

TEST_F(PackTest, TruncationAnotherKeyAndAMovedBlobAreNamed) {
  const PackWriter::Pack p = Write({{BlobType::kData, Text(2'000)}, {BlobType::kData, Text(3'000)}});
  Bytes cut(p.bytes.begin(), p.bytes.end() - 10);
  auto truncated = Header(cut);
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(truncated.status().message().find("data/ab"), std::string::npos) << truncated.status().ToString();

  const MasterKey other = MasterKey::Generate(Cipher::kAes256Gcm);
  EXPECT_EQ(ReadPackHeader(other, p.bytes, p.bytes, p.bytes.size(), "x").status().code(), StatusCode::kDataLoss);

  auto header = Header(p.bytes);
  ASSERT_TRUE(header.ok());
  // Blob 1's bytes presented as blob 0 (its nonce and id differ): refused, not mixed up.
  PackEntry moved = (*header)[1];
  moved.index = 0;
  EXPECT_EQ(Blob(p.bytes, moved).status().code(), StatusCode::kDataLoss);
  PackEntry relabelled = (*header)[0];
  relabelled.type = BlobType::kTree;
  EXPECT_EQ(Blob(p.bytes, relabelled).status().code(), StatusCode::kDataLoss);

  Bytes not_pack(p.bytes.begin(), p.bytes.end());
  not_pack[0] = 'X';
  EXPECT_NE(Header(not_pack).status().message().find("bad magic"), std::string::npos);
}

TEST_F(PackTest, ChaChaPacksToo) {
  key_ = MasterKey::Generate(Cipher::kChaCha20Poly1305);
  BlobHasher hasher(key_.id);
  PackWriter w(key_, 3);
  const Bytes data = Text(50'000);
  ASSERT_TRUE(w.Add(BlobType::kData, hasher.Id(data), data).ok());
  const PackWriter::Pack p = w.Finish();
  auto header = ReadPackHeader(key_, p.bytes, p.bytes, p.bytes.size(), "x");
  ASSERT_TRUE(header.ok());
  auto back = OpenBlob(key_, hasher, p.bytes, (*header)[0],
                       std::span<const uint8_t>(p.bytes.data() + (*header)[0].offset, (*header)[0].stored_length), "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, data);
}

// The bound on a backup's pack memory: a third Take waits for a Give when two are out.
TEST(BufferPoolTest, AtMostMaxBuffersAreOutAndAFailureOpensThePool) {
  BufferPool pool(2);
  PackBuffer a = pool.Take();
  a.resize(1000);
  PackBuffer b = pool.Take();
  std::atomic<bool> got{false};
  std::thread third([&] {
    PackBuffer c = pool.Take();
    got = true;
    pool.Give(std::move(c));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(got) << "two buffers are out: the third must wait";
  pool.Give(std::move(a));
  third.join();
  EXPECT_TRUE(got);
  PackBuffer reused = pool.Take();
  EXPECT_GE(reused.capacity(), 1000u) << "a given-back buffer is reused";
  EXPECT_TRUE(reused.empty());
  // Two out again (b and reused); after Open a Take no longer waits.
  pool.Open();
  PackBuffer extra = pool.Take();
  (void)extra;
}

}  // namespace
}  // namespace steadfast::backup
