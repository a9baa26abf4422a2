#include "collector/audit/audit_export.h"

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace steadfast::collector::audit {

namespace {

using ordered_json = nlohmann::ordered_json;

void WriteCsvCell(std::ostream& out, std::string_view cell) {
  std::string text;
  if (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@' ||
                        cell[0] == '\t' || cell[0] == '\r')) {
    text.push_back('\'');
  }
  text.append(cell);
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    out << text;
    return;
  }
  out << '"';
  for (char c : text) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (size_t i = 0; i < roles.size(); ++i) {
    if (i > 0) out += ';';
    out += roles[i];
  }
  return out;
}

ordered_json RecordToJson(const AuditRecord& r) {
  const AuditEvent& e = r.event;
  ordered_json summary = ordered_json::parse(e.summary_json, nullptr, /*allow_exceptions=*/false);
  if (summary.is_discarded()) summary = e.summary_json;
  return ordered_json{
      {"seq", r.seq},
      {"time", FormatRfc3339Millis(e.time_ms)},
      {"actor",
       {{"type", e.actor_type}, {"id", e.actor_id}, {"name", e.actor_name}, {"roles", e.roles}}},
      {"unit_id", e.unit_id ? ordered_json(*e.unit_id) : ordered_json(nullptr)},
      {"source_address", e.source_address},
      {"action", e.action},
      {"object", {{"type", e.object_type}, {"id", e.object_id}}},
      {"summary", std::move(summary)},
      {"result", std::string(AuditResultName(e.result))},
      {"result_code", e.result_code},
      {"message", e.message},
      {"prev_mac", r.prev_mac_hex},
      {"mac", r.mac_hex}};
}

void WriteCsvRow(const AuditRecord& r, std::ostream& out) {
  const AuditEvent& e = r.event;
  const std::string cells[] = {std::to_string(r.seq),
                               FormatRfc3339Millis(e.time_ms),
                               e.actor_type,
                               e.actor_id,
                               e.actor_name,
                               JoinRoles(e.roles),
                               e.unit_id ? std::to_string(*e.unit_id) : std::string(),
                               e.source_address,
                               e.action,
                               e.object_type,
                               e.object_id,
                               std::string(AuditResultName(e.result)),
                               e.result_code,
                               e.message,
                               e.summary_json,
                               r.prev_mac_hex,
                               r.mac_hex};
  bool first = true;
  for (const std::string& cell : cells) {
    if (!first) out << ',';
    first = false;
    WriteCsvCell(out, cell);
  }
  out << "\r\n";
}

}  // namespace

std::optional<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "jsonl") return ExportFormat::kJsonLines;
  if (name == "json") return ExportFormat::kJsonArray;
  return std::nullopt;
}

std::string AuditRecordJson(const AuditRecord& record) {
  // Stored text is valid UTF-8 (NormalizeEvent); `replace` keeps a tampered row from throwing.
  return RecordToJson(record).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

void ExportCsv(const std::vector<AuditRecord>& records, std::ostream& out, bool header) {
  if (header) out << kAuditCsvHeader << "\r\n";
  for (const AuditRecord& r : records) WriteCsvRow(r, out);
}

void ExportJsonLines(const std::vector<AuditRecord>& records, std::ostream& out) {
  for (const AuditRecord& r : records) out << AuditRecordJson(r) << '\n';
}

void ExportJsonArray(const std::vector<AuditRecord>& records, std::ostream& out) {
  out << '[';
  for (size_t i = 0; i < records.size(); ++i)
    out << (i == 0 ? "\n" : ",\n") << AuditRecordJson(records[i]);
  out << (records.empty() ? "]\n" : "\n]\n");
}

StatusOr<int64_t> ExportAudit(const AuditPageReader& read, AuditQuery filter, ExportFormat format,
                              std::ostream& out, int64_t page_size) {
  if (page_size < 1) return InvalidArgumentError("page_size must be at least 1");
  filter.limit = page_size;
  int64_t written = 0;
  if (format == ExportFormat::kCsv) out << kAuditCsvHeader << "\r\n";
  if (format == ExportFormat::kJsonArray) out << '[';
  while (true) {
    SF_ASSIGN_OR_RETURN(std::vector<AuditRecord> page, read(filter));
    for (const AuditRecord& r : page) {
      switch (format) {
        case ExportFormat::kCsv:
          WriteCsvRow(r, out);
          break;
        case ExportFormat::kJsonLines:
          out << AuditRecordJson(r) << '\n';
          break;
        case ExportFormat::kJsonArray:
          out << (written == 0 ? "\n" : ",\n") << AuditRecordJson(r);
          break;
      }
      ++written;
    }
    if (!out.good()) return UnavailableError("writing the export failed");
    if (static_cast<int64_t>(page.size()) < page_size) break;
    filter.after_seq = page.back().seq;
  }
  if (format == ExportFormat::kJsonArray) out << (written == 0 ? "]\n" : "\n]\n");
  out.flush();
  if (!out.good()) return UnavailableError("writing the export failed");
  return written;
}

StatusOr<int64_t> ExportAudit(AuditLog& log, AuditQuery filter, ExportFormat format,
                              std::ostream& out, int64_t page_size) {
  return ExportAudit([&log](const AuditQuery& q) { return log.Query(q); }, std::move(filter),
                     format, out, page_size);
}

}  // namespace steadfast::collector::audit
