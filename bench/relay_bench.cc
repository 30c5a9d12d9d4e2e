// SMTP relay throughput benchmark (issue 3): messages per second from queued
// to accepted by smtp-sink on loopback (about 4 KB, one recipient each), in
// one run and side by side:
//   - smtp-source -> smtp-sink: Postfix's own load generator straight into
//     the sink, `--connections` sessions kept open (-d). The ceiling of SMTP
//     on this machine.
//   - smtp-source -> Postfix -> smtp-sink: a private Postfix instance (its
//     own config, queue and data directories under a temporary directory)
//     relaying to the sink with `--connections` concurrent deliveries; what
//     users run instead of deliverd. Needs root (Postfix starts as root).
//   - deliverd, queueing while sending: a real deliverd with --smtp-relay to
//     the sink; N messages queued with SendBatch (1,000 per call) while its
//     dispatcher runs; timed from the first SendBatch acknowledgement.
//   - deliverd, queued first: N messages queued with the dispatcher off,
//     then deliverd restarted on the same data with the dispatcher on; timed
//     from the restart (process start included), so this is the SMTP side
//     alone.
// Every row ends when the sink has accepted the N-th message: smtp-sink runs
// with -c (a running counter on its standard output after every ".") and the
// bench reads that counter. Each row gets a fresh sink. The "first at"
// column is when the sink accepted its first message, from the row's start
// (for the queued-first rows, mostly deliverd's own start-up).
//
// With --mysql mysql://USER@HOST:PORT/ (a MariaDB/MySQL server; each row
// creates and drops its own database) the deliverd rows run on that server
// instead of SQLite, and one more row measures two replicas: the queue is
// filled with the dispatcher off, then two deliverd processes on the same
// database deliver it together (each with --connections SMTP connections).
//
// usage: relay_bench [--deliverd PATH] [--messages N] [--connections N]
//                    [--sqlite-sync full|normal] [--body-bytes N]
//                    [--skip-postfix] [--postfix-no-log] [--skip-deliverd]
//                    [--mysql mysql://USER@HOST:PORT/] [--rounds R]
// --rounds R (default 1) measures the ceiling and the deliverd rows R times,
// alternating, each deliverd ratio against the ceiling measured just before
// it, and prints every round and the median ratios: on a shared machine the
// ceiling alone moves by a third between runs minutes apart. Postfix runs
// once, in the first round.
// --postfix-no-log adds a second Postfix row without its mail log (the
// first logs to a file, as a relay in service does).
#include <arpa/inet.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>

#include "deliverd/v1/messages.grpc.pb.h"
#include "server/store/mysql_db.h"
#include "server/store/mysql_uri.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

std::string MakeTempDir(const char* prefix) {
  std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    perror("mkdtemp");
    exit(1);
  }
  return buf.data();
}

void RemoveTree(const std::string& dir) {
  std::string cleanup = "rm -rf '" + dir + "'";
  if (system(cleanup.c_str()) != 0) std::cerr << "cleanup failed: " << dir << "\n";
}

// A loopback port nobody listens on right now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    perror("bind");
    exit(1);
  }
  close(fd);
  return ntohs(addr.sin_port);
}

