#include "testing_mariadb.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "testing_deliverd.h"
#include "testing_smtp_sink.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace deliverd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kMariadbd[] = "/usr/sbin/mariadbd";
constexpr char kInstallDb[] = "/usr/bin/mariadb-install-db";
constexpr Millis kPollInterval(20);
// A Unix socket path must fit in sockaddr_un.sun_path (108 bytes);
// "<dir>/mysqld.sock" with dir = "<root>/deliverd-mariadb-XXXXXX".
constexpr size_t kMaxRootLength = 70;

std::string TempRoot() {
  const char* root = getenv("TEST_TMPDIR");
  if (root != nullptr && *root != '\0' && strlen(root) <= kMaxRootLength) {
    return root;
  }
  return "/tmp";
}

bool RunningAsRoot() { return geteuid() == 0; }

}  // namespace

absl::StatusOr<std::unique_ptr<TestMariadb>> TestMariadb::Start(
    const std::string& database) {
  for (const char* binary : {kMariadbd, kInstallDb}) {
    if (access(binary, X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(binary,
                       " is missing: install mariadb-server "
                       "(scripts/install-deps.sh does)"));
    }
  }
  std::unique_ptr<TestMariadb> db(new TestMariadb());
  db->database_ = database;
  std::string pattern = TempRoot() + "/deliverd-mariadb-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", pattern, ": ", strerror(errno)));
  }
  db->dir_ = buffer.data();
  // Its own directory for temporary files: servers started side by side
  // (ctest -j) otherwise share /tmp, and a bootstrap once failed there
  // removing a temporary table it had just created.
  std::error_code made;
  std::filesystem::create_directory(db->dir_ + "/tmp", made);
  if (made) {
    return absl::InternalError(
        absl::StrCat("mkdir ", db->dir_, "/tmp: ", made.message()));
  }

  std::vector<std::string> install = {
      kInstallDb,
      "--no-defaults",
      absl::StrCat("--datadir=", db->dir_, "/data"),
      absl::StrCat("--tmpdir=", db->dir_, "/tmp"),
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      "--skip-name-resolve"};
  if (RunningAsRoot()) install.insert(install.begin() + 2, "--user=root");
  ProcessResult installed =
      RunProcess(install, {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}}, db->dir_,
                 db->dir_, "", Seconds(120));
  if (installed.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("mariadb-install-db failed: ", absl::StrJoin(install, " "),
                     "\n", Describe(installed)));
  }

  if (absl::Status launched = LaunchRetryingTakenPorts([&db] {
        db->port_ = FreeTcpPort();
        if (db->port_ <= 0) return absl::InternalError("no free TCP port");
        return db->Launch();
      });
      !launched.ok()) {
    return launched;
  }

  store::MysqlConfig admin = db->config();
  admin.database = "";
  absl::StatusOr<std::unique_ptr<store::MysqlConnection>> conn =
      store::MysqlConnection::Open(admin);
  if (!conn.ok()) return conn.status();
  if (absl::Status s = (*conn)->Exec(
          absl::StrCat("CREATE DATABASE IF NOT EXISTS `", database,
                       "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"));
      !s.ok()) {
    return s;
  }
  return db;
}

