#include "bench/bench_knot.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace deliverd::bench {

bool KnotAnswers(int port, const std::string& origin, int wait_ms) {
  std::string query("\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  std::stringstream labels(origin);
  std::string label;
  while (std::getline(labels, label, '.')) {
    if (label.empty()) continue;
    query.push_back(static_cast<char>(label.size()));
    query += label;
  }
  query.push_back('\0');  // The root.
  query += std::string("\x00\x06\x00\x01", 4);  // SOA, IN
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

pid_t StartKnot(const std::string& dir, int port, const std::string& origin,
                const std::string& zone_text, bool query_stats) {
  for (const char* sub : {"/run", "/db", "/zones"}) {
    std::filesystem::create_directories(dir + sub);
  }
  const std::string zone_file = origin + ".zone";
  std::ofstream(dir + "/zones/" + zone_file) << zone_text;
  {
    std::ofstream conf(dir + "/knot.conf");
    conf << "server:\n  rundir: \"" << dir << "/run\"\n"
         << "  listen: 127.0.0.1@" << port << "\n"
         << "log:\n  - target: stderr\n    any: error\n";
    if (query_stats) {
      conf << "mod-stats:\n  - id: bench\n    request-protocol: on\n"
           << "template:\n  - id: default\n    global-module: mod-stats/bench\n";
    }
    conf << "database:\n  storage: \"" << dir << "/db\"\n"
         << "zone:\n  - domain: " << origin << "\n    storage: \"" << dir
         << "/zones\"\n    file: \"" << zone_file << "\"\n";
  }
  const std::string log = dir + "/knotd.log";
  const std::string conf = dir + "/knot.conf";
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(125);
    if (!freopen(log.c_str(), "w", stdout) ||
        !freopen(log.c_str(), "a", stderr)) {
      _exit(126);
    }
    execl(kKnotd, kKnotd, "-c", conf.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!KnotAnswers(port, origin, 100)) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::ifstream in(log);
      std::cerr << "knotd exited: " << in.rdbuf() << "\n";
      return -1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "knotd did not answer within 20 s\n";
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
  }
  return pid;
}

}  // namespace deliverd::bench
