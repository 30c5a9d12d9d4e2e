#include "server/store/sqlite_db.h"

#include "absl/strings/str_cat.h"

namespace deliverd::store {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  std::string message =
      absl::StrCat(what, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    default:
      return absl::InternalError(message);
  }
}

SqliteStatement::~SqliteStatement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

SqliteStatement& SqliteStatement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(sqlite3_db_handle(stmt_), rc, "bind");
  }
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(sqlite3_db_handle(stmt_), rc, "bind");
  }
  return *this;
}

SqliteStatement& SqliteStatement::BindBytes(int index, absl::string_view bytes,
                                            bool blob, bool copy) {
  const char* data = bytes.data();
  int size = static_cast<int>(bytes.size());
  sqlite3_destructor_type keep = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
  int rc = blob ? sqlite3_bind_blob(stmt_, index, data, size, keep)
                : sqlite3_bind_text(stmt_, index, data, size, keep);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(sqlite3_db_handle(stmt_), rc, "bind");
  }
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, absl::string_view text) {
  return BindBytes(index, text, /*blob=*/false, /*copy=*/true);
}

SqliteStatement& SqliteStatement::BindBlob(int index, absl::string_view bytes) {
  return BindBytes(index, bytes, /*blob=*/true, /*copy=*/true);
}

SqliteStatement& SqliteStatement::BindView(int index, absl::string_view text) {
  return BindBytes(index, text, /*blob=*/false, /*copy=*/false);
}

SqliteStatement& SqliteStatement::BindBlobView(int index,
                                               absl::string_view bytes) {
  return BindBytes(index, bytes, /*blob=*/true, /*copy=*/false);
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(sqlite3_db_handle(stmt_), rc, "bind");
  }
  return *this;
}

absl::StatusOr<bool> SqliteStatement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(sqlite3_db_handle(stmt_), rc, "step");
}

absl::Status SqliteStatement::Run() {
  absl::StatusOr<bool> row = Step();
  if (!row.ok()) return row.status();
  return absl::OkStatus();
}

int64_t SqliteStatement::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double SqliteStatement::Double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string SqliteStatement::Text(int column) const {
  return std::string(TextView(column));
}

absl::string_view SqliteStatement::TextView(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return absl::string_view();
  return absl::string_view(static_cast<const char*>(data), size);
}

absl::StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(
    const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (read_only ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, absl::StrCat("open ", path));
    sqlite3_close(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  // Readers and the writer share the file; a reader may briefly wait for a
  // checkpoint rather than fail.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status SqliteConnection::Exec(absl::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    return SqliteError(nullptr, rc, message);
  }
  return absl::OkStatus();
}

absl::Status SqliteConnection::ExecCached(const std::string& sql) {
  absl::StatusOr<std::unique_ptr<SqliteStatement>> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return (*stmt)->Run();
}

absl::StatusOr<std::unique_ptr<SqliteStatement>> SqliteConnection::Prepare(
    const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
    it = cache_.emplace(sql, stmt).first;
  }
  return std::make_unique<SqliteStatement>(it->second);
}

int64_t SqliteConnection::LastInsertRowId() const {
  return sqlite3_last_insert_rowid(db_);
}

int SqliteConnection::Changes() const { return sqlite3_changes(db_); }

int64_t SqliteConnection::TotalChanges() const {
  return sqlite3_total_changes64(db_);
}

bool SqliteConnection::InAutocommit() const {
  return sqlite3_get_autocommit(db_) != 0;
}

}  // namespace deliverd::store
