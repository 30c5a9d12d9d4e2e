#include "testing_smtp_sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "testing_deliverd.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace deliverd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kSmtpSink[] = "/usr/sbin/smtp-sink";
constexpr Millis kPollInterval(10);

// True when `dir` and every folder above it let others through (o+x):
// smtp-sink, switched to `nobody`, must reach the dump folder.
bool OthersCanReach(const std::string& dir) {
  for (std::filesystem::path p = std::filesystem::absolute(dir);;
       p = p.parent_path()) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
    if (p == p.root_path() || p.parent_path() == p) return true;
  }
}

// $TEST_TMPDIR (else /tmp); for `nobody`, the first of them it can reach
// (Bazel's TEST_TMPDIR under /root is not).
std::string TempRoot(bool as_nobody) {
  std::vector<std::string> candidates;
  const char* test_tmp = getenv("TEST_TMPDIR");
  if (test_tmp != nullptr && *test_tmp != '\0') candidates.push_back(test_tmp);
  candidates.push_back("/tmp");
  if (!as_nobody) return candidates.front();
  for (const std::string& c : candidates) {
    if (OthersCanReach(c)) return c;
  }
  return "/tmp";
}

// True when smtp-sink greets a connection on 127.0.0.1:`port` within
// `wait`. (Accepting is not enough: smtp-sink listens before it switches
// user, and may still die then.)
bool Greets(int port, Millis wait) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool greeted = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    pollfd p{fd, POLLIN, 0};
    char reply[512];
    if (poll(&p, 1, static_cast<int>(wait.count())) == 1) {
      ssize_t n = recv(fd, reply, sizeof(reply), 0);
      greeted = n >= 3 && memcmp(reply, "220", 3) == 0;
    }
    if (greeted) {
      // Be polite: a session without a transaction leaves no dump file.
      static const char kQuit[] = "QUIT\r\n";
      ssize_t ignored = send(fd, kQuit, sizeof(kQuit) - 1, MSG_NOSIGNAL);
      (void)ignored;
    }
  }
  close(fd);
  return greeted;
}

// True when `id` is mapped in a /proc/self/{uid,gid}_map file (a user
// namespace, such as Bazel's sandbox, may map only root).
bool IdMapped(const std::string& map_file, unsigned long id) {
  std::optional<std::string> text = ReadFile(map_file);
  if (!text.has_value()) return true;  // no user namespaces: all ids exist
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    unsigned long inside = 0, count = 0;
    if (f.size() == 3 && absl::SimpleAtoi(f[0], &inside) &&
        absl::SimpleAtoi(f[2], &count) && id >= inside && id - inside < count) {
      return true;
    }
  }
  return false;
}

// How smtp-sink is run. As root it insists on switching user (-u), which
// needs setgroups/setgid to work: they do for `nobody` normally, but not in
// a user namespace that maps only root and denies setgroups (Bazel's
// linux-sandbox). There it runs in a nested user namespace as an unprivileged
// user (uid 65534 inside, still us outside), which needs no -u.
enum class SinkMode { kAsIs, kDropToNobody, kUserNamespace };

constexpr char kUnshare[] = "/usr/bin/unshare";

SinkMode ChooseMode() {
  if (geteuid() != 0) return SinkMode::kAsIs;
  struct passwd* pw = getpwnam("nobody");
  std::optional<std::string> setgroups = ReadFile("/proc/self/setgroups");
  bool groups_denied = setgroups.has_value() &&
                       absl::StrContains(*setgroups, "deny");
  if (pw != nullptr && !groups_denied &&
      IdMapped("/proc/self/uid_map", pw->pw_uid) &&
      IdMapped("/proc/self/gid_map", pw->pw_gid)) {
    return SinkMode::kDropToNobody;
  }
  return SinkMode::kUserNamespace;
}

