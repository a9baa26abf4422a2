#include "collector/audit/audit_chain.h"

#include <gtest/gtest.h>

#include "collector/audit/audit_test_util.h"

namespace steadfast::collector::audit {
namespace {

using testing::SampleEvent;
using testing::TestKey;

// A genuine chain of `n` records after `checkpoint`, as the store would have written it.
struct Chain {
  ChainPoint checkpoint;
  ChainPoint head;
  std::vector<AuditRecord> records;
};

Chain BuildChain(const AuditKey& key, int n, ChainPoint checkpoint) {
  Chain c;
  c.checkpoint = checkpoint;
  std::string prev = checkpoint.mac_hex;
  for (int i = 1; i <= n; ++i) {
    AuditRecord r;
    r.seq = checkpoint.seq + i;
    r.event = SampleEvent(static_cast<int>(r.seq));
    r.prev_mac_hex = prev;
    r.mac_hex = Seal(key, prev, r.seq, r.event);
    prev = r.mac_hex;
    c.records.push_back(r);
  }
  c.head.seq = checkpoint.seq + n;
  c.head.mac_hex = prev;
  c.head.seal_hex = SealHead(key, c.head.seq, c.head.mac_hex);
  return c;
}

Chain BuildChain(const AuditKey& key, int n) { return BuildChain(key, n, GenesisCheckpoint(key)); }

VerifyReport Verify(const AuditKey& key, const Chain& c) {
  return VerifyChain(key, c.checkpoint, c.head, c.records);
}

// A record that looks right but was made without the key.
AuditRecord Forged(int64_t seq, const std::string& prev) {
  AuditRecord r;
  r.seq = seq;
  r.event = SampleEvent(999);
  r.event.message = "forged";
  r.prev_mac_hex = prev;
  r.mac_hex = Seal(TestKey(100), prev, seq, r.event);  // sealed under some other key
  return r;
}

void ExpectBad(const VerifyReport& report, int64_t seq, std::string_view problem) {
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.bad_seq, seq) << report.detail;
  EXPECT_EQ(report.problem, problem) << report.detail;
  EXPECT_FALSE(report.detail.empty());
}

class ChainTest : public ::testing::Test {
 protected:
  const AuditKey key_ = TestKey();
};

TEST_F(ChainTest, SealMatchesTheFormatDocument) {
  // Computed independently (Python hmac over the bytes AUDIT_FORMAT.md describes), so the code
  // and the document cannot drift apart.
  AuditEvent e;
  e.time_ms = 1790000000123;
  e.actor_type = "user";
  e.actor_id = "7";
  e.actor_name = "alice";
  e.roles = {"admin", "viewer"};
  e.unit_id = 3;
  e.source_address = "192.0.2.10";
  e.action = "users.create";
  e.object_type = "user";
  e.object_id = "42";
  e.summary_json = R"({"after":{"username":"bob"}})";
  e.result = AuditResult::kOk;
  e.message = "created user bob";
  EXPECT_EQ(CanonicalRecordEncoding(1, kGenesisMacHex, e).size(), 337u);
  const std::string mac = Seal(key_, kGenesisMacHex, 1, e);
  EXPECT_EQ(mac, "3a20333c0e8e3ba939ae82e638259a2874844cf2865ef8a8945865780c903e29");
  EXPECT_EQ(SealHead(key_, 1, mac),
            "4c776e8631626fc0ca521ffae741f152d7c79403ce14d0d37de62cdcb2d4e399");
  EXPECT_EQ(GenesisCheckpoint(key_).seal_hex,
            "7acba57b721cd8ebe722f0783008fb7e5762b189ccb2367888ad2624a572a537");
}

TEST_F(ChainTest, EncodingIsUnambiguous) {
  AuditEvent a = SampleEvent(1);
  AuditEvent b = a;
  // Moving bytes between adjacent fields changes the encoding (length prefixes).
  a.actor_id = "ab";
  a.actor_name = "c";
  b.actor_id = "a";
  b.actor_name = "bc";
  EXPECT_NE(CanonicalRecordEncoding(1, kGenesisMacHex, a),
            CanonicalRecordEncoding(1, kGenesisMacHex, b));
  // One role with a separator inside is not two roles.
  AuditEvent c = SampleEvent(1);
  AuditEvent d = c;
  c.roles = {"admin,viewer"};
  d.roles = {"admin", "viewer"};
  EXPECT_NE(CanonicalRecordEncoding(1, kGenesisMacHex, c),
            CanonicalRecordEncoding(1, kGenesisMacHex, d));
  // No unit is not unit 0.
  AuditEvent f = SampleEvent(1);
  AuditEvent g = f;
  f.unit_id = std::nullopt;
  g.unit_id = 0;
  EXPECT_NE(CanonicalRecordEncoding(1, kGenesisMacHex, f),
            CanonicalRecordEncoding(1, kGenesisMacHex, g));
  // Every field is covered.
  const AuditEvent base = SampleEvent(1);
  const std::string mac = Seal(key_, kGenesisMacHex, 1, base);
  std::vector<AuditEvent> variants(14, base);
  variants[0].time_ms += 1;
  variants[1].actor_type = "token";
  variants[2].actor_id = "8";
  variants[3].actor_name = "mallory";
  variants[4].roles.pop_back();
  variants[5].unit_id = 4;
  variants[6].source_address = "192.0.2.11";
  variants[7].action = "users.delete";
  variants[8].object_type = "unit";
  variants[9].object_id = "1";
  variants[10].summary_json = "{}";
  variants[11].result = AuditResult::kDenied;
  variants[12].result_code = "permission_denied";
  variants[13].message = "x";
  for (size_t i = 0; i < variants.size(); ++i) {
    EXPECT_NE(Seal(key_, kGenesisMacHex, 1, variants[i]), mac) << "field " << i;
  }
  EXPECT_NE(Seal(key_, kGenesisMacHex, 2, base), mac);
  EXPECT_NE(Seal(key_, std::string(64, '1'), 1, base), mac);
  EXPECT_NE(Seal(TestKey(1), kGenesisMacHex, 1, base), mac);
}

TEST_F(ChainTest, IntactChainVerifies) {
  Chain c = BuildChain(key_, 10);
  VerifyReport r = Verify(key_, c);
  EXPECT_TRUE(r.ok) << r.problem << ": " << r.detail;
  EXPECT_EQ(r.records_checked, 10);
  EXPECT_EQ(r.first_seq, 1);
  EXPECT_EQ(r.last_seq, 10);
}

TEST_F(ChainTest, EmptyLogVerifies) {
  VerifyReport r = VerifyChain(key_, GenesisCheckpoint(key_), GenesisHead(key_), {});
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.records_checked, 0);
}

