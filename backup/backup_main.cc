// steadfast-backup: deduplicated, compressed, encrypted backups that are verified, not just
// written. Every command is a call into the steadfast::backup library, which the agent's backup
// jobs use too. See `steadfast-backup --help` and docs/BACKUP.md.
//
// Exit codes: 0 ok, 1 failure, 2 usage, 3 damage found (check, verify, drill, restore --verify).
#include <pwd.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "backup/archiver.h"
#include "backup/check.h"
#include "backup/drill.h"
#include "backup/forget.h"
#include "backup/lock.h"
#include "backup/progress_bar.h"
#include "backup/reader.h"
#include "backup/repository.h"
#include "backup/workers.h"
#include "common/clock.h"
#include "steadfast/version.h"

namespace steadfast::backup {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDamage = 3;

struct Global {
  std::string repo;
  std::string password_file;
  std::string cache_dir;
  bool json = false;
  bool quiet = false;
  bool no_lock = false;
  int threads = 0;
};

int ExitFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    case StatusCode::kDataLoss:
      return kExitDamage;
    default:
      return kExitFailure;
  }
}

int Report(const Global& g, const Status& s) {
  if (g.json) {
    json j = {{"message_type", "error"}, {"code", std::string(StatusCodeName(s.code()))}, {"message", s.message()}};
    std::fputs((j.dump() + "\n").c_str(), stdout);
  }
  std::fprintf(stderr, "steadfast-backup: %s\n", s.message().c_str());
  return ExitFor(s);
}

void Say(const Global& g, const std::string& line) {
  if (!g.quiet && !g.json) std::fputs((line + "\n").c_str(), stdout);
}

void Emit(const json& j) { std::fputs((j.dump() + "\n").c_str(), stdout); }

// Reads a password without echo from the terminal.
StatusOr<std::string> Prompt(const std::string& question) {
  if (::isatty(STDIN_FILENO) == 0) {
    return InvalidArgumentError("no password: give --password-file, set STEADFAST_BACKUP_PASSWORD, or run on a terminal");
  }
  std::fprintf(stderr, "%s", question.c_str());
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::fprintf(stderr, "\n");
  return line;
}

StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgumentError("cannot read the password file " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return InvalidArgumentError("the password file " + path + " is empty");
  return line;
}

StatusOr<std::string> Password(const Global& g) {
  if (!g.password_file.empty()) return ReadPasswordFile(g.password_file);
  if (const char* p = std::getenv("STEADFAST_BACKUP_PASSWORD"); p != nullptr && *p != '\0') return std::string(p);
  return Prompt("password for the repository at " + g.repo + ": ");
}

// A new password (init, key add, key passwd): from --new-password-file, the environment, or
// asked twice.
StatusOr<std::string> NewPassword(const std::string& file, const char* env) {
  if (!file.empty()) return ReadPasswordFile(file);
  if (const char* p = std::getenv(env); p != nullptr && *p != '\0') return std::string(p);
  SF_ASSIGN_OR_RETURN(std::string a, Prompt("new password: "));
  SF_ASSIGN_OR_RETURN(std::string b, Prompt("the new password again: "));
  if (a != b) return InvalidArgumentError("the two passwords differ");
  if (a.empty()) return InvalidArgumentError("an empty password is not allowed");
  return a;
}

std::string CacheDir(const Global& g) {
  if (!g.cache_dir.empty()) return g.cache_dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/steadfast-backup";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.cache/steadfast-backup";
  return "/var/cache/steadfast-backup";
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return FailedPreconditionError("cannot create " + path + ": " + ec.message());
  return OkStatus();
}

struct Opened {
  std::unique_ptr<Repository> repo;
  std::unique_ptr<IndexCache> cache;
  std::unique_ptr<RepositoryLock> lock;
  std::thread refresher;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // under mu: the refresher wakes at once, so a command does not wait for it
  ~Opened() {
    {
      std::lock_guard<std::mutex> l(mu);
      done = true;
    }
    cv.notify_all();
    if (refresher.joinable()) refresher.join();
    if (lock) (void)lock->Release();
  }
};

Status NeedRepo(const Global& g) {
  if (g.repo.empty()) return InvalidArgumentError("no repository: give -r/--repo or set STEADFAST_BACKUP_REPOSITORY");
  return OkStatus();
}

// Opens the repository and its local index cache, and takes the lock `operation` needs
// (refreshed every 5 minutes while the command runs).
StatusOr<std::unique_ptr<Opened>> Open(const Global& g, const std::string& operation, bool exclusive, bool lock = true) {
  SF_RETURN_IF_ERROR(NeedRepo(g));
  SF_ASSIGN_OR_RETURN(std::string password, Password(g));
  auto o = std::make_unique<Opened>();
  StatusOr<std::unique_ptr<Repository>> repo = Repository::Open(NewLocalBackend(g.repo), password);
  if (!repo.ok()) {
    if (repo.status().code() == StatusCode::kUnauthenticated) {
      return UnauthenticatedError("wrong password: no key of the repository at " + g.repo + " opens with it");
    }
    return repo.status();
  }
  o->repo = std::move(repo).value();
  const std::string dir = CacheDir(g) + "/" + Hex(o->repo->config().id);
  SF_RETURN_IF_ERROR(MakeDirs(dir));
  StatusOr<std::unique_ptr<IndexCache>> cache = IndexCache::Open(dir + "/index.sqlite");
  if (!cache.ok()) {
    // The cache is derived data: a damaged one is rebuilt from the repository.
    std::filesystem::remove(dir + "/index.sqlite");
    cache = IndexCache::Open(dir + "/index.sqlite");
  }
  SF_RETURN_IF_ERROR(cache.status());
  o->cache = std::move(cache).value();
  if (lock && !g.no_lock) {
    static RealClock clock;
    SF_ASSIGN_OR_RETURN(o->lock, RepositoryLock::Acquire(*o->repo, exclusive, operation, clock));
    Opened* raw = o.get();
    o->refresher = std::thread([raw] {
      std::unique_lock<std::mutex> l(raw->mu);
      while (!raw->cv.wait_for(l, std::chrono::milliseconds(kLockRefreshMs), [raw] { return raw->done; })) {
        l.unlock();
        (void)raw->lock->Refresh();
        l.lock();
      }
    });
  }
  return o;
}

