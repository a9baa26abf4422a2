#include "backup/index.h"

#include <algorithm>
#include <set>

#include "backup/document.h"

namespace steadfast::backup {

using nlohmann::json;

namespace {

std::string_view IdView(const BlobId& id) { return {reinterpret_cast<const char*>(id.data()), id.size()}; }

}  // namespace

json IndexDocument(const std::vector<IndexedPack>& packs, const std::vector<std::string>& supersedes) {
  json list = json::array();
  for (const IndexedPack& p : packs) {
    json blobs = json::array();
    for (const PackEntry& e : p.blobs) {
      blobs.push_back({static_cast<int>(e.type), json::binary(std::vector<uint8_t>(e.id.begin(), e.id.end())), e.offset,
                       e.stored_length, e.raw_length, e.raw ? 1 : 0, e.index});
    }
    list.push_back({{"id", p.pack}, {"blobs", std::move(blobs)}});
  }
  return {{"packs", std::move(list)}, {"supersedes", supersedes}};
}

StatusOr<std::vector<IndexedPack>> ParseIndexDocument(const json& doc, std::string_view what,
                                                      std::vector<std::string>* supersedes) {
  const std::string w(what);
  auto packs = doc.find("packs");
  if (packs == doc.end() || !packs->is_array()) return DataLossError(w + ": missing or bad 'packs'");
  std::vector<IndexedPack> out;
  for (const json& p : *packs) {
    IndexedPack ip;
    if (!p.is_object() || !p.contains("id") || !p["id"].is_string() || !ValidFileName(FileType::kData, p["id"].get<std::string>()) ||
        !p.contains("blobs") || !p["blobs"].is_array()) {
      return DataLossError(w + ": a bad entry in 'packs'");
    }
    ip.pack = p["id"].get<std::string>();
    for (const json& b : p["blobs"]) {
      if (!b.is_array() || b.size() != 7 || !b[1].is_binary() || b[1].get_binary().size() != 32) {
        return DataLossError(w + ": a bad blob entry in pack " + ip.pack);
      }
      for (size_t i : {0u, 2u, 3u, 4u, 5u, 6u}) {
        if (!b[i].is_number_unsigned()) return DataLossError(w + ": a bad blob entry in pack " + ip.pack);
      }
      PackEntry e;
      if (b[0].get<uint64_t>() > 1) return DataLossError(w + ": an unknown blob type in pack " + ip.pack);
      e.type = static_cast<BlobType>(b[0].get<uint64_t>());
      std::copy(b[1].get_binary().begin(), b[1].get_binary().end(), e.id.begin());
      e.offset = b[2].get<uint64_t>();
      e.stored_length = static_cast<uint32_t>(b[3].get<uint64_t>());
      e.raw_length = static_cast<uint32_t>(b[4].get<uint64_t>());
      e.raw = b[5].get<uint64_t>() != 0;
      e.index = static_cast<uint32_t>(b[6].get<uint64_t>());
      ip.blobs.push_back(e);
    }
    out.push_back(std::move(ip));
  }
  if (supersedes != nullptr) {
    supersedes->clear();
    auto s = doc.find("supersedes");
    if (s != doc.end()) {
      if (!s->is_array()) return DataLossError(w + ": bad 'supersedes'");
      for (const json& name : *s) {
        if (!name.is_string() || !ValidFileName(FileType::kIndex, name.get<std::string>())) {
          return DataLossError(w + ": bad 'supersedes'");
        }
        supersedes->push_back(name.get<std::string>());
      }
    }
  }
  return out;
}

StatusOr<std::unique_ptr<IndexCache>> IndexCache::Open(const std::string& path) {
  sqlite::OpenOptions o;
  o.synchronous = "NORMAL";  // derived data: a lost commit is read again from the repository
  SF_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::SqliteDb> db, sqlite::SqliteDb::Open(path, o));
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size = -8192"));  // 8 MiB: the bound on index memory
  SF_RETURN_IF_ERROR(db->Migrate({{1, R"sql(
CREATE TABLE index_files (name TEXT PRIMARY KEY);
CREATE TABLE supersedes (file TEXT NOT NULL, superseded TEXT NOT NULL, PRIMARY KEY (file, superseded));
CREATE TABLE blobs (
  id         BLOB NOT NULL,
  index_file TEXT NOT NULL,
  type       INTEGER NOT NULL,
  pack       TEXT NOT NULL,
  offset     INTEGER NOT NULL,
  stored     INTEGER NOT NULL,
  raw_length INTEGER NOT NULL,
  flags      INTEGER NOT NULL,
  position   INTEGER NOT NULL,
  PRIMARY KEY (id, index_file)
) WITHOUT ROWID;
CREATE INDEX blobs_by_file ON blobs (index_file);
)sql"},
                                 {2, "CREATE INDEX blobs_by_pack ON blobs (pack, offset);"},
                                 // Pack and index file names once each, numbered: a blob's rows
                                 // held both names (64 characters each) in three b-trees, about
                                 // 530 bytes a blob; now about 160, and a backup's final index
                                 // goes in in half the time. The cache is derived data: version 3
                                 // starts empty and the next Sync reads the index files again.
                                 {3, R"sql(
DROP INDEX blobs_by_pack;
DROP INDEX blobs_by_file;
DROP TABLE blobs;
DROP TABLE supersedes;
DROP TABLE index_files;
CREATE TABLE index_files (file INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE packs (pack INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE supersedes (file TEXT NOT NULL, superseded TEXT NOT NULL, PRIMARY KEY (file, superseded));
CREATE TABLE blobs (
  id         BLOB NOT NULL,
  file       INTEGER NOT NULL,
  type       INTEGER NOT NULL,
  pack       INTEGER NOT NULL,
  offset     INTEGER NOT NULL,
  stored     INTEGER NOT NULL,
  raw_length INTEGER NOT NULL,
  flags      INTEGER NOT NULL,
  position   INTEGER NOT NULL,
  PRIMARY KEY (id, file)
) WITHOUT ROWID;
CREATE INDEX blobs_by_file ON blobs (file);
CREATE INDEX blobs_by_pack ON blobs (pack, offset);
)sql"}}));
  return std::unique_ptr<IndexCache>(new IndexCache(std::move(db)));
}

Status IndexCache::AddFile(const std::string& name, const std::vector<IndexedPack>& packs,
                           const std::vector<std::string>& supersedes) {
  sqlite::Transaction tx(db_.get());
  SF_RETURN_IF_ERROR(tx.Begin());
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement file, db_->Prepare("INSERT INTO index_files (name) VALUES (?1) RETURNING file"));
  file.Bind(1, name);
  SF_ASSIGN_OR_RETURN(bool added, file.Step());
  if (!added) return InternalError("index cache: no number for index/" + name);
  const int64_t file_number = file.ColumnInt(0);
  file.Reset();
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement pack,
                      db_->Prepare("INSERT INTO packs (name) VALUES (?1) ON CONFLICT (name) DO UPDATE SET name = name "
                                   "RETURNING pack"));
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement insert,
                      db_->Prepare("INSERT OR REPLACE INTO blobs (id, file, type, pack, offset, stored, raw_length, "
                                   "flags, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  // In the order of their ids: each insert then lands next to the one before in the b-tree.
  std::vector<std::pair<const PackEntry*, int64_t>> rows;
  for (const IndexedPack& p : packs) {
    pack.Bind(1, p.pack);
    SF_ASSIGN_OR_RETURN(bool numbered, pack.Step());
    if (!numbered) return InternalError("index cache: no number for data/" + p.pack);
    const int64_t pack_number = pack.ColumnInt(0);
    pack.Reset();
    for (const PackEntry& e : p.blobs) rows.emplace_back(&e, pack_number);
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first->id < b.first->id; });
  for (const auto& [e, pack_number] : rows) {
    insert.BindBlob(1, IdView(e->id))
        .Bind(2, file_number)
        .Bind(3, static_cast<int64_t>(e->type))
        .Bind(4, pack_number)
        .Bind(5, static_cast<int64_t>(e->offset))
        .Bind(6, static_cast<int64_t>(e->stored_length))
        .Bind(7, static_cast<int64_t>(e->raw_length))
        .Bind(8, static_cast<int64_t>(e->raw ? 1 : 0))
        .Bind(9, static_cast<int64_t>(e->index));
    SF_RETURN_IF_ERROR(insert.Run());
    insert.Reset();
  }
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement sup, db_->Prepare("INSERT OR IGNORE INTO supersedes (file, superseded) VALUES (?1, ?2)"));
  for (const std::string& s : supersedes) {
    sup.Bind(1, name).Bind(2, s);
    SF_RETURN_IF_ERROR(sup.Run());
    sup.Reset();
  }
  return tx.Commit();
}

Status IndexCache::Add(const std::string& name, const std::vector<IndexedPack>& packs,
                       const std::vector<std::string>& supersedes) {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  return AddFile(name, packs, supersedes);
}

StatusOr<size_t> IndexCache::Sync(Repository& repo, std::vector<std::string>* damaged) {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> listed, repo.backend().List(FileType::kIndex));
  std::set<std::string> present;
  for (const FileInfo& f : listed) present.insert(f.name);
  std::set<std::string> known;
  {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s, db_->Prepare("SELECT name FROM index_files"));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      known.insert(s.ColumnText(0));
    }
  }
  // Files gone from the repository; then the packs no file names any more.
  bool forgot = false;
  for (const std::string& name : known) {
    if (present.count(name)) continue;
    sqlite::Transaction tx(db_.get());
    SF_RETURN_IF_ERROR(tx.Begin());
    for (const char* sql : {"DELETE FROM blobs WHERE file = (SELECT file FROM index_files WHERE name = ?1)",
                            "DELETE FROM supersedes WHERE file = ?1", "DELETE FROM index_files WHERE name = ?1"}) {
      SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s, db_->Prepare(sql));
      s.Bind(1, name);
      SF_RETURN_IF_ERROR(s.Run());
    }
    SF_RETURN_IF_ERROR(tx.Commit());
    forgot = true;
  }
  if (forgot) SF_RETURN_IF_ERROR(db_->Exec("DELETE FROM packs WHERE pack NOT IN (SELECT pack FROM blobs)"));
  // New files, one transaction each (a file's entries are in the cache whole or not at all).
  size_t read = 0;
  for (const std::string& name : present) {
    if (known.count(name)) continue;
    std::vector<std::string> supersedes;
    StatusOr<json> doc = repo.LoadDocument(FileType::kIndex, EnvelopeKind::kIndex, name);
    StatusOr<std::vector<IndexedPack>> packs =
        doc.ok() ? ParseIndexDocument(*doc, "index/" + name, &supersedes) : StatusOr<std::vector<IndexedPack>>(doc.status());
    if (!packs.ok()) {
      if (damaged == nullptr || packs.status().code() != StatusCode::kDataLoss) return packs.status();
      damaged->push_back(packs.status().message());
      continue;
    }
    SF_RETURN_IF_ERROR(AddFile(name, *packs, supersedes));
    ++read;
  }
  // Entries of superseded files whose successor is present are not used (a crash during prune
  // can leave both).
  SF_RETURN_IF_ERROR(db_->Exec(
      "DELETE FROM blobs WHERE file IN (SELECT file FROM index_files WHERE name IN (SELECT superseded FROM supersedes "
      "WHERE file IN (SELECT name FROM index_files)))"));
  return read;
}