TEST_F(ChainTest, ChainAfterACheckpointVerifies) {
  ChainPoint cp;
  cp.seq = 500;
  cp.mac_hex = std::string(64, 'a');
  cp.seal_hex = SealCheckpoint(key_, cp.seq, cp.mac_hex);
  Chain c = BuildChain(key_, 5, cp);
  VerifyReport r = Verify(key_, c);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.first_seq, 501);
  EXPECT_EQ(r.last_seq, 505);
}

TEST_F(ChainTest, AlteredContentIsNamed) {
  Chain c = BuildChain(key_, 10);
  c.records[4].event.actor_name = "mallory";  // seq 5
  ExpectBad(Verify(key_, c), 5, kProblemAltered);
}

TEST_F(ChainTest, AlteredSummaryOfTheLastRecordIsNamed) {
  Chain c = BuildChain(key_, 10);
  c.records.back().event.summary_json = "{}";
  ExpectBad(Verify(key_, c), 10, kProblemAltered);
}

TEST_F(ChainTest, AlteredMacIsNamed) {
  Chain c = BuildChain(key_, 10);
  c.records[2].mac_hex = std::string(64, 'f');  // seq 3: its successor no longer links to it
  ExpectBad(Verify(key_, c), 3, kProblemAltered);
}

TEST_F(ChainTest, AlteredPrevMacIsNamed) {
  Chain c = BuildChain(key_, 10);
  c.records[6].prev_mac_hex = std::string(64, 'e');  // seq 7
  ExpectBad(Verify(key_, c), 7, kProblemAltered);
}