// Null when nothing is shown (quiet, or not a terminal without --json): then a backup does not
// walk the tree a second time to count what is ahead.
ProgressFn BarFn(ProgressBar& bar) {
  if (!bar.shown()) return nullptr;
  return [&bar](const Progress& p) { bar.Update(p); };
}

std::vector<std::string> ReadLines(const std::string& path, Status* error) {
  std::vector<std::string> out;
  std::ifstream in(path);
  if (!in) {
    *error = InvalidArgumentError("cannot read the exclude file " + path);
    return out;
  }
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

std::string AbsolutePath(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  std::error_code ec;
  return (std::filesystem::current_path(ec) / p).lexically_normal().string();
}

// --- commands -------------------------------------------------------------------------------

struct InitArgs {
  std::string cipher = "aes-256-gcm";
  int compression = 3;
  std::string new_password_file;
  uint32_t kdf_mib = 64, kdf_passes = 3;
  uint64_t pack_mib = 16;
  std::string chunk_sizes;
};

// "512K,1M,8M" (K and M: KiB and MiB; plain numbers are bytes) into the chunker's sizes.
StatusOr<ChunkerParams> ParseChunkSizes(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgumentError("--chunk-sizes '" + text + "': " + why + " (expected MIN,AVG,MAX such as 512K,1M,8M)");
  };
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    const size_t end = text.find(',', at);
    parts.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  if (parts.size() != 3) return bad("three sizes are needed, not " + std::to_string(parts.size()));
  size_t v[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    const std::string& part = parts[static_cast<size_t>(i)];
    size_t digits = 0;
    while (digits < part.size() && part[digits] >= '0' && part[digits] <= '9') ++digits;
    if (digits == 0 || digits > 9) return bad("'" + part + "' is not a size");
    const std::string unit = part.substr(digits);
    const size_t scale = unit.empty() ? 1 : (unit == "K" || unit == "k") ? 1024 : (unit == "M" || unit == "m") ? 1024 * 1024 : 0;
    if (scale == 0) return bad("'" + part + "' has an unknown unit (K or M)");
    v[i] = std::stoull(part.substr(0, digits)) * scale;
  }
  ChunkerParams p{v[0], v[1], v[2]};
  if (Status valid = ValidateChunkerParams(p); !valid.ok()) return InvalidArgumentError("--chunk-sizes: " + valid.message());
  return p;
}

int Init(const Global& g, const InitArgs& a) {
  if (Status s = NeedRepo(g); !s.ok()) return Report(g, s);
  InitOptions o;
  if (a.cipher == "aes-256-gcm") {
    o.cipher = Cipher::kAes256Gcm;
  } else if (a.cipher == "chacha20-poly1305") {
    o.cipher = Cipher::kChaCha20Poly1305;
  } else {
    return Report(g, InvalidArgumentError("--cipher must be aes-256-gcm or chacha20-poly1305"));
  }
  if (a.compression < 0 || a.compression > 19) return Report(g, InvalidArgumentError("--compression must be 0 (off) .. 19"));
  o.compression = a.compression;
  o.pack_size = a.pack_mib << 20;
  if (!a.chunk_sizes.empty()) {
    StatusOr<ChunkerParams> chunker = ParseChunkSizes(a.chunk_sizes);
    if (!chunker.ok()) return Report(g, chunker.status());
    o.chunker = *chunker;
  }
  o.kdf.m_kib = a.kdf_mib * 1024;
  o.kdf.t = a.kdf_passes;
  o.info = {FormatRfc3339Millis(RealClock().NowMillis()), ThisHost(), ThisUser()};
  std::string file = a.new_password_file.empty() ? g.password_file : a.new_password_file;
  StatusOr<std::string> pw = NewPassword(file, "STEADFAST_BACKUP_PASSWORD");
  if (!pw.ok()) return Report(g, pw.status());
  StatusOr<std::unique_ptr<Repository>> repo = Repository::Init(NewLocalBackend(g.repo), *pw, o);
  if (!repo.ok()) return Report(g, repo.status());
  const std::string id = Hex((*repo)->config().id);
  if (g.json) Emit({{"message_type", "initialized"}, {"repository", g.repo}, {"id", id}});
  Say(g, "created repository " + id.substr(0, 10) + " at " + g.repo);
  Say(g, "Keep the password safe: without it the data cannot be read back.");
  return kExitOk;
}

struct BackupArgs {
  std::vector<std::string> paths, excludes, exclude_files, tags, sqlite;
  std::string host, parent, stdin_filename = "stdin";
  bool one_file_system = false, from_stdin = false, force = false;
};