TestMariadb::~TestMariadb() {
  if (running()) {
    // Thrown away with its datadir: no need for a clean shutdown.
    kill(pid_, SIGKILL);
    WaitForExit(pid_, pidfd_, Seconds(20));
    pid_ = -1;
  }
  if (pidfd_ >= 0) close(pidfd_);
  if (!dir_.empty() && getenv("DELIVERD_E2E_KEEP") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string TestMariadb::uri() const {
  return absl::StrCat("mysql://root@127.0.0.1:", port_, "/", database_);
}

store::MysqlConfig TestMariadb::config() const {
  store::MysqlConfig config;
  config.host = "127.0.0.1";
  config.port = port_;
  config.user = "root";
  config.database = database_;
  config.connect_timeout = absl::Seconds(2);
  config.read_timeout = absl::Seconds(30);
  return config;
}

absl::StatusOr<std::unique_ptr<store::MysqlConnection>> TestMariadb::Connect()
    const {
  return store::MysqlConnection::Open(config());
}

absl::Status TestMariadb::Launch() {
  if (running()) return absl::FailedPreconditionError("already running");
  ++runs_;
  std::vector<std::string> argv = {
      kMariadbd,
      "--no-defaults",
      absl::StrCat("--datadir=", dir_, "/data"),
      absl::StrCat("--tmpdir=", dir_, "/tmp"),
      absl::StrCat("--socket=", dir_, "/mysqld.sock"),
      absl::StrCat("--pid-file=", dir_, "/mysqld.pid"),
      absl::StrCat("--port=", port_),
      "--bind-address=127.0.0.1",
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=128M",
      "--innodb-flush-log-at-trx-commit=2",
      "--max-connections=500",
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_bin",
      absl::StrCat("--log-error=", dir_, "/error.log")};
  if (RunningAsRoot()) argv.insert(argv.begin() + 2, "--user=root");
  // Everything the child needs is prepared before fork() (the parent has
  // gRPC threads): between fork and exec only async-signal-safe calls.
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::string out = absl::StrCat(dir_, "/mariadbd.", runs_, ".out");
  int out_fd =
      open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || null_fd < 0) {
    if (out_fd >= 0) close(out_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("cannot open ", out));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(out_fd);
    close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(saved)));
  }
  if (pid == 0) {
    // Dies with the test process (the signal follows the forking thread,
    // the test's main thread).
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(125);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) {
      _exit(126);
    }
    close_range(3, ~0U, 0);
    execv(args[0], args.data());
    static const char kMessage[] = "testing_mariadb: execv failed\n";
    ssize_t ignored = write(2, kMessage, sizeof(kMessage) - 1);
    (void)ignored;
    _exit(127);
  }
  close(out_fd);
  close(null_fd);
  pid_ = pid;
  if (pidfd_ >= 0) close(pidfd_);
  long pidfd = syscall(SYS_pidfd_open, pid, 0);
  pidfd_ = pidfd < 0 ? -1 : static_cast<int>(pidfd);

  // Ready once a client connects (about 0.2 s normally). Connection refused
  // comes back at once, so each round is short; the pause between rounds
  // is a bounded wait for the process to end.
  const std::string command = absl::StrJoin(argv, " ");
  store::MysqlConfig probe = config();
  probe.database = "";
  probe.connect_timeout = absl::Seconds(1);
  Clock::time_point deadline = Clock::now() + Seconds(30);
  absl::Status last;
  while (true) {
    std::optional<int> ended = WaitForExit(pid_, pidfd_, Millis(0));
    if (ended.has_value()) {
      pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("mariadbd exited (wait status ", *ended, "): ", command,
                       "\n", ReadFile(out).value_or(""), "\n", Log()));
    }
    absl::StatusOr<std::unique_ptr<store::MysqlConnection>> conn =
        store::MysqlConnection::Open(probe);
    if (conn.ok()) return absl::OkStatus();
    last = conn.status();
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("mariadbd accepted no connection within 30 s (",
                       last.ToString(), "): ", command, "\n", Log()));
    }
    WaitForExit(pid_, pidfd_, kPollInterval);
  }
}

absl::Status TestMariadb::Stop(Millis timeout) {
  if (!running())
    return absl::FailedPreconditionError("mariadbd is not running");
  kill(pid_, SIGTERM);
  std::optional<int> status = WaitForExit(pid_, pidfd_, timeout);
  if (!status.has_value()) {
    kill(pid_, SIGKILL);
    WaitForExit(pid_, pidfd_, Seconds(20));
    pid_ = -1;
    return absl::DeadlineExceededError(
        absl::StrCat("mariadbd did not exit within ",
                     std::chrono::duration_cast<Millis>(timeout).count(),
                     " ms of SIGTERM; killed"));
  }
  pid_ = -1;
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        absl::StrCat("mariadbd ended with wait status ", *status, "\n", Log()));
  }
  return absl::OkStatus();
}

absl::Status TestMariadb::Restart() {
  if (running()) {
    return absl::FailedPreconditionError("Restart: stop mariadbd first");
  }
  return Launch();
}

std::string TestMariadb::Log() const {
  return ReadFile(dir_ + "/error.log").value_or("");
}

}  // namespace deliverd::e2e
