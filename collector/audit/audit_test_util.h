// Helpers for the audit tests (test target only).
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "collector/audit/audit_key.h"
#include "collector/audit/audit_log.h"

namespace steadfast::collector::audit::testing {

// A fixed key: bytes 0x00..0x1f.
inline AuditKey TestKey(char offset = 0) {
  std::string bytes;
  for (int i = 0; i < 32; ++i) bytes.push_back(static_cast<char>(i + offset));
  return AuditKey::FromBytes(bytes).value();
}

// A typical mutating call; `n` varies the object so records differ.
inline AuditEvent SampleEvent(int n, int64_t time_ms = 1'790'000'000'000) {
  AuditEvent e;
  e.time_ms = time_ms + n;
  e.actor_type = "user";
  e.actor_id = "7";
  e.actor_name = "alice";
  e.roles = {"admin", "viewer"};
  e.unit_id = 3;
  e.source_address = "192.0.2.10";
  e.action = "users.update";
  e.object_type = "user";
  e.object_id = std::to_string(100 + n);
  e.summary_json = R"({"before":{"email":"old@example.org"},"after":{"email":"new@example.org"}})";
  e.result = AuditResult::kOk;
  e.message = "updated user " + std::to_string(100 + n);
  return e;
}

// Runs `sql` on `path` through a plain sqlite3 connection of its own: what someone with write
// access to collector.db (but not to audit.key) can do.
inline void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
}

// Same, returning the error text ("" when the statement succeeded).
inline std::string RawExecError(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "cannot open";
  char* err = nullptr;
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  return message;
}

// What an attacker does first: the triggers only guard against mistakes.
inline constexpr const char* kDropTriggers =
    "DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;";

}  // namespace steadfast::collector::audit::testing