bool WaitForListener(int port, double seconds) {
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Children still running, killed by Fail() so no sink or deliverd outlives
// a failed run.
std::vector<pid_t> g_children;

[[noreturn]] void Fail(const std::string& why) {
  std::cerr << why << "\n";
  for (pid_t pid : g_children) kill(pid, SIGTERM);
  exit(1);
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path,
            int stdout_fd = -1) {
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(stdout_fd >= 0 ? stdout_fd : out, 1);
    dup2(out, 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  g_children.push_back(pid);
  return pid;
}

int StopProcess(pid_t pid, int sig = SIGTERM) {
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid),
                   g_children.end());
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// smtp-sink -c on a free port; a thread reads its running counter
// ("sess=1 quit=0 mesg=42\r") and notes when it first reached `target`.
class Sink {
 public:
  Sink(const std::string& log_dir, long target) : target_(target) {
    port_ = FreePort();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      perror("pipe");
      exit(1);
    }
    // -u: as root, smtp-sink must be told which user to run as.
    std::vector<std::string> args = {"/usr/sbin/smtp-sink", "-c"};
    if (geteuid() == 0) args.insert(args.end(), {"-u", "nobody"});
    args.insert(args.end(), {"127.0.0.1:" + std::to_string(port_), "1000"});
    pid_ = Spawn(args, log_dir + "/smtp-sink.err", fds[1]);
    close(fds[1]);
    read_fd_ = fds[0];
    reader_ = std::thread([this] { Read(); });
    if (!WaitForListener(port_, 10)) {
      Fail("smtp-sink did not start; see " + log_dir);
    }
  }
  ~Sink() {
    StopProcess(pid_);
    reader_.join();
    close(read_fd_);
  }

  int port() const { return port_; }
  long count() const { return count_.load(); }

  // Waits until the sink has `target` messages; false on timeout.
  bool Wait(double seconds) {
    auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (!reached_.load()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  Clock::time_point reached_at() const { return reached_at_; }
  Clock::time_point first_at() const { return first_at_; }

 private:
  void Read() {
    char buf[65536];
    std::string tail;
    while (true) {
      ssize_t n = read(read_fd_, buf, sizeof(buf));
      if (n <= 0) break;
      tail.append(buf, n);
      size_t at = tail.rfind("mesg=");
      if (at != std::string::npos && tail.find('\r', at) != std::string::npos) {
        long value = atol(tail.c_str() + at + 5);
        if (value >= 1 && count_.load() == 0) first_at_ = Clock::now();
        count_.store(value);
        if (value >= target_ && !reached_.load()) {
          reached_at_ = Clock::now();
          reached_.store(true);
        }
        tail.erase(0, tail.find('\r', at) + 1);
      }
      if (tail.size() > 4096) tail.erase(0, tail.size() - 64);
    }
  }

  long target_;
  int port_ = 0;
  pid_t pid_ = -1;
  int read_fd_ = -1;
  std::thread reader_;
  std::atomic<long> count_{0};
  std::atomic<bool> reached_{false};
  Clock::time_point reached_at_;
  Clock::time_point first_at_;
};

struct Row {
  std::string method;
  long messages = 0;
  double seconds = 0;
  std::string note;
  // From the same start to the sink's first message: process start and
  // connection set-up, included in `seconds`.
  double first = 0;
};

// smtp-source with sessions kept open (-d), into `port`.
pid_t StartSmtpSource(long n, int sessions, int port, const std::string& log) {
  return Spawn({"/usr/sbin/smtp-source", "-d", "-l", "4096", "-m",
                std::to_string(n), "-s", std::to_string(sessions), "-t",
                "to@example.org", "-f", "from@example.com",
                "127.0.0.1:" + std::to_string(port)},
               log);
}

Row RunCeiling(long n, int sessions, const std::string& dir) {
  Row row{"smtp-source -> smtp-sink", n, 0, ""};
  Sink sink(dir, n);
  auto start = Clock::now();
  pid_t source = StartSmtpSource(n, sessions, sink.port(), dir + "/source.log");
  bool done = sink.Wait(300);
  int status = 0;
  waitpid(source, &status, 0);
  row.seconds = Seconds(start, done ? sink.reached_at() : Clock::now());
  if (done) row.first = Seconds(start, sink.first_at());
  if (!done) row.note = "timed out at " + std::to_string(sink.count());
  return row;
}

// A private Postfix instance relaying everything to the sink. Returns its
// config directory, or empty with `why` set.
std::string StartPostfix(const std::string& dir, int listen_port,
                         int sink_port, int concurrency, bool log,
                         std::string* why) {
  if (geteuid() != 0) {
    *why = "not root (a Postfix instance must be started as root)";
    return "";
  }
  if (access("/usr/sbin/postfix", X_OK) != 0) {
    *why = "/usr/sbin/postfix not installed";
    return "";
  }
  // Postfix's unprivileged processes must reach the queue and data dirs.
  mkdir(dir.c_str(), 0755);
  chmod(dir.c_str(), 0755);
  chmod(dir.substr(0, dir.rfind('/')).c_str(), 0755);
  std::string etc = dir + "/etc";
  mkdir(etc.c_str(), 0755);
  mkdir((dir + "/queue").c_str(), 0755);
  mkdir((dir + "/data").c_str(), 0755);
  if (system(("chown postfix '" + dir + "/data'").c_str()) != 0) {
    *why = "cannot chown the data directory to the postfix user";
    return "";
  }
  WriteFile(etc + "/main.cf", "");
  // No chroot (the private queue is not set up as a chroot jail).
  std::string master =
      "127.0.0.1:" + std::to_string(listen_port) +
      " inet n - n - - smtpd\n"
      "pickup unix n - n 60 1 pickup\n"
      "cleanup unix n - n - 0 cleanup\n"
      "qmgr unix n - n 300 1 qmgr\n"
      "tlsmgr unix - - n 1000? 1 tlsmgr\n"
      "rewrite unix - - n - - trivial-rewrite\n"
      "bounce unix - - n - 0 bounce\n"
      "defer unix - - n - 0 bounce\n"
      "trace unix - - n - 0 bounce\n"
      "verify unix - - n - 1 verify\n"
      "flush unix n - n 1000? 0 flush\n"
      "proxymap unix - - n - - proxymap\n"
      "proxywrite unix - - n - 1 proxymap\n"
      "smtp unix - - n - - smtp\n"
      "relay unix - - n - - smtp\n"
      "showq unix n - n - - showq\n"
      "error unix - - n - - error\n"
      "retry unix - - n - - error\n"
      "discard unix - - n - - discard\n"
      "local unix - n n - - local\n"
      "anvil unix - - n - 1 anvil\n"
      "scache unix - - n - 1 scache\n"
      "postlog unix-dgram n - n - 1 postlogd\n";
  WriteFile(etc + "/master.cf", master);
  std::string c = std::to_string(concurrency);
  std::string postconf =
      "/usr/sbin/postconf -c '" + etc + "' -e"
      " 'queue_directory=" + dir + "/queue'"
      " 'data_directory=" + dir + "/data'"
      " multi_instance_name=postfix-relay-bench"
      " syslog_name=postfix-relay-bench"
      " compatibility_level=3.6"
      " inet_interfaces=127.0.0.1 inet_protocols=ipv4"
      " myhostname=relay-bench.localdomain"
      " mydestination= relay_domains= local_recipient_maps="
      " alias_maps= alias_database= smtputf8_enable=no"
      " mynetworks=127.0.0.0/8"
      " 'relayhost=[127.0.0.1]:" + std::to_string(sink_port) + "'"
      " smtp_destination_concurrency_limit=" + c +
      " default_destination_concurrency_limit=" + c +
      " initial_destination_concurrency=" + c +
      " shlib_directory=/usr/lib/postfix meta_directory=/etc/postfix";
  // Logging to a file through postlogd, as a relay in service would; without
  // it Postfix logs to syslog's /dev/log (nothing listens here, so the
  // lines are dropped).
  if (log) {
    postconf += " 'maillog_file=" + dir + "/maillog'"
                " 'maillog_file_prefixes=/tmp,/var'";
  }
  if (system(postconf.c_str()) != 0) {
    *why = "postconf failed";
    return "";
  }
  if (system(("/usr/sbin/postfix -c '" + etc + "' start >/dev/null 2>&1")
                 .c_str()) != 0) {
    *why = "postfix start failed; see " + dir + "/maillog";
    return "";
  }
  if (!WaitForListener(listen_port, 20)) {
    *why = "Postfix's smtpd did not listen; see " + dir + "/maillog";
    system(("/usr/sbin/postfix -c '" + etc + "' stop >/dev/null 2>&1").c_str());
    return "";
  }
  return etc;
}

Row RunPostfix(long n, int sessions, bool log, const std::string& dir) {
  Row row{log ? "smtp-source -> Postfix -> smtp-sink"
              : "smtp-source -> Postfix (no log) -> smtp-sink",
          n, 0, ""};
  Sink sink(dir, n);
  int port = FreePort();
  std::string why;
  std::string etc = StartPostfix(dir + "/postfix", port, sink.port(), sessions,
                                 log, &why);
  if (etc.empty()) {
    row.note = "not run: " + why;
    return row;
  }
  auto start = Clock::now();
  pid_t source = StartSmtpSource(n, sessions, port, dir + "/source.log");
  bool done = sink.Wait(600);
  int status = 0;
  waitpid(source, &status, 0);
  row.seconds = Seconds(start, done ? sink.reached_at() : Clock::now());
  if (done) row.first = Seconds(start, sink.first_at());
  if (!done) row.note = "timed out at " + std::to_string(sink.count());
  if (system(("/usr/sbin/postfix -c '" + etc + "' stop >/dev/null 2>&1")
                 .c_str()) != 0) {
    std::cerr << "postfix stop failed\n";
  }
  return row;
}

struct Deliverd {
  pid_t pid = -1;
  std::string target;
  std::string key;
  Clock::time_point started;
};

// --workers: deliverd's --dispatcher-workers (0: its default).
int g_workers = 0;
// --mysql: the server's URI without a database ("" for SQLite), and the
// database of the row being run.
std::string g_mysql;
std::string g_database;

// Runs one statement on the --mysql server (no database selected).
void MysqlAdmin(const std::string& sql) {
  absl::StatusOr<deliverd::store::MysqlConfig> config =
      deliverd::store::ParseMysqlUri(g_mysql + "admin");
  if (!config.ok()) Fail("--mysql: " + std::string(config.status().message()));
  config->database = "";
  absl::StatusOr<std::unique_ptr<deliverd::store::MysqlConnection>> db =
      deliverd::store::MysqlConnection::Open(*config);
  if (!db.ok()) Fail("--mysql: " + std::string(db.status().message()));
  absl::Status status = (*db)->Exec(sql);
  if (!status.ok()) Fail(sql + ": " + std::string(status.message()));
}

// A fresh database for the next row (dropping the last row's).
void NewMysqlDatabase() {
  static int rows = 0;
  if (!g_database.empty()) MysqlAdmin("DROP DATABASE IF EXISTS " + g_database);
  g_database = "deliverd_relay_bench_" + std::to_string(++rows);
  MysqlAdmin("DROP DATABASE IF EXISTS " + g_database);
  MysqlAdmin("CREATE DATABASE " + g_database +
             " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
}

Deliverd StartDeliverd(const std::string& binary, const std::string& dir,
                       int sink_port, int connections, bool dispatcher,
                       const std::string& sync) {
  Deliverd d;
  std::string port_file = dir + "/port";
  unlink(port_file.c_str());
  std::vector<std::string> args = {
      binary, "--listen", "127.0.0.1:0", "--port-file", port_file,
      "--data-dir", dir + "/data",
      "--smtp-relay", "smtp://127.0.0.1:" + std::to_string(sink_port),
      "--smtp-tls", "none", "--smtp-connections", std::to_string(connections),
      "--domain-concurrency", "1000"};
  if (g_mysql.empty()) {
    args.insert(args.end(), {"--sqlite-sync", sync});
  } else {
    args.insert(args.end(), {"--store", g_mysql + g_database});
  }
  // Without --workers, deliverd's own default for a relay.
  if (!dispatcher) {
    args.insert(args.end(), {"--dispatcher-workers", "0"});
  } else if (g_workers > 0) {
    args.insert(args.end(), {"--dispatcher-workers", std::to_string(g_workers)});
  }
  d.started = Clock::now();
  d.pid = Spawn(args, dir + "/deliverd.log");
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (access(port_file.c_str(), F_OK) != 0) {
    if (Clock::now() > deadline) {
      Fail("deliverd did not start: " + ReadFile(dir + "/deliverd.log"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d.target = "127.0.0.1:" + ReadFile(port_file);
  d.key = ReadFile(dir + "/data/api-key");
  return d;
}

std::string RowName(const std::string& name) {
  return g_mysql.empty() ? name : name + " [MariaDB]";
}

std::string Body(int bytes) {
  std::string body;
  const std::string line =
      "The quick brown fox jumps over the lazy dog; pack my box with five "
      "dozen.\n";
  while (static_cast<int>(body.size()) + static_cast<int>(line.size()) <=
         bytes) {
    body += line;
  }
  return body;
}

deliverd::v1::SendBatchRequest MakeBatch(long first, int count,
                                         const std::string& body) {
  deliverd::v1::SendBatchRequest batch;
  for (int i = 0; i < count; ++i) {
    auto* c = batch.add_messages()->mutable_content();
    c->mutable_from()->set_address("sender@example.com");
    c->add_to()->set_address("user" + std::to_string(first + i) +
                             "@example.org");
    c->set_subject("Relay benchmark " + std::to_string(first + i));
    c->set_text_body(body);
  }
  return batch;
}

// Queues n messages in batches of 1,000; returns when the first batch was
// acknowledged.
Clock::time_point Queue(const Deliverd& d, long n, const std::string& body) {
  auto stub = deliverd::v1::Messages::NewStub(
      grpc::CreateChannel(d.target, grpc::InsecureChannelCredentials()));
  Clock::time_point first_ack;
  for (long done = 0; done < n;) {
    int count = static_cast<int>(std::min<long>(1000, n - done));
    deliverd::v1::SendBatchRequest batch = MakeBatch(done, count, body);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + d.key);
    deliverd::v1::SendBatchResponse response;
    grpc::Status status = stub->SendBatch(&ctx, batch, &response);
    if (!status.ok() || response.accepted_count() != count) {
      Fail("SendBatch failed: " + status.error_message() + " (" +
           std::to_string(response.accepted_count()) + " of " +
           std::to_string(count) + ")");
    }
    if (done == 0) first_ack = Clock::now();
    done += count;
  }
  return first_ack;
}

// Messages in the given status (pages through ListMessages).
long CountStatus(const Deliverd& d, deliverd::v1::MessageStatus status) {
  auto stub = deliverd::v1::Messages::NewStub(
      grpc::CreateChannel(d.target, grpc::InsecureChannelCredentials()));
  long total = 0;
  std::string token;
  do {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + d.key);
    deliverd::v1::ListMessagesRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    request.add_statuses(status);
    deliverd::v1::ListMessagesResponse response;
    if (!stub->ListMessages(&ctx, request, &response).ok()) return -1;
    total += response.messages_size();
    token = response.next_page_token();
  } while (!token.empty());
  return total;
}

// Waits (briefly) for deliverd to record every message SENT; a note when it
// did not, or when the sink got more than n (a message sent twice).
std::string Verify(const Deliverd& d, const Sink& sink, long n) {
  long sent = 0;
  for (int i = 0; i < 100; ++i) {
    sent = CountStatus(d, deliverd::v1::MESSAGE_STATUS_SENT);
    if (sent >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string note;
  if (sent != n) note += "SENT in deliverd: " + std::to_string(sent) + " ";
  if (sink.count() != n) note += "sink got " + std::to_string(sink.count());
  return note;
}

Row RunDeliverdLive(const std::string& binary, long n, int connections,
                    const std::string& sync, const std::string& body,
                    const std::string& dir) {
  Row row{RowName("deliverd, queueing while sending"), n, 0, ""};
  if (!g_mysql.empty()) NewMysqlDatabase();
  Sink sink(dir, n);
  Deliverd d = StartDeliverd(binary, dir, sink.port(), connections, true, sync);
  Clock::time_point first_ack = Queue(d, n, body);
  bool done = sink.Wait(600);
  row.seconds = Seconds(first_ack, done ? sink.reached_at() : Clock::now());
  if (done) row.first = Seconds(first_ack, sink.first_at());
  row.note = done ? Verify(d, sink, n) : "timed out at " + std::to_string(sink.count());
  StopProcess(d.pid);
  return row;
}

Row RunDeliverdQueuedFirst(const std::string& binary, long n, int connections,
                           const std::string& sync, const std::string& body,
                           const std::string& dir) {
  Row row{RowName("deliverd, queued first (SMTP side)"), n, 0, ""};
  if (!g_mysql.empty()) NewMysqlDatabase();
  Sink sink(dir, n);
  Deliverd d =
      StartDeliverd(binary, dir, sink.port(), connections, false, sync);
  Queue(d, n, body);
  StopProcess(d.pid);
  d = StartDeliverd(binary, dir, sink.port(), connections, true, sync);
  bool done = sink.Wait(600);
  row.seconds = Seconds(d.started, done ? sink.reached_at() : Clock::now());
  if (done) row.first = Seconds(d.started, sink.first_at());
  row.note = done ? Verify(d, sink, n) : "timed out at " + std::to_string(sink.count());
  StopProcess(d.pid);
  return row;
}

// Two replicas on one MariaDB database deliver a queue filled beforehand;
// timed from their start to the sink's n-th message.
Row RunTwoReplicas(const std::string& binary, long n, int connections,
                   const std::string& body, const std::string& dir) {
  Row row{RowName("deliverd, queued first, two replicas"), n, 0, ""};
  NewMysqlDatabase();
  Sink sink(dir, n);
  Deliverd d = StartDeliverd(binary, dir, sink.port(), connections, false, "");
  Queue(d, n, body);
  StopProcess(d.pid);
  std::string second_dir = dir + "/replica2";
  mkdir(second_dir.c_str(), 0700);
  Deliverd a = StartDeliverd(binary, dir, sink.port(), connections, true, "");
  Deliverd b =
      StartDeliverd(binary, second_dir, sink.port(), connections, true, "");
  bool done = sink.Wait(600);
  row.seconds = Seconds(a.started, done ? sink.reached_at() : Clock::now());
  if (done) row.first = Seconds(a.started, sink.first_at());
  row.note = done ? Verify(a, sink, n)
                  : "timed out at " + std::to_string(sink.count());
  StopProcess(b.pid);
  StopProcess(a.pid);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  std::string binary = DELIVERD_BENCH_SERVER;
  long messages = 20000;
  int connections = 8;
  int body_bytes = 4000;
  std::string sync = "full";
  bool skip_postfix = false;
  bool skip_deliverd = false;
  bool postfix_no_log = false;
  int rounds = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--deliverd" && i + 1 < argc) {
      binary = argv[++i];
    } else if (arg == "--messages" && i + 1 < argc) {
      messages = atol(argv[++i]);
    } else if (arg == "--connections" && i + 1 < argc) {
      connections = atoi(argv[++i]);
    } else if (arg == "--body-bytes" && i + 1 < argc) {
      body_bytes = atoi(argv[++i]);
    } else if (arg == "--sqlite-sync" && i + 1 < argc) {
      sync = argv[++i];
    } else if (arg == "--mysql" && i + 1 < argc) {
      g_mysql = argv[++i];
      if (g_mysql.empty() || g_mysql.back() != '/') g_mysql += "/";
    } else if (arg == "--workers" && i + 1 < argc) {
      g_workers = atoi(argv[++i]);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = atoi(argv[++i]);
    } else if (arg == "--skip-postfix") {
      skip_postfix = true;
    } else if (arg == "--postfix-no-log") {
      postfix_no_log = true;
    } else if (arg == "--skip-deliverd") {
      skip_deliverd = true;
    } else {
      std::cerr << "usage: relay_bench [--deliverd PATH] [--messages N] "
                   "[--connections N] [--workers N] [--sqlite-sync full|normal] "
                   "[--body-bytes N] [--skip-postfix] [--postfix-no-log] "
                   "[--skip-deliverd] [--mysql URI] [--rounds R]\n";
      return 2;
    }
  }
  if (messages < 1 || connections < 1 || rounds < 1) {
    std::cerr << "--messages, --connections and --rounds must be positive\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  std::string body = Body(body_bytes);
  std::cout << messages << " messages (deliverd: " << body.size()
            << "-byte text body plus headers; smtp-source: -l 4096), one "
               "recipient, "
            << connections << " SMTP connections, deliverd --sqlite-sync "
            << sync << ", " << std::thread::hardware_concurrency()
            << " cores\n\n";

  std::vector<Row> rows;
  auto run = [&](auto fn) {
    std::string dir = MakeTempDir("relay-bench");
    rows.push_back(fn(dir));
    const Row& r = rows.back();
    std::cerr << r.method << ": " << r.seconds << " s " << r.note << "\n";
    RemoveTree(dir);
  };
  // Per round: the ceiling, then each deliverd row's rate, for the table of
  // rounds printed at the end.
  struct Round {
    double ceiling = 0;
    std::vector<double> rates;
  };
  std::vector<Round> round_rates;
  std::vector<std::string> round_methods;
  auto rate_of = [](const Row& r) {
    return r.seconds > 0 ? r.messages / r.seconds : 0.0;
  };
  for (int round = 0; round < rounds; ++round) {
    const size_t first_row = rows.size();
    run([&](const std::string& dir) {
      return RunCeiling(messages, connections, dir);
    });
    if (!skip_postfix && round == 0) {
      run([&](const std::string& dir) {
        return RunPostfix(messages, connections, true, dir);
      });
      if (postfix_no_log) {
        run([&](const std::string& dir) {
          return RunPostfix(messages, connections, false, dir);
        });
      }
    }
    const size_t first_deliverd_row = rows.size();
    if (!skip_deliverd) {
      run([&](const std::string& dir) {
        return RunDeliverdLive(binary, messages, connections, sync, body, dir);
      });
      run([&](const std::string& dir) {
        return RunDeliverdQueuedFirst(binary, messages, connections, sync,
                                      body, dir);
      });
      if (!g_mysql.empty()) {
        run([&](const std::string& dir) {
          return RunTwoReplicas(binary, messages, connections, body, dir);
        });
      }
    }
    Round r;
    r.ceiling = rate_of(rows[first_row]);
    for (size_t i = first_deliverd_row; i < rows.size(); ++i) {
      r.rates.push_back(rate_of(rows[i]));
      if (round == 0) round_methods.push_back(rows[i].method);
    }
    round_rates.push_back(std::move(r));
    // The detailed table below shows the first round only.
    if (round > 0) rows.resize(first_row);
  }
  if (!g_database.empty()) MysqlAdmin("DROP DATABASE IF EXISTS " + g_database);

  double ceiling = rows[0].seconds > 0 ? rows[0].messages / rows[0].seconds : 0;
  std::printf("\n| %-44s | %8s | %7s | %10s | %8s | %9s |\n", "method",
              "messages", "seconds", "messages/s", "ratio", "first at");
  std::printf("| %-44s | %8s | %7s | %10s | %8s | %9s |\n", ":---", "---:",
              "---:", "---:", "---:", "---:");
  for (const Row& r : rows) {
    if (r.seconds <= 0) {
      std::printf("| %-44s | %8ld | %7s | %10s | %8s | %9s |\n",
                  r.method.c_str(), r.messages, "-", "-", "-", "-");
    } else {
      double rate = r.messages / r.seconds;
      std::printf("| %-44s | %8ld | %7.2f | %10.0f | %8.2f | %9.3f |\n",
                  r.method.c_str(), r.messages, r.seconds, rate,
                  ceiling > 0 ? rate / ceiling : 0, r.first);
    }
  }
  for (const Row& r : rows) {
    if (!r.note.empty()) std::printf("note: %s: %s\n", r.method.c_str(), r.note.c_str());
  }
  if (rounds > 1 && !round_methods.empty()) {
    std::printf("\nrounds (each ratio against the ceiling measured just "
                "before it):\n\n| round | ceiling/s |");
    for (const std::string& m : round_methods) std::printf(" %s |", m.c_str());
    std::printf("\n| ---: | ---: |");
    for (size_t i = 0; i < round_methods.size(); ++i) std::printf(" ---: |");
    std::printf("\n");
    std::vector<std::vector<double>> ratios(round_methods.size());
    for (size_t k = 0; k < round_rates.size(); ++k) {
      const Round& r = round_rates[k];
      std::printf("| %zu | %.0f |", k + 1, r.ceiling);
      for (size_t i = 0; i < r.rates.size() && i < ratios.size(); ++i) {
        const double ratio = r.ceiling > 0 ? r.rates[i] / r.ceiling : 0;
        ratios[i].push_back(ratio);
        std::printf(" %.0f (%.2f) |", r.rates[i], ratio);
      }
      std::printf("\n");
    }
    std::printf("| median | |");
    for (std::vector<double>& v : ratios) {
      std::sort(v.begin(), v.end());
      const size_t n = v.size();
      std::printf(" %.2f |", n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
    }
    std::printf("\n");
  }
  return 0;
}
