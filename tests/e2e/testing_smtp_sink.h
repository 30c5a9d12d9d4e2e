// A real SMTP relay for end-to-end tests: Postfix's smtp-sink (Debian's
// postfix package installs /usr/sbin/smtp-sink; the daemon itself is never
// started) on 127.0.0.1, dumping every message it accepts to a file.
//
//   absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start({});
//   Deliverd::Start({"--smtp-relay", (*sink)->url(), "--smtp-tls", "none"});
//   absl::StatusOr<std::vector<std::string>> got =
//       (*sink)->WaitForMessages(1, Seconds(10));
//
// Contract:
//  - Start() runs `smtp-sink [-u USER] -d <dir>/dump/%Y%m%d%H%M%S.
//    <extra_args> 127.0.0.1:<port> 100` directly (fork + exec, no shell), so
//    the PID it keeps is smtp-sink's own. `extra_args` go before the address
//    (e.g. {"-f", "RCPT", "-B", "550 5.1.1 No such user"}). `port` 0 picks a
//    port that is free right now (bind to port 0, then close); a given port
//    is used as is (to bring a relay back on the port deliverd already
//    uses). Start() returns once smtp-sink greets a connection with 220
//    (bounded, 10 s; it listens before it switches user, so an accepted
//    connection alone proves nothing), or an error with smtp-sink's output
//    when it exits or never greets. A missing /usr/sbin/smtp-sink is an
//    error (FAILED_PRECONDITION), not a skip: scripts/install-deps.sh
//    installs postfix.
//  - smtp-sink sets SO_REUSEPORT, so a second instance on the same port would
//    silently share it: every instance is killed by its PID (Stop() or the
//    destructor), and dies with the test process (PR_SET_PDEATHSIG).
//  - Each accepted message is one file in <dir>/dump: smtp-sink's own header
//    lines first (X-Client-Addr, X-Helo-Args, X-Mail-Args: <MAIL FROM
//    arguments>, one X-Rcpt-Args per RCPT, a Received header), then the
//    message as received. smtp-sink may write the file after it has replied
//    250, so callers wait for a count (WaitForMessages) rather than read once.
//  - Run as root, smtp-sink requires -u USER, normally `nobody`. smtp-sink
//    exits on the first dump it cannot write, so the dump folder is then
//    world-writable and under a path `nobody` can pass through. Where root
//    cannot switch user (Bazel's linux-sandbox: a user namespace mapping only
//    root, setgroups denied), smtp-sink runs instead through
//    `/usr/bin/unshare --user --map-user=65534` (a nested user namespace,
//    unprivileged inside, so no -u; unshare execs in place, keeping the PID).
//  - The temporary folder is made under $TEST_TMPDIR (else, or when `nobody`
//    cannot reach it, /tmp) and removed by the destructor unless
//    $DELIVERD_E2E_KEEP is set.
#ifndef DELIVERD_TESTS_E2E_TESTING_SMTP_SINK_H_
#define DELIVERD_TESTS_E2E_TESTING_SMTP_SINK_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deliverd::e2e {

// A TCP port on 127.0.0.1 that nothing was bound to a moment ago (0 when
// even that fails). Nothing keeps it free: use it soon.
int FreeTcpPort();

class SmtpSink {
 public:
  static absl::StatusOr<std::unique_ptr<SmtpSink>> Start(
      std::vector<std::string> extra_args = {}, int port = 0);

  // Stops smtp-sink and removes the folder (see the contract above).
  ~SmtpSink();

  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  // "smtp://127.0.0.1:<port>", as --smtp-relay takes it.
  std::string url() const;
  const std::string& dir() const { return dir_; }
  std::string dump_dir() const { return dir_ + "/dump"; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // SIGKILL and reap (bounded). The port is free again afterwards.
  absl::Status Stop();

  // The contents of every dump file right now, ordered by file name (which
  // starts with the time, to the second). A file still being written may be
  // incomplete.
  std::vector<std::string> Messages() const;
  // The number of dump files right now (cheaper than Messages()).
  size_t MessageCount() const;
  // Polls (short waits, bounded by `timeout`) until there are at least `n`
  // dump files and returns Messages(); DEADLINE_EXCEEDED with the count seen
  // when there never are.
  absl::StatusOr<std::vector<std::string>> WaitForMessages(
      size_t n, std::chrono::milliseconds timeout) const;

  // smtp-sink's stdout and stderr (it prints the conversation with -v).
  std::string Log() const;

 private:
  SmtpSink() = default;
  // One attempt of Start(). Start() tries again (up to 5 times) when it
  // chose the port itself and another process took it before smtp-sink
  // bound it ("already in use"): tests run side by side.
  static absl::StatusOr<std::unique_ptr<SmtpSink>> StartOnce(
      const std::vector<std::string>& extra_args, int port);

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  int pidfd_ = -1;
};

// The value of header `name` (case-insensitive) in a dumped message's
// header section, without folding; "" when absent.
std::string HeaderValue(const std::string& message, const std::string& name);

}  // namespace deliverd::e2e

#endif  // DELIVERD_TESTS_E2E_TESTING_SMTP_SINK_H_
