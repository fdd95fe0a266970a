#pragma once

// A small RAII layer over SQLite: a connection, prepared statements and transactions. Nothing
// here throws; SQLite's errors become kiln Errors (SQLITE_BUSY after the busy timeout is
// kUnavailable, a damaged file kCorruption, the rest kIo). Each object is for one thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace kiln::state {

class Statement;

class Database {
 public:
  // Opens (creating if needed) `file` in read-write mode, with foreign keys on, a busy timeout
  // of `busy_timeout_ms` (writers of other processes are waited for that long) and WAL
  // journaling, so readers never block a writer.
  static Result<Database> open(const std::filesystem::path& file, int busy_timeout_ms = 10000);

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  ~Database() = default;

  // Runs one or more statements that return no rows.
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  // PRAGMA user_version.
  Result<int> user_version();
  Status set_user_version(int version);
  const std::filesystem::path& path() const { return path_; }

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  Database(std::unique_ptr<sqlite3, Close> db, std::filesystem::path path)
      : db_(std::move(db)), path_(std::move(path)) {}

  std::unique_ptr<sqlite3, Close> db_;
  std::filesystem::path path_;
};

// A prepared statement: bind parameters (1-based), then step through the rows. Outside an
// explicit transaction, a statement that returned a row and is not yet done holds its implicit
// transaction (and delays the commit of writes made meanwhile) until it is done or destroyed:
// keep such statements short-lived.
class Statement {
 public:
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  ~Statement() = default;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bind_null(int index);
  // Binds `values` to parameters 1, 2, ... in order.
  template <typename... Values>
  Statement& bind_all(const Values&... values) {
    int index = 0;
    (bind_value(++index, values), ...);
    return *this;
  }

  // Runs to the next row: true when there is one, false when the statement is done.
  Result<bool> step();
  // Runs a statement that returns no rows.
  Status run();

  std::string column_text(int index) const;
  int64_t column_int(int index) const;
  bool column_is_null(int index) const;

 private:
  friend class Database;
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const;
  };
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  void bind_value(int index, std::string_view text) { bind(index, text); }
  void bind_value(int index, const std::string& text) { bind(index, std::string_view(text)); }
  void bind_value(int index, const char* text) { bind(index, std::string_view(text)); }
  void bind_value(int index, int64_t value) { bind(index, value); }
  void bind_value(int index, uint32_t value) { bind(index, static_cast<int64_t>(value)); }
  void bind_value(int index, int value) { bind(index, static_cast<int64_t>(value)); }
  void bind_value(int index, std::nullopt_t) { bind_null(index); }
  void check_bind(int rc, int index);

  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  std::optional<Error> bind_error_;
};

// BEGIN IMMEDIATE ... COMMIT: the write lock is taken at the start (waiting up to the busy
// timeout), so a transaction that reads then writes never fails half-way on a lock upgrade.
// Rolled back unless committed. The database must outlive it.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;  // null once committed or rolled back
};

}  // namespace kiln::state
