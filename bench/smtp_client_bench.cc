// Our SMTP client against libESMTP (the measurement behind writing our own,
// see server/delivery/smtp_session.h): N messages (about 4 KB, one recipient
// each) into an smtp-sink the bench starts on loopback, sent by
//   - SmtpRelayTransport (the pool deliverd uses: kept-alive sessions, up to
//     100 messages per connection, deliverd's default) with 1 connection and
//     1 thread, and with 4 connections and 4 threads;
//   - libESMTP, one session per message (connect, EHLO, one transaction,
//     QUIT: what a transport must do to learn each message's outcome when it
//     is handed over, since a libESMTP session sends what is queued on it and
//     quits), with 1 and 4 threads;
//   - libESMTP, one session per 100 messages (as many per connection as our
//     pool; outcomes are known only when the whole batch is done), with 1 and
//     4 threads.
// libESMTP does not turn off Nagle's algorithm, and on loopback its writes
// then wait for delayed ACKs (about 40 ms per message). The rows marked
// "TCP_NODELAY" set it on libESMTP's sockets too (this program interposes
// connect(); ours sets it itself), to show what is left without that.
// Every message's outcome is checked (250 from the sink); a row with failures
// says so. A fresh sink per run. A run stops after --max-seconds (checked
// between sessions) and counts the messages it sent by then. Each row is run
// --repeat times (default 3; the machine is shared and noisy): the median
// rate, the range, messages per run and failures over all runs.
//
// usage: smtp_client_bench [--messages N] [--body-bytes N] [--max-seconds S]
//                          [--repeat R]
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <libesmtp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/delivery/smtp_relay_transport.h"

namespace {

std::atomic<bool> g_force_nodelay{false};

}  // namespace

// Every connect() in this process, libESMTP's included, comes here.
extern "C" int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  using ConnectFn = int (*)(int, const struct sockaddr*, socklen_t);
  static ConnectFn real =
      reinterpret_cast<ConnectFn>(dlsym(RTLD_NEXT, "connect"));
  if (g_force_nodelay.load()) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return real(fd, addr, len);
}

namespace {

using Clock = std::chrono::steady_clock;
double g_max_seconds = 5;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    perror("bind");
    exit(1);
  }
  close(fd);
  return ntohs(addr.sin_port);
}

