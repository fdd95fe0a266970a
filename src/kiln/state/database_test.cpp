#include "kiln/state/database.hpp"

#include <gtest/gtest.h>

#include "kiln/base/file.hpp"

namespace kiln::state {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-db-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
  }
  Database open(int busy_timeout_ms = 10000) {
    Result<Database> db = Database::open(dir_->path() / "test.db", busy_timeout_ms);
    EXPECT_TRUE(db.ok()) << db.error().message;
    return std::move(db).value();
  }
  int64_t count(Database& db) {
    Result<Statement> stmt = db.prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(stmt.ok()) << stmt.error().message;
    EXPECT_TRUE(stmt->step().value_or(false));
    return stmt->column_int(0);
  }
  std::optional<TempDir> dir_;
};

TEST_F(DatabaseTest, BindsStepsAndReadsColumns) {
  Database db = open();
  ASSERT_TRUE(db.exec("CREATE TABLE t (name TEXT, n INTEGER, maybe TEXT)").ok());
  Result<Statement> insert = db.prepare("INSERT INTO t VALUES (?, ?, ?)");
  ASSERT_TRUE(insert.ok());
  insert->bind_all(std::string("it's \"quoted\"\n"), int64_t{1} << 40, std::nullopt);
  ASSERT_TRUE(insert->run().ok());
  Result<Statement> select = db.prepare("SELECT name, n, maybe FROM t");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE(select->step().value_or(false));
  EXPECT_EQ(select->column_text(0), "it's \"quoted\"\n");
  EXPECT_EQ(select->column_int(1), int64_t{1} << 40);
  EXPECT_TRUE(select->column_is_null(2));
  EXPECT_FALSE(select->column_is_null(0));
  EXPECT_FALSE(select->step().value_or(true));
}

TEST_F(DatabaseTest, ReportsBadSqlAndBadBindings) {
  Database db = open();
  Result<Statement> bad = db.prepare("SELEKT 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("SELEKT"), std::string::npos) << bad.error().message;
  Result<Statement> one = db.prepare("SELECT ?");
  ASSERT_TRUE(one.ok());
  one->bind(2, int64_t{5});  // out of range: reported by step
  EXPECT_FALSE(one->step().ok());
}

TEST_F(DatabaseTest, UsesWalAndKeepsUserVersion) {
  Database db = open();
  {
    Result<Statement> mode = db.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.ok());
    ASSERT_TRUE(mode->step().value_or(false));
    EXPECT_EQ(mode->column_text(0), "wal");
  }  // a statement that is not done holds its read transaction open until it is destroyed
  EXPECT_EQ(db.user_version().value_or(-1), 0);
  ASSERT_TRUE(db.set_user_version(7).ok());
  Database again = open();
  EXPECT_EQ(again.user_version().value_or(-1), 7);
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  Database db = open();
  ASSERT_TRUE(db.exec("CREATE TABLE t (n INTEGER)").ok());
  {
    Result<Transaction> txn = Transaction::begin(db);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(count(db), 0);
  {
    Result<Transaction> txn = Transaction::begin(db);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(txn->commit().ok());
  }
  EXPECT_EQ(count(db), 1);
}

TEST_F(DatabaseTest, SecondWriterIsUnavailableWhileTheFirstHoldsTheLock) {
  Database first = open();
  ASSERT_TRUE(first.exec("CREATE TABLE t (n INTEGER)").ok());
  Database second = open(/*busy_timeout_ms=*/0);
  Result<Transaction> held = Transaction::begin(first);
  ASSERT_TRUE(held.ok());
  Result<Transaction> blocked = Transaction::begin(second);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable) << blocked.error().message;
  // Readers are not blocked by the writer (WAL).
  EXPECT_EQ(count(second), 0);
  ASSERT_TRUE(held->commit().ok());
  EXPECT_TRUE(Transaction::begin(second).ok());
}

}  // namespace
}  // namespace kiln::state