TEST_F(ChainTest, AlteredSeqIsNamed) {
  Chain c = BuildChain(key_, 10);
  // Two records swap their content (seq and MACs stay in place).
  std::swap(c.records[3].event, c.records[4].event);
  ExpectBad(Verify(key_, c), 4, kProblemAltered);
}

TEST_F(ChainTest, UndecodableRecordCountsAsAltered) {
  Chain c = BuildChain(key_, 4);
  ChainVerifier v(key_, c.checkpoint, c.head);
  ASSERT_TRUE(v.Add(c.records[0]));
  ASSERT_TRUE(v.Add(c.records[1], "its result column holds the unknown value 'oops'"));
  v.Add(c.records[2]);
  VerifyReport r = v.Finish();
  ExpectBad(r, 2, kProblemAltered);
  EXPECT_NE(r.detail.find("oops"), std::string::npos);
}

TEST_F(ChainTest, RemovedMiddleRecordIsNamed) {
  Chain c = BuildChain(key_, 10);
  c.records.erase(c.records.begin() + 5);  // seq 6
  VerifyReport r = Verify(key_, c);
  ExpectBad(r, 6, kProblemRemoved);
  EXPECT_EQ(r.last_seq, 5);
}

TEST_F(ChainTest, RemovedRunIsNamedByItsFirstRecord) {
  Chain c = BuildChain(key_, 10);
  c.records.erase(c.records.begin() + 3, c.records.begin() + 7);  // seq 4..7
  VerifyReport r = Verify(key_, c);
  ExpectBad(r, 4, kProblemRemoved);
  EXPECT_NE(r.detail.find("4..7"), std::string::npos) << r.detail;
}

TEST_F(ChainTest, RemovedFirstRecordIsNamed) {
  Chain c = BuildChain(key_, 10);
  c.records.erase(c.records.begin());
  ExpectBad(Verify(key_, c), 1, kProblemRemoved);
}

TEST_F(ChainTest, RemovedAndRenumberedIsNamed) {
  // Record 4 deleted and the later ones renumbered to close the gap: record "4" is really 5.
  Chain c = BuildChain(key_, 8);
  c.records.erase(c.records.begin() + 3);
  for (size_t i = 3; i < c.records.size(); ++i) c.records[i].seq -= 1;
  c.head.seq = 7;
  c.head.mac_hex = c.records.back().mac_hex;
  c.head.seal_hex = "forged";
  // The record now numbered 4 is record 5 under a seq its MAC does not cover.
  ExpectBad(Verify(key_, c), 4, kProblemAltered);
}

TEST_F(ChainTest, ForgedRecordAppendedAfterTheHeadIsInserted) {
  Chain c = BuildChain(key_, 10);
  c.records.push_back(Forged(11, c.head.mac_hex));
  ExpectBad(Verify(key_, c), 11, kProblemInserted);
}

TEST_F(ChainTest, ForgedRecordAppendedWithTheHeadMovedIsInserted) {
  Chain c = BuildChain(key_, 10);
  c.records.push_back(Forged(11, c.head.mac_hex));
  c.head.seq = 11;
  c.head.mac_hex = c.records.back().mac_hex;
  c.head.seal_hex = SealHead(TestKey(100), 11, c.head.mac_hex);  // no key, no valid seal
  ExpectBad(Verify(key_, c), 11, kProblemInserted);
}

TEST_F(ChainTest, ForgedRecordPushedIntoTheMiddleIsInserted) {
  // Records 5.. moved up by one to make room for a forged record 5 linking to record 4.
  Chain c = BuildChain(key_, 8);
  for (size_t i = 4; i < c.records.size(); ++i) c.records[i].seq += 1;
  c.records.insert(c.records.begin() + 4, Forged(5, c.records[3].mac_hex));
  ExpectBad(Verify(key_, c), 5, kProblemInserted);
}

