// The store factory for MysqlStore, one of the types the storage
// conformance suite (testing_store_fixture.h) runs over; the shape is
// described in testing_sqlite_factory.h.
//
// The server comes from DELIVERD_TEST_MYSQL_URI (mysql://USER[:PW]@HOST:PORT/,
// no database; scripts/test.sh starts a throwaway mariadbd and sets it).
// Each factory creates its own database ("deliverd_test_" + the temp dir's
// random suffix) and drops it when destroyed. Without the variable the MySQL
// tests are skipped, unless DELIVERD_REQUIRE_MYSQL=1 (set by scripts/test.sh)
// turns that into a failure, so CI cannot skip them silently.
#ifndef DELIVERD_TESTS_SERVER_STORE_TESTING_MYSQL_FACTORY_H_
#define DELIVERD_TESTS_SERVER_STORE_TESTING_MYSQL_FACTORY_H_

#include <stdlib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/store/migrations.h"
#include "server/store/mysql_db.h"
#include "server/store/mysql_store.h"
#include "server/store/mysql_uri.h"
#include "server/store/store.h"

namespace deliverd::store::conformance {

// The test server's connection settings with `database` ("" for none), or
// an error when DELIVERD_TEST_MYSQL_URI is unset or malformed.
inline absl::StatusOr<MysqlConfig> TestMysqlConfig(
    const std::string& database) {
  const char* uri = getenv("DELIVERD_TEST_MYSQL_URI");
  if (uri == nullptr || *uri == '\0') {
    return absl::FailedPreconditionError(
        "DELIVERD_TEST_MYSQL_URI is not set (scripts/test.sh starts a "
        "MariaDB server and sets it)");
  }
  // The URI names no database; parse it with a placeholder.
  absl::StatusOr<MysqlConfig> config =
      ParseMysqlUri(absl::StrCat(uri, "placeholder"));
  if (!config.ok()) return config.status();
  config->database = database;
  config->pool_size = 6;
  return config;
}

inline bool MysqlTestsRequired() {
  const char* required = getenv("DELIVERD_REQUIRE_MYSQL");
  return required != nullptr && std::string(required) == "1";
}

class MysqlStoreFactory {
 public:
  static constexpr const char* kName = "Mysql";
  static bool Available(std::string* why) {
    absl::StatusOr<MysqlConfig> config = TestMysqlConfig("");
    if (config.ok() || MysqlTestsRequired()) return true;
    *why = std::string(config.status().message());
    return false;
  }

  explicit MysqlStoreFactory(const std::string& dir) {
    std::string suffix = dir.substr(dir.find_last_of('_') + 1);
    database_ = absl::StrCat("deliverd_test_", suffix);
    absl::StatusOr<std::unique_ptr<MysqlConnection>> admin = Admin();
    if (admin.ok()) {
      create_status_ = (*admin)->Exec(absl::StrCat(
          "CREATE DATABASE `", database_,
          "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"));
    } else {
      create_status_ = admin.status();
    }
  }

  ~MysqlStoreFactory() {
    absl::StatusOr<std::unique_ptr<MysqlConnection>> admin = Admin();
    if (admin.ok()) {
      (*admin)
          ->Exec(absl::StrCat("DROP DATABASE IF EXISTS `", database_, "`"))
          .IgnoreError();
    }
  }

  absl::StatusOr<std::unique_ptr<Store>> Open() {
    if (!create_status_.ok()) return create_status_;
    absl::StatusOr<MysqlConfig> config = TestMysqlConfig(database_);
    if (!config.ok()) return config.status();
    MysqlStoreOptions options;
    options.connection = *config;
    // Tests that poll for other writers' events use a short interval.
    options.event_poll_interval = absl::Milliseconds(50);
    absl::StatusOr<std::unique_ptr<MysqlStore>> store =
        MysqlStore::Open(options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }

  int MigrationCount() const {
    return static_cast<int>(MysqlMigrations().size());
  }

  absl::StatusOr<int> SchemaVersion(Store& store) {
    auto* mysql = dynamic_cast<MysqlStore*>(&store);
    if (mysql == nullptr) return absl::InternalError("not a MysqlStore");
    return mysql->schema_version();
  }

  absl::Status ExecSql(const std::string& sql) {
    absl::StatusOr<std::unique_ptr<MysqlConnection>> db = Connect();
    if (!db.ok()) return db.status();
    return (*db)->Exec(sql);
  }

  absl::StatusOr<int64_t> QueryInt(const std::string& sql) {
    absl::StatusOr<std::unique_ptr<MysqlConnection>> db = Connect();
    if (!db.ok()) return db.status();
    return (*db)->QueryInt(sql);
  }

  // The MySQL schema declares no foreign keys (server/store/migrations/mysql).
  absl::StatusOr<int64_t> ForeignKeyViolations() { return 0; }

  const std::string& database() const { return database_; }

 private:
  absl::StatusOr<std::unique_ptr<MysqlConnection>> Admin() {
    absl::StatusOr<MysqlConfig> config = TestMysqlConfig("");
    if (!config.ok()) return config.status();
    return MysqlConnection::Open(*config);
  }
  absl::StatusOr<std::unique_ptr<MysqlConnection>> Connect() {
    absl::StatusOr<MysqlConfig> config = TestMysqlConfig(database_);
    if (!config.ok()) return config.status();
    return MysqlConnection::Open(*config);
  }

  std::string database_;
  absl::Status create_status_;
};

}  // namespace deliverd::store::conformance

#endif  // DELIVERD_TESTS_SERVER_STORE_TESTING_MYSQL_FACTORY_H_
