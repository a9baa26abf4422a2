#include "common/sqlite/sqlite_db.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

namespace steadfast::sqlite {
namespace {

std::string TempPath(const std::string& name) {
  char tmpl[] = "/tmp/sf-sqlite-XXXXXX";
  char* d = mkdtemp(tmpl);
  return std::string(d ? d : "/tmp") + "/" + name;
}

const std::vector<Migration> kMigrations = {
    {1, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, v REAL, b BLOB);"},
    {2, "ALTER TABLE t ADD COLUMN extra INTEGER;"},
};

TEST(SqliteDbTest, MigratesAndRoundTrips) {
  std::string path = TempPath("a.db");
  auto db = SqliteDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  auto ins = (*db)->Prepare("INSERT INTO t (name, v, b, extra) VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  ins->Bind(1, std::string_view("x")).Bind(2, 1.5).BindBlob(3, std::string("\0\1", 2)).BindNull(4);
  ASSERT_TRUE(ins->Run().ok());
  ins->Reset();
  ins->Bind(1, std::string_view("x")).Bind(2, 2.0).BindNull(3).BindNull(4);
  EXPECT_EQ(ins->Run().code(), StatusCode::kAlreadyExists);  // UNIQUE violated

  auto q = (*db)->Prepare("SELECT name, v, b, extra FROM t");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnText(0), "x");
  EXPECT_DOUBLE_EQ(q->ColumnDouble(1), 1.5);
  EXPECT_EQ(q->ColumnBlob(2), std::string("\0\1", 2));
  EXPECT_TRUE(q->IsNull(3));
  EXPECT_FALSE(*q->Step());
}

TEST(SqliteDbTest, MigrationsAreIdempotentAcrossOpens) {
  std::string path = TempPath("b.db");
  {
    auto db = SqliteDb::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Migrate({kMigrations[0]}).ok());
  }
  auto db = SqliteDb::Open(path);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());  // applies only version 2
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());  // nothing to do
  auto q = (*db)->Prepare("PRAGMA user_version");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnInt(0), 2);
}

TEST(SqliteDbTest, RefusesNewerSchema) {
  std::string path = TempPath("c.db");
  auto db = SqliteDb::Open(path);
  ASSERT_TRUE((*db)->Exec("PRAGMA user_version=99").ok());
  EXPECT_EQ((*db)->Migrate(kMigrations).code(), StatusCode::kFailedPrecondition);
}

TEST(SqliteDbTest, FailedMigrationLeavesVersionUnchanged) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_TRUE(db.ok());
  Status s = (*db)->Migrate({kMigrations[0], {2, "THIS IS NOT SQL"}});
  EXPECT_FALSE(s.ok());
  auto q = (*db)->Prepare("PRAGMA user_version");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnInt(0), 1);
}

// A later version may drop what an earlier one made (a derived cache starting over). The version
// query must not be running then: SQLite refuses DROP TABLE beside a running statement ("database
// table is locked"), which both kinds of migration once did.
TEST(SqliteDbTest, AMigrationMayDropTablesOfAnEarlierOne) {
  auto db = SqliteDb::Open(TempPath("drop.db"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Migrate({{1, "CREATE TABLE old (x INTEGER); CREATE INDEX old_x ON old (x);"}}).ok());
  Status s = (*db)->Migrate({{1, "CREATE TABLE old (x INTEGER); CREATE INDEX old_x ON old (x);"},
                             {2, "DROP INDEX old_x; DROP TABLE old; CREATE TABLE fresh (y TEXT);"}});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE((*db)->Exec("INSERT INTO fresh VALUES ('ok')").ok());

  ASSERT_TRUE((*db)->MigrateComponent("c", {{1, "CREATE TABLE c_old (x INTEGER);"}}).ok());
  s = (*db)->MigrateComponent("c", {{1, "CREATE TABLE c_old (x INTEGER);"}, {2, "DROP TABLE c_old; CREATE TABLE c_new (y);"}});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE((*db)->Exec("INSERT INTO c_new VALUES (1)").ok());
}

int64_t ComponentVersion(SqliteDb& db, const std::string& component) {
  auto q = db.Prepare("SELECT version FROM schema_migrations WHERE component = ?1");
  q->Bind(1, component);
  return *q->Step() ? q->ColumnInt(0) : 0;
}

TEST(SqliteDbTest, ComponentsMigrateIndependentlyOfEachOtherAndOfUserVersion) {
  std::string path = TempPath("comp.db");
  auto db = SqliteDb::Open(path);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  ASSERT_TRUE((*db)->MigrateComponent("a", {{1, "CREATE TABLE a1 (x INTEGER);"}}).ok());
  ASSERT_TRUE((*db)->MigrateComponent("b", {{1, "CREATE TABLE b1 (x INTEGER);"}, {2, "CREATE TABLE b2 (x);"}}).ok());
  // A second open applies only what is new for "a".
  auto again = SqliteDb::Open(path);
  ASSERT_TRUE((*again)->MigrateComponent("a", {{1, "CREATE TABLE a1 (x INTEGER);"}, {2, "CREATE TABLE a2 (y);"}}).ok());
  EXPECT_EQ(ComponentVersion(**again, "a"), 2);
  EXPECT_EQ(ComponentVersion(**again, "b"), 2);
  auto uv = (*again)->Prepare("PRAGMA user_version");
  ASSERT_TRUE(*uv->Step());
  EXPECT_EQ(uv->ColumnInt(0), 2);
  EXPECT_EQ((*again)->MigrateComponent("b", {{1, "CREATE TABLE b1 (x INTEGER);"}}).code(),
            StatusCode::kFailedPrecondition);
  // A failed step leaves the component at its last good version.
  EXPECT_FALSE((*again)->MigrateComponent("a", {{3, "NOT SQL"}}).ok());
  EXPECT_EQ(ComponentVersion(**again, "a"), 2);
}

TEST(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  auto db = SqliteDb::Open(TempPath("d.db"));
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  {
    Transaction tx(db->get());
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t (name) VALUES ('gone')").ok());
  }
  {
    Transaction tx(db->get());
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t (name) VALUES ('kept')").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto q = (*db)->Prepare("SELECT group_concat(name) FROM t");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnText(0), "kept");
}

TEST(SqliteDbTest, CorruptFileIsDataLoss) {
  std::string path = TempPath("corrupt.db");
  std::ofstream(path) << std::string(8192, 'Z');
  auto db = SqliteDb::Open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss) << db.status().ToString();
}

TEST(SqliteDbTest, BadSqlIsAnError) {
  auto db = SqliteDb::Open(":memory:");
  EXPECT_FALSE((*db)->Prepare("SELEKT 1").ok());
  EXPECT_FALSE((*db)->Exec("DROP TABLE nope").ok());
}

}  // namespace
}  // namespace steadfast::sqlite