int DoBackup(const Global& g, const BackupArgs& a) {
  BackupRequest r;
  for (const std::string& p : a.paths) r.paths.push_back(AbsolutePath(p));
  for (const std::string& p : a.sqlite) r.sqlite_databases.push_back(AbsolutePath(p));
  r.excludes = a.excludes;
  for (const std::string& f : a.exclude_files) {
    Status st;
    std::vector<std::string> lines = ReadLines(f, &st);
    if (!st.ok()) return Report(g, st);
    r.excludes.insert(r.excludes.end(), lines.begin(), lines.end());
  }
  r.tags = a.tags;
  r.host = a.host;
  r.parent = a.force ? "none" : a.parent;
  r.one_file_system = a.one_file_system;
  r.workers = g.threads;
  if (a.from_stdin) {
    r.stdin_fd = STDIN_FILENO;
    r.stdin_filename = a.stdin_filename;
  }
  if (!a.from_stdin && r.paths.empty() && r.sqlite_databases.empty()) {
    return Report(g, InvalidArgumentError("nothing to back up: give paths, --sqlite DB or --stdin"));
  }
  auto o = Open(g, "backup", false);
  if (!o.ok()) return Report(g, o.status());
  ProgressBar bar(ProgressBar::ModeFor(g.json, g.quiet), "backup");
  r.progress = BarFn(bar);
  StatusOr<BackupResult> b = Backup(*(*o)->repo, *(*o)->cache, r);
  bar.Done();
  if (!b.ok()) return Report(g, b.status());
  const SnapshotSummary& s = b->snapshot.summary;
  for (const std::string& w : b->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (g.json) {
    Emit({{"message_type", "summary"},
          {"snapshot_id", b->snapshot_id},
          {"files_new", s.files_new},
          {"files_changed", s.files_changed},
          {"files_unmodified", s.files_unmodified},
          {"bytes_read", s.bytes_read},
          {"blobs_added", s.blobs_added},
          {"bytes_added", b->bytes_added_raw},
          {"bytes_added_stored", s.bytes_added_stored},
          {"duration_ms", s.duration_ms},
          {"warnings", b->warnings}});
  }
  Say(g, "files: " + std::to_string(s.files_new) + " new, " + std::to_string(s.files_changed) + " changed, " +
             std::to_string(s.files_unmodified) + " unmodified");
  Say(g, "read " + HumanBytes(s.bytes_read) + ", added " + HumanBytes(b->bytes_added_raw) + " (" +
             HumanBytes(s.bytes_added_stored) + " stored) in " + HumanDuration(s.duration_ms));
  Say(g, "snapshot " + b->snapshot_id.substr(0, 8) + " saved");
  return b->warnings.empty() ? kExitOk : kExitFailure;
}

json SnapshotJson(const SnapshotRef& s) {
  const Snapshot& x = s.snapshot;
  json j = {{"id", s.id},       {"short_id", s.id.substr(0, 8)}, {"time", x.time},       {"host", x.host},
            {"username", x.username}, {"paths", x.paths},       {"tags", x.tags},       {"source", x.source},
            {"tree", Hex(x.tree)}};
  if (x.parent) j["parent"] = *x.parent;
  j["summary"] = {{"files_new", x.summary.files_new},       {"files_changed", x.summary.files_changed},
                  {"files_unmodified", x.summary.files_unmodified}, {"bytes_read", x.summary.bytes_read},
                  {"bytes_added_stored", x.summary.bytes_added_stored}, {"duration_ms", x.summary.duration_ms}};
  return j;
}

bool Matches(const Snapshot& s, const std::string& host, const std::vector<std::string>& tags) {
  if (!host.empty() && s.host != host) return false;
  for (const std::string& t : tags) {
    if (std::find(s.tags.begin(), s.tags.end(), t) == s.tags.end()) return false;
  }
  return true;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

int Snapshots(const Global& g, const std::string& host, const std::vector<std::string>& tags) {
  auto o = Open(g, "snapshots", false, false);
  if (!o.ok()) return Report(g, o.status());
  std::vector<std::string> damaged;
  StatusOr<std::vector<SnapshotRef>> all = ListSnapshots(*(*o)->repo, &damaged);
  if (!all.ok()) return Report(g, all.status());
  for (const std::string& d : damaged) std::fprintf(stderr, "damaged: snapshots/%s\n", d.c_str());
  if (g.json) {
    json arr = json::array();
    for (const SnapshotRef& s : *all) {
      if (Matches(s.snapshot, host, tags)) arr.push_back(SnapshotJson(s));
    }
    Emit(arr);
  } else {
    std::printf("%-9s %-24s %-16s %-16s %s\n", "ID", "TIME", "HOST", "TAGS", "PATHS");
    for (const SnapshotRef& s : *all) {
      if (!Matches(s.snapshot, host, tags)) continue;
      std::printf("%-9s %-24s %-16s %-16s %s\n", s.id.substr(0, 8).c_str(), s.snapshot.time.c_str(), s.snapshot.host.c_str(),
                  Join(s.snapshot.tags, ",").c_str(), Join(s.snapshot.paths, " ").c_str());
    }
  }
  return damaged.empty() ? kExitOk : kExitDamage;
}

std::string ModeString(const Node& n) {
  std::string s = n.type == NodeType::kDir ? "d" : n.type == NodeType::kSymlink ? "l" : n.type == NodeType::kFifo ? "p"
                : n.type == NodeType::kSocket ? "s" : n.type == NodeType::kDev ? "b" : n.type == NodeType::kCharDev ? "c" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (n.mode & (0400u >> i)) ? rwx[i] : '-';
  return s;
}

int Ls(const Global& g, const std::string& which, const std::string& under, bool long_format) {
  auto o = Open(g, "ls", false, false);
  if (!o.ok()) return Report(g, o.status());
  if (Status s = (*o)->cache->Sync(*(*o)->repo).status(); !s.ok()) return Report(g, s);
  StatusOr<SnapshotRef> snap = FindSnapshot(*(*o)->repo, which);
  if (!snap.ok()) return Report(g, snap.status());
  BlobReader reader(*(*o)->repo, *(*o)->cache);
  std::string prefix = under;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  bool found = prefix.empty() || prefix == "/";
  Status s = WalkTree(reader, snap->snapshot.tree, "", [&](const std::string& path, const Node& n) {
    const bool inside = prefix.empty() || prefix == "/" || path == prefix ||
                        (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 && path[prefix.size()] == '/');
    const bool leads = !inside && prefix.size() > path.size() && prefix.compare(0, path.size(), path) == 0 && prefix[path.size()] == '/';
    if (!inside) return leads;
    found = true;
    if (g.json) {
      json j = {{"path", path}, {"type", std::string(NodeTypeName(n.type))}, {"mode", n.mode}, {"uid", n.uid}, {"gid", n.gid},
                {"user", n.user}, {"group", n.group}, {"mtime", FormatRfc3339Millis(n.mtime_ns / 1'000'000)}};
      if (n.type == NodeType::kFile) j["size"] = n.size;
      if (n.type == NodeType::kSymlink) j["target"] = n.target;
      Emit(j);
    } else if (long_format) {
      std::printf("%s %-8s %-8s %12llu %s %s%s\n", ModeString(n).c_str(), n.user.empty() ? std::to_string(n.uid).c_str() : n.user.c_str(),
                  n.group.empty() ? std::to_string(n.gid).c_str() : n.group.c_str(), static_cast<unsigned long long>(n.size),
                  FormatRfc3339Millis(n.mtime_ns / 1'000'000).c_str(), path.c_str(),
                  n.type == NodeType::kSymlink ? (" -> " + n.target).c_str() : "");
    } else {
      std::printf("%s\n", path.c_str());
    }
    return true;
  });
  if (!s.ok()) return Report(g, s);
  if (!found) return Report(g, Status(StatusCode::kNotFound, "the snapshot has no " + prefix));
  return kExitOk;
}

int Diff(const Global& g, const std::string& a, const std::string& b) {
  auto o = Open(g, "diff", false, false);
  if (!o.ok()) return Report(g, o.status());
  if (Status s = (*o)->cache->Sync(*(*o)->repo).status(); !s.ok()) return Report(g, s);
  StatusOr<SnapshotRef> sa = FindSnapshot(*(*o)->repo, a);
  if (!sa.ok()) return Report(g, sa.status());
  StatusOr<SnapshotRef> sb = FindSnapshot(*(*o)->repo, b);
  if (!sb.ok()) return Report(g, sb.status());
  BlobReader reader(*(*o)->repo, *(*o)->cache);
  StatusOr<std::vector<Change>> changes = DiffSnapshots(reader, sa->snapshot, sb->snapshot);
  if (!changes.ok()) return Report(g, changes.status());
  for (const Change& c : *changes) {
    if (g.json) {
      Emit({{"change", std::string(1, c.kind)}, {"path", c.path}, {"detail", c.detail}});
    } else {
      std::printf("%c %s%s\n", c.kind, c.path.c_str(), c.detail.empty() ? "" : ("  (" + c.detail + ")").c_str());
    }
  }
  Say(g, std::to_string(changes->size()) + " difference(s) between " + sa->id.substr(0, 8) + " and " + sb->id.substr(0, 8));
  return kExitOk;
}

struct RestoreArgs {
  std::string snapshot, target;
  std::vector<std::string> include;
  bool verify = false, no_ownership = false;
};

int DoRestore(const Global& g, const RestoreArgs& a) {
  auto o = Open(g, "restore", false);
  if (!o.ok()) return Report(g, o.status());
  StatusOr<SnapshotRef> snap = FindSnapshot(*(*o)->repo, a.snapshot);
  if (!snap.ok()) return Report(g, snap.status());
  RestoreRequest r;
  r.snapshot_id = snap->id;
  r.target = AbsolutePath(a.target);
  r.include = a.include;
  r.verify = a.verify;
  r.ownership = !a.no_ownership;
  r.workers = g.threads;
  ProgressBar bar(ProgressBar::ModeFor(g.json, g.quiet), "restore");
  r.progress = BarFn(bar);
  const int64_t start = RealClock().NowMillis();
  StatusOr<RestoreResult> res = Restore(*(*o)->repo, *(*o)->cache, r);
  bar.Done();
  if (!res.ok()) return Report(g, res.status());
  for (const std::string& m : res->mismatches) std::fprintf(stderr, "differs: %s\n", m.c_str());
  const int64_t ms = RealClock().NowMillis() - start;
  if (g.json) {
    Emit({{"message_type", "summary"}, {"snapshot_id", snap->id}, {"files", res->files}, {"dirs", res->dirs},
          {"hard_links", res->links}, {"bytes", res->bytes}, {"verified", a.verify}, {"mismatches", res->mismatches},
          {"duration_ms", ms}});
  }
  Say(g, "restored " + std::to_string(res->files) + " files, " + std::to_string(res->dirs) + " directories, " +
             HumanBytes(res->bytes) + " to " + r.target + " in " + HumanDuration(ms) +
             (a.verify ? (res->mismatches.empty() ? "; every byte verified" : "; " + std::to_string(res->mismatches.size()) + " file(s) differ") : ""));
  return res->mismatches.empty() ? kExitOk : kExitDamage;
}

int DoCheck(const Global& g, bool read_data, const std::string& subset) {
  CheckOptions c;
  c.read_data = read_data || !subset.empty();
  c.workers = g.threads;
  if (!subset.empty()) {
    if (Status s = ParseSubset(subset, &c.subset_n, &c.subset_m); !s.ok()) return Report(g, s);
  }
  auto o = Open(g, "check", false);
  if (!o.ok()) return Report(g, o.status());
  ProgressBar bar(ProgressBar::ModeFor(g.json, g.quiet), "check", "packs");
  c.progress = BarFn(bar);
  StatusOr<CheckReport> r = Check(*(*o)->repo, *(*o)->cache, c);
  bar.Done();
  if (!r.ok()) return Report(g, r.status());
  if (g.json) {
    Emit({{"message_type", "summary"}, {"ok", r->ok()}, {"errors", r->errors}, {"affected", r->affected}, {"notes", r->notes},
          {"snapshots", r->snapshots}, {"trees", r->trees}, {"packs", r->packs}, {"packs_read", r->packs_read},
          {"bytes_read", r->bytes_read}, {"blobs_read", r->blobs_read}});
  } else {
    for (const std::string& e : r->errors) std::printf("error: %s\n", e.c_str());
    for (const std::string& e : r->affected) std::printf("affected: %s\n", e.c_str());
    for (const std::string& n : r->notes) std::printf("note: %s\n", n.c_str());
    std::printf("%s: %llu snapshots, %llu trees, %llu packs%s\n", r->ok() ? "no damage found" : "DAMAGE FOUND",
                static_cast<unsigned long long>(r->snapshots), static_cast<unsigned long long>(r->trees),
                static_cast<unsigned long long>(r->packs),
                c.read_data ? (", " + std::to_string(r->packs_read) + " packs (" + HumanBytes(r->bytes_read) + ", " +
                               std::to_string(r->blobs_read) + " blobs) read and verified")
                                  .c_str()
                            : "");
  }
  return r->ok() ? kExitOk : kExitDamage;
}

int Verify(const Global& g, const std::string& which) {
  auto o = Open(g, "verify", false);
  if (!o.ok()) return Report(g, o.status());
  if (Status s = (*o)->cache->Sync(*(*o)->repo).status(); !s.ok()) return Report(g, s);
  StatusOr<SnapshotRef> snap = FindSnapshot(*(*o)->repo, which, which == "latest" ? ThisHost() : "");
  if (!snap.ok()) return Report(g, snap.status());
  BlobReader reader(*(*o)->repo, *(*o)->cache);
  ProgressBar bar(ProgressBar::ModeFor(g.json, g.quiet), "verify");
  StatusOr<std::vector<Change>> changes = VerifySource(reader, (*o)->repo->key(), snap->snapshot, BarFn(bar));
  bar.Done();
  if (!changes.ok()) return Report(g, changes.status());
  size_t content = 0;
  for (const Change& c : *changes) {
    if (c.kind != 'm') ++content;
    if (g.json) {
      Emit({{"change", std::string(1, c.kind)}, {"path", c.path}, {"detail", c.detail}});
    } else {
      std::printf("%c %s%s\n", c.kind, c.path.c_str(), c.detail.empty() ? "" : ("  (" + c.detail + ")").c_str());
    }
  }
  Say(g, content == 0 ? "the live files match snapshot " + snap->id.substr(0, 8)
                      : std::to_string(content) + " path(s) differ from snapshot " + snap->id.substr(0, 8));
  return content == 0 ? kExitOk : kExitDamage;
}

struct ForgetArgs {
  KeepPolicy policy;
  std::vector<std::string> ids, tags;
  std::string host;
  bool dry_run = false, prune = false;
};

int DoPrune(const Global& g, bool dry_run);

int Forget(const Global& g, const ForgetArgs& a) {
  if (a.ids.empty() && a.policy.empty()) {
    return Report(g, InvalidArgumentError("forget needs snapshot ids or a --keep-* policy (it never forgets everything)"));
  }
  auto o = Open(g, "forget", false);
  if (!o.ok()) return Report(g, o.status());
  Repository& repo = *(*o)->repo;
  std::vector<std::string> gone;
  if (!a.ids.empty()) {
    for (const std::string& id : a.ids) {
      StatusOr<SnapshotRef> s = FindSnapshot(repo, id);
      if (!s.ok()) return Report(g, s.status());
      gone.push_back(s->id);
    }
  } else {
    StatusOr<std::vector<SnapshotRef>> all = ListSnapshots(repo);
    if (!all.ok()) return Report(g, all.status());
    std::vector<SnapshotRef> chosen;
    for (SnapshotRef& s : *all) {
      if (Matches(s.snapshot, a.host, a.tags)) chosen.push_back(std::move(s));
    }
    for (const ForgetDecision& d : ApplyPolicy(std::move(chosen), a.policy)) {
      if (g.json) {
        Emit({{"snapshot", d.snapshot.id}, {"time", d.snapshot.snapshot.time}, {"host", d.snapshot.snapshot.host},
              {"keep", d.keep}, {"reasons", d.reasons}});
      } else {
        Say(g, std::string(d.keep ? "keep   " : "forget ") + d.snapshot.id.substr(0, 8) + " " + d.snapshot.snapshot.time + " " +
                   d.snapshot.snapshot.host + (d.reasons.empty() ? "" : "  (" + Join(d.reasons, ", ") + ")"));
      }
      if (!d.keep) gone.push_back(d.snapshot.id);
    }
  }
  if (a.dry_run) {
    Say(g, std::to_string(gone.size()) + " snapshot(s) would be forgotten (dry run)");
    return kExitOk;
  }
  for (const std::string& id : gone) {
    if (Status s = repo.backend().Remove(FileType::kSnapshot, id); !s.ok()) return Report(g, s);
  }
  Say(g, std::to_string(gone.size()) + " snapshot(s) forgotten");
  if (!a.prune) return kExitOk;
  o->reset();  // the shared lock goes before prune takes the exclusive one
  return DoPrune(g, false);
}

int DoPrune(const Global& g, bool dry_run) {
  auto o = Open(g, "prune", true);
  if (!o.ok()) return Report(g, o.status());
  ProgressBar bar(ProgressBar::ModeFor(g.json, g.quiet), "repack", "packs");
  PruneOptions p;
  p.dry_run = dry_run;
  p.progress = BarFn(bar);
  StatusOr<PruneResult> r = Prune(*(*o)->repo, *(*o)->cache, p);
  bar.Done();
  if (!r.ok()) return Report(g, r.status());
  if (g.json) {
    Emit({{"message_type", "summary"}, {"dry_run", dry_run}, {"snapshots", r->snapshots}, {"used_blobs", r->used_blobs},
          {"packs_total", r->packs_total}, {"packs_deleted", r->packs_deleted}, {"packs_repacked", r->packs_repacked},
          {"packs_written", r->packs_written}, {"unreferenced_packs", r->unreferenced_packs}, {"bytes_before", r->bytes_before},
          {"bytes_freed", r->bytes_freed}});
  }
  Say(g, std::string(dry_run ? "would " : "") + "delete " + std::to_string(r->packs_deleted + r->unreferenced_packs) +
             " pack(s), repack " + std::to_string(r->packs_repacked) + ", freeing " + HumanBytes(r->bytes_freed) + " of " +
             HumanBytes(r->bytes_before));
  return kExitOk;
}

int Stats(const Global& g) {
  auto o = Open(g, "stats", false, false);
  if (!o.ok()) return Report(g, o.status());
  Repository& repo = *(*o)->repo;
  if (Status s = (*o)->cache->Sync(repo).status(); !s.ok()) return Report(g, s);
  StatusOr<IndexCache::Totals> t = (*o)->cache->Sizes();
  if (!t.ok()) return Report(g, t.status());
  uint64_t stored = 0, packs = 0;
  StatusOr<std::vector<FileInfo>> data = repo.backend().List(FileType::kData);
  if (!data.ok()) return Report(g, data.status());
  for (const FileInfo& f : *data) {
    stored += f.size;
    ++packs;
  }
  StatusOr<std::vector<FileInfo>> snaps = repo.backend().List(FileType::kSnapshot);
  if (!snaps.ok()) return Report(g, snaps.status());
  const double ratio = t->stored_bytes > 0 ? static_cast<double>(t->raw_bytes) / static_cast<double>(t->stored_bytes) : 0;
  const RepositoryConfig& c = repo.config();
  if (g.json) {
    Emit({{"snapshots", snaps->size()}, {"packs", packs}, {"pack_bytes", stored}, {"blobs", t->blobs},
          {"raw_bytes", t->raw_bytes}, {"stored_bytes", t->stored_bytes}, {"compression_ratio", ratio},
          {"chunker", {{"min", c.chunker.min}, {"avg", c.chunker.avg}, {"max", c.chunker.max}}},
          {"compression", c.compression}, {"pack_size", c.pack_size}});
  } else {
    std::printf("snapshots: %zu\npacks: %llu (%s)\nunique blobs: %lld\nunique data: %s, stored as %s (ratio %.2f)\n",
                snaps->size(), static_cast<unsigned long long>(packs), HumanBytes(stored).c_str(),
                static_cast<long long>(t->blobs), HumanBytes(static_cast<uint64_t>(t->raw_bytes)).c_str(),
                HumanBytes(static_cast<uint64_t>(t->stored_bytes)).c_str(), ratio);
    std::printf("settings: chunks %s / %s / %s (min / average / max), zstd level %d, packs of %s\n",
                HumanBytes(c.chunker.min).c_str(), HumanBytes(c.chunker.avg).c_str(), HumanBytes(c.chunker.max).c_str(),
                c.compression, HumanBytes(c.pack_size).c_str());
  }
  return kExitOk;
}

int Unlock(const Global& g, bool all) {
  auto o = Open(g, "unlock", false, false);
  if (!o.ok()) return Report(g, o.status());
  RealClock clock;
  StatusOr<std::vector<LockInfo>> removed = RemoveLocks(*(*o)->repo, clock, all);
  if (!removed.ok()) return Report(g, removed.status());
  for (const LockInfo& l : *removed) {
    Say(g, "removed " + std::string(l.stale ? "stale " : "") + (l.exclusive ? "exclusive" : "shared") + " lock of " + l.host +
               " pid " + std::to_string(l.pid) + " (" + l.operation + ", " + l.username + ")");
  }
  if (removed->empty()) Say(g, all ? "no locks" : "no stale locks");
  return kExitOk;
}

int Key(const Global& g, const std::string& action, const std::string& id, const std::string& new_file) {
  auto o = Open(g, "key", false, false);
  if (!o.ok()) return Report(g, o.status());
  Repository& repo = *(*o)->repo;
  const KeyFileInfo info{FormatRfc3339Millis(RealClock().NowMillis()), ThisHost(), ThisUser()};
  if (action == "list") {
    StatusOr<std::vector<KeyInfo>> keys = repo.ListKeys();
    if (!keys.ok()) return Report(g, keys.status());
    for (const KeyInfo& k : *keys) {
      if (g.json) {
        Emit({{"id", k.id}, {"created", k.created}, {"host", k.host}, {"username", k.username}, {"current", k.current}});
      } else {
        std::printf("%s %-10s %-24s %-16s %s\n", k.current ? "*" : " ", k.id.substr(0, 10).c_str(), k.created.c_str(),
                    k.host.c_str(), k.username.c_str());
      }
    }
    return kExitOk;
  }
  if (action == "add" || action == "passwd") {
    StatusOr<std::string> pw = NewPassword(new_file, "STEADFAST_BACKUP_NEW_PASSWORD");
    if (!pw.ok()) return Report(g, pw.status());
    StatusOr<std::vector<KeyInfo>> keys = repo.ListKeys();
    if (!keys.ok()) return Report(g, keys.status());
    StatusOr<std::string> added = repo.AddKey(*pw, KdfParams{}, info);
    if (!added.ok()) return Report(g, added.status());
    Say(g, "added key " + added->substr(0, 10));
    if (action == "passwd") {
      for (const KeyInfo& k : *keys) {
        if (!k.current) continue;
        if (Status s = repo.RemoveKey(k.id); !s.ok()) return Report(g, s);
        Say(g, "removed the old key " + k.id.substr(0, 10));
      }
    }
    return kExitOk;
  }
  if (action == "remove") {
    StatusOr<std::vector<KeyInfo>> keys = repo.ListKeys();
    if (!keys.ok()) return Report(g, keys.status());
    std::string full;
    for (const KeyInfo& k : *keys) {
      if (!id.empty() && k.id.compare(0, id.size(), id) == 0) {
        if (!full.empty()) return Report(g, InvalidArgumentError("'" + id + "' matches several keys"));
        full = k.id;
      }
    }
    if (full.empty()) return Report(g, Status(StatusCode::kNotFound, "no key " + id));
    if (Status s = repo.RemoveKey(full); !s.ok()) return Report(g, s);
    Say(g, "removed key " + full.substr(0, 10));
    return kExitOk;
  }
  return Report(g, InvalidArgumentError("key: expected list, add, remove ID or passwd"));
}

struct DrillArgs {
  std::string snapshot = "latest", scratch, host;
  uint64_t sample = 0, seed = 0;
  bool keep = false;
};

int DoDrill(const Global& g, const DrillArgs& a) {
  auto o = Open(g, "drill", false);
  if (!o.ok()) return Report(g, o.status());
  DrillRequest r;
  r.snapshot = a.snapshot;
  r.host = a.host;
  r.scratch = a.scratch;
  r.sample = a.sample;
  r.seed = a.seed;
  r.keep = a.keep;
  r.workers = g.threads;
  ProgressBar bar(ProgressBar::ModeFor(g.json, g.quiet), "drill");
  r.progress = BarFn(bar);
  StatusOr<DrillResult> d = Drill(*(*o)->repo, *(*o)->cache, r);
  bar.Done();
  if (!d.ok()) return Report(g, d.status());
  const Evidence& e = d->evidence;
  if (g.json) {
    json j = EvidenceDocument(e);
    j["message_type"] = "evidence";
    j["evidence_id"] = d->evidence_id;
    Emit(j);
  } else {
    for (const Mismatch& m : e.mismatches) std::printf("mismatch: %s: %s\n", m.path.c_str(), m.reason.c_str());
    std::printf("drill %s: snapshot %s (%s, %s), %s: %llu file(s), %s restored and compared with the backup's hashes in %s\n",
                e.result == "passed" ? "PASSED" : "FAILED", e.snapshot.substr(0, 8).c_str(), e.snapshot_host.c_str(),
                e.snapshot_time.c_str(), e.sample == "all" ? "every file" : ("a random sample of " + e.sample).c_str(),
                static_cast<unsigned long long>(e.files), HumanBytes(e.bytes).c_str(), HumanDuration(e.duration_ms).c_str());
    std::printf("evidence %s saved\n", d->evidence_id.substr(0, 8).c_str());
    if (!d->restored_to.empty()) std::printf("restored copy kept at %s\n", d->restored_to.c_str());
  }
  return e.result == "passed" ? kExitOk : kExitDamage;
}

int EvidenceList(const Global& g) {
  auto o = Open(g, "evidence", false, false);
  if (!o.ok()) return Report(g, o.status());
  std::vector<std::string> damaged;
  auto list = ListEvidence(*(*o)->repo, &damaged);
  if (!list.ok()) return Report(g, list.status());
  for (const std::string& d : damaged) std::fprintf(stderr, "damaged: %s\n", d.c_str());
  if (!g.json) std::printf("%-9s %-24s %-7s %-9s %-16s %8s %10s %s\n", "ID", "TIME", "RESULT", "SNAPSHOT", "HOST", "FILES", "BYTES", "SAMPLE");
  for (const auto& [id, e] : *list) {
    if (g.json) {
      json j = EvidenceDocument(e);
      j["id"] = id;
      Emit(j);
    } else {
      std::printf("%-9s %-24s %-7s %-9s %-16s %8llu %10s %s\n", id.substr(0, 8).c_str(), e.time.c_str(), e.result.c_str(),
                  e.snapshot.substr(0, 8).c_str(), e.host.c_str(), static_cast<unsigned long long>(e.files),
                  HumanBytes(e.bytes).c_str(), e.sample.c_str());
    }
  }
  return damaged.empty() ? kExitOk : kExitDamage;
}

}  // namespace
}  // namespace steadfast::backup