bool Listening(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// smtp-sink on a free loopback port (no dump files); killed by its pid.
class Sink {
 public:
  Sink() {
    port_ = FreePort();
    pid_ = fork();
    if (pid_ == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      std::string where = "127.0.0.1:" + std::to_string(port_);
      if (geteuid() == 0) {
        execl("/usr/sbin/smtp-sink", "smtp-sink", "-u", "nobody",
              where.c_str(), "1000", static_cast<char*>(nullptr));
      } else {
        execl("/usr/sbin/smtp-sink", "smtp-sink", where.c_str(), "1000",
              static_cast<char*>(nullptr));
      }
      _exit(127);
    }
    for (int i = 0; i < 1000 && !Listening(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!Listening(port_)) {
      std::cerr << "smtp-sink did not start\n";
      exit(1);
    }
  }
  ~Sink() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  int port() const { return port_; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

std::string Message(int body_bytes) {
  std::string m =
      "From: sender@example.com\r\n"
      "To: user@example.org\r\n"
      "Subject: SMTP client benchmark\r\n"
      "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
      "Message-ID: <bench@example.com>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n"
      "\r\n";
  const std::string line =
      "The quick brown fox jumps over the lazy dog; pack my box with five "
      "dozen.\r\n";
  for (int size = 0; size + static_cast<int>(line.size()) <= body_bytes;
       size += line.size()) {
    m += line;
  }
  return m;
}

struct Tally {
  long sent = 0;  // messages handed over, accepted or not
  long failed = 0;
};

// Runs `work(thread, count, deadline)` on `threads` threads splitting n;
// returns messages per second (of those sent before the deadline).
double Run(long n, int threads,
           const std::function<Tally(int, long, Clock::time_point)>& work,
           Tally* total) {
  std::vector<std::thread> pool;
  std::atomic<long> sent{0}, bad{0};
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(g_max_seconds));
  for (int t = 0; t < threads; ++t) {
    long count = n / threads + (t < n % threads ? 1 : 0);
    pool.emplace_back([&, t, count] {
      Tally tally = work(t, count, deadline);
      sent += tally.sent;
      bad += tally.failed;
    });
  }
  for (std::thread& th : pool) th.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  total->sent = sent.load();
  total->failed = bad.load();
  return total->sent / seconds;
}

// Our transport: `connections` pooled sessions shared by `threads` senders.
double Ours(long n, int connections, int threads, const std::string& data,
            Tally* total) {
  Sink sink;
  deliverd::delivery::SmtpRelayOptions options;
  options.session.host = "127.0.0.1";
  options.session.port = sink.port();
  options.session.tls = deliverd::delivery::TlsMode::kNone;
  options.session.helo_name = "bench.example.com";
  options.max_connections = connections;
  auto transport = deliverd::delivery::SmtpRelayTransport::Create(options);
  if (!transport.ok()) {
    std::cerr << transport.status() << "\n";
    exit(1);
  }
  deliverd::delivery::SmtpRelayTransport* relay = transport->get();
  return Run(n, threads,
             [&](int t, long count, Clock::time_point deadline) {
               Tally tally;
               for (long i = 0; i < count && Clock::now() < deadline; ++i) {
                 ++tally.sent;
                 deliverd::delivery::Envelope envelope;
                 envelope.mail_from = "sender@example.com";
                 envelope.rcpt_to = {"user" + std::to_string(t) + "-" +
                                     std::to_string(i) + "@example.org"};
                 envelope.message_id = "m" + std::to_string(i);
                 auto result = relay->Send(envelope, data);
                 if (!result.ok() || result->recipients.size() != 1 ||
                     result->recipients[0].outcome !=
                         deliverd::delivery::Outcome::kAccepted) {
                   ++tally.failed;
                 }
               }
               return tally;
             },
             total);
}

// One libESMTP session carrying `count` messages; returns the failures.
long EsmtpSession(const std::string& server, int t, long first, long count,
                  const std::string& data) {
  smtp_session_t session = smtp_create_session();
  smtp_set_server(session, server.c_str());
  smtp_set_hostname(session, "bench.example.com");
  std::vector<smtp_message_t> messages;
  std::vector<smtp_recipient_t> recipients;
  std::vector<std::string> addresses;
  addresses.reserve(count);
  for (long i = 0; i < count; ++i) {
    smtp_message_t message = smtp_add_message(session);
    smtp_set_reverse_path(message, "sender@example.com");
    smtp_set_message_str(message, const_cast<char*>(data.c_str()));
    addresses.push_back("user" + std::to_string(t) + "-" +
                        std::to_string(first + i) + "@example.org");
    recipients.push_back(smtp_add_recipient(message, addresses.back().c_str()));
    messages.push_back(message);
  }
  long bad = 0;
  if (!smtp_start_session(session)) {
    bad = count;
  } else {
    for (long i = 0; i < count; ++i) {
      const smtp_status_t* status = smtp_message_transfer_status(messages[i]);
      const smtp_status_t* rcpt = smtp_recipient_status(recipients[i]);
      if (status == nullptr || status->code / 100 != 2 || rcpt == nullptr ||
          rcpt->code / 100 != 2) {
        ++bad;
      }
    }
  }
  smtp_destroy_session(session);
  return bad;
}

double Esmtp(long n, int per_session, int threads, bool nodelay,
             const std::string& data, Tally* total) {
  Sink sink;
  std::string server = "127.0.0.1:" + std::to_string(sink.port());
  g_force_nodelay = nodelay;
  double rate = Run(
      n, threads,
      [&](int t, long count, Clock::time_point deadline) {
        Tally tally;
        for (long done = 0; done < count && Clock::now() < deadline;) {
          long batch = std::min<long>(per_session, count - done);
          tally.failed += EsmtpSession(server, t, done, batch, data);
          tally.sent += batch;
          done += batch;
        }
        return tally;
      },
      total);
  g_force_nodelay = false;
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  long messages = 5000;
  int repeat = 3;
  int body_bytes = 4000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--messages" && i + 1 < argc) {
      messages = atol(argv[++i]);
    } else if (arg == "--body-bytes" && i + 1 < argc) {
      body_bytes = atoi(argv[++i]);
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, atoi(argv[++i]));
    } else if (arg == "--max-seconds" && i + 1 < argc) {
      g_max_seconds = atof(argv[++i]);
    } else {
      std::cerr << "usage: smtp_client_bench [--messages N] [--body-bytes N] "
                   "[--max-seconds S] [--repeat R]\n";
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  std::string data = Message(body_bytes);
  char version[64] = "?";
  smtp_version(version, sizeof(version), 0);
  std::cout << messages << " messages of " << data.size()
            << " bytes, one recipient, into smtp-sink on loopback; libESMTP "
            << version << ", " << std::thread::hardware_concurrency()
            << " cores\n\n";
  struct Case {
    std::string client;
    int threads;
    std::function<double(Tally*)> run;
  };
  std::vector<Case> cases = {
      {"ours: pool, 1 connection", 1,
       [&](Tally* t) { return Ours(messages, 1, 1, data, t); }},
      {"ours: pool, 4 connections", 4,
       [&](Tally* t) { return Ours(messages, 4, 4, data, t); }},
  };
  for (bool nodelay : {false, true}) {
    for (int per_session : {1, 100}) {
      for (int threads : {1, 4}) {
        std::string name =
            per_session == 1 ? "libESMTP: session per message"
                             : "libESMTP: session per 100 messages";
        if (nodelay) name += ", TCP_NODELAY";
        cases.push_back({name, threads, [=, &data](Tally* t) {
                           return Esmtp(messages, per_session, threads,
                                        nodelay, data, t);
                         }});
      }
    }
  }
  std::printf("| %-50s | %7s | %8s | %10s | %15s | %8s |\n", "client",
              "threads", "messages", "messages/s", "range", "failures");
  std::printf("| %-50s | %7s | %8s | %10s | %15s | %8s |\n", ":---", "---:",
              "---:", "---:", "---:", "---:");
  for (const Case& c : cases) {
    std::vector<double> rates;
    Tally total;
    for (int r = 0; r < repeat; ++r) {
      Tally tally;
      rates.push_back(c.run(&tally));
      total.sent += tally.sent;
      total.failed += tally.failed;
    }
    std::sort(rates.begin(), rates.end());
    std::string range = std::to_string(static_cast<long>(rates.front())) +
                        "-" + std::to_string(static_cast<long>(rates.back()));
    std::printf("| %-50s | %7d | %8ld | %10.0f | %15s | %8ld |\n",
                c.client.c_str(), c.threads, total.sent / repeat,
                rates[rates.size() / 2], range.c_str(), total.failed);
    std::fflush(stdout);
  }
  return 0;
}
