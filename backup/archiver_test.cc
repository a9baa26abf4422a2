// Backup and restore end to end on a real directory tree: what is restored (with --verify) is
// byte for byte what was backed up, with modes, times and symlinks; a second backup of the same
// data adds nothing; a small change adds little; a damaged pack is named with the file it hurts.
#include "backup/archiver.h"

#include <gtest/gtest.h>

#include "backup/test_util.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "backup/check.h"
#include "backup/reader.h"

namespace steadfast::backup {
namespace {

namespace fs = std::filesystem;

using testing::RandomText;

void Write(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

BackupRequest Req(std::vector<std::string> paths, std::string host = "nas1") {
  BackupRequest r;
  r.paths = std::move(paths);
  r.host = std::move(host);
  return r;
}

RestoreRequest Rst(const std::string& id, const std::string& target, bool verify = false) {
  RestoreRequest r;
  r.snapshot_id = id;
  r.target = target;
  r.verify = verify;
  return r;
}

// Writes `data` into the pipe's write end `fd` on a thread, then closes it (a dump stream).
std::thread FeedPipe(int fd, const std::string& data) {
  return std::thread([fd, &data] {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    ::close(fd);
  });
}

class ArchiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-archiver-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    src_ = dir_ + "/data";
    fs::create_directories(src_ + "/logs/old");
    Write(src_ + "/logs/app.log", std::string(3 << 20, 'x') + "tail");
    Write(src_ + "/logs/old/empty.log", "");
    Write(src_ + "/db.bin", RandomText(5 << 20, 1));
    Write(src_ + "/notes.txt", "hello");
    ::chmod((src_ + "/notes.txt").c_str(), 0640);
    fs::create_symlink("logs/app.log", src_ + "/current.log");
    InitOptions o;
    o.kdf = {64, 1, 1, true};
    o.chunker = {64 << 10, 256 << 10, 1 << 20};  // small chunks: several per file
    auto repo = Repository::Init(NewLocalBackend(dir_ + "/repo"), "pw", o);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    repo_ = std::move(repo).value();
    auto cache = IndexCache::Open(dir_ + "/cache.sqlite");
    ASSERT_TRUE(cache.ok());
    cache_ = std::move(cache).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_, src_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<IndexCache> cache_;
};

TEST_F(ArchiverTest, WhatIsRestoredIsWhatWasBackedUp) {
  auto b = Backup(*repo_, *cache_, [&] { auto r = Req({src_}); r.tags = {"nightly"}; return r; }());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->snapshot.summary.files_new, 4u);
  EXPECT_EQ(b->snapshot.summary.bytes_read, (3u << 20) + 4 + (5u << 20) + 5);
  EXPECT_LT(b->snapshot.summary.bytes_added_stored, (5u << 20) + (1u << 20)) << "the log compresses, the random file not";

  auto r = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/restored", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->mismatches.empty());
  EXPECT_EQ(r->files, 5u) << "four files and a symlink";
  const std::string out = dir_ + "/restored/data";
  for (const char* f : {"/logs/app.log", "/logs/old/empty.log", "/db.bin", "/notes.txt"}) {
    EXPECT_EQ(Read(out + f), Read(src_ + f)) << f;
  }
  EXPECT_EQ(fs::read_symlink(out + "/current.log"), "logs/app.log");
  struct stat a {}, b2 {};
  ASSERT_EQ(::stat((src_ + "/notes.txt").c_str(), &a), 0);
  ASSERT_EQ(::stat((out + "/notes.txt").c_str(), &b2), 0);
  EXPECT_EQ(b2.st_mode & 07777, 0640u);
  EXPECT_EQ(b2.st_mtim.tv_sec, a.st_mtim.tv_sec);
  EXPECT_EQ(b2.st_mtim.tv_nsec, a.st_mtim.tv_nsec);
}

// Several workers load the chunks of one large file at once; one of them writes the file at a
// time and the others hand their chunks over. Every byte lands at its place, and the file's
// times are set once, after its last chunk.
TEST_F(ArchiverTest, ChunksOfOneFileLoadedTogetherAreAllWrittenInPlace) {
  Write(src_ + "/big.bin", RandomText(24 << 20, 7));
  auto b = Backup(*repo_, *cache_, Req({src_ + "/big.bin"}));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  struct stat a {};
  ASSERT_EQ(::stat((src_ + "/big.bin").c_str(), &a), 0);
  for (int workers : {2, 4, 8}) {
    const std::string target = dir_ + "/restored-" + std::to_string(workers);
    RestoreRequest r = Rst(b->snapshot_id, target, true);
    r.workers = workers;
    auto res = Restore(*repo_, *cache_, r);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_TRUE(res->mismatches.empty());
    EXPECT_EQ(res->bytes, 24u << 20);
    EXPECT_TRUE(Read(target + "/big.bin") == Read(src_ + "/big.bin")) << workers << " workers";
    struct stat got {};
    ASSERT_EQ(::stat((target + "/big.bin").c_str(), &got), 0);
    EXPECT_EQ(got.st_mtim.tv_sec, a.st_mtim.tv_sec);
    EXPECT_EQ(got.st_mtim.tv_nsec, a.st_mtim.tv_nsec) << workers << " workers";
  }
}

TEST_F(ArchiverTest, UnchangedDataAddsNothingAndASmallChangeLittle) {
  auto first = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->snapshot.summary.blobs_added, 0u);
  EXPECT_EQ(again->snapshot.summary.bytes_read, 0u) << "unchanged files are taken from the parent, not read";
  EXPECT_EQ(again->snapshot.summary.files_unmodified, 4u);
  EXPECT_EQ(again->snapshot.parent, first->snapshot_id);
  EXPECT_EQ(again->snapshot.summary.bytes_added_stored, 0u);
  EXPECT_EQ(again->snapshot.tree, first->snapshot.tree);

