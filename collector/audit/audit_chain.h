// The audit chain, as pure functions (no storage, no clock): the canonical encoding of a record,
// its HMAC-SHA-256 seal, the seals of the head and checkpoint rows, and the verifier that walks
// a chain and names the first record that was altered, removed or inserted. The byte format is
// specified in collector/audit/AUDIT_FORMAT.md; change it only together with that file and a
// new version tag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/audit/audit_key.h"
#include "collector/audit/audit_log.h"
#include "common/status.h"

namespace steadfast::collector::audit {

// prev_mac of the first record ever, and the MAC of the initial checkpoint and head (seq 0).
inline constexpr std::string_view kGenesisMacHex =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Problem names in VerifyReport::problem.
inline constexpr std::string_view kProblemAltered = "altered";
inline constexpr std::string_view kProblemRemoved = "removed";
inline constexpr std::string_view kProblemInserted = "inserted";
inline constexpr std::string_view kProblemTruncated = "truncated";
inline constexpr std::string_view kProblemHeadAltered = "head_altered";
inline constexpr std::string_view kProblemCheckpointAltered = "checkpoint_altered";

// Bounds NormalizeEvent enforces.
inline constexpr size_t kMaxAuditFieldBytes = 1024;  // each text field and each role
inline constexpr size_t kMaxAuditRoles = 64;
inline constexpr size_t kMaxAuditSummaryBytes = 64 << 10;  // summary_json

// The bytes the record MAC covers (AUDIT_FORMAT.md, "Record encoding"): every field in a fixed
// order, each length-prefixed, so no two different (seq, prev_mac, event) share an encoding.
std::string CanonicalRecordEncoding(int64_t seq, std::string_view prev_mac_hex,
                                    const AuditEvent& event);

// HMAC-SHA-256(key, CanonicalRecordEncoding(seq, prev_mac_hex, event)) as 64 lowercase hex digits.
std::string Seal(const AuditKey& key, std::string_view prev_mac_hex, int64_t seq,
                 const AuditEvent& event);

// A position in the chain: the last record's (or the last pruned record's) seq and MAC, and
// the seal that binds them under the key (so the head and checkpoint rows cannot be moved by
// someone without the key).
struct ChainPoint {
  int64_t seq = 0;
  std::string mac_hex = std::string(kGenesisMacHex);
  std::string seal_hex;
};
std::string SealHead(const AuditKey& key, int64_t seq, std::string_view mac_hex);
std::string SealCheckpoint(const AuditKey& key, int64_t seq, std::string_view mac_hex);
// The genesis head / checkpoint (seq 0, kGenesisMacHex), sealed.
ChainPoint GenesisHead(const AuditKey& key);
ChainPoint GenesisCheckpoint(const AuditKey& key);

// Makes an event fit to be sealed and stored: replaces invalid UTF-8 with U+FFFD and cuts text
// fields at kMaxAuditFieldBytes (on a character boundary), so whatever a client sent (a user
// name tried at login) is still recorded, and the stored text reads back byte for byte.
// InvalidArgument (a caller bug) when action is empty, summary_json is not a JSON object or is
// over kMaxAuditSummaryBytes, or there are more than kMaxAuditRoles roles.
StatusOr<AuditEvent> NormalizeEvent(AuditEvent event);

// Walks a chain incrementally, so a store can stream millions of records through it.
//
//   ChainVerifier v(key, checkpoint, head);
//   for (each record in ascending seq order) if (!v.Add(record)) break;
//   VerifyReport report = v.Finish();
//
// `checkpoint` and `head` are the rows as stored (with their seals); nullopt when the row is
// missing. The verifier keeps at most one record back (to tell an altered record from an
// inserted one by how its successor links). Not thread-safe. `key` must outlive the verifier.
class ChainVerifier {
 public:
  ChainVerifier(const AuditKey& key, std::optional<ChainPoint> checkpoint,
                std::optional<ChainPoint> head);

  // Feeds the next record. `decode_problem` non-empty means the stored row could not even be
  // decoded into an event (an unknown result, say): it counts as a record whose MAC fails.
  // Returns false once the verdict is known; further calls are ignored.
  bool Add(const AuditRecord& record, std::string_view decode_problem = {});
  // The verdict; call once, after the last Add.
  VerifyReport Finish();

 private:
  bool Fail(int64_t seq, std::string_view problem, std::string detail);
  bool ClassifySuspect(const AuditRecord* next);

  const AuditKey& key_;
  ChainPoint checkpoint_;
  ChainPoint head_;
  bool head_missing_ = false;
  bool head_sealed_ = false;
  int64_t expected_seq_;
  std::string expected_prev_;
  int64_t last_good_seq_;
  // A record in its expected place whose own MAC fails; whether it was altered or inserted
  // follows from how the next record links (AUDIT_FORMAT.md, "Verification").
  std::optional<AuditRecord> suspect_;
  std::string suspect_reason_;
  bool done_ = false;
  VerifyReport report_;
};

// Convenience over ChainVerifier for records already in memory (tests, small exports).
VerifyReport VerifyChain(const AuditKey& key, const std::optional<ChainPoint>& checkpoint,
                         const std::optional<ChainPoint>& head,
                         const std::vector<AuditRecord>& records);

}  // namespace steadfast::collector::audit
