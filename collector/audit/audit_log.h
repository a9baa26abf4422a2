// The audit trail: append-only, HMAC-chained records of who did what (docs/ACCOUNTS.md).
//
// AuditEvent is what callers fill in; AuditRecord is what the log stores (event + seq + chain
// MACs). AuditLog is the storage-neutral interface; SqliteAuditLog (sqlite_audit_log.h) keeps
// the records in collector.db and also offers AppendInTransaction for stores that must commit
// a mutation and its record together.
#pragma once

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace steadfast::collector::audit {

enum class AuditResult {
  kOk,      // the action happened
  kDenied,  // refused: 401/403/429, failed login, CSRF
  kError,   // attempted and failed (validation, conflict, storage)
};

struct AuditEvent {
  int64_t time_ms = 0;
  std::string actor_type;  // "user", "token", "agent", "system", "anonymous"
  std::string actor_id;    // user id, token id or agent id as text; "" when anonymous
  std::string actor_name;  // username, "username (token name)" for an API token, hostname;
                           // for a failed login the name tried
  std::vector<std::string> roles;  // role names the actor held
  std::optional<int64_t> unit_id;  // the actor's unit
  std::string source_address;      // remote IP (no port)
  std::string action;              // "auth.login", "users.create", "hosts.assign", ...
  std::string object_type;         // "user", "unit", "host", "token", "equipment", ...
  std::string object_id;           // "" when the action has no single object
  std::string summary_json =
      "{}";  // JSON object, e.g. {"before":{...},"after":{...}}; never secrets
  AuditResult result = AuditResult::kOk;
  std::string result_code;  // for kDenied/kError: the error code ("permission_denied", ...)
  std::string message;      // short human text
};

struct AuditRecord {
  int64_t seq = 0;  // 1, 2, 3, ... without gaps
  AuditEvent event;
  std::string prev_mac_hex;  // MAC of seq-1 (or of the retention checkpoint, or 64 zeros)
  std::string mac_hex;       // HMAC-SHA-256(key, canonical(seq, prev_mac, event)); AUDIT_FORMAT.md
};

struct AuditQuery {
  std::optional<std::string> actor_name;  // the name, and the API tokens acting for that name
  std::optional<std::string> actor_id;
  std::optional<std::string> object_type;
  std::optional<std::string> object_id;
  std::optional<std::string> action;  // exact, or a prefix ending in '.' ("users.")
  std::optional<AuditResult> result;
  // Records of these units only (the caller's scope); unset = all.
  std::optional<std::vector<int64_t>> unit_ids;
  int64_t from_ms = INT64_MIN;  // time_ms >= from_ms
  int64_t to_ms = INT64_MAX;    // time_ms < to_ms
  int64_t after_seq = 0;        // paging cursor: seq > after_seq, ascending
  int64_t limit = 100;
};

struct VerifyReport {
  bool ok = true;
  int64_t records_checked = 0;
  int64_t first_seq = 0;  // first seq present (after the checkpoint), 0 if empty
  int64_t last_seq = 0;
  // When !ok: the first bad record and why (see AUDIT_FORMAT.md, "Verification"):
  //   "altered"   the record at bad_seq does not match its MAC (content, seq or MACs edited);
  //   "removed"   records from bad_seq on are missing from the middle (a seq gap);
  //   "inserted"  the record at bad_seq is an extra record that does not belong in the chain;
  //   "truncated" the head says the log goes further than the records do (bad_seq = first missing);
  //   "head_altered"       the head row is missing, unsealed or rolled back (bad_seq = first seq
  //                        the head can no longer vouch for);
  //   "checkpoint_altered" the retention checkpoint row is missing or unsealed (bad_seq = its seq).
  int64_t bad_seq = 0;
  std::string problem;
  std::string detail;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends one record in its own transaction. Returns its seq. Unavailable on storage errors.
  virtual StatusOr<int64_t> Append(const AuditEvent& event) = 0;
  virtual StatusOr<std::vector<AuditRecord>> Query(const AuditQuery& query) = 0;
  // Walks the whole chain from the retention checkpoint to the head.
  virtual StatusOr<VerifyReport> Verify() = 0;
  // Deletes records older than `older_than_ms`, keeping a checkpoint; the deletion is itself
  // recorded. Returns the number of records deleted.
  virtual StatusOr<int64_t> Prune(int64_t older_than_ms) = 0;
};

std::string_view AuditResultName(AuditResult result);  // "ok", "denied", "error"
// The inverse of AuditResultName; nullopt for any other text.
std::optional<AuditResult> ParseAuditResult(std::string_view name);

}  // namespace steadfast::collector::audit