  // 100 bytes changed in the middle of the 5 MiB file: a chunk or two, and the trees above it.
  std::string db = Read(src_ + "/db.bin");
  for (size_t i = 0; i < 100; ++i) db[(2 << 20) + i] ^= 0x5a;
  Write(src_ + "/db.bin", db);
  auto changed = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->snapshot.summary.files_changed, 1u);
  EXPECT_EQ(changed->snapshot.summary.bytes_read, 5u << 20) << "only the changed file is read";
  EXPECT_LE(changed->snapshot.summary.blobs_added, 4u);
  EXPECT_LT(changed->snapshot.summary.bytes_added_stored, 1u << 20);
  auto r = Restore(*repo_, *cache_, Rst(changed->snapshot_id, dir_ + "/r2", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Read(dir_ + "/r2/data/db.bin"), db);

  // Unchanged directories keep their trees; a change of mode alone deep down makes new ones
  // up to the root, and the restore has it.
  ASSERT_EQ(::chmod((src_ + "/logs/old/empty.log").c_str(), 0600), 0);
  auto moded = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(moded.ok());
  EXPECT_NE(moded->snapshot.tree, changed->snapshot.tree);
  EXPECT_EQ(moded->snapshot.summary.bytes_read, 0u);
  auto r3 = Restore(*repo_, *cache_, Rst(moded->snapshot_id, dir_ + "/r3"));
  ASSERT_TRUE(r3.ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/r3/data/logs/old/empty.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto same = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->snapshot.tree, moded->snapshot.tree);
  EXPECT_EQ(same->snapshot.summary.blobs_added, 0u);
}

TEST_F(ArchiverTest, ADamagedPackIsNamedWithTheFileItHolds) {
  auto b = Backup(*repo_, *cache_, Req({src_ + "/notes.txt"}));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto packs = repo_->backend().List(FileType::kData);
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 2u) << "one of data, one of trees";
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  if ((*cache_->PackBlobs((*packs)[0].name))[0].type != BlobType::kData) std::swap((*packs)[0], (*packs)[1]);
  auto bytes = repo_->backend().Load(FileType::kData, (*packs)[0].name);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[kPackPrefix + 2] ^= 1;  // inside the first blob: the file's data
  ASSERT_TRUE(repo_->backend().Save(FileType::kData, (*packs)[0].name, *bytes).ok());
  auto r = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/r3"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("/notes.txt"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find((*packs)[0].name), std::string::npos) << r.status().ToString();
}

TEST_F(ArchiverTest, BadRequestsAreRefusedBeforeAnythingIsWritten) {
  EXPECT_EQ(Backup(*repo_, *cache_, Req({"relative/path"})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(*repo_, *cache_, Req({src_ + "/logs", dir_ + "/logs"})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(*repo_, *cache_, Req({})).status().code(), StatusCode::kInvalidArgument);
  auto missing = Backup(*repo_, *cache_, Req({dir_ + "/nope"}));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir_ + "/nope"), std::string::npos);
  EXPECT_TRUE(repo_->backend().List(FileType::kSnapshot)->empty());
}