namespace {

PackEntry EntryOf(const sqlite::SqliteStatement& s, int first) {
  PackEntry e;
  e.type = static_cast<BlobType>(s.ColumnInt(first));
  e.offset = static_cast<uint64_t>(s.ColumnInt(first + 1));
  e.stored_length = static_cast<uint32_t>(s.ColumnInt(first + 2));
  e.raw_length = static_cast<uint32_t>(s.ColumnInt(first + 3));
  e.raw = s.ColumnInt(first + 4) != 0;
  e.index = static_cast<uint32_t>(s.ColumnInt(first + 5));
  return e;
}

}  // namespace

StatusOr<std::vector<std::pair<std::string, int64_t>>> IndexCache::Packs() {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s, db_->Prepare("SELECT p.name, count(*) FROM blobs b JOIN packs p ON p.pack = b.pack GROUP BY b.pack "
                                                             "ORDER BY p.name"));
  std::vector<std::pair<std::string, int64_t>> out;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.emplace_back(s.ColumnText(0), s.ColumnInt(1));
  }
  return out;
}

StatusOr<std::vector<PackEntry>> IndexCache::PackBlobs(const std::string& pack) {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s,
                      db_->Prepare("SELECT DISTINCT type, offset, stored, raw_length, flags, position, id FROM blobs "
                                   "WHERE pack = (SELECT pack FROM packs WHERE name = ?1) ORDER BY offset"));
  s.Bind(1, pack);
  std::vector<PackEntry> out;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    PackEntry e = EntryOf(s, 0);
    const std::string id = s.ColumnBlob(6);
    if (id.size() == e.id.size()) std::copy(id.begin(), id.end(), e.id.begin());
    out.push_back(e);
  }
  return out;
}

