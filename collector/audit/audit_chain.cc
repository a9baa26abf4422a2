#include "collector/audit/audit_chain.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "common/random.h"

namespace steadfast::collector::audit {

namespace {

constexpr std::string_view kRecordTag = "steadfast-audit-record-v1";
constexpr std::string_view kHeadTag = "steadfast-audit-head-v1";
constexpr std::string_view kCheckpointTag = "steadfast-audit-checkpoint-v1";

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutI64(std::string* out, int64_t v) { PutU64(out, static_cast<uint64_t>(v)); }
void PutStr(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

std::string HmacHex(const AuditKey& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC-SHA-256 over in-memory data with a 32-byte key cannot fail unless OpenSSL is broken.
  SF_CHECK(HMAC(EVP_sha256(), key.bytes().data(), static_cast<int>(key.bytes().size()),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), md,
                &len) != nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

// Constant-time when the lengths match (lengths are not secret: always 64 for real MACs).
bool SameMac(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string PointEncoding(std::string_view tag, int64_t seq, std::string_view mac_hex) {
  std::string out;
  PutStr(&out, tag);
  PutI64(&out, seq);
  PutStr(&out, mac_hex);
  return out;
}

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 if there is none.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  const size_t left = s.size() - i;
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Valid UTF-8 (invalid bytes and NUL become U+FFFD), at most `max_bytes` long; a cut text ends
// in "…" so a reader sees it was cut.
std::string CleanText(std::string_view in, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";
  std::string out;
  out.reserve(std::min(in.size(), max_bytes));
  size_t i = 0;
  while (i < in.size()) {
    size_t n = Utf8SequenceLength(in, i);
    std::string_view piece = (n == 0 || in[i] == '\0') ? kReplacement : in.substr(i, n);
    if (n == 0) n = 1;
    if (out.size() + piece.size() > max_bytes) {
      while (!out.empty() && out.size() + kEllipsis.size() > max_bytes) {
        // Drop whole characters from the end until the ellipsis fits.
        size_t cut = out.size() - 1;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out.resize(cut);
      }
      out.append(kEllipsis);
      return out;
    }
    out.append(piece);
    i += n;
  }
  return out;
}

}  // namespace

std::string CanonicalRecordEncoding(int64_t seq, std::string_view prev_mac_hex,
                                    const AuditEvent& e) {
  std::string out;
  out.reserve(256 + e.summary_json.size());
  PutStr(&out, kRecordTag);
  PutI64(&out, seq);
  PutStr(&out, prev_mac_hex);
  PutI64(&out, e.time_ms);
  PutStr(&out, e.actor_type);
  PutStr(&out, e.actor_id);
  PutStr(&out, e.actor_name);
  PutU64(&out, e.roles.size());
  for (const std::string& role : e.roles) PutStr(&out, role);
  if (e.unit_id.has_value()) {
    out.push_back('\x01');
    PutI64(&out, *e.unit_id);
  } else {
    out.push_back('\x00');
  }
  PutStr(&out, e.source_address);
  PutStr(&out, e.action);
  PutStr(&out, e.object_type);
  PutStr(&out, e.object_id);
  PutStr(&out, e.summary_json);
  PutStr(&out, AuditResultName(e.result));
  PutStr(&out, e.result_code);
  PutStr(&out, e.message);
  return out;
}

std::string Seal(const AuditKey& key, std::string_view prev_mac_hex, int64_t seq,
                 const AuditEvent& event) {
  return HmacHex(key, CanonicalRecordEncoding(seq, prev_mac_hex, event));
}

std::string SealHead(const AuditKey& key, int64_t seq, std::string_view mac_hex) {
  return HmacHex(key, PointEncoding(kHeadTag, seq, mac_hex));
}

std::string SealCheckpoint(const AuditKey& key, int64_t seq, std::string_view mac_hex) {
  return HmacHex(key, PointEncoding(kCheckpointTag, seq, mac_hex));
}

ChainPoint GenesisHead(const AuditKey& key) {
  ChainPoint p;
  p.seal_hex = SealHead(key, p.seq, p.mac_hex);
  return p;
}

ChainPoint GenesisCheckpoint(const AuditKey& key) {
  ChainPoint p;
  p.seal_hex = SealCheckpoint(key, p.seq, p.mac_hex);
  return p;
}

StatusOr<AuditEvent> NormalizeEvent(AuditEvent e) {
  if (e.action.empty()) return InvalidArgumentError("audit event: action is required");
  if (e.roles.size() > kMaxAuditRoles) {
    return InvalidArgumentError("audit event: more than " + std::to_string(kMaxAuditRoles) +
                                " roles");
  }
  if (e.summary_json.size() > kMaxAuditSummaryBytes) {
    return InvalidArgumentError("audit event: summary_json is over " +
                                std::to_string(kMaxAuditSummaryBytes) +
                                " bytes; summarise, do not copy whole objects");
  }
  const nlohmann::json summary =
      nlohmann::json::parse(e.summary_json, nullptr, /*allow_exceptions=*/false);
  if (summary.is_discarded() || !summary.is_object()) {
    return InvalidArgumentError("audit event: summary_json must be a JSON object");
  }
  for (std::string* field : {&e.actor_type, &e.actor_id, &e.actor_name, &e.source_address,
                             &e.action, &e.object_type, &e.object_id, &e.result_code, &e.message}) {
    *field = CleanText(*field, kMaxAuditFieldBytes);
  }
  for (std::string& role : e.roles) role = CleanText(role, kMaxAuditFieldBytes);
  return e;
}

// ---- ChainVerifier

ChainVerifier::ChainVerifier(const AuditKey& key, std::optional<ChainPoint> checkpoint,
                             std::optional<ChainPoint> head)
    : key_(key),
      checkpoint_(checkpoint.value_or(ChainPoint{})),
      head_(head.value_or(ChainPoint{})),
      head_missing_(!head.has_value()),
      expected_seq_(checkpoint_.seq + 1),
      expected_prev_(checkpoint_.mac_hex),
      last_good_seq_(checkpoint_.seq) {
  head_sealed_ =
      head.has_value() && SameMac(SealHead(key_, head_.seq, head_.mac_hex), head_.seal_hex);
  if (!checkpoint.has_value()) {
    Fail(0, kProblemCheckpointAltered,
         "the retention checkpoint row is missing, so the start of the log cannot be checked");
  } else if (!SameMac(SealCheckpoint(key_, checkpoint_.seq, checkpoint_.mac_hex),
                      checkpoint_.seal_hex)) {
    Fail(checkpoint_.seq, kProblemCheckpointAltered,
         "the retention checkpoint (seq " + std::to_string(checkpoint_.seq) +
             ") does not carry a valid seal: it was edited, e.g. moved to hide deleted records (or "
             "the audit "
             "key is not the key this log was sealed with)");
  }
}

bool ChainVerifier::Fail(int64_t seq, std::string_view problem, std::string detail) {
  done_ = true;
  report_.ok = false;
  report_.bad_seq = seq;
  report_.problem = std::string(problem);
  report_.detail = std::move(detail);
  return false;
}

// The suspect sits where the next record was expected but its own MAC fails. If the record
// after it links straight to the suspect's predecessor, the suspect is an extra record pushed
// into the chain (inserted); otherwise it stands in for a real record whose content (and
// perhaps MAC) was changed (altered). At the end of the log there is no successor: a record the
// head does not vouch for (beyond the head, or with the head row itself unsealed) was added.
bool ChainVerifier::ClassifySuspect(const AuditRecord* next) {
  const AuditRecord& s = *suspect_;
  const std::string seq = std::to_string(s.seq);
  if (next != nullptr) {
    if (SameMac(next->prev_mac_hex, expected_prev_)) {
      return Fail(s.seq, kProblemInserted,
                  "record " + seq + " is not sealed by the audit key and record " +
                      std::to_string(next->seq) + " links past it to record " +
                      std::to_string(s.seq - 1) + ": it was inserted" + suspect_reason_);
    }
    if (SameMac(next->prev_mac_hex, s.mac_hex)) {
      return Fail(s.seq, kProblemAltered,
                  "record " + seq +
                      " does not match its MAC: its content was changed after it was written" +
                      suspect_reason_);
    }
    return Fail(s.seq, kProblemAltered,
                "record " + seq +
                    " does not match its MAC and its successor does not link to it: the record "
                    "(content and MAC) was replaced" +
                    suspect_reason_);
  }
  if (s.seq > head_.seq || !head_sealed_) {
    return Fail(s.seq, kProblemInserted,
                "record " + seq +
                    " at the end of the log is not sealed by the audit key and the head does not "
                    "vouch for it: it was added" +
                    suspect_reason_);
  }
  return Fail(
      s.seq, kProblemAltered,
      "record " + seq +
          " (the last) does not match its MAC: its content was changed after it was written" +
          suspect_reason_);
}

bool ChainVerifier::Add(const AuditRecord& r, std::string_view decode_problem) {
  if (done_) return false;
  if (suspect_.has_value()) return ClassifySuspect(&r);
  ++report_.records_checked;
  if (report_.first_seq == 0) report_.first_seq = r.seq;
  const std::string seq = std::to_string(r.seq);
  if (r.seq <= checkpoint_.seq) {
    return Fail(r.seq, kProblemInserted,
                "record " + seq + " lies at or before the retention checkpoint (seq " +
                    std::to_string(checkpoint_.seq) +
                    "), where every record was deleted: it was put back or inserted");
  }
  if (r.seq < expected_seq_) {
    return Fail(r.seq, kProblemInserted, "record " + seq + " is out of order (a duplicate seq)");
  }
  if (r.seq > expected_seq_) {
    const std::string missing = r.seq - 1 == expected_seq_
                                    ? "record " + std::to_string(expected_seq_) + " is"
                                    : "records " + std::to_string(expected_seq_) + ".." +
                                          std::to_string(r.seq - 1) + " are";
    return Fail(expected_seq_, kProblemRemoved,
                missing + " missing: record " + seq + " follows record " +
                    std::to_string(expected_seq_ - 1));
  }
  const bool sealed =
      decode_problem.empty() && SameMac(Seal(key_, r.prev_mac_hex, r.seq, r.event), r.mac_hex);
  if (!sealed) {
    suspect_ = r;
    if (!decode_problem.empty()) suspect_reason_ = " (" + std::string(decode_problem) + ")";
    return true;
  }
  if (!SameMac(r.prev_mac_hex, expected_prev_)) {
    // Both records are genuinely sealed but do not link: they come from different copies of
    // the log (e.g. a record restored from a backup over a rebuilt chain).
    return Fail(r.seq, kProblemInserted,
                "record " + seq + " is sealed but does not link to record " +
                    std::to_string(r.seq - 1) + ": it comes from another copy of the log");
  }
  if (!head_missing_ && r.seq > head_.seq) {
    return Fail(head_.seq + 1, kProblemHeadAltered,
                "sealed records continue past the head (seq " + std::to_string(head_.seq) +
                    "): the head row was set back, as if to hide records after it");
  }
  expected_prev_ = r.mac_hex;
  ++expected_seq_;
  last_good_seq_ = r.seq;
  report_.last_seq = r.seq;
  return true;
}

VerifyReport ChainVerifier::Finish() {
  if (done_) return report_;
  if (suspect_.has_value()) {
    ClassifySuspect(nullptr);
    return report_;
  }
  const int64_t next = last_good_seq_ + 1;
  if (head_missing_) {
    Fail(next, kProblemHeadAltered,
         "the head row is missing, so the end of the log cannot be checked");
    return report_;
  }
  if (!head_sealed_) {
    Fail(next, kProblemHeadAltered,
         "the head row (seq " + std::to_string(head_.seq) +
             ") does not carry a valid seal: it was edited, e.g. to hide records removed from the "
             "end; the "
             "records are intact up to seq " +
             std::to_string(last_good_seq_));
    return report_;
  }
  if (head_.seq > last_good_seq_) {
    const std::string missing = head_.seq == next ? "record " + std::to_string(next) + " is"
                                                  : "records " + std::to_string(next) + ".." +
                                                        std::to_string(head_.seq) + " are";
    Fail(next, kProblemTruncated,
         "the head says the log ends at seq " + std::to_string(head_.seq) +
             " but the records end at seq " + std::to_string(last_good_seq_) + ": " + missing +
             " missing from the end");
    return report_;
  }
  if (!SameMac(head_.mac_hex, expected_prev_)) {
    Fail(next, kProblemHeadAltered,
         "the head (seq " + std::to_string(head_.seq) + ") does not match the last record's MAC");
    return report_;
  }
  return report_;
}

VerifyReport VerifyChain(const AuditKey& key, const std::optional<ChainPoint>& checkpoint,
                         const std::optional<ChainPoint>& head,
                         const std::vector<AuditRecord>& records) {
  ChainVerifier verifier(key, checkpoint, head);
  for (const AuditRecord& r : records) {
    if (!verifier.Add(r)) break;
  }
  return verifier.Finish();
}

}  // namespace steadfast::collector::audit
