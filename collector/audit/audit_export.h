// Exporting audit records: CSV (RFC 4180, safe to open in a spreadsheet), JSON Lines and a JSON
// array. The page functions write what they are given; ExportAudit streams a whole query
// through them page by page, so an export of millions of records never sits in memory.
// Column and field meanings: AUDIT_FORMAT.md, "Export".
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "collector/audit/audit_log.h"
#include "common/status.h"

namespace steadfast::collector::audit {

enum class ExportFormat { kCsv, kJsonLines, kJsonArray };
// "csv", "jsonl" (one object per line), "json" (one array); nullopt otherwise.
std::optional<ExportFormat> ParseExportFormat(std::string_view name);

// CSV columns, in order (also the header row).
inline constexpr std::string_view kAuditCsvHeader =
    "seq,time,actor_type,actor_id,actor_name,roles,unit_id,source_address,action,object_type,"
    "object_id,"
    "result,result_code,message,summary,prev_mac,mac";

// RFC 4180: CRLF line ends, a field with a comma, quote, CR or LF is quoted with quotes doubled.
// A cell that starts with = + - @ TAB or CR gets a leading ' so a spreadsheet shows it as text
// instead of running it as a formula. Roles are joined with ';'; time is RFC 3339 UTC (ms).
void ExportCsv(const std::vector<AuditRecord>& records, std::ostream& out, bool header = true);
// One JSON object per record and line (the same object as AuditRecordJson).
void ExportJsonLines(const std::vector<AuditRecord>& records, std::ostream& out);
// A complete JSON array of the records.
void ExportJsonArray(const std::vector<AuditRecord>& records, std::ostream& out);
// {"seq","time","actor":{"type","id","name","roles"},"unit_id","source_address","action",
//  "object":{"type","id"},"summary","result","result_code","message","prev_mac","mac"};
// summary is embedded as JSON (as a string if the stored text is not JSON).
std::string AuditRecordJson(const AuditRecord& record);

// Reads one page: the records matching the query after query.after_seq, at most query.limit.
using AuditPageReader = std::function<StatusOr<std::vector<AuditRecord>>(const AuditQuery&)>;

// Writes every record matching `filter` (from filter.after_seq on; filter.limit is ignored) in
// `format`, reading `page_size` records at a time. Returns the number written. Errors: the
// reader's, or Unavailable when `out` fails (disk full, closed pipe).
StatusOr<int64_t> ExportAudit(const AuditPageReader& read, AuditQuery filter, ExportFormat format,
                              std::ostream& out, int64_t page_size = 1000);
StatusOr<int64_t> ExportAudit(AuditLog& log, AuditQuery filter, ExportFormat format,
                              std::ostream& out, int64_t page_size = 1000);

}  // namespace steadfast::collector::audit
