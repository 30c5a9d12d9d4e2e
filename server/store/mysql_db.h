// A thin layer over MySQL Connector/C++ (the 1.1 API Debian 12 ships as
// libmysqlcppconn): a connection with a cache of prepared statements, typed
// bind/read helpers, and a fixed-size connection pool.
//
// Every Connector/C++ exception is caught in this unit and returned as an
// absl::Status; nothing throws past it. Errors map as:
//   duplicate key (1062)                       -> ALREADY_EXISTS
//   value too long for its column (1406)       -> INVALID_ARGUMENT
//   deadlock (1213), lock wait timeout (1205)  -> ABORTED (retry the
//                                                 transaction)
//   connection refused/lost, server gone away  -> UNAVAILABLE (the
//                                                 connection is marked broken
//                                                 and the pool replaces it)
//   anything else                              -> INTERNAL
//
// Times are DATETIME(6) in UTC ("YYYY-MM-DD HH:MM:SS.ffffff"); every session
// runs with time_zone '+00:00', utf8mb4 and strict SQL mode.
//
// Thread safety: a connection (and its statements and result sets) belongs
// to one thread at a time; the pool is thread-safe.
#ifndef DELIVERD_SERVER_STORE_MYSQL_DB_H_
#define DELIVERD_SERVER_STORE_MYSQL_DB_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sql {
class Connection;
class PreparedStatement;
class ResultSet;
}  // namespace sql

namespace deliverd::store {

// Where and how to connect.
struct MysqlConfig {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user;
  std::string password;
  std::string database;
  // Connections the store's pool holds (readers, claims and the writer).
  int pool_size = 8;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Bounds a statement that hangs on a dead server.
  absl::Duration read_timeout = absl::Seconds(30);
};

// The rows of a query, read forward. Columns are 0-based.
class MysqlRows {
 public:
  explicit MysqlRows(std::unique_ptr<sql::ResultSet> rows);
  ~MysqlRows();
  MysqlRows(const MysqlRows&) = delete;
  MysqlRows& operator=(const MysqlRows&) = delete;

  // True when a row is available.
  absl::StatusOr<bool> Next();

  int64_t Int(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;
  // Text or bytes (BLOB columns keep embedded NULs).
  std::string Text(int column) const;
  // A DATETIME(6) column; NULL reads as InfiniteFuture.
  absl::Time Time(int column) const;

 private:
  std::unique_ptr<sql::ResultSet> rows_;
};

// A cached prepared statement. Parameters are 1-based. Binding never fails
// on its own; a bad bind is reported by the next Query or Execute. The
// cache hands out one statement per SQL text, so finish reading the rows
// of a Query before running the same text again.
class MysqlStatement {
 public:
  explicit MysqlStatement(sql::PreparedStatement* stmt,
                          class MysqlConnection* conn)
      : stmt_(stmt), conn_(conn) {}

  MysqlStatement& Bind(int index, int64_t value);
  MysqlStatement& Bind(int index, double value);
  MysqlStatement& Bind(int index, absl::string_view text);
  MysqlStatement& BindNull(int index);
  // DATETIME(6); InfinitePast and InfiniteFuture are clamped to the type's
  // range ends, so they still compare as expected.
  MysqlStatement& BindTime(int index, absl::Time t);
  // NULL for InfiniteFuture ("never"), else BindTime.
  MysqlStatement& BindOptionalTime(int index, absl::Time t);

  absl::StatusOr<std::unique_ptr<MysqlRows>> Query();
  // Returns the number of rows changed.
  absl::StatusOr<int64_t> Execute();

 private:
  sql::PreparedStatement* stmt_;
  MysqlConnection* conn_;
  absl::Status bind_error_;
};

class MysqlConnection {
 public:
  static absl::StatusOr<std::unique_ptr<MysqlConnection>> Open(
      const MysqlConfig& config);
  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  // Runs one statement without parameters (schema, transaction control).
  absl::Status Exec(absl::string_view sql);
  // Runs a parameterless query and returns its first column of its first
  // row as an integer (NOT_FOUND when there is no row).
  absl::StatusOr<int64_t> QueryInt(absl::string_view sql);
  // A cached prepared statement for `sql`; valid while the connection lives.
  absl::StatusOr<MysqlStatement*> Prepare(const std::string& sql);

  // Transactions. Writes run READ COMMITTED (fewer gap locks next to the
  // queue's SKIP LOCKED claims); reads see one consistent snapshot.
  absl::Status BeginWrite();
  absl::Status BeginRead();
  absl::Status Commit();
  // Best effort: a failure marks the connection broken.
  void Rollback();

  // True once an error showed the connection unusable; the pool drops it.
  bool broken() const { return broken_; }

  // Maps a Connector/C++ exception (caught by the caller) to a Status and
  // marks the connection broken when the error says it is.
  absl::Status Error(const std::exception& e, absl::string_view what);

 private:
  explicit MysqlConnection(std::unique_ptr<sql::Connection> conn);

  std::unique_ptr<sql::Connection> conn_;
  std::map<std::string, std::unique_ptr<sql::PreparedStatement>> cache_;
  std::map<std::string, std::unique_ptr<MysqlStatement>> wrappers_;
  bool broken_ = false;
};

// A fixed number of connections, opened on demand and replaced when broken.
class MysqlPool {
 public:
  explicit MysqlPool(MysqlConfig config) : config_(std::move(config)) {}

  // A connection for the holder's exclusive use, returned when destroyed.
  class Lease {
   public:
    Lease(MysqlPool* pool, std::unique_ptr<MysqlConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other)
        : pool_(std::exchange(other.pool_, nullptr)),
          conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    MysqlConnection& operator*() { return *conn_; }
    MysqlConnection* operator->() { return conn_.get(); }

   private:
    MysqlPool* pool_;
    std::unique_ptr<MysqlConnection> conn_;
  };

  // Waits (bounded by connect_timeout) for a free slot, then connects when
  // the slot has no live connection. UNAVAILABLE when the server cannot be
  // reached or every connection stays busy.
  absl::StatusOr<Lease> Acquire();

  const MysqlConfig& config() const { return config_; }

 private:
  void Return(std::unique_ptr<MysqlConnection> conn);

  MysqlConfig config_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<MysqlConnection>> idle_;
  int in_use_ = 0;
};

// DATETIME(6) text for `t` in UTC, clamped to the type's range.
std::string MysqlDatetime(absl::Time t);
// Parses DATETIME text as UTC.
absl::StatusOr<absl::Time> ParseMysqlDatetime(absl::string_view text);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_MYSQL_DB_H_
