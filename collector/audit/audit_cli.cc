#include "collector/audit/audit_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "collector/audit/audit_key.h"
#include "collector/audit/sqlite_audit_log.h"
#include "common/sqlite/sqlite_db.h"

namespace steadfast::collector::audit {

namespace {

StatusOr<std::unique_ptr<sqlite::SqliteDb>> OpenReadOnly(const std::string& db_path,
                                                         FileSystem& fs) {
  if (!fs.Exists(db_path)) return NotFoundError("database " + db_path + " does not exist");
  sqlite::OpenOptions options;
  options.read_only = true;
  return sqlite::SqliteDb::Open(db_path, options);
}

}  // namespace

int RunAuditVerify(const std::string& db_path, const std::string& key_path, FileSystem& fs,
                   std::ostream& out, std::ostream& err) {
  StatusOr<AuditKey> key = LoadAuditKey(fs, key_path);
  if (!key.ok()) {
    err << "audit verify: " << key.status().message() << "\n";
    return kAuditExitFailure;
  }
  StatusOr<std::unique_ptr<sqlite::SqliteDb>> db = OpenReadOnly(db_path, fs);
  if (!db.ok()) {
    err << "audit verify: " << db.status().message() << "\n";
    return kAuditExitFailure;
  }
  ChainPoint head;
  head.seq = -1;  // stays -1 when there is no head row
  StatusOr<VerifyReport> report = VerifyAuditDb(**db, *key, &head);
  const bool head_read = head.seq >= 0;
  if (!report.ok()) {
    err << "audit verify: " << db_path << ": " << report.status().message() << "\n";
    return kAuditExitFailure;
  }
  if (report->ok) {
    out << "audit verify: " << db_path << ": OK, chain intact\n";
    if (report->records_checked == 0) {
      out << "  records checked: 0 (the log is empty)\n";
    } else {
      out << "  records checked: " << report->records_checked << " (seq " << report->first_seq
          << ".." << report->last_seq << ")\n";
    }
    if (head_read) out << "  head: seq " << head.seq << " mac " << head.mac_hex << "\n";
    return kAuditExitOk;
  }
  out << "audit verify: " << db_path << ": DAMAGE FOUND\n"
      << "  first bad record: seq " << report->bad_seq << "\n"
      << "  problem: " << report->problem << "\n"
      << "  detail: " << report->detail << "\n";
  if (report->last_seq > 0)
    out << "  chain intact from seq " << report->first_seq << " to " << report->last_seq << "\n";
  return kAuditExitDamage;
}

int RunAuditExport(const std::string& db_path, const AuditExportOptions& options, FileSystem& fs,
                   std::ostream& out, std::ostream& err) {
  StatusOr<std::unique_ptr<sqlite::SqliteDb>> db = OpenReadOnly(db_path, fs);
  if (!db.ok()) {
    err << "audit export: " << db.status().message() << "\n";
    return kAuditExitFailure;
  }
  std::ofstream file;
  std::ostream* sink = &out;
  if (!options.output_path.empty()) {
    // Create (or truncate) with 0600 before the stream opens it: the export names people and
    // addresses, so it is not left readable by everyone while it is being written.
    int fd = ::open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      err << "audit export: cannot create " << options.output_path << ": " << std::strerror(errno)
          << "\n";
      return kAuditExitFailure;
    }
    ::close(fd);
    file.open(options.output_path, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!file) {
      err << "audit export: cannot open " << options.output_path << "\n";
      return kAuditExitFailure;
    }
    sink = &file;
  }
  sqlite::SqliteDb& conn = **db;
  StatusOr<int64_t> written =
      ExportAudit([&conn](const AuditQuery& q) { return QueryAuditDb(conn, q); }, options.filter,
                  options.format, *sink);
  if (file.is_open()) file.close();
  if (!written.ok() || (!options.output_path.empty() && file.fail())) {
    err << "audit export: "
        << (written.ok() ? "writing " + options.output_path + " failed"
                         : written.status().message())
        << "\n";
    if (!options.output_path.empty()) ::unlink(options.output_path.c_str());
    return kAuditExitFailure;
  }
  err << "audit export: " << *written << " records"
      << (options.output_path.empty() ? "" : " to " + options.output_path) << "\n";
  return kAuditExitOk;
}

}  // namespace steadfast::collector::audit
