// A throwaway MariaDB server for end-to-end tests of deliverd's MySQL store
// (--store mysql://...): Debian's mariadbd on 127.0.0.1, with a fresh
// datadir, no systemd and no configuration files.
//
//   absl::StatusOr<std::unique_ptr<TestMariadb>> db = TestMariadb::Start();
//   Deliverd::Start({"--store", (*db)->uri()});
//   absl::StatusOr<std::unique_ptr<store::MysqlConnection>> sql =
//       (*db)->Connect();
//   (*db)->Stop();      // the database goes away (SIGTERM, bounded wait)
//   (*db)->Restart();   // and comes back: same port, same datadir
//
// Contract:
//  - Start() makes a temporary folder (mkdtemp under $TEST_TMPDIR, or /tmp
//    when that path is too long for mariadbd's Unix socket), initialises
//    <dir>/data with `mariadb-install-db --no-defaults
//    --auth-root-authentication-method=normal --skip-test-db
//    --skip-name-resolve` (plus --user=root when running as root), runs
//    mariadbd (fork + exec, no shell, so the PID kept is mariadbd's own) on
//    127.0.0.1 and a port free at that moment, waits (bounded, 30 s) until a
//    client connection succeeds, and creates the database `database`
//    (utf8mb4, binary collation). Errors carry mariadbd's error log.
//  - root has no password: uri() is "mysql://root@127.0.0.1:PORT/DATABASE".
//  - mariadbd dies with the test process (PR_SET_PDEATHSIG), is killed by
//    the destructor, and the folder is removed unless $DELIVERD_E2E_KEEP is
//    set.
//  - Commits are written to the log at each commit but flushed to disk
//    about once a second (innodb_flush_log_at_trx_commit=2): the tests stop
//    mariadbd only cleanly (SIGTERM) or throw it away, and it is faster.
//
// Synchronisation never relies on fixed sleeps: readiness is a successful
// connection (polled with short waits under a deadline), an exit is awaited
// through a pidfd.
#ifndef DELIVERD_TESTS_E2E_TESTING_MARIADB_H_
#define DELIVERD_TESTS_E2E_TESTING_MARIADB_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/store/mysql_db.h"

namespace deliverd::e2e {

class TestMariadb {
 public:
  static absl::StatusOr<std::unique_ptr<TestMariadb>> Start(
      const std::string& database = "deliverd");

  // Kills mariadbd (when running) and removes the folder.
  ~TestMariadb();

  TestMariadb(const TestMariadb&) = delete;
  TestMariadb& operator=(const TestMariadb&) = delete;

  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  const std::string& database() const { return database_; }
  // "mysql://root@127.0.0.1:<port>/<database>", as --store takes it.
  std::string uri() const;
  // The same as a MysqlConfig (short connect timeout).
  store::MysqlConfig config() const;
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // A new connection to the database (UNAVAILABLE while it is away).
  absl::StatusOr<std::unique_ptr<store::MysqlConnection>> Connect() const;

  // SIGTERM, then waits (bounded by `timeout`) for mariadbd to exit; kills
  // it (and returns DEADLINE_EXCEEDED) when it does not.
  absl::Status Stop(
      std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Starts mariadbd again (after Stop) on the same port and datadir and
  // waits until it accepts connections.
  absl::Status Restart();

  // mariadbd's error log.
  std::string Log() const;

 private:
  TestMariadb() = default;
  absl::Status Launch();

  std::string dir_;
  std::string database_;
  int port_ = 0;
  int runs_ = 0;
  pid_t pid_ = -1;
  int pidfd_ = -1;
};

}  // namespace deliverd::e2e

#endif  // DELIVERD_TESTS_E2E_TESTING_MARIADB_H_
