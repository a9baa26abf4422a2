#include "collector/audit/audit_export.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "collector/audit/audit_test_util.h"

namespace steadfast::collector::audit {
namespace {

std::vector<AuditRecord> TwoRecords() {
  AuditRecord a;
  a.seq = 1;
  a.event.time_ms = 1790000000123;
  a.event.actor_type = "user";
  a.event.actor_id = "7";
  a.event.actor_name = "alice";
  a.event.roles = {"admin", "viewer"};
  a.event.unit_id = 3;
  a.event.source_address = "192.0.2.10";
  a.event.action = "users.create";
  a.event.object_type = "user";
  a.event.object_id = "42";
  a.event.summary_json = R"({"after":{"username":"bob","name":"Bob, \"B\""}})";
  a.event.message = "created user bob";
  a.prev_mac_hex = std::string(64, '0');
  a.mac_hex = std::string(64, 'a');
  AuditRecord b;
  b.seq = 2;
  b.event.time_ms = 1790000001000;
  b.event.actor_type = "anonymous";
  b.event.actor_name = "=HYPERLINK(\"http://evil\")";
  b.event.source_address = "198.51.100.7";
  b.event.action = "auth.login";
  b.event.object_type = "session";
  b.event.result = AuditResult::kDenied;
  b.event.result_code = "unauthenticated";
  b.event.message = "-1 attempts left\nline two";
  b.prev_mac_hex = a.mac_hex;
  b.mac_hex = std::string(64, 'b');
  return {a, b};
}

TEST(AuditExportTest, CsvGolden) {
  std::ostringstream out;
  ExportCsv(TwoRecords(), out);
  const std::string a64(64, 'a');
  const std::string z64(64, '0');
  const std::string b64(64, 'b');
  EXPECT_EQ(
      out.str(),
      "seq,time,actor_type,actor_id,actor_name,roles,unit_id,source_address,action,object_type,"
      "object_id,"
      "result,result_code,message,summary,prev_mac,mac\r\n"
      "1,2026-09-21T14:13:20.123Z,user,7,alice,admin;viewer,3,192.0.2.10,users.create,user,42,ok,,"
      "created user bob,\"{\"\"after\"\":{\"\"username\"\":\"\"bob\"\",\"\"name\"\":\"\"Bob, "
      "\\\"\"B\\\"\"\"\"}}\"," +
          z64 + "," + a64 +
          "\r\n"
          "2,2026-09-21T14:13:21.000Z,anonymous,,\"'=HYPERLINK(\"\"http://"
          "evil\"\")\",,,198.51.100.7,auth.login,"
          "session,,denied,unauthenticated,\"'-1 attempts left\nline two\",{}," +
          a64 + "," + b64 + "\r\n");
}

TEST(AuditExportTest, CsvNeutralisesEveryFormulaLead) {
  for (const std::string lead : {"=", "+", "-", "@", "\t", "\r"}) {
    AuditRecord r = TwoRecords()[0];
    r.event.message = lead + "SUM(A1)";
    std::ostringstream out;
    ExportCsv({r}, out, /*header=*/false);
    EXPECT_NE(out.str().find("'" + lead + "SUM(A1)"), std::string::npos) << out.str();
  }
  std::ostringstream out;
  ExportCsv({TwoRecords()[0]}, out, /*header=*/false);
  EXPECT_EQ(out.str().find('\''), std::string::npos) << out.str();
}

TEST(AuditExportTest, JsonLinesGolden) {
  std::ostringstream out;
  ExportJsonLines(TwoRecords(), out);
  const std::string a64(64, 'a');
  const std::string z64(64, '0');
  const std::string b64(64, 'b');
  const std::string line1 =
      R"j({"seq":1,"time":"2026-09-21T14:13:20.123Z","actor":{"type":"user","id":"7","name":"alice","roles":["admin","viewer"]},"unit_id":3,"source_address":"192.0.2.10","action":"users.create","object":{"type":"user","id":"42"},"summary":{"after":{"username":"bob","name":"Bob, \"B\""}},"result":"ok","result_code":"","message":"created user bob","prev_mac":")j" +
      z64 + R"j(","mac":")j" + a64 + "\"}\n";
  const std::string line2 =
      R"j({"seq":2,"time":"2026-09-21T14:13:21.000Z","actor":{"type":"anonymous","id":"","name":"=HYPERLINK(\"http://evil\")","roles":[]},"unit_id":null,"source_address":"198.51.100.7","action":"auth.login","object":{"type":"session","id":""},"summary":{},"result":"denied","result_code":"unauthenticated","message":"-1 attempts left\nline two","prev_mac":")j" +
      a64 + R"j(","mac":")j" + b64 + "\"}\n";
  EXPECT_EQ(out.str(), line1 + line2);
}

