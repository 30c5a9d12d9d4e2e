// A thin RAII layer over the SQLite C API: one connection with a cache of
// prepared statements, and a statement cursor with typed bind/read helpers.
//
// Not thread-safe: a connection (and its statements) belongs to one thread
// at a time; SqliteStore hands connections out from a pool. Errors come back
// as absl::Status carrying SQLite's message; nothing throws.
#ifndef DELIVERD_SERVER_STORE_SQLITE_DB_H_
#define DELIVERD_SERVER_STORE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::store {

// A prepared statement in use. Reset (bindings cleared) when destroyed, so
// the cached statement can be reused.
class SqliteStatement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Parameters are 1-based, as in SQLite.
  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& Bind(int index, double value);
  SqliteStatement& Bind(int index, absl::string_view text);
  SqliteStatement& BindBlob(int index, absl::string_view bytes);
  // As Bind and BindBlob, without SQLite taking a copy: the bytes must stay
  // in place until this statement is destroyed (fields of an object that
  // outlives it, never a temporary). For the hot insert paths, where the
  // copies were a tenth of the writer's work per message.
  SqliteStatement& BindView(int index, absl::string_view text);
  SqliteStatement& BindBlobView(int index, absl::string_view bytes);
  SqliteStatement& BindNull(int index);

  // Advances to the next row: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Runs a statement that returns no rows.
  absl::Status Run();

  // Columns are 0-based, as in SQLite.
  int64_t Int(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;
  std::string Text(int column) const;
  // The column's bytes, valid until the next Step() or the statement's end.
  absl::string_view TextView(int column) const;

 private:
  SqliteStatement& BindBytes(int index, absl::string_view bytes, bool blob,
                             bool copy);

  sqlite3_stmt* stmt_;
  absl::Status bind_error_;
};

class SqliteConnection {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(
      const std::string& path, bool read_only);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs one or more statements without parameters (schema, pragmas).
  absl::Status Exec(absl::string_view sql);
  // Runs one parameterless statement through the statement cache; for the
  // transaction statements the writer repeats on every commit.
  absl::Status ExecCached(const std::string& sql);
  // A cached prepared statement for `sql` (which must be a string that
  // lives as long as the connection, in practice a literal or a string the
  // caller keeps, because the cache is keyed by its text).
  absl::StatusOr<std::unique_ptr<SqliteStatement>> Prepare(
      const std::string& sql);
  int64_t LastInsertRowId() const;
  int Changes() const;
  // Rows changed by every INSERT, UPDATE and DELETE this connection has
  // completed; a statement that failed counts none (SQLite undid it).
  int64_t TotalChanges() const;
  // True when no transaction is open, including after SQLite rolled one
  // back by itself (some I/O and out-of-memory errors do).
  bool InAutocommit() const;
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_SQLITE_DB_H_
