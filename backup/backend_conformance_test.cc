// Every backend passes the same suite (a local directory, memory; S3 later): atomic saves of
// content-addressed files, ranged loads, sizes, listing that never shows a half-written file,
// removal, and errors that say what and where.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "backup/backend.h"
#include "backup/crypto.h"
#include "backup/pack.h"
#include "backup/test_util.h"

namespace steadfast::backup {
namespace {

struct Factory {
  std::string name;
  std::function<std::unique_ptr<Backend>(const std::string& dir)> make;
};

class BackendConformanceTest : public ::testing::TestWithParam<Factory> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-backend-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = GetParam().make(dir_ + "/repo");
    ASSERT_TRUE(backend_->Create().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
  static std::string NameOf(const std::string& s) { return Hex(Sha256(Bytes(s))); }

  std::string dir_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(BackendConformanceTest, SavedFilesLoadWholeOrByRangeAndHaveTheirSize) {
  const std::string pack = "pack bytes: 0123456789";
  const std::string name = NameOf(pack);
  ASSERT_TRUE(backend_->Save(FileType::kData, name, Bytes(pack)).ok());
  auto all = backend_->Load(FileType::kData, name);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(std::string(all->begin(), all->end()), pack);
  auto part = backend_->Load(FileType::kData, name, 12, 4);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(std::string(part->begin(), part->end()), "0123");
  auto tail = backend_->Load(FileType::kData, name, 16);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(std::string(tail->begin(), tail->end()), "456789");
  EXPECT_EQ(*backend_->Size(FileType::kData, name), pack.size());
  auto past = backend_->Load(FileType::kData, name, 20, 10);
  EXPECT_EQ(past.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(past.status().message().find("past its end"), std::string::npos);

  // LoadInto gives the whole file, into a buffer that held something longer or shorter before.
  for (size_t before : {size_t{0}, size_t{5}, size_t{100}}) {
    std::vector<uint8_t> into(before, 0xee);
    ASSERT_TRUE(backend_->LoadInto(FileType::kData, name, into).ok());
    EXPECT_EQ(std::string(into.begin(), into.end()), pack) << "after " << before << " bytes";
  }
  // And a range, into a buffer that held a longer or a shorter one; past the end is refused.
  std::vector<uint8_t> range;
  struct Range {
    uint64_t offset, length;
    std::string want;
  };
  for (const Range& r : {Range{12, 4, "0123"}, Range{0, 2, "pa"}, Range{16, 0, "456789"}, Range{10, 12, pack.substr(10)}}) {
    ASSERT_TRUE(backend_->LoadInto(FileType::kData, name, range, r.offset, r.length).ok()) << r.offset << "+" << r.length;
    EXPECT_EQ(std::string(range.begin(), range.end()), r.want) << r.offset << "+" << r.length;
  }
  EXPECT_EQ(backend_->LoadInto(FileType::kData, name, range, 20, 10).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> none;
  EXPECT_EQ(backend_->LoadInto(FileType::kData, NameOf("absent"), none).code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->LoadInto(FileType::kData, "not-hex", none).code(), StatusCode::kInvalidArgument);

  // Saving the same content-addressed file again is harmless.
  EXPECT_TRUE(backend_->Save(FileType::kData, name, Bytes(pack)).ok());
  EXPECT_EQ(*backend_->Size(FileType::kData, name), pack.size());
}

// Packs come from page-aligned buffers (PackBuffer), which the local backend writes with
// O_DIRECT: the aligned body straight from the buffer, the tail through the page cache. Every
// byte comes back, whatever the size's remainder, and ranges across the seam load too.
TEST_P(BackendConformanceTest, LargePageAlignedPacksComeBackByteForByte) {
  for (size_t size : {size_t{1} << 20, (size_t{3} << 20) + 123, size_t{4096} * 301 + 1, (size_t{2} << 20) - 1}) {
    const std::string text = testing::RandomText(size, size);
    const std::vector<uint8_t> content(text.begin(), text.end());
    PackBuffer pack(content.begin(), content.end());
    ASSERT_EQ(reinterpret_cast<uintptr_t>(pack.data()) % kPackBufferAlign, 0u);
    const std::string name = Hex(Sha256(content));
    ASSERT_TRUE(backend_->Save(FileType::kData, name, pack).ok()) << size;
    auto back = backend_->Load(FileType::kData, name);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == content) << "a pack of " << size << " bytes came back different";
    const uint64_t seam = size / 4096 * 4096;
    auto across = backend_->Load(FileType::kData, name, seam - 10, size - seam + 10);
    ASSERT_TRUE(across.ok()) << across.status().ToString();
    EXPECT_TRUE(std::equal(across->begin(), across->end(), content.begin() + static_cast<std::ptrdiff_t>(seam - 10)));
    EXPECT_EQ(*backend_->Size(FileType::kData, name), size);
  }
}

TEST_P(BackendConformanceTest, ListingIsPerTypeSortedAndRemovalIsFinal) {
  std::vector<std::string> names;
  for (int i = 0; i < 5; ++i) {
    const std::string body = "snapshot " + std::to_string(i);
    names.push_back(NameOf(body));
    ASSERT_TRUE(backend_->Save(FileType::kSnapshot, names.back(), Bytes(body)).ok());
  }
  ASSERT_TRUE(backend_->Save(FileType::kIndex, NameOf("index"), Bytes("index")).ok());
  ASSERT_TRUE(backend_->Save(FileType::kConfig, "config", Bytes("cfg")).ok());
  std::sort(names.begin(), names.end());
  auto list = backend_->List(FileType::kSnapshot);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> listed;
  for (const FileInfo& f : *list) listed.push_back(f.name);
  EXPECT_EQ(listed, names);
  EXPECT_EQ((*list)[0].size, 10u);
  EXPECT_EQ(backend_->List(FileType::kIndex)->size(), 1u);
  EXPECT_EQ(backend_->List(FileType::kData)->size(), 0u);
  ASSERT_EQ(backend_->List(FileType::kConfig)->size(), 1u);

  ASSERT_TRUE(backend_->Remove(FileType::kSnapshot, names[2]).ok());
  EXPECT_EQ(backend_->List(FileType::kSnapshot)->size(), 4u);
  EXPECT_EQ(backend_->Load(FileType::kSnapshot, names[2]).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Remove(FileType::kSnapshot, names[2]).code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Size(FileType::kSnapshot, names[2]).status().code(), StatusCode::kNotFound);
}

TEST_P(BackendConformanceTest, ARepositoryIsNotCreatedTwiceAndBadNamesAreRefused) {
  ASSERT_TRUE(backend_->Save(FileType::kConfig, "config", Bytes("cfg")).ok());
  Status again = backend_->Create();
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  for (const std::string& bad : std::vector<std::string>{"../../etc/passwd", "ABCDEF", std::string(64, 'g'), std::string(63, 'a'), "config"}) {
    Status st = backend_->Save(FileType::kSnapshot, bad, Bytes("x"));
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("snapshots/"), std::string::npos) << st.ToString();
    EXPECT_EQ(backend_->Load(FileType::kSnapshot, bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(backend_->Save(FileType::kConfig, std::string(64, 'a'), Bytes("x")).code(), StatusCode::kInvalidArgument);
}

TEST_P(BackendConformanceTest, ManyFilesAcrossTheDataFanOut) {
  for (int i = 0; i < 300; ++i) {
    const std::string body = "blob " + std::to_string(i);
    ASSERT_TRUE(backend_->Save(FileType::kData, NameOf(body), Bytes(body)).ok());
  }
  auto list = backend_->List(FileType::kData);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 300u);
  EXPECT_TRUE(std::is_sorted(list->begin(), list->end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; }));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendConformanceTest,
    ::testing::Values(Factory{"local", [](const std::string& dir) { return NewLocalBackend(dir); }},
                      Factory{"memory", [](const std::string&) { return NewMemoryBackend(); }}),
    [](const ::testing::TestParamInfo<Factory>& info) { return info.param.name; });

// The local directory's own promises: FORMAT.md's layout on disk, and a write interrupted
// before its rename (a leftover temporary file) is never listed or loaded.
TEST(LocalBackendTest, TheLayoutIsFormatMdsAndLeftoverTemporaryFilesAreInvisible) {
  char tmpl[] = "/tmp/sf-backend-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = std::string(tmpl) + "/repo";
  auto b = NewLocalBackend(root);
  ASSERT_TRUE(b->Create().ok());
  for (const char* d : {"keys", "data/00", "data/ff", "index", "snapshots", "evidence", "locks"}) {
    EXPECT_TRUE(std::filesystem::is_directory(root + "/" + d)) << d;
  }
  const std::string name = std::string(2, 'a') + std::string(62, '1');
  ASSERT_TRUE(b->Save(FileType::kData, name, std::vector<uint8_t>{1, 2, 3}).ok());
  EXPECT_TRUE(std::filesystem::exists(root + "/data/aa/" + name));
  EXPECT_EQ(std::filesystem::status(root + "/data/aa/" + name).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(root + "/data/aa/.tmp-0123456789abcdef") << "half a pack";
  std::ofstream(root + "/snapshots/.tmp-0123456789abcdef") << "half a snapshot";
  EXPECT_EQ(b->List(FileType::kData)->size(), 1u);
  EXPECT_EQ(b->List(FileType::kSnapshot)->size(), 0u);
  EXPECT_EQ(b->Load(FileType::kData, "aa" + std::string(62, '2')).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(tmpl);
}

// On a filesystem that takes O_DIRECT (ext4 here), a pack's body goes past the page cache: of
// a 3 MiB + 123 byte pack, at most the tail's page is resident after the save, where a buffered
// write leaves all 769 pages there.
TEST(LocalBackendTest, APacksBodyIsWrittenPastThePageCache) {
  char tmpl[] = "/var/tmp/sf-backend-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  struct statfs fs {};
  ASSERT_EQ(::statfs(tmpl, &fs), 0);
  const std::string probe = std::string(tmpl) + "/probe";
  const int probe_fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
  if (probe_fd >= 0) ::close(probe_fd);
  if (fs.f_type == TMPFS_MAGIC || probe_fd < 0) {
    std::filesystem::remove_all(tmpl);
    GTEST_SKIP() << "/var/tmp is tmpfs or refuses O_DIRECT: no page cache to bypass";
  }
  auto b = NewLocalBackend(std::string(tmpl) + "/repo");
  ASSERT_TRUE(b->Create().ok());
  const std::string text = testing::RandomText((size_t{3} << 20) + 123, 11);
  PackBuffer pack(text.begin(), text.end());
  const std::string name = Hex(Sha256(std::vector<uint8_t>(text.begin(), text.end())));
  ASSERT_TRUE(b->Save(FileType::kData, name, pack).ok());

  const std::string path = std::string(tmpl) + "/repo/data/" + name.substr(0, 2) + "/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* map = ::mmap(nullptr, text.size(), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(map, MAP_FAILED);
  const size_t pages = (text.size() + 4095) / 4096;
  std::vector<unsigned char> resident(pages);
  ASSERT_EQ(::mincore(map, text.size(), resident.data()), 0);
  ::munmap(map, text.size());
  size_t in_cache = 0;
  for (unsigned char r : resident) in_cache += r & 1;
  EXPECT_LE(in_cache, 1u) << in_cache << " of " << pages << " pages in the page cache";
  std::filesystem::remove_all(tmpl);
}

// On tmpfs (/dev/shm), which may refuse O_DIRECT, a pack is written through the page cache
// instead, and comes back whole.
TEST(LocalBackendTest, APackOnAFilesystemWithoutDirectWritesIsStillWritten) {
  if (!std::filesystem::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  char tmpl[] = "/dev/shm/sf-backend-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  auto b = NewLocalBackend(std::string(tmpl) + "/repo");
  ASSERT_TRUE(b->Create().ok());
  const std::string text = testing::RandomText((size_t{2} << 20) + 77, 9);
  const std::vector<uint8_t> content(text.begin(), text.end());
  PackBuffer pack(content.begin(), content.end());
  const std::string name = Hex(Sha256(content));
  Status st = b->Save(FileType::kData, name, pack);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto back = b->Load(FileType::kData, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == content);
  std::filesystem::remove_all(tmpl);
}

TEST(LocalBackendTest, AMissingTargetIsNamedInTheError) {
  auto b = NewLocalBackend("/nonexistent-sf-dir/deeper/repo");
  Status st = b->Create();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent-sf-dir/deeper/repo"), std::string::npos) << st.ToString();
  auto list = b->List(FileType::kSnapshot);
  EXPECT_EQ(list.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace steadfast::backup