TEST(AuditExportTest, JsonArrayIsValidJson) {
  std::ostringstream out;
  ExportJsonArray(TwoRecords(), out);
  nlohmann::json doc = nlohmann::json::parse(out.str());
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[1]["actor"]["name"], "=HYPERLINK(\"http://evil\")");
  EXPECT_EQ(doc[0]["summary"]["after"]["username"], "bob");
  std::ostringstream empty;
  ExportJsonArray({}, empty);
  EXPECT_EQ(empty.str(), "[]\n");
}

TEST(AuditExportTest, SummaryThatIsNotJsonIsExportedAsText) {
  AuditRecord r = TwoRecords()[0];
  r.event.summary_json = "{broken";
  nlohmann::json doc = nlohmann::json::parse(AuditRecordJson(r));
  EXPECT_EQ(doc["summary"], "{broken");
}

// A reader over records in memory that honours the cursor and the page size, and counts pages.
struct FakePages {
  std::vector<AuditRecord> all;
  int pages = 0;
  StatusOr<std::vector<AuditRecord>> operator()(const AuditQuery& q) {
    ++pages;
    std::vector<AuditRecord> out;
    for (const AuditRecord& r : all) {
      if (r.seq > q.after_seq && static_cast<int64_t>(out.size()) < q.limit) out.push_back(r);
    }
    return out;
  }
};

std::vector<AuditRecord> Many(int n) {
  std::vector<AuditRecord> out;
  for (int i = 1; i <= n; ++i) {
    AuditRecord r;
    r.seq = i;
    r.event = testing::SampleEvent(i);
    r.prev_mac_hex = std::string(64, '0');
    r.mac_hex = std::string(64, 'c');
    out.push_back(r);
  }
  return out;
}

TEST(AuditExportTest, StreamsEveryPage) {
  for (ExportFormat format :
       {ExportFormat::kCsv, ExportFormat::kJsonLines, ExportFormat::kJsonArray}) {
    FakePages pages{Many(5)};
    std::ostringstream out;
    StatusOr<int64_t> n = ExportAudit([&](const AuditQuery& q) { return pages(q); }, AuditQuery{},
                                      format, out, /*page_size=*/2);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 5);
    EXPECT_EQ(pages.pages, 3);
    if (format == ExportFormat::kCsv) {
      std::ostringstream expected;
      ExportCsv(Many(5), expected);
      EXPECT_EQ(out.str(), expected.str());
    } else if (format == ExportFormat::kJsonLines) {
      std::ostringstream expected;
      ExportJsonLines(Many(5), expected);
      EXPECT_EQ(out.str(), expected.str());
    } else {
      std::ostringstream expected;
      ExportJsonArray(Many(5), expected);
      EXPECT_EQ(out.str(), expected.str());
    }
  }
}

TEST(AuditExportTest, StopsAfterAnExactlyFullLastPage) {
  FakePages pages{Many(4)};
  std::ostringstream out;
  EXPECT_EQ(ExportAudit([&](const AuditQuery& q) { return pages(q); }, AuditQuery{},
                        ExportFormat::kJsonLines, out, 2)
                .value(),
            4);
  EXPECT_EQ(pages.pages, 3);  // the third, empty page ends it
}

TEST(AuditExportTest, ReportsReaderAndWriteErrors) {
  std::ostringstream out;
  StatusOr<int64_t> n = ExportAudit(
      [](const AuditQuery&) -> StatusOr<std::vector<AuditRecord>> {
        return UnavailableError("database is busy");
      },
      AuditQuery{}, ExportFormat::kCsv, out);
  EXPECT_EQ(n.status().code(), StatusCode::kUnavailable);
  FakePages pages{Many(3)};
  std::ostringstream broken;
  broken.setstate(std::ios::badbit);
  EXPECT_EQ(ExportAudit([&](const AuditQuery& q) { return pages(q); }, AuditQuery{},
                        ExportFormat::kCsv, broken)
                .status()
                .code(),
            StatusCode::kUnavailable);
}

TEST(AuditExportTest, ParsesFormatNames) {
  EXPECT_EQ(ParseExportFormat("csv"), ExportFormat::kCsv);
  EXPECT_EQ(ParseExportFormat("json"), ExportFormat::kJsonArray);
  EXPECT_EQ(ParseExportFormat("jsonl"), ExportFormat::kJsonLines);
  EXPECT_FALSE(ParseExportFormat("xml").has_value());
}

}  // namespace
}  // namespace steadfast::collector::audit