StatusOr<std::vector<std::string>> IndexCache::Files() {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s, db_->Prepare("SELECT name FROM index_files ORDER BY name"));
  std::vector<std::string> out;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.ColumnText(0));
  }
  return out;
}

Status IndexCache::BeginRead() {
  if (marking_) return OkStatus();  // prune's marking transaction is open: lookups read inside it
  const auto now = std::chrono::steady_clock::now();
  if (reading_ && now - read_since_ > std::chrono::milliseconds(200)) EndRead();
  if (reading_) return OkStatus();
  SF_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  reading_ = true;
  read_since_ = now;
  return OkStatus();
}

void IndexCache::EndRead() {
  if (!reading_) return;
  if (find_) find_->Reset();
  (void)db_->Exec("COMMIT");
  reading_ = false;
}

StatusOr<std::optional<BlobLocation>> IndexCache::Find(const BlobId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  SF_RETURN_IF_ERROR(BeginRead());
  if (!find_) {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement prepared,
                        db_->Prepare("SELECT b.type, p.name, b.offset, b.stored, b.raw_length, b.flags, b.position "
                                     "FROM blobs b JOIN packs p ON p.pack = b.pack WHERE b.id = ?1 LIMIT 1"));
    find_.emplace(std::move(prepared));
  }
  sqlite::SqliteStatement& s = *find_;
  s.Reset();
  s.BindBlob(1, IdView(id));
  StatusOr<bool> row = s.Step();
  if (!row.ok() || !*row) {
    s.Reset();  // no read transaction stays open between lookups
    if (!row.ok()) return row.status();
    return std::optional<BlobLocation>();
  }
  BlobLocation loc;
  loc.pack = s.ColumnText(1);
  loc.entry.type = static_cast<BlobType>(s.ColumnInt(0));
  loc.entry.offset = static_cast<uint64_t>(s.ColumnInt(2));
  loc.entry.stored_length = static_cast<uint32_t>(s.ColumnInt(3));
  loc.entry.raw_length = static_cast<uint32_t>(s.ColumnInt(4));
  loc.entry.raw = s.ColumnInt(5) != 0;
  loc.entry.index = static_cast<uint32_t>(s.ColumnInt(6));
  loc.entry.id = id;
  s.Reset();
  return std::optional<BlobLocation>(loc);
}