TEST_F(ArchiverTest, HardLinksFifosAndSelectedPathsAreRestored) {
  ASSERT_EQ(::link((src_ + "/notes.txt").c_str(), (src_ + "/logs/notes-link.txt").c_str()), 0);
  ASSERT_EQ(::mkfifo((src_ + "/pipe").c_str(), 0600), 0);
  auto b = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto r = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/all", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->links, 1u);
  struct stat a {}, c {};
  ASSERT_EQ(::stat((dir_ + "/all/data/notes.txt").c_str(), &a), 0);
  ASSERT_EQ(::stat((dir_ + "/all/data/logs/notes-link.txt").c_str(), &c), 0);
  EXPECT_EQ(a.st_ino, c.st_ino) << "one file with two names, as it was";
  EXPECT_EQ(a.st_nlink, 2u);
  ASSERT_EQ(::lstat((dir_ + "/all/data/pipe").c_str(), &a), 0);
  EXPECT_TRUE(S_ISFIFO(a.st_mode));

  RestoreRequest some = Rst(b->snapshot_id, dir_ + "/some");
  some.include = {"/data/logs/old", "/data/notes.txt"};
  auto s = Restore(*repo_, *cache_, some);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(fs::exists(dir_ + "/some/data/logs/old/empty.log"));
  EXPECT_EQ(Read(dir_ + "/some/data/notes.txt"), "hello");
  EXPECT_FALSE(fs::exists(dir_ + "/some/data/db.bin"));
  EXPECT_FALSE(fs::exists(dir_ + "/some/data/logs/app.log"));

  some.include = {"/data/nope"};
  some.target = dir_ + "/none";
  EXPECT_EQ(Restore(*repo_, *cache_, some).status().code(), StatusCode::kNotFound);
}

