#include "server/store/mysql_db.h"

#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"

namespace deliverd::store {
namespace {

// The first driver use initialises the client library, which is not
// thread-safe; every later call only returns the instance.
sql::mysql::MySQL_Driver* Driver() {
  static sql::mysql::MySQL_Driver* const driver =
      sql::mysql::get_mysql_driver_instance();
  return driver;
}

bool IsConnectionError(int code) {
  switch (code) {
    case 1040:  // too many connections
    case 1053:  // server shutdown in progress
    case 1927:  // connection was killed
    case 2002:  // cannot connect (socket)
    case 2003:  // cannot connect (TCP)
    case 2005:  // unknown host
    case 2006:  // server has gone away
    case 2013:  // lost connection during query
    case 2026:  // SSL connection error
    case 2055:  // lost connection (system error)
      return true;
    default:
      return false;
  }
}

absl::Status MapError(const std::exception& e, absl::string_view what,
                      bool* connection_lost) {
  const auto* sql_error = dynamic_cast<const sql::SQLException*>(&e);
  int code = sql_error != nullptr ? sql_error->getErrorCode() : 0;
  std::string message = absl::StrCat(what, ": ", e.what());
  if (code != 0) absl::StrAppend(&message, " (MySQL error ", code, ")");
  if (IsConnectionError(code)) {
    *connection_lost = true;
    return absl::UnavailableError(message);
  }
  switch (code) {
    case 1062:  // duplicate entry
      return absl::AlreadyExistsError(message);
    case 1406:  // data too long for a column
      return absl::InvalidArgumentError(message);
    case 1205:  // lock wait timeout
    case 1213:  // deadlock
      return absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

int Millis(absl::Duration d) {
  return static_cast<int>(absl::ToInt64Milliseconds(d));
}

}  // namespace

std::string MysqlDatetime(absl::Time t) {
  static const absl::Time kMin = absl::FromCivil(
      absl::CivilSecond(1000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  static const absl::Time kMax =
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                      absl::UTCTimeZone()) +
      absl::Microseconds(999999);
  if (t < kMin) t = kMin;
  if (t > kMax) t = kMax;
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseMysqlDatetime(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &t,
                       &error)) {
    return absl::InternalError(
        absl::StrCat("bad DATETIME value \"", text, "\": ", error));
  }
  return t;
}

MysqlRows::MysqlRows(std::unique_ptr<sql::ResultSet> rows)
    : rows_(std::move(rows)) {}
MysqlRows::~MysqlRows() = default;

absl::StatusOr<bool> MysqlRows::Next() {
  try {
    return rows_->next();
  } catch (const std::exception& e) {
    bool ignored = false;
    return MapError(e, "read row", &ignored);
  }
}

// The readers below are only called on a current row with a valid column
// index (our own queries); Connector/C++ throws only on a bad index, which
// would be a programming error, so they read without a try block but never
// let an exception out.
int64_t MysqlRows::Int(int column) const {
  try {
    return rows_->getInt64(column + 1);
  } catch (const std::exception&) {
    return 0;
  }
}

double MysqlRows::Double(int column) const {
  try {
    return static_cast<double>(rows_->getDouble(column + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

bool MysqlRows::IsNull(int column) const {
  try {
    return rows_->isNull(column + 1);
  } catch (const std::exception&) {
    return true;
  }
}

std::string MysqlRows::Text(int column) const {
  try {
    return rows_->getString(column + 1).asStdString();
  } catch (const std::exception&) {
    return "";
  }
}

absl::Time MysqlRows::Time(int column) const {
  if (IsNull(column)) return absl::InfiniteFuture();
  absl::StatusOr<absl::Time> t = ParseMysqlDatetime(Text(column));
  return t.ok() ? *t : absl::InfiniteFuture();
}

MysqlStatement& MysqlStatement::Bind(int index, int64_t value) {
  try {
    stmt_->setInt64(index, value);
  } catch (const std::exception& e) {
    if (bind_error_.ok()) bind_error_ = conn_->Error(e, "bind");
  }
  return *this;
}

MysqlStatement& MysqlStatement::Bind(int index, double value) {
  try {
    stmt_->setDouble(index, value);
  } catch (const std::exception& e) {
    if (bind_error_.ok()) bind_error_ = conn_->Error(e, "bind");
  }
  return *this;
}

MysqlStatement& MysqlStatement::Bind(int index, absl::string_view text) {
  try {
    stmt_->setString(index, sql::SQLString(std::string(text)));
  } catch (const std::exception& e) {
    if (bind_error_.ok()) bind_error_ = conn_->Error(e, "bind");
  }
  return *this;
}

MysqlStatement& MysqlStatement::BindNull(int index) {
  try {
    stmt_->setNull(index, sql::DataType::VARCHAR);
  } catch (const std::exception& e) {
    if (bind_error_.ok()) bind_error_ = conn_->Error(e, "bind");
  }
  return *this;
}

MysqlStatement& MysqlStatement::BindTime(int index, absl::Time t) {
  return Bind(index, MysqlDatetime(t));
}

MysqlStatement& MysqlStatement::BindOptionalTime(int index, absl::Time t) {
  if (t == absl::InfiniteFuture()) return BindNull(index);
  return BindTime(index, t);
}

absl::StatusOr<std::unique_ptr<MysqlRows>> MysqlStatement::Query() {
  if (!bind_error_.ok()) {
    absl::Status error = std::move(bind_error_);
    bind_error_ = absl::OkStatus();
    return error;
  }
  try {
    return std::make_unique<MysqlRows>(
        std::unique_ptr<sql::ResultSet>(stmt_->executeQuery()));
  } catch (const std::exception& e) {
    return conn_->Error(e, "query");
  }
}

absl::StatusOr<int64_t> MysqlStatement::Execute() {
  if (!bind_error_.ok()) {
    absl::Status error = std::move(bind_error_);
    bind_error_ = absl::OkStatus();
    return error;
  }
  try {
    return static_cast<int64_t>(stmt_->executeUpdate());
  } catch (const std::exception& e) {
    return conn_->Error(e, "execute");
  }
}

MysqlConnection::MysqlConnection(std::unique_ptr<sql::Connection> conn)
    : conn_(std::move(conn)) {}

MysqlConnection::~MysqlConnection() {
  // Statements before the connection that owns them.
  wrappers_.clear();
  cache_.clear();
  try {
    if (conn_ != nullptr) conn_->close();
  } catch (const std::exception&) {
    // Closing a dead connection: nothing to do.
  }
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> MysqlConnection::Open(
    const MysqlConfig& config) {
  static std::mutex driver_mu;
  sql::ConnectOptionsMap options;
  options["hostName"] = sql::SQLString(config.host);
  options["port"] = config.port;
  options["userName"] = sql::SQLString(config.user);
  options["password"] = sql::SQLString(config.password);
  options["schema"] = sql::SQLString(config.database);
  options["OPT_CONNECT_TIMEOUT"] =
      std::max(1, Millis(config.connect_timeout) / 1000);
  options["OPT_READ_TIMEOUT"] = std::max(1, Millis(config.read_timeout) / 1000);
  options["OPT_WRITE_TIMEOUT"] =
      std::max(1, Millis(config.read_timeout) / 1000);
  options["OPT_RECONNECT"] = false;
  // UPDATE reports the rows it matched, not only those whose values changed
  // (as SQLite does), so "0 rows" always means "no such row".
  options["CLIENT_FOUND_ROWS"] = true;
  options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  std::unique_ptr<sql::Connection> conn;
  try {
    sql::mysql::MySQL_Driver* driver;
    {
      std::lock_guard<std::mutex> lock(driver_mu);
      driver = Driver();
    }
    conn.reset(driver->connect(options));
  } catch (const std::exception& e) {
    bool lost = false;
    absl::Status status = MapError(
        e,
        absl::StrCat("connect to mysql://", config.user, "@", config.host, ":",
                     config.port, "/", config.database),
        &lost);
    // Every failure to connect (refused, bad password, unknown database) is
    // the database being unavailable to us.
    return absl::UnavailableError(status.message());
  }
  auto connection =
      std::unique_ptr<MysqlConnection>(new MysqlConnection(std::move(conn)));
  for (const char* sql :
       {"SET time_zone = '+00:00'",
        "SET NAMES utf8mb4 COLLATE utf8mb4_bin",
        "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
        "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
        // Writes run READ COMMITTED (see BeginWrite); set once here so a
        // write transaction starts with one statement.
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"}) {
    if (absl::Status s = connection->Exec(sql); !s.ok()) return s;
  }
  try {
    connection->conn_->setAutoCommit(true);
  } catch (const std::exception& e) {
    return connection->Error(e, "autocommit");
  }
  return connection;
}

absl::Status MysqlConnection::Error(const std::exception& e,
                                    absl::string_view what) {
  bool lost = false;
  absl::Status status = MapError(e, what, &lost);
  if (lost) broken_ = true;
  return status;
}

absl::Status MysqlConnection::Exec(absl::string_view sql) {
  try {
    std::unique_ptr<sql::Statement> stmt(conn_->createStatement());
    stmt->execute(sql::SQLString(std::string(sql)));
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return Error(e, sql.substr(0, 80));
  }
}

absl::StatusOr<int64_t> MysqlConnection::QueryInt(absl::string_view sql) {
  try {
    std::unique_ptr<sql::Statement> stmt(conn_->createStatement());
    std::unique_ptr<sql::ResultSet> rows(
        stmt->executeQuery(sql::SQLString(std::string(sql))));
    if (!rows->next()) {
      return absl::NotFoundError(absl::StrCat("no row: ", sql));
    }
    return static_cast<int64_t>(rows->getInt64(1));
  } catch (const std::exception& e) {
    return Error(e, sql.substr(0, 80));
  }
}

absl::StatusOr<MysqlStatement*> MysqlConnection::Prepare(
    const std::string& sql) {
  auto it = wrappers_.find(sql);
  if (it != wrappers_.end()) return it->second.get();
  try {
    std::unique_ptr<sql::PreparedStatement> stmt(
        conn_->prepareStatement(sql::SQLString(sql)));
    auto wrapper = std::make_unique<MysqlStatement>(stmt.get(), this);
    MysqlStatement* result = wrapper.get();
    cache_[sql] = std::move(stmt);
    wrappers_[sql] = std::move(wrapper);
    return result;
  } catch (const std::exception& e) {
    return Error(e, absl::StrCat("prepare ", sql.substr(0, 80)));
  }
}

absl::Status MysqlConnection::BeginWrite() {
  // The session's level is READ COMMITTED (set at connect).
  return Exec("START TRANSACTION");
}

absl::Status MysqlConnection::BeginRead() {
  // For the next transaction only: one snapshot for all its reads.
  if (absl::Status s =
          Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      !s.ok()) {
    return s;
  }
  return Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
}

absl::Status MysqlConnection::Commit() { return Exec("COMMIT"); }

void MysqlConnection::Rollback() {
  if (!Exec("ROLLBACK").ok()) broken_ = true;
}

MysqlPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(std::move(conn_));
}

absl::StatusOr<MysqlPool::Lease> MysqlPool::Acquire() {
  std::unique_ptr<MysqlConnection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    bool free = cv_.wait_for(
        lock, absl::ToChronoMilliseconds(config_.connect_timeout),
        [this] { return in_use_ < config_.pool_size; });
    if (!free) {
      return absl::UnavailableError(absl::StrCat(
          "all ", config_.pool_size, " MySQL connections stayed busy for ",
          absl::FormatDuration(config_.connect_timeout)));
    }
    ++in_use_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<MysqlConnection>> opened =
        MysqlConnection::Open(config_);
    if (!opened.ok()) {
      Return(nullptr);
      return opened.status();
    }
    conn = std::move(*opened);
  }
  return Lease(this, std::move(conn));
}

void MysqlPool::Return(std::unique_ptr<MysqlConnection> conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
    if (conn != nullptr && !conn->broken()) {
      idle_.push_back(std::move(conn));
    } else if (conn != nullptr) {
      // One connection found the server gone (restarted, or away): the idle
      // ones opened before are most likely dead too, so the next callers
      // connect afresh instead of each tripping over a stale one.
      idle_.clear();
    }
  }
  cv_.notify_one();
}

}  // namespace deliverd::store
