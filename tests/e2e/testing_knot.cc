#include "testing_knot.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

constexpr char kKnotd[] = "/usr/sbin/knotd";

// A port that is free for both UDP and TCP right now: knotd listens on
// both. A UDP port picked by the kernel may be a TCP connection's local
// port at the same moment (other tests run beside this one), so TCP is
// checked too; a clash that still happens before knotd binds is retried by
// Start.
int FreeUdpAndTcpPort() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(udp, reinterpret_cast<sockaddr*>(&addr), &len);
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free =
        bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(tcp);
    close(udp);
    if (tcp_free) return ntohs(addr.sin_port);
  }
  return 0;
}

// Sends one SOA query for `zone` and waits up to `wait_ms` for any reply.
bool Answers(int port, const std::string& zone, int wait_ms) {
  std::string query("\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  size_t start = 0;
  while (start <= zone.size()) {
    size_t dot = zone.find('.', start);
    if (dot == std::string::npos) dot = zone.size();
    query.push_back(static_cast<char>(dot - start));
    query.append(zone, start, dot - start);
    start = dot + 1;
  }
  query.append(std::string("\x00\x00\x06\x00\x01", 5));  // root, SOA, IN
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&addr),
         sizeof(addr));
  pollfd p{fd, POLLIN, 0};
  bool answered = poll(&p, 1, wait_ms) == 1;
  close(fd);
  return answered;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Knot>> Knot::Start(
    const std::map<std::string, std::string>& zones,
    const std::vector<std::string>& unloadable) {
  if (access(kKnotd, X_OK) != 0) {
    return absl::FailedPreconditionError(
        "knotd is not installed (scripts/install-deps.sh installs knot)");
  }
  std::unique_ptr<Knot> knot(new Knot());
  char tmpl[] = "/tmp/deliverd-knot-XXXXXX";
  knot->dir_ = mkdtemp(tmpl);
  for (const char* sub : {"/run", "/db", "/zones"}) {
    std::filesystem::create_directories(knot->dir_ + sub);
  }
  if (absl::Status started = LaunchRetryingTakenPorts(
          [&] { return knot->Launch(zones, unloadable); });
      !started.ok()) {
    return started;
  }
  return knot;
}

absl::Status Knot::Launch(const std::map<std::string, std::string>& zones,
                          const std::vector<std::string>& unloadable) {
  port_ = FreeUdpAndTcpPort();
  std::ofstream conf(dir_ + "/knot.conf");
  conf << "server:\n  rundir: \"" << dir_ << "/run\"\n"
       << "  listen: 127.0.0.1@" << port_ << "\n"
       << "log:\n  - target: stderr\n    any: error\n"
       << "database:\n  storage: \"" << dir_ << "/db\"\n"
       << "zone:\n";
  auto zone_entry = [&](const std::string& origin) {
    conf << "  - domain: " << origin << "\n    storage: \"" << dir_
         << "/zones\"\n    file: \"" << origin << ".zone\"\n";
  };
  for (const auto& [origin, text] : zones) {
    std::ofstream(dir_ + "/zones/" + origin + ".zone") << text;
    zone_entry(origin);
  }
  for (const std::string& origin : unloadable) zone_entry(origin);
  conf.close();

  std::string log = dir_ + "/knotd.log";
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    if (!freopen(log.c_str(), "w", stdout) ||
        !freopen(log.c_str(), "a", stderr)) {
      _exit(126);
    }
    std::string conf_path = dir_ + "/knot.conf";
    execl(kKnotd, kKnotd, "-c", conf_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string probe = zones.empty() ? "." : zones.begin()->first;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!Answers(port_, probe, 100)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
      return absl::UnavailableError(absl::StrCat("knotd exited: ", text));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError("knotd did not answer within 10 s");
    }
  }
  return absl::OkStatus();
}

Knot::~Knot() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

std::string Knot::address() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace deliverd::e2e