std::vector<std::filesystem::path> DumpFiles(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int FreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::Start(
    std::vector<std::string> extra_args, int port) {
  // A fixed port is the caller's: only a port chosen here is chosen again.
  if (port != 0) return StartOnce(extra_args, port);
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink;
  // The status returned is the last attempt's, which `sink` holds too.
  LaunchRetryingTakenPorts([&] {
    sink = StartOnce(extra_args, port);
    return sink.status();
  }).IgnoreError();
  return sink;
}

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::StartOnce(
    const std::vector<std::string>& extra_args, int port) {
  if (access(kSmtpSink, X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        kSmtpSink,
        " is missing: install postfix (scripts/install-deps.sh does)"));
  }
  std::unique_ptr<SmtpSink> sink(new SmtpSink());
  const SinkMode mode = ChooseMode();
  if (mode == SinkMode::kUserNamespace && access(kUnshare, X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "running as root where smtp-sink cannot switch to nobody, and ",
        kUnshare, " (util-linux) is missing"));
  }
  // Whether smtp-sink writes as another user than ours.
  const bool as_nobody = mode == SinkMode::kDropToNobody;
  std::string pattern = TempRoot(as_nobody) + "/deliverd-smtp-sink-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", pattern, ": ", strerror(errno)));
  }
  sink->dir_ = buffer.data();
  if (mkdir(sink->dump_dir().c_str(), 0777) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", sink->dump_dir(), ": ",
                                            strerror(errno)));
  }
  if (as_nobody) {
    // smtp-sink drops to `nobody` before it writes anything (and exits on
    // the first dump it cannot write).
    chmod(sink->dir_.c_str(), 0755);
    chmod(sink->dump_dir().c_str(), 0777);
    if (!OthersCanReach(sink->dump_dir())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "user nobody cannot reach ", sink->dump_dir(),
          " (a parent folder lacks o+x); smtp-sink could not write there"));
    }
  }
  sink->port_ = port != 0 ? port : FreeTcpPort();
  if (sink->port_ <= 0) return absl::InternalError("no free TCP port");

  // Everything the child needs is prepared before fork().
  std::vector<std::string> argv;
  if (mode == SinkMode::kUserNamespace) {
    // unshare execs smtp-sink in place (no --fork): the PID stays its own.
    argv = {kUnshare, "--user", "--map-user=65534", "--map-group=65534"};
  }
  argv.push_back(kSmtpSink);
  if (as_nobody) {
    argv.push_back("-u");
    argv.push_back("nobody");
  }
  argv.push_back("-d");
  argv.push_back(sink->dump_dir() + "/%Y%m%d%H%M%S.");
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(absl::StrCat("127.0.0.1:", sink->port_));
  argv.push_back("100");  // listen backlog
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::string log = sink->dir_ + "/smtp-sink.log";
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("cannot open ", log));
  }

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(log_fd);
    close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(saved)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec (the parent has threads).
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
      _exit(126);
    }
    close_range(3, ~0U, 0);
    execv(args[0], args.data());
    static const char kMessage[] = "testing_smtp_sink: execv failed\n";
    ssize_t ignored = write(2, kMessage, sizeof(kMessage) - 1);
    (void)ignored;
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  sink->pid_ = pid;
  long pidfd = syscall(SYS_pidfd_open, pid, 0);
  sink->pidfd_ = pidfd < 0 ? -1 : static_cast<int>(pidfd);

  const std::string command = absl::StrJoin(argv, " ");
  Clock::time_point deadline = Clock::now() + Seconds(10);
  while (true) {
    // Check our process first: with SO_REUSEPORT a stale instance on the
    // same port would accept the probe while ours has already failed.
    std::optional<int> ended = WaitForExit(sink->pid_, sink->pidfd_, Millis(0));
    // (The pidfd also tells when the child was reaped elsewhere, e.g. with
    // SIGCHLD ignored, where waitpid cannot.)
    pollfd gone{sink->pidfd_, POLLIN, 0};
    if (ended.has_value() ||
        (sink->pidfd_ >= 0 && poll(&gone, 1, 0) == 1)) {
      sink->pid_ = -1;
      return absl::UnavailableError(absl::StrCat(
          "smtp-sink exited (",
          ended.has_value() ? absl::StrCat("wait status ", *ended) : "reaped",
          "): ", command, "\n", sink->Log()));
    }
    if (Greets(sink->port_, Millis(200))) break;
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "smtp-sink did not listen within 10 s: ", command, "\n", sink->Log()));
    }
    WaitForExit(sink->pid_, sink->pidfd_, kPollInterval);
  }
  return sink;
}

SmtpSink::~SmtpSink() {
  (void)Stop();
  if (pidfd_ >= 0) close(pidfd_);
  if (!dir_.empty() && getenv("DELIVERD_E2E_KEEP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string SmtpSink::url() const {
  return absl::StrCat("smtp://127.0.0.1:", port_);
}

absl::Status SmtpSink::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGKILL);
  std::optional<int> status = WaitForExit(pid_, pidfd_, Seconds(10));
  pid_t pid = pid_;
  pid_ = -1;
  if (pidfd_ >= 0) {
    close(pidfd_);
    pidfd_ = -1;
  }
  if (!status.has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("smtp-sink ", pid, " did not end within 10 s of SIGKILL"));
  }
  return absl::OkStatus();
}

std::vector<std::string> SmtpSink::Messages() const {
  std::vector<std::string> messages;
  for (const std::filesystem::path& file : DumpFiles(dump_dir())) {
    messages.push_back(ReadFile(file.string()).value_or(""));
  }
  return messages;
}

size_t SmtpSink::MessageCount() const { return DumpFiles(dump_dir()).size(); }

absl::StatusOr<std::vector<std::string>> SmtpSink::WaitForMessages(
    size_t n, Millis timeout) const {
  Clock::time_point deadline = Clock::now() + timeout;
  size_t count = 0;
  while (true) {
    count = MessageCount();
    if (count >= n) return Messages();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "smtp-sink on port ", port_, " has ", count, " of ", n, " messages after ",
      std::chrono::duration_cast<Millis>(timeout).count(), " ms"));
}

std::string SmtpSink::Log() const {
  return ReadFile(dir_ + "/smtp-sink.log").value_or("");
}

std::string HeaderValue(const std::string& message, const std::string& name) {
  const std::string prefix = absl::AsciiStrToLower(name) + ":";
  for (absl::string_view line : absl::StrSplit(message, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) break;  // the end of the header section
    if (absl::StartsWithIgnoreCase(line, prefix)) {
      line.remove_prefix(prefix.size());
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

}  // namespace deliverd::e2e
