// `steadfast-collector audit verify|export`: the command bodies, as functions of paths, options
// and streams so tests run them without a process. collector_main.cc resolves the paths from
// the collector config (database: CollectorConfig::DatabasePath(), key: AuditKeyPath()).
//
// Both open collector.db read-only, so they are safe while the collector runs (WAL: the
// collector keeps writing; verify reads one consistent snapshot) and never change a database
// kept for an investigation.
//
// Exit codes (DESIGN.md): 0 ok, 1 failure (database or key missing or unreadable, output cannot
// be written), 2 usage, 3 verification found damage.
#pragma once

#include <ostream>
#include <string>

#include "collector/audit/audit_export.h"
#include "collector/audit/audit_log.h"
#include "common/fs/file_system.h"

namespace steadfast::collector::audit {

inline constexpr int kAuditExitOk = 0;
inline constexpr int kAuditExitFailure = 1;
inline constexpr int kAuditExitUsage = 2;
inline constexpr int kAuditExitDamage = 3;

// Walks the whole chain with the key at `key_path` (never created here: a missing key is exit
// 1). Prints the verdict to `out` — on damage the first bad seq, the problem and why — and
// errors to `err`.
int RunAuditVerify(const std::string& db_path, const std::string& key_path, FileSystem& fs,
                   std::ostream& out, std::ostream& err);

struct AuditExportOptions {
  ExportFormat format = ExportFormat::kCsv;
  AuditQuery filter;  // limit and after_seq are ignored: everything matching is exported
  std::string
      output_path;  // "" writes to `out`; a file is created with mode 0600 (it names people)
};

// Streams the matching records; a one-line summary goes to `err` (stdout may be the data).
int RunAuditExport(const std::string& db_path, const AuditExportOptions& options, FileSystem& fs,
                   std::ostream& out, std::ostream& err);

}  // namespace steadfast::collector::audit