int main(int argc, char** argv) {
  using namespace steadfast::backup;
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"steadfast-backup: deduplicated, compressed, encrypted backups that are verified, not just written.\n"
               "Exit codes: 0 ok, 1 failure, 2 usage, 3 damage found (check, verify, drill, restore --verify)."};
  app.require_subcommand(0, 1);
  app.fallthrough();  // global options may come after the command: `snapshots --json`
  Global g;
  if (const char* r = std::getenv("STEADFAST_BACKUP_REPOSITORY")) g.repo = r;
  if (const char* p = std::getenv("STEADFAST_BACKUP_PASSWORD_FILE")) g.password_file = p;
  app.add_option("-r,--repo", g.repo, "repository directory (env STEADFAST_BACKUP_REPOSITORY)");
  app.add_option("-p,--password-file", g.password_file,
                 "file whose first line is the password (env STEADFAST_BACKUP_PASSWORD_FILE; or STEADFAST_BACKUP_PASSWORD; "
                 "else asked on the terminal)");
  app.add_option("--cache-dir", g.cache_dir, "local index cache (default $XDG_CACHE_HOME/steadfast-backup)");
  app.add_flag("--json", g.json, "JSON lines on stdout: progress, then a summary");
  app.add_flag("-q,--quiet", g.quiet, "no progress and no summary");
  app.add_option("--threads", g.threads, "worker threads (default: one per core)");
  app.add_flag("--no-lock", g.no_lock, "do not lock the repository (read-only media only)");
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");

  InitArgs ia;
  auto* init = app.add_subcommand("init", "create a repository");
  init->add_option("--cipher", ia.cipher, "aes-256-gcm (default) or chacha20-poly1305");
  init->add_option("--compression", ia.compression, "zstd level, 0 = off")->capture_default_str();
  init->add_option("--pack-size-mib", ia.pack_mib, "target size of a pack file (1 .. 4096)")->capture_default_str();
  init->add_option("--chunk-sizes", ia.chunk_sizes,
                   "content-defined chunking's MIN,AVG,MAX, powers of two within 64K .. 64M (default 256K,512K,4M)");
  init->add_option("--kdf-memory-mib", ia.kdf_mib, "argon2id memory (at least 64)")->capture_default_str();
  init->add_option("--kdf-passes", ia.kdf_passes, "argon2id passes (at least 3)")->capture_default_str();

  BackupArgs ba;
  auto* backup = app.add_subcommand("backup", "back up paths, a SQLite database or standard input");
  backup->add_option("paths", ba.paths, "files and directories");
  backup->add_option("-e,--exclude", ba.excludes, "leave out what matches (glob; with '/' against the whole path)");
  backup->add_option("--exclude-file", ba.exclude_files, "file of exclude patterns, one per line");
  backup->add_flag("-x,--one-file-system", ba.one_file_system, "do not cross into other filesystems");
  backup->add_option("--tag", ba.tags, "tag the snapshot");
  backup->add_option("--host", ba.host, "host name to record (default: this machine's)");
  backup->add_option("--parent", ba.parent, "snapshot whose unchanged files are not read again (default: the latest of this host and paths)");
  backup->add_flag("--force", ba.force, "read every file (no parent)");
  backup->add_flag("--stdin", ba.from_stdin, "back up standard input (a dump stream such as pg_dump's)");
  backup->add_option("--stdin-filename", ba.stdin_filename, "the name standard input is stored under")->capture_default_str();
  backup->add_option("--sqlite", ba.sqlite, "a SQLite database to copy consistently while in use (SQLite's backup API)");

  std::string snap_host;
  std::vector<std::string> snap_tags;
  auto* snapshots = app.add_subcommand("snapshots", "list snapshots");
  snapshots->add_option("--host", snap_host, "only this host's");
  snapshots->add_option("--tag", snap_tags, "only snapshots with this tag");

  std::string ls_snap, ls_path;
  bool ls_long = false;
  auto* ls = app.add_subcommand("ls", "list a snapshot's files");
  ls->add_option("snapshot", ls_snap, "id, prefix or latest")->required();
  ls->add_option("path", ls_path, "only under this path");
  ls->add_flag("-l,--long", ls_long, "mode, owner, size and time");

  std::string diff_a, diff_b;
  auto* diff = app.add_subcommand("diff", "what changed between two snapshots");
  diff->add_option("first", diff_a)->required();
  diff->add_option("second", diff_b)->required();

  RestoreArgs ra;
  auto* restore = app.add_subcommand("restore", "restore a snapshot");
  restore->add_option("snapshot", ra.snapshot, "id, prefix or latest")->required();
  restore->add_option("-t,--target", ra.target, "directory to restore into")->required();
  restore->add_option("-i,--include", ra.include, "only this path of the snapshot (and what is under it)");
  restore->add_flag("--verify", ra.verify, "re-read what was written and compare every chunk with the backup's hashes");
  restore->add_flag("--no-ownership", ra.no_ownership, "do not restore owners even as root");

  bool read_data = false;
  std::string subset;
  auto* check = app.add_subcommand("check", "check the repository (exit 3 when damage is found)");
  check->add_flag("--read-data", read_data, "also read, decrypt and re-hash every byte");
  check->add_option("--read-data-subset", subset, "read the packs of part n of m (1/7 .. 7/7 covers everything)");

  std::string verify_snap = "latest";
  bool verify_source = false;
  auto* verify = app.add_subcommand("verify", "compare a snapshot with the live files it was made from");
  verify->add_flag("--source", verify_source, "compare with the live files (required)")->required();
  verify->add_option("snapshot", verify_snap, "id, prefix or latest (of this host)")->capture_default_str();

  ForgetArgs fa;
  auto* forget = app.add_subcommand("forget", "forget snapshots by id or by a keep policy");
  forget->add_option("ids", fa.ids, "snapshots to forget");
  forget->add_option("--keep-last", fa.policy.last, "keep the newest N");
  forget->add_option("--keep-hourly", fa.policy.hourly, "keep the newest of each of the last N hours");
  forget->add_option("--keep-daily", fa.policy.daily, "... days");
  forget->add_option("--keep-weekly", fa.policy.weekly, "... ISO weeks");
  forget->add_option("--keep-monthly", fa.policy.monthly, "... months");
  forget->add_option("--keep-yearly", fa.policy.yearly, "... years");
  forget->add_option("--keep-tag", fa.policy.tags, "keep every snapshot with this tag");
  forget->add_option("--host", fa.host, "only this host's snapshots");
  forget->add_option("--tag", fa.tags, "only snapshots with this tag");
  forget->add_flag("-n,--dry-run", fa.dry_run, "say what would be forgotten");
  forget->add_flag("--prune", fa.prune, "prune afterwards");

  bool prune_dry = false;
  auto* prune = app.add_subcommand("prune", "remove data no snapshot uses (exclusive lock)");
  prune->add_flag("-n,--dry-run", prune_dry, "say what would be removed");

  auto* stats = app.add_subcommand("stats", "repository size, deduplication and compression");

  bool unlock_all = false;
  auto* unlock = app.add_subcommand("unlock", "remove stale locks");
  unlock->add_flag("--remove-all", unlock_all, "remove every lock (when you know nothing runs)");

  std::string key_action, key_id, key_new_file;
  auto* key = app.add_subcommand("key", "manage passwords: list, add, remove ID, passwd");
  key->add_option("action", key_action, "list | add | remove | passwd")->required();
  key->add_option("id", key_id, "the key to remove (a prefix)");
  key->add_option("--new-password-file", key_new_file, "file with the new password (or STEADFAST_BACKUP_NEW_PASSWORD)");

  DrillArgs da;
  auto* drill = app.add_subcommand("drill", "restore (a sample of) a snapshot to scratch space, compare every byte, record evidence");
  drill->add_option("snapshot", da.snapshot, "id, prefix or latest")->capture_default_str();
  drill->add_option("--host", da.host, "with latest: that host's latest");
  drill->add_option("--sample", da.sample, "restore this many files drawn at random (default: all)");
  drill->add_option("--seed", da.seed, "random seed for the sample");
  drill->add_option("--scratch", da.scratch, "directory for the scratch restore (default $TMPDIR)");
  drill->add_flag("--keep", da.keep, "keep the restored copy");

  auto* evidence = app.add_subcommand("evidence", "list the restore drills' evidence records");

  init->add_option("--new-password-file", ia.new_password_file, "file with the password (default: --password-file)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (version) {
    std::printf("steadfast-backup %s\n", steadfast::kVersion);
    return kExitOk;
  }
  if (*init) return Init(g, ia);
  if (*backup) return DoBackup(g, ba);
  if (*snapshots) return Snapshots(g, snap_host, snap_tags);
  if (*ls) return Ls(g, ls_snap, ls_path, ls_long);
  if (*diff) return Diff(g, diff_a, diff_b);
  if (*restore) return DoRestore(g, ra);
  if (*check) return DoCheck(g, read_data, subset);
  if (*verify) return Verify(g, verify_snap);
  if (*forget) return Forget(g, fa);
  if (*prune) return DoPrune(g, prune_dry);
  if (*stats) return Stats(g);
  if (*unlock) return Unlock(g, unlock_all);
  if (*key) return Key(g, key_action, key_id, key_new_file);
  if (*drill) return DoDrill(g, da);
  if (*evidence) return EvidenceList(g);
  std::fputs(app.help().c_str(), stdout);
  return kExitUsage;
}
