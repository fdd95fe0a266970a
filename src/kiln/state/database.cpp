#include "kiln/state/database.hpp"

#include <sqlite3.h>

#include <utility>

namespace kiln::state {
namespace {

ErrorCode code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kCorruption;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return ErrorCode::kPermissionDenied;
    case SQLITE_CONSTRAINT:
      return ErrorCode::kAlreadyExists;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_ERROR:
      return ErrorCode::kInternal;
    default:
      return ErrorCode::kIo;
  }
}

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return make_error(code_for(rc), "sqlite: {}: {}", what, message);
}

}  // namespace

void Database::Close::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

Result<Database> Database::open(const std::filesystem::path& file, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file.c_str(),
                           &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<sqlite3, Close> db(raw);
  if (rc != SQLITE_OK) {
    return sqlite_error(raw, rc, "opening " + file.string());
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  Database database(std::move(db), file);
  // WAL: readers see a snapshot and never block the one writer; the switch is persistent and
  // waits for the busy timeout when another process holds the file.
  KILN_TRY_CTX(database.exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"),
               "opening " + file.string());
  return database;
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string why = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return make_error(code_for(rc), "sqlite: {}: {}", path_.string(), why);
  }
  return ok_status();
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_error(db_.get(), rc, "preparing \"" + std::string(sql) + "\"");
  }
  return Statement(db_.get(), stmt);
}

Result<int> Database::user_version() {
  Statement stmt = KILN_TRY(prepare("PRAGMA user_version"));
  bool row = KILN_TRY(stmt.step());
  return row ? static_cast<int>(stmt.column_int(0)) : 0;
}

Status Database::set_user_version(int version) {
  // PRAGMA takes no bound parameters; `version` is an integer, so formatting it is safe.
  return exec(fmt::format("PRAGMA user_version = {}", version));
}

void Statement::Finalize::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

void Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK && !bind_error_) {
    bind_error_ = sqlite_error(db_, rc, fmt::format("binding parameter {}", index));
  }
}

Statement& Statement::bind(int index, std::string_view text) {
  check_bind(sqlite3_bind_text(
                 stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
             index);
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_.get(), index, value), index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_.get(), index), index);
  return *this;
}

Result<bool> Statement::step() {
  if (bind_error_) {
    return *bind_error_;
  }
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return sqlite_error(db_, rc, sqlite3_sql(stmt_.get()));
}

Status Statement::run() {
  while (KILN_TRY(step())) {
  }
  return ok_status();
}

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), index);
  int size = sqlite3_column_bytes(stmt_.get(), index);
  return text != nullptr ? std::string(reinterpret_cast<const char*>(text), size) : std::string();
}

int64_t Statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_.get(), index);
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin(Database& db) {
  KILN_TRY(db.exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  if (db_ != nullptr) {
    // A failed rollback leaves nothing to do: SQLite rolls back when the connection closes.
    (void)db_->exec("ROLLBACK");
  }
}

Status Transaction::commit() {
  Database* db = std::exchange(db_, nullptr);
  Status status = db->exec("COMMIT");
  if (!status.ok()) {
    (void)db->exec("ROLLBACK");
  }
  return status;
}

}  // namespace kiln::state