TEST_F(ChainTest, GenuineRecordFromAnotherCopyIsInserted) {
  // Both chains are sealed with the right key but record 4 comes from a different history.
  Chain a = BuildChain(key_, 6);
  Chain other = BuildChain(key_, 6);
  other.records[2].event.message = "a different past";
  other.records[2].mac_hex = Seal(key_, other.records[2].prev_mac_hex, 3, other.records[2].event);
  other.records[3].prev_mac_hex = other.records[2].mac_hex;
  other.records[3].mac_hex = Seal(key_, other.records[3].prev_mac_hex, 4, other.records[3].event);
  a.records[3] = other.records[3];
  ExpectBad(Verify(key_, a), 4, kProblemInserted);
}

TEST_F(ChainTest, RecordBeforeTheCheckpointIsInserted) {
  Chain full = BuildChain(key_, 10);
  ChainPoint cp;
  cp.seq = 5;
  cp.mac_hex = full.records[4].mac_hex;
  cp.seal_hex = SealCheckpoint(key_, cp.seq, cp.mac_hex);
  Chain c = full;
  c.checkpoint = cp;
  c.records.erase(c.records.begin(), c.records.begin() + 4);  // seq 5 (pruned) put back
  ExpectBad(Verify(key_, c), 5, kProblemInserted);
  c.records.erase(c.records.begin());
  EXPECT_TRUE(Verify(key_, c).ok);
}

TEST_F(ChainTest, TruncatedTailIsNamed) {
  Chain c = BuildChain(key_, 10);
  c.records.resize(7);
  VerifyReport r = Verify(key_, c);
  ExpectBad(r, 8, kProblemTruncated);
  EXPECT_EQ(r.last_seq, 7);
  EXPECT_NE(r.detail.find("8..10"), std::string::npos) << r.detail;
}

TEST_F(ChainTest, EverythingRemovedIsTruncated) {
  Chain c = BuildChain(key_, 3);
  c.records.clear();
  ExpectBad(Verify(key_, c), 1, kProblemTruncated);
}

TEST_F(ChainTest, TruncatedWithTheHeadRewrittenIsHeadAltered) {
  Chain c = BuildChain(key_, 10);
  c.records.resize(7);
  c.head.seq = 7;
  c.head.mac_hex =
      c.records.back().mac_hex;  // readable from the database; the seal is not forgeable
  ExpectBad(Verify(key_, c), 8, kProblemHeadAltered);
}

TEST_F(ChainTest, HeadSetBackToAnOlderSealedHeadIsHeadAltered) {
  Chain c = BuildChain(key_, 10);
  Chain old = BuildChain(key_, 6);  // the head row as it was after record 6, saved by an attacker
  c.head = old.head;
  ExpectBad(Verify(key_, c), 7, kProblemHeadAltered);
}

TEST_F(ChainTest, HeadPointingElsewhereIsHeadAltered) {
  Chain c = BuildChain(key_, 10);
  c.head.seq = 12;  // claims more, unsealed
  ExpectBad(Verify(key_, c), 11, kProblemHeadAltered);
}

TEST_F(ChainTest, MissingHeadIsHeadAltered) {
  Chain c = BuildChain(key_, 3);
  VerifyReport r = VerifyChain(key_, c.checkpoint, std::nullopt, c.records);
  ExpectBad(r, 4, kProblemHeadAltered);
}

TEST_F(ChainTest, CheckpointMovedWithoutTheKeyIsCheckpointAltered) {
  Chain c = BuildChain(key_, 10);
  // Records 1..4 deleted and the checkpoint moved over them to hide it.
  c.checkpoint.seq = 4;
  c.checkpoint.mac_hex = c.records[3].mac_hex;
  c.records.erase(c.records.begin(), c.records.begin() + 4);
  ExpectBad(Verify(key_, c), 4, kProblemCheckpointAltered);
}