Status IndexCache::BeginMarking() {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  mark_.reset();
  used_.reset();
  SF_RETURN_IF_ERROR(db_->Exec("CREATE TEMP TABLE IF NOT EXISTS used (id BLOB PRIMARY KEY) WITHOUT ROWID"));
  SF_RETURN_IF_ERROR(db_->Exec("DELETE FROM used"));
  SF_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  marking_ = true;
  return OkStatus();
}

StatusOr<bool> IndexCache::MarkUsed(const BlobId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  if (!mark_) {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement st, db_->Prepare("INSERT OR IGNORE INTO used (id) VALUES (?1)"));
    mark_.emplace(std::move(st));
  }
  mark_->Reset();
  mark_->BindBlob(1, IdView(id));
  SF_RETURN_IF_ERROR(mark_->Run());
  return db_->Changes() == 1;
}

Status IndexCache::EndMarking() {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  if (mark_) mark_->Reset();
  if (find_) find_->Reset();
  marking_ = false;
  return db_->Exec("COMMIT");
}

StatusOr<bool> IndexCache::IsUsed(const BlobId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  if (!used_) {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement st, db_->Prepare("SELECT 1 FROM used WHERE id = ?1"));
    used_.emplace(std::move(st));
  }
  used_->Reset();
  used_->BindBlob(1, IdView(id));
  SF_ASSIGN_OR_RETURN(bool row, used_->Step());
  used_->Reset();
  return row;
}

StatusOr<std::vector<IndexCache::PackUsage>> IndexCache::Usage() {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s,
                      db_->Prepare("SELECT p.name, count(*), sum(u.id IS NOT NULL), sum(b.stored), "
                                   "sum(CASE WHEN u.id IS NOT NULL THEN b.stored ELSE 0 END) "
                                   "FROM (SELECT DISTINCT pack, id, stored FROM blobs) b JOIN packs p ON p.pack = b.pack "
                                   "LEFT JOIN used u ON u.id = b.id GROUP BY b.pack ORDER BY p.name"));
  std::vector<PackUsage> out;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.ColumnText(0), s.ColumnInt(1), s.ColumnInt(2), s.ColumnInt(3), s.ColumnInt(4)});
  }
  return out;
}

StatusOr<IndexCache::Totals> IndexCache::Sizes() {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s,
                      db_->Prepare("SELECT count(*), coalesce(sum(raw_length), 0), coalesce(sum(stored), 0) FROM "
                                   "(SELECT id, max(raw_length) AS raw_length, min(stored) AS stored FROM blobs GROUP BY id)"));
  SF_ASSIGN_OR_RETURN(bool row, s.Step());
  Totals t;
  if (row) {
    t.blobs = s.ColumnInt(0);
    t.raw_bytes = s.ColumnInt(1);
    t.stored_bytes = s.ColumnInt(2);
  }
  return t;
}

StatusOr<int64_t> IndexCache::BlobCount() {
  std::lock_guard<std::mutex> lock(mu_);
  EndRead();
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s, db_->Prepare("SELECT count(DISTINCT id) FROM blobs"));
  SF_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColumnInt(0) : 0;
}

}  // namespace steadfast::backup
