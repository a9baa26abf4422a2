#include "common/sqlite/store_sql.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace steadfast::sqlite {
namespace {

constexpr StoreSql kSql("test store");

class StoreSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-storesql-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(std::string(tmpl) + "/s.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER, flag INTEGER)").ok());
  }
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(StoreSqlTest, BindsEveryKindInOrder) {
  const std::optional<int64_t> none;
  ASSERT_TRUE(kSql.Exec(*db_, "INSERT INTO t (id, name, n, flag) VALUES (?1, ?2, ?3, ?4)", int64_t{1}, std::string("a"),
                        none, true)
                  .ok());
  ASSERT_TRUE(kSql.Exec(*db_, "INSERT INTO t (id, name, n, flag) VALUES (?1, ?2, ?3, ?4)", 2, std::string_view("b"),
                        std::optional<int64_t>(7), false)
                  .ok());
  StatusOr<bool> null_n = kSql.Exists(*db_, "SELECT 1 FROM t WHERE id = ?1 AND n IS NULL AND flag = 1", int64_t{1});
  ASSERT_TRUE(null_n.ok());
  EXPECT_TRUE(*null_n);
  StatusOr<bool> seven = kSql.Exists(*db_, "SELECT 1 FROM t WHERE name = ?1 AND n = ?2 AND flag = 0", "b", 7);
  ASSERT_TRUE(seven.ok());
  EXPECT_TRUE(*seven);
  StatusOr<bool> missing = kSql.Exists(*db_, "SELECT 1 FROM t WHERE id = ?1", int64_t{3});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
}

TEST_F(StoreSqlTest, RuntimeParameterListsNumberAfterWhatIsThere) {
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(kSql.Exec(*db_, "INSERT INTO t (id, name) VALUES (?1, ?2)", i, "n" + std::to_string(i)).ok());
  }
  std::vector<SqlParam> params;
  const std::string name = Placeholder(std::string("n2"), &params);
  const std::string in = InList({2, 3}, &params);
  EXPECT_EQ(name, "?1");
  EXPECT_EQ(in, "?2, ?3");
  StatusOr<SqliteStatement> stmt =
      kSql.BoundParams(*db_, "SELECT count(*) FROM t WHERE name <> " + name + " AND id IN (" + in + ")", params);
  ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
  ASSERT_TRUE(*kSql.Step(*stmt));
  EXPECT_EQ(stmt->ColumnInt(0), 1);
  EXPECT_EQ(InList({}, &params), "");
}

TEST_F(StoreSqlTest, ErrorsNameTheStoreAndFollowTheContract) {
  Status dup = kSql.Exec(*db_, "INSERT INTO t (id, name) VALUES (1, 'x'), (2, 'x')");
  EXPECT_EQ(dup.code(), StatusCode::kInternal) << dup.ToString();  // a constraint reached is a bug
  EXPECT_EQ(dup.message().rfind("test store: ", 0), 0u) << dup.message();
  StatusOr<SqliteStatement> bad = kSql.Prepare(*db_, "SELECT nothing FROM nowhere");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("test store: ", 0), 0u);
  EXPECT_EQ(kSql.Error(UnavailableError("disk full")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(kSql.Error(AbortedError("busy")).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(kSql.Error(OkStatus()).ok());
}

}  // namespace
}  // namespace steadfast::sqlite