TEST_F(ChainTest, MissingCheckpointIsCheckpointAltered) {
  Chain c = BuildChain(key_, 3);
  ExpectBad(VerifyChain(key_, std::nullopt, c.head, c.records), 0, kProblemCheckpointAltered);
}

TEST_F(ChainTest, WrongKeyFailsAtTheCheckpoint) {
  Chain c = BuildChain(key_, 3);
  VerifyReport r = Verify(TestKey(7), c);
  ExpectBad(r, 0, kProblemCheckpointAltered);
  EXPECT_NE(r.detail.find("key"), std::string::npos);
}

TEST_F(ChainTest, VerifierStopsAtTheFirstProblem) {
  Chain c = BuildChain(key_, 10);
  c.records[2].event.message = "x";  // seq 3
  c.records[7].event.message = "y";  // seq 8
  ChainVerifier v(key_, c.checkpoint, c.head);
  int fed = 0;
  for (const AuditRecord& r : c.records) {
    ++fed;
    if (!v.Add(r)) break;
  }
  EXPECT_EQ(fed, 4);  // seq 3 is judged when seq 4 arrives
  ExpectBad(v.Finish(), 3, kProblemAltered);
}

// ---- NormalizeEvent

TEST(NormalizeEventTest, KeepsAGoodEventAsItIs) {
  AuditEvent e = SampleEvent(1);
  e.actor_name = "张伟";
  StatusOr<AuditEvent> n = NormalizeEvent(e);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(CanonicalRecordEncoding(1, kGenesisMacHex, *n),
            CanonicalRecordEncoding(1, kGenesisMacHex, e));
}

TEST(NormalizeEventTest, ReplacesInvalidUtf8AndNul) {
  AuditEvent e = SampleEvent(1);
  e.actor_name = std::string("ad\xffmin\xc3", 7);
  e.message = std::string("a\0b", 3);
  e.roles = {"\xed\xa0\x80"};  // a UTF-16 surrogate encoded as UTF-8: invalid
  StatusOr<AuditEvent> n = NormalizeEvent(e);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->actor_name, "ad\xEF\xBF\xBDmin\xEF\xBF\xBD");
  EXPECT_EQ(n->message,
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(n->roles[0], "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(NormalizeEventTest, CutsLongFieldsOnACharacterBoundary) {
  AuditEvent e = SampleEvent(1);
  std::string name;
  while (name.size() < 3000) name += "张";  // 3 bytes each
  e.actor_name = "x" + name;
  StatusOr<AuditEvent> n = NormalizeEvent(e);
  ASSERT_TRUE(n.ok());
  EXPECT_LE(n->actor_name.size(), kMaxAuditFieldBytes);
  EXPECT_GT(n->actor_name.size(), kMaxAuditFieldBytes - 6);
  EXPECT_EQ(n->actor_name.substr(n->actor_name.size() - 3), "\xE2\x80\xA6");
  // What is left is whole characters: normalising again changes nothing.
  StatusOr<AuditEvent> again = NormalizeEvent(*n);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->actor_name, n->actor_name);
}

TEST(NormalizeEventTest, RefusesCallerBugs) {
  AuditEvent no_action = SampleEvent(1);
  no_action.action.clear();
  EXPECT_EQ(NormalizeEvent(no_action).status().code(), StatusCode::kInvalidArgument);
  for (const char* summary : {"", "[1]", "{", "\"text\"", "{} {}"}) {
    AuditEvent e = SampleEvent(1);
    e.summary_json = summary;
    EXPECT_EQ(NormalizeEvent(e).status().code(), StatusCode::kInvalidArgument) << summary;
  }
  AuditEvent big = SampleEvent(1);
  big.summary_json = "{\"a\":\"" + std::string(kMaxAuditSummaryBytes, 'x') + "\"}";
  EXPECT_EQ(NormalizeEvent(big).status().code(), StatusCode::kInvalidArgument);
  AuditEvent roles = SampleEvent(1);
  roles.roles.assign(kMaxAuditRoles + 1, "viewer");
  EXPECT_EQ(NormalizeEvent(roles).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace steadfast::collector::audit
