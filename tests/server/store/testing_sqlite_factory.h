// The store factory for SqliteStore, one of the types the storage
// conformance suite (testing_store_fixture.h) runs over.
//
// A store factory is any class with this shape (the suite uses it through
// templates only, so there is no base class to inherit):
//
//   static constexpr const char* kName;         // suffix in test names
//   static bool Available(std::string* why);    // false: skip, with `why`
//   explicit Factory(const std::string& dir);   // a fresh, empty temp dir
//                                               // that the fixture removes
//   absl::StatusOr<std::unique_ptr<Store>> Open();
//       // Opens the test's own database, creating and migrating it on the
//       // first call. After the previous store is destroyed, Open() again
//       // reopens the same database (durability and migration tests).
//   absl::StatusOr<int> SchemaVersion(Store& store);
//       // The schema version the opened store reports after migrating.
//   int MigrationCount() const;
//       // How many migrations the backend embeds (the latest version).
//   absl::Status ExecSql(const std::string& sql);
//   absl::StatusOr<int64_t> QueryInt(const std::string& sql);
//       // Raw SQL on the test's database, run only while no store is open
//       // or for reads (the schema_migrations checks).
//   absl::StatusOr<int64_t> ForeignKeyViolations();
//       // Rows breaking a foreign key the schema declares, checked after
//       // every test with the store closed.
//
// Plugging in MySQL: add tests/server/store/testing_mysql_factory.h with a
// MySqlStoreFactory of the same shape whose constructor creates a fresh
// database with a unique name (e.g. "deliverd_test_" + the temp dir's random
// suffix) on the server named by an environment variable such as
// DELIVERD_TEST_MYSQL_URI, whose destructor drops that database, whose Open()
// calls MySqlStore::Open on it, and whose Available() returns false (the
// suite is then skipped, not failed) when the variable is unset. Then add
// the type to StoreFactories in testing_store_fixture.h. Nothing else in the
// suite changes: every test talks to the store through the Store interface,
// and the only SQL the suite issues (schema_migrations) is portable.
#ifndef DELIVERD_TESTS_SERVER_STORE_TESTING_SQLITE_FACTORY_H_
#define DELIVERD_TESTS_SERVER_STORE_TESTING_SQLITE_FACTORY_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/store/migrations.h"
#include "server/store/sqlite_store.h"
#include "server/store/store.h"

namespace deliverd::store::conformance {

class SqliteStoreFactory {
 public:
  static constexpr const char* kName = "Sqlite";
  static bool Available(std::string* why) { return true; }

  explicit SqliteStoreFactory(const std::string& dir,
                              SqliteOptions options = {})
      : path_(dir + "/deliverd.sqlite"), options_(options) {}

  absl::StatusOr<std::unique_ptr<Store>> Open() {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path_, options_);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }

  int MigrationCount() const {
    return static_cast<int>(SqliteMigrations().size());
  }

  absl::StatusOr<int> SchemaVersion(Store& store) {
    auto* sqlite = dynamic_cast<SqliteStore*>(&store);
    if (sqlite == nullptr) return absl::InternalError("not a SqliteStore");
    return sqlite->schema_version();
  }

  absl::Status ExecSql(const std::string& sql) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE,
                             nullptr);
    if (rc != SQLITE_OK) {
      absl::Status status = absl::InternalError(
          absl::StrCat("open ", path_, ": ", sqlite3_errstr(rc)));
      sqlite3_close(db);
      return status;
    }
    char* error = nullptr;
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    absl::Status status = absl::OkStatus();
    if (rc != SQLITE_OK) {
      status = absl::InternalError(
          absl::StrCat(sql, ": ", error ? error : sqlite3_errstr(rc)));
    }
    sqlite3_free(error);
    sqlite3_close(db);
    return status;
  }

  absl::StatusOr<int64_t> QueryInt(const std::string& sql) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY,
                             nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_close(db);
      return absl::InternalError(
          absl::StrCat("open ", path_, ": ", sqlite3_errstr(rc)));
    }
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    absl::StatusOr<int64_t> result =
        absl::InternalError(absl::StrCat(sql, ": ", sqlite3_errmsg(db)));
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        result = sqlite3_column_int64(stmt, 0);
      } else {
        result = absl::InternalError(absl::StrCat(sql, ": no row"));
      }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return result;
  }

  // Rows breaking a declared foreign key. The store does not enforce them
  // while running (see SqliteStore::Open), so the suite checks them here.
  absl::StatusOr<int64_t> ForeignKeyViolations() {
    return QueryInt("SELECT COUNT(*) FROM pragma_foreign_key_check");
  }

 private:
  std::string path_;
  SqliteOptions options_;
};

// SqliteStore with synchronous=NORMAL and its intake log: single messages
// are acknowledged from the log, and with a delay far longer than any test
// they reach the database only because a read, another write or closing
// the store asks for them, so every test also checks that nothing can
// observe the log.
class SqliteIntakeStoreFactory : public SqliteStoreFactory {
 public:
  static constexpr const char* kName = "SqliteIntake";
  explicit SqliteIntakeStoreFactory(const std::string& dir)
      : SqliteStoreFactory(dir, Options()) {}

 private:
  static SqliteOptions Options() {
    SqliteOptions options;
    options.full_sync = false;
    options.intake_delay_ms = 10 * 60 * 1000;
    options.intake_max_bytes = 1 << 20;
    return options;
  }
};

}  // namespace deliverd::store::conformance

#endif  // DELIVERD_TESTS_SERVER_STORE_TESTING_SQLITE_FACTORY_H_