TEST_F(ArchiverTest, AsRootOwnersAndDevicesAreRestored) {
  if (::geteuid() != 0) GTEST_SKIP() << "owners and device nodes need root";
  ASSERT_EQ(::chown((src_ + "/notes.txt").c_str(), 1234, 5678), 0);
  ASSERT_EQ(::mknod((src_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  auto b = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto r = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/own", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/own/data/notes.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  ASSERT_EQ(::lstat((dir_ + "/own/data/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  RestoreRequest mine = Rst(b->snapshot_id, dir_ + "/mine");
  mine.ownership = false;
  ASSERT_TRUE(Restore(*repo_, *cache_, mine).ok());
  ASSERT_EQ(::stat((dir_ + "/mine/data/notes.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "--no-ownership keeps the restoring user";
}

TEST_F(ArchiverTest, VerifyNamesAFileThatDiffersFromTheBackup) {
  auto b = Backup(*repo_, *cache_, Req({src_}));
  ASSERT_TRUE(b.ok());
  auto r = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/v", true));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  BlobReader reader(*repo_, *cache_);
  auto tree = reader.LoadTree(b->snapshot.tree, "/");
  ASSERT_TRUE(tree.ok());
  auto data = reader.LoadTree(*(*tree)[0].subtree, "/data");
  ASSERT_TRUE(data.ok());
  const Node* db = nullptr;
  for (const Node& n : *data) if (n.name == "db.bin") db = &n;
  ASSERT_NE(db, nullptr);
  std::vector<uint32_t> lengths;
  for (const BlobId& id : db->content) lengths.push_back(*reader.Length(id));
  BlobHasher hasher(repo_->key().id);
  const std::string path = dir_ + "/v/data/db.bin";
  EXPECT_EQ(CompareFile(path, *db, lengths, hasher), "");
  std::string bytes = Read(path);
  bytes[(1 << 20) + 7] ^= 1;
  Write(path, bytes);
  EXPECT_NE(CompareFile(path, *db, lengths, hasher).find("differ"), std::string::npos);
  Write(path, bytes.substr(0, 100));
  EXPECT_NE(CompareFile(path, *db, lengths, hasher).find("shorter"), std::string::npos);
  EXPECT_EQ(db->digest, FileDigest(repo_->key().id, db->size, db->content));
}

TEST_F(ArchiverTest, ManySmallFilesExcludesAndProgress) {
  fs::create_directories(src_ + "/many/cache");
  for (int i = 0; i < 600; ++i) Write(src_ + "/many/f" + std::to_string(i), RandomText(100 + i, 100 + i));
  Write(src_ + "/many/cache/skip.tmp", "x");
  Write(src_ + "/many/keep.tmp", "y");
  BackupRequest req = Req({src_});
  req.excludes = {"*.tmp", src_ + "/logs"};
  req.workers = 3;
  int calls = 0;
  Progress last;
  req.progress = [&](const Progress& p) {
    ++calls;
    last = p;
  };
  auto b = Backup(*repo_, *cache_, req);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_GE(calls, 1);
  EXPECT_TRUE(last.totals_final);
  EXPECT_EQ(last.files, 602u) << "db.bin, notes.txt and the 600";
  auto r = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/m", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->mismatches.empty());
  EXPECT_EQ(Read(dir_ + "/m/data/many/f599"), Read(src_ + "/many/f599"));
  EXPECT_FALSE(fs::exists(dir_ + "/m/data/many/keep.tmp"));
  EXPECT_FALSE(fs::exists(dir_ + "/m/data/logs"));
  EXPECT_TRUE(fs::exists(dir_ + "/m/data/many/cache"));
}

// A backend whose disk fills up after `room` pack files.
class FullDiskBackend : public Backend {
 public:
  FullDiskBackend(std::unique_ptr<Backend> inner, int room) : inner_(std::move(inner)), room_(room) {}
  std::string Location() const override { return inner_->Location(); }
  Status Create() override { return inner_->Create(); }
  Status Save(FileType type, const std::string& name, std::span<const uint8_t> data) override {
    if (type == FileType::kData && room_-- <= 0) return ResourceExhaustedError("no space left on device");
    return inner_->Save(type, name, data);
  }
  StatusOr<std::vector<uint8_t>> Load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    return inner_->Load(type, name, offset, length);
  }
  StatusOr<uint64_t> Size(FileType type, const std::string& name) override { return inner_->Size(type, name); }
  Status Remove(FileType type, const std::string& name) override { return inner_->Remove(type, name); }
  StatusOr<std::vector<FileInfo>> List(FileType type) override { return inner_->List(type); }

 private:
  std::unique_ptr<Backend> inner_;
  std::atomic<int> room_;
};

// A backend whose reads of data packs are slow (a disk far away) and counted.
class SlowReadsBackend : public Backend {
 public:
  explicit SlowReadsBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  std::string Location() const override { return inner_->Location(); }
  Status Create() override { return inner_->Create(); }
  Status Save(FileType type, const std::string& name, std::span<const uint8_t> data) override {
    return inner_->Save(type, name, data);
  }
  StatusOr<std::vector<uint8_t>> Load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    Slow(type);
    return inner_->Load(type, name, offset, length);
  }
  Status LoadInto(FileType type, const std::string& name, std::vector<uint8_t>& out, uint64_t offset,
                  uint64_t length) override {
    Slow(type);
    return inner_->LoadInto(type, name, out, offset, length);
  }
  StatusOr<uint64_t> Size(FileType type, const std::string& name) override { return inner_->Size(type, name); }
  Status Remove(FileType type, const std::string& name) override { return inner_->Remove(type, name); }
  StatusOr<std::vector<FileInfo>> List(FileType type) override { return inner_->List(type); }

  std::atomic<int> reads{0};
  std::atomic<int> delay_ms{50};

 private:
  void Slow(FileType type) {
    if (type != FileType::kData) return;
    ++reads;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
  }
  std::unique_ptr<Backend> inner_;
};

// 400 one-chunk files lie next to each other in one pack. Restored from a slow disk, they come
// in a few reads (each worker takes the neighbouring chunks queued behind its own), not 400; and
// when the pack is cut short, the error names the file whose chunk is missing, not the first
// file of the read that failed.
class SmallFilesRestoreTest : public ArchiverTest {
 protected:
  void SetUp() override {
    ArchiverTest::SetUp();
    fs::create_directories(src_ + "/many");
    for (int i = 0; i < 400; ++i) Write(src_ + "/many/f" + std::to_string(i), RandomText(200 + i, 300 + i));
    auto b = Backup(*repo_, *cache_, Req({src_ + "/many"}));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    snapshot_ = b->snapshot_id;
    auto slow = std::make_unique<SlowReadsBackend>(NewLocalBackend(dir_ + "/repo"));
    slow_ = slow.get();
    auto repo = Repository::Open(std::move(slow), "pw");
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    slow_repo_ = std::move(repo).value();
  }
  StatusOr<RestoreResult> RestoreSlowly(const std::string& target) {
    RestoreRequest r = Rst(snapshot_, target, true);
    r.workers = 2;
    return Restore(*slow_repo_, *cache_, r);
  }
  std::string snapshot_;
  SlowReadsBackend* slow_ = nullptr;
  std::unique_ptr<Repository> slow_repo_;
};

TEST_F(SmallFilesRestoreTest, NeighbouringChunksAreReadTogether) {
  auto r = RestoreSlowly(dir_ + "/together");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->mismatches.empty());
  EXPECT_EQ(r->files, 400u);
  for (int i : {0, 1, 137, 398, 399}) {
    const std::string name = "/many/f" + std::to_string(i);
    EXPECT_EQ(Read(dir_ + "/together" + name), Read(src_ + name)) << name;
  }
  EXPECT_LE(slow_->reads.load(), 100) << "one read per file would be 400";
}

TEST_F(SmallFilesRestoreTest, APackCutShortNamesTheFileWhoseChunkIsMissing) {
  // The pack of file data, and the file whose chunk lies last in it.
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  auto packs = cache_->Packs();
  ASSERT_TRUE(packs.ok());
  std::string pack;
  PackEntry last;
  for (const auto& [name, count] : *packs) {
    auto entries = cache_->PackBlobs(name);
    ASSERT_TRUE(entries.ok());
    for (const PackEntry& e : *entries) {
      if (e.type == BlobType::kData && e.offset >= last.offset) {
        pack = name;
        last = e;
      }
    }
  }
  ASSERT_FALSE(pack.empty());
  BlobHasher hasher(repo_->key().id);
  std::string holder;
  for (int i = 0; i < 400; ++i) {
    const std::string name = "/many/f" + std::to_string(i);
    const std::string data = Read(src_ + name);
    if (hasher.Id(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size())) == last.id) holder = name;
  }
  ASSERT_FALSE(holder.empty());
  // Cut inside that chunk: every other chunk is whole.
  auto bytes = repo_->backend().Load(FileType::kData, pack);
  ASSERT_TRUE(bytes.ok());
  bytes->resize(last.offset + 1);
  ASSERT_TRUE(repo_->backend().Save(FileType::kData, pack, *bytes).ok());
  slow_->delay_ms = 5;  // still reads of many chunks; the failed one's then read one by one
  auto r = RestoreSlowly(dir_ + "/cut");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find(holder + ": data/" + pack), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("past its end"), std::string::npos) << r.status().ToString();
}

TEST_F(ArchiverTest, AFullDiskFailsTheBackupCleanlyAndAddsNoSnapshot) {
  for (int i = 0; i < 12; ++i) Write(src_ + "/big" + std::to_string(i), RandomText(1 << 20, 50 + i));
  InitOptions o;
  o.kdf = {64, 1, 1, true};
  o.chunker = {64 << 10, 256 << 10, 1 << 20};
  o.pack_size = 1 << 20;
  auto repo = Repository::Init(std::make_unique<FullDiskBackend>(NewMemoryBackend(), 3), "pw", o);
  ASSERT_TRUE(repo.ok());
  auto cache = IndexCache::Open(":memory:");
  for (int workers : {1, 2, 4}) {
    BackupRequest r = Req({src_});
    r.workers = workers;
    auto b = Backup(**repo, **cache, r);
    ASSERT_FALSE(b.ok()) << "workers " << workers;
    EXPECT_EQ(b.status().code(), StatusCode::kResourceExhausted) << b.status().ToString();
    EXPECT_NE(b.status().message().find("no space"), std::string::npos);
  }
  EXPECT_TRUE((*repo)->backend().List(FileType::kSnapshot)->empty());
}

TEST_F(ArchiverTest, TwoHostsBackUpIntoOneRepositoryAtOnce) {
  // Two machines, each with its own copy of the repository handle and its own index cache,
  // share data (db.bin) and each have their own; both back up at the same time.
  fs::create_directories(dir_ + "/other");
  Write(dir_ + "/other/db.bin", Read(src_ + "/db.bin"));
  Write(dir_ + "/other/own.bin", RandomText(2 << 20, 77));
  auto repo2 = Repository::Open(NewLocalBackend(dir_ + "/repo"), "pw");
  ASSERT_TRUE(repo2.ok());
  auto cache2 = IndexCache::Open(dir_ + "/cache2.sqlite");
  ASSERT_TRUE(cache2.ok());
  StatusOr<BackupResult> a = InternalError("not run"), b = InternalError("not run");
  std::thread one([&] { a = Backup(*repo_, *cache_, Req({src_}, "nas1")); });
  std::thread two([&] { b = Backup(**repo2, **cache2, Req({dir_ + "/other"}, "nas2")); });
  one.join();
  two.join();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto restored = Restore(**repo2, **cache2, Rst(a->snapshot_id, dir_ + "/ra", true));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(restored->mismatches.empty());
  auto restored2 = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/rb", true));
  ASSERT_TRUE(restored2.ok()) << restored2.status().ToString();
  EXPECT_EQ(Read(dir_ + "/rb/other/own.bin"), Read(dir_ + "/other/own.bin"));
  // The chunks both stored at the same moment are duplicates, which check accepts.
  CheckOptions c;
  c.read_data = true;
  auto report = Check(*repo_, *cache_, c);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->errors[0];
  EXPECT_EQ(report->snapshots, 2u);
}

// A file of at least 8 chunks' maximum has its second half chunked ahead on another core; the
// cuts must be exactly those of chunking it alone, front to back (as --stdin does): the same
// bytes through stdin then add no data at all. Also for data without content-defined cuts
// (every chunk the maximum), where the two halves may never meet.
TEST_F(ArchiverTest, ChunkingAheadCutsWhereChunkingAloneDoes) {
  for (const std::string& data :
       {RandomText(20 << 20, 11), std::string((20 << 20) + 100'000, 'x'),
        RandomText(9 << 20, 12) + std::string(3 << 20, 'y') + RandomText(5 << 20, 13)}) {
    Write(src_ + "/big.bin", data);
    BackupRequest file = Req({src_ + "/big.bin"});
    file.workers = 2;
    auto a = Backup(*repo_, *cache_, file);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::thread writer = FeedPipe(fds[1], data);
    BackupRequest in;
    in.stdin_fd = fds[0];
    in.stdin_filename = "big.bin";
    in.workers = 2;
    auto b = Backup(*repo_, *cache_, in);
    writer.join();
    ::close(fds[0]);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->snapshot.summary.bytes_read, data.size());
    EXPECT_LT(b->snapshot.summary.bytes_added_stored, 4096u) << "only the new tree: every chunk was known";
    auto r = Restore(*repo_, *cache_, Rst(a->snapshot_id, dir_ + "/r" + std::to_string(data.size()), true));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

// With two or more workers, files of 1 MiB and more are read on the reader thread, and those a
// directory listing shows ahead of the walk are handed to it early (so a large file after a
// directory of small files is read while the walk is in that directory). The snapshot must be
// exactly what one thread reading everything in order makes: the same tree, the same counts, on
// the first backup and on one after changes. A directory of 2,600 entries with large files in
// it also makes the walk wait for the reader (more entries waiting than it lets wait).
TEST_F(ArchiverTest, ReadingLargeFilesAheadGivesTheTreeOfReadingInOrder) {
  const std::string tree = dir_ + "/tree";
  fs::create_directories(tree + "/a-many");
  for (int i = 0; i < 2600; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/f%05d.txt", i);
    Write(tree + "/a-many" + name, RandomText(static_cast<size_t>(100 + i % 3000), static_cast<uint64_t>(i)));
  }
  Write(tree + "/a-many/f00100.big", RandomText(3 << 20, 101));
  Write(tree + "/a-many/f02000.big", RandomText((1 << 20) + 7, 102));
  for (int i = 0; i < 4; ++i) Write(tree + "/z-big-" + std::to_string(i), RandomText((2 << 20) + i * 333'333, 200 + i));
  Write(tree + "/z-small", "small");

  const auto backup = [&](const std::string& host, int workers) {
    BackupRequest r = Req({tree}, host);
    r.workers = workers;
    auto b = Backup(*repo_, *cache_, r);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : BackupResult{};
  };
  const auto same = [](const BackupResult& one, const BackupResult& ahead) {
    EXPECT_EQ(ahead.snapshot.tree, one.snapshot.tree);
    EXPECT_EQ(ahead.snapshot.summary.files_new, one.snapshot.summary.files_new);
    EXPECT_EQ(ahead.snapshot.summary.files_changed, one.snapshot.summary.files_changed);
    EXPECT_EQ(ahead.snapshot.summary.files_unmodified, one.snapshot.summary.files_unmodified);
    EXPECT_EQ(ahead.snapshot.summary.bytes_read, one.snapshot.summary.bytes_read);
    EXPECT_TRUE(ahead.warnings.empty());
  };
  const BackupResult one = backup("one", 1);
  const BackupResult ahead = backup("ahead", 2);
  same(one, ahead);
  EXPECT_EQ(ahead.snapshot.summary.files_new, 2607u);
  EXPECT_EQ(ahead.snapshot.summary.bytes_added_stored, 0u) << "the same tree and chunks: nothing new";

  // Changes: large files rewritten in the big directory and after it, one grown, one new, small
  // files edited.
  Write(tree + "/a-many/f00100.big", RandomText(3 << 20, 111));
  Write(tree + "/z-big-1", RandomText(5 << 20, 121));
  Write(tree + "/z-big-3", Read(tree + "/z-big-3") + RandomText(1 << 20, 123));
  Write(tree + "/z-big-new", RandomText(1 << 20, 124));
  for (int i = 0; i < 2600; i += 97) {
    char name[32];
    std::snprintf(name, sizeof name, "/f%05d.txt", i);
    Write(tree + "/a-many" + name, "edited " + std::to_string(i));
  }
  const BackupResult one2 = backup("one", 1);
  const BackupResult ahead2 = backup("ahead", 2);
  EXPECT_EQ(ahead2.snapshot.parent, ahead.snapshot_id);
  same(one2, ahead2);
  EXPECT_EQ(ahead2.snapshot.summary.files_new, 1u);
  EXPECT_EQ(ahead2.snapshot.summary.files_changed, 3u + 27u);
  auto r = Restore(*repo_, *cache_, Rst(ahead2.snapshot_id, dir_ + "/restored", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->mismatches.empty());
  EXPECT_EQ(Read(dir_ + "/restored/tree/z-big-3"), Read(tree + "/z-big-3"));
}

TEST_F(ArchiverTest, StdinAndAnOnlineSqliteCopy) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string dump = RandomText(3 << 20, 7) + std::string(1 << 20, 'd');
  std::thread writer = FeedPipe(fds[1], dump);
  BackupRequest in;
  in.stdin_fd = fds[0];
  in.stdin_filename = "pg_dump.sql";
  auto b = Backup(*repo_, *cache_, in);
  writer.join();
  ::close(fds[0]);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->snapshot.source, "stdin");
  auto r = Restore(*repo_, *cache_, Rst(b->snapshot_id, dir_ + "/s", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Read(dir_ + "/s/pg_dump.sql"), dump);

  // A database with a writer's transaction open: the copy is of the committed state.
  const std::string db = dir_ + "/app.db";
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "BEGIN; INSERT INTO t VALUES (3);", nullptr, nullptr, nullptr), SQLITE_OK);
  BackupRequest q;
  q.sqlite_databases = {db};
  auto sb = Backup(*repo_, *cache_, q);
  sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(h);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_EQ(sb->snapshot.source, "sqlite");
  ASSERT_TRUE(Restore(*repo_, *cache_, Rst(sb->snapshot_id, dir_ + "/q")).ok());
  sqlite3* back = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/q/app.db").c_str(), &back), SQLITE_OK);
  int64_t count = -1;
  sqlite3_exec(back, "SELECT count(*) FROM t", [](void* out, int, char** v, char**) {
    *static_cast<int64_t*>(out) = std::atoll(v[0]);
    return 0;
  }, &count, nullptr);
  sqlite3_close(back);
  EXPECT_EQ(count, 2);

  BackupRequest bad;
  bad.sqlite_databases = {src_ + "/notes.txt"};
  auto nb = Backup(*repo_, *cache_, bad);
  EXPECT_FALSE(nb.ok());
  EXPECT_NE(nb.status().message().find("notes.txt"), std::string::npos) << nb.status().ToString();
}

}  // namespace
}  // namespace steadfast::backup
