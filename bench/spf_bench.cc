// SPF evaluation throughput (issue 4): deliverd's SpfEvaluator beside pyspf
// (Debian python3-spf) and libspf2 (Debian spfquery), against the same local
// knotd and the same generated sender domains, side by side in one run.
//
// What it does:
//   1. Generates one zone, bench.test, with --domains sender domains
//      d0001.bench.test ... : each has an SPF record with nested includes
//      (include -> include, plus a shared include -> include), ip4/ip6/a/mx/
//      exists terms, some ending -all, some ~all, some ?all, some with
//      redirect= and some with exp=; a DMARC record at _dmarc; a DKIM key at
//      s1._domainkey (one real RSA 2048 public key for all); MX, A and AAAA.
//      A failing evaluation walks 8 DNS-querying terms (10 to 11 queries).
//   2. Writes two queries per domain (a client address that passes, one that
//      fails; sender user@domain, helo mail.domain) in spfquery -file format.
//   3. Starts knotd on 127.0.0.1:--dns-port serving the zone.
//   4. Runs, one after the other, each timed on its evaluation loop only,
//      in --rounds rounds (the table gives each evaluator's median):
//        ours: a fresh CaresResolver per run, no cache, with 1, 2 and 8
//              threads sharing one SpfEvaluator (it is stateless);
//        ours+cache: the same behind a fresh CachingResolver (one cache for
//              the whole run, as libspf2's spfquery has);
//        pyspf: bench/spf_bench_pyspf.py, one process, spf.check2() per
//              query (pyspf's cache lives for one query: cold each time);
//        libspf2: `spfquery -file`, one process (libspf2's default DNS layer
//              is a process-wide cache over the system resolver).
//   5. Compares every query's result in every run with ours (single thread,
//      no cache, first round), prints the first 10 mismatches of each
//      evaluator and their count, and a table.
//
// libspf2 reads its server from /etc/resolv.conf (glibc: port 53 only), so
// pointing it at knotd needs knotd on 127.0.0.1:53 and a resolv.conf naming
// 127.0.0.1: bench/spf_bench.sh runs this program in a private mount
// namespace with such a resolv.conf bind-mounted, leaving the system's alone.
// Without that, libspf2 is skipped (and said so).
//
// Besides the rate, the table gives for each evaluator the DNS queries knotd
// answered per evaluation (knotd's mod-stats counters, read with knotc), the
// evaluator's CPU time and voluntary context switches per evaluation (this
// process's for ours, the child's otherwise) and knotd's CPU time, which shows
// whether the DNS server is the bottleneck. An untimed pass of ours runs first
// so no run pays first-touch costs.
//
// Usage: spf_bench [--domains N] [--dns-port P] [--threads 1,2,8]
//                  [--rounds 3] [--pyspf-script PATH] [--python PATH]
//                  [--spfquery PATH] [--skip-pyspf] [--skip-libspf2] [--keep]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_knot.h"
#include "absl/strings/str_split.h"
#include "auth_checks/domain_check.h"
#include "auth_checks/dns/caching_resolver.h"
#include "auth_checks/dns/cares_resolver.h"
#include "auth_checks/spf/spf_evaluator.h"

#ifndef DELIVERD_BENCH_PYSPF_SCRIPT
#define DELIVERD_BENCH_PYSPF_SCRIPT "bench/spf_bench_pyspf.py"
#endif

namespace {

using ::deliverd::bench::kKnotd;
using ::deliverd::bench::StartKnot;

using deliverd::auth_checks::CheckDomain;
using deliverd::auth_checks::DomainCheckOptions;
using deliverd::auth_checks::DomainReport;
using deliverd::auth_checks::DomainVerdictName;
using deliverd::auth_checks::dns::CachingResolver;
using deliverd::auth_checks::dns::CaresOptions;
using deliverd::auth_checks::dns::CaresResolver;
using deliverd::auth_checks::dns::Resolver;
namespace spf = deliverd::auth_checks::spf;

constexpr char kZone[] = "bench.test";

// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`, public
// part as DER, base64; generated once (the private key was thrown away).
constexpr char kDkimKey[] =
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6ouSc3N2E4c10YnyWsouTekL+/8z"
    "P/G13+RuE9QlJn/Y4uLdYHUivkVTWN9JoKy6kMJfZw4Tcn76A6/QtLUBOH/a5lZTCYY/0wPo"
    "sikztHddWtZ5tJva/mMs3If8OnkvWj6lOcues4/vo9aH01jTLVSsB2bzGvVWlKVpUot/N+Hv"
    "WixwR0uNiy8Oq70rwBauuCYB7urmgnZaXSB+/0MsMvS6nFKO5lalFs92QxMWP6rFkSZTYH3d"
    "0dHr0L2YNYmTiMVDqPzZVzDM26g3tMggD9swbc/IRcv4j4mqZ6j3jbjUmSosYpiJbJdwty1V"
    "7MD6GdOZ0jGQxeAYEljanBhWawIDAQAB";

struct Flags {
  int domains = 2000;
  int dns_port = 53;
  std::vector<int> threads = {1, 2, 8};
  std::string pyspf_script = DELIVERD_BENCH_PYSPF_SCRIPT;
  std::string python = "/usr/bin/python3";
  std::string spfquery = "/usr/bin/spfquery";
  bool skip_pyspf = false;
  bool skip_libspf2 = false;
  int rounds = 3;
  bool keep = false;
};

struct BenchQuery {
  std::string ip;
  std::string sender;
  std::string helo;
  std::string kind;  // What the passing address is meant to match, or "fail".
};

// ---- Zone and queries -------------------------------------------------------

// A TXT value as zone-file character-strings of at most 255 bytes each.
std::string TxtStrings(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); i += 255) {
    if (!out.empty()) out += ' ';
    out += '"' + text.substr(i, 255) + '"';
  }
  return out;
}

std::string DomainName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "d%04d", i);
  return buf;
}

// Builds the zone text and the queries. Domain i uses 10.K.(i/256).(i%256)
// for its addresses, K saying which term lists it:
//   1 the domain's A, 2 its MX host's A, 3 host.<d> (a: in _inner),
//   4 the top record's ip4, 5 _spf's ip4, 6 exists (_spf), 7 _inner's ip4,
//   8 _shared's ip4 range (10.8.0.0/16); and 2001:db8:5:<i>::/64 in _spf.
// Record shapes, by i % 4:
//   0: v=spf1 ip4 include:_spf include:_shared mx a -all [exp= if i%5==0]
//   1: same with ~all
//   2: v=spf1 ip4 mx a include:_shared redirect=_spf   (_spf ends ~all)
//   3: same as 0 with ?all
void BuildCorpus(int domains, std::string* zone,
                 std::vector<BenchQuery>* queries) {
  std::ostringstream z;
  z << "$ORIGIN " << kZone << ".\n$TTL 3600\n"
    << "@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300\n"
    << "@ NS ns\nns A 127.0.0.1\n"
    << "_shared TXT \"v=spf1 ip4:10.8.0.0/16 include:_shared2.bench.test "
       "-all\"\n"
    << "_shared2 TXT \"v=spf1 ip6:2001:db8:8::/48 -all\"\n"
    << "_exp TXT \"%{i} is not one of %{d}'s designated mail servers\"\n";
  const char* kKinds[] = {"top-ip4", "spf-ip4",    "inner-ip4",
                          "inner-a", "exists",     "mx",
                          "a",       "shared-ip4", "spf-ip6"};
  const char* kPassPrefix[] = {"10.4", "10.5", "10.7", "10.3", "10.6",
                               "10.2", "10.1", "10.8", ""};
  for (int i = 1; i <= domains; ++i) {
    const std::string d = DomainName(i);
    const std::string fq = absl::StrCat(d, ".", kZone);
    const std::string ab = absl::StrCat(i / 256, ".", i % 256);
    const std::string hex = absl::StrCat(absl::Hex(i));
    const std::string v6 = absl::StrCat("2001:db8:5:", hex);
    const int shape = i % 4;
    std::string top = absl::StrCat("v=spf1 ip4:10.4.", ab);
    if (shape == 2) {
      absl::StrAppend(&top, " mx a include:_shared.bench.test redirect=_spf.",
                      fq);
    } else {
      const char* all = "-all";
      if (shape == 1) all = "~all";
      if (shape == 3) all = "?all";
      absl::StrAppend(&top, " include:_spf.", fq,
                      " include:_shared.bench.test mx a ", all);
      if (shape == 0 && i % 5 == 0) absl::StrAppend(&top, " exp=_exp.", kZone);
    }
    z << d << " TXT " << TxtStrings(top) << "\n"
      << d << " A 10.1." << ab << "\n"
      << d << " AAAA 2001:db8:1:" << hex << "::1\n"
      << d << " MX 10 mail." << d << "\n"
      << "mail." << d << " A 10.2." << ab << "\n"
      << "mail." << d << " AAAA 2001:db8:2:" << hex << "::1\n"
      << "host." << d << " A 10.3." << ab << "\n"
      << "host." << d << " AAAA 2001:db8:3:" << hex << "::1\n"
      << "_spf." << d << " TXT \"v=spf1 ip4:10.5." << ab << " ip6:" << v6
      << "::/64 include:_inner." << fq << " exists:%{i}._e." << fq
      << " ~all\"\n"
      << "_inner." << d << " TXT \"v=spf1 ip4:10.7." << ab << " a:host." << fq
      << " -all\"\n"
      << "10.6." << ab << "._e." << d << " A 127.0.0.2\n"
      << "_dmarc." << d << " TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@" << fq
      << "; adkim=s; aspf=r\"\n"
      << "s1._domainkey." << d << " TXT "
      << TxtStrings(absl::StrCat("v=DKIM1; k=rsa; p=", kDkimKey)) << "\n";

    const int kind = (i / 4) % 9;
    const std::string sender = absl::StrCat("user@", fq);
    const std::string helo = absl::StrCat("mail.", fq);
    std::string pass_ip = kind == 8 ? absl::StrCat(v6, "::25")
                                    : absl::StrCat(kPassPrefix[kind], ".", ab);
    std::string fail_ip = kind == 8 ? absl::StrCat("2001:db8:ffff::", i)
                                    : absl::StrCat("192.0.2.", i % 250 + 1);
    queries->push_back({pass_ip, sender, helo, kKinds[kind]});
    queries->push_back({fail_ip, sender, helo, "fail"});
  }
  *zone = z.str();
}

// ---- knotd ------------------------------------------------------------------


// User + system CPU seconds of a process (all its threads).
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(text.substr(paren + 2), ' ');
  // After "pid (comm) ": state is field 3, utime 14, stime 15.
  if (fields.size() < 13) return 0;
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Queries knotd has answered so far (UDP and TCP, from its mod-stats
// counters, read with knotc); -1 if knotc fails.
long KnotQueries(const std::string& knot_dir) {
  const std::string command = absl::StrCat(
      "knotc -c ", knot_dir, "/knot.conf stats mod-stats.request-protocol");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  long total = 0;
  char line[256];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    const char* eq = std::strstr(line, "= ");
    if (eq != nullptr) total += std::atol(eq + 2);
  }
  return pclose(pipe) == 0 ? total : -1;
}

// User + system CPU seconds, and voluntary context switches (a thread
// blocking: on a socket, a pipe, a condition variable), of this process and
// of its waited-for children.
struct Usage {
  double cpu = 0;
  long switches = 0;
};
Usage OwnUsage() {
  Usage total;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    getrusage(who, &usage);
    total.cpu += usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                 usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    total.switches += usage.ru_nvcsw;
  }
  return total;
}

// ---- Evaluators -------------------------------------------------------------

struct Run {
  std::string name;
  std::vector<std::string> results;  // One per query; empty if not run.
  double seconds = 0;
  double knot_cpu = 0;
  double client_cpu = 0;     // CPU of the evaluator (process or threads).
  long client_switches = 0;  // Its voluntary context switches.
  long dns_queries = -1;     // Queries knotd answered during the run.
  double dns_lookups_avg = 0;
  std::string note;
};

Run RunOurs(const std::vector<BenchQuery>& queries, int port, int threads,
            bool cache) {
  Run run;
  run.name = absl::StrCat(cache ? "deliverd+cache" : "deliverd", " ", threads,
                          threads == 1 ? " thread" : " threads");
  CaresOptions options;
  options.server = absl::StrCat("127.0.0.1:", port);
  auto cares = CaresResolver::Create(options);
  if (!cares.ok()) {
    run.note = std::string(cares.status().message());
    return run;
  }
  std::unique_ptr<CachingResolver> caching;
  Resolver* resolver = cares->get();
  if (cache) {
    caching = std::make_unique<CachingResolver>(resolver);
    resolver = caching.get();
  }
  spf::SpfEvaluator evaluator(*resolver);
  run.results.assign(queries.size(), "");
  std::vector<int> lookups(queries.size(), 0);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < queries.size(); i = next++) {
      const BenchQuery& q = queries[i];
      spf::SpfCheckResult r = evaluator.CheckMailFrom(q.ip, q.sender, q.helo);
      run.results[i] = std::string(spf::SpfResultName(r.result));
      lookups[i] = r.dns_lookups;
    }
  };
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  run.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  double total = 0;
  for (int n : lookups) total += n;
  run.dns_lookups_avg = total / static_cast<double>(queries.size());
  return run;
}

// Runs argv with stdout to `out_path`; returns the exit status or -1. Sets
// *seconds to the wall time from fork to exit.
int RunProcess(const std::vector<std::string>& argv,
               const std::string& out_path, double* seconds) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(out_path.c_str(), "w", stdout)) _exit(126);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  *seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

Run RunPyspf(const Flags& flags, const std::string& dir, int port,
             size_t count) {
  Run run;
  run.name = "pyspf (1 process)";
  const std::string results = dir + "/pyspf.results";
  const std::string out = dir + "/pyspf.out";
  double wall = 0;
  int rc = RunProcess({flags.python, flags.pyspf_script, "127.0.0.1",
                       std::to_string(port), dir + "/queries.txt", results},
                      out, &wall);
  std::vector<std::string> printed = ReadLines(out);
  if (rc != 0 || printed.empty()) {
    run.note = absl::StrCat("pyspf failed (exit ", rc, "), see ", out);
    return run;
  }
  run.seconds = std::stod(printed.back());
  run.results = ReadLines(results);
  run.note = absl::StrCat("process wall time ", wall, " s");
  if (run.results.size() != count) {
    run.note = absl::StrCat("pyspf gave ", run.results.size(), " results");
  }
  return run;
}

// True if /etc/resolv.conf's first nameserver is 127.0.0.1.
bool ResolvConfIsLocal() {
  for (const std::string& line : ReadLines("/etc/resolv.conf")) {
    std::vector<std::string> words =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (words.size() >= 2 && words[0] == "nameserver") {
      return words[1] == "127.0.0.1";
    }
  }
  return false;
}

Run RunLibspf2(const Flags& flags, const std::string& dir, size_t count) {
  Run run;
  run.name = "libspf2 (spfquery -file)";
  const std::string out = dir + "/spfquery.out";
  int rc = RunProcess({flags.spfquery, "-file", dir + "/queries.txt"}, out,
                      &run.seconds);
  // Four lines per query; the last is "Received-SPF: <result> (...)".
  for (const std::string& line : ReadLines(out)) {
    constexpr char kPrefix[] = "Received-SPF: ";
    if (line.rfind(kPrefix, 0) != 0) continue;
    std::string rest = line.substr(sizeof(kPrefix) - 1);
    run.results.push_back(rest.substr(0, rest.find(' ')));
  }
  run.note =
      absl::StrCat("exit ", rc, " (spfquery exits with the last result)");
  if (run.results.size() != count) {
    run.note = absl::StrCat("spfquery gave ", run.results.size(),
                            " results, see ", out);
    run.results.clear();
  }
  return run;
}

std::vector<int> ParseThreads(const std::string& text) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    out.push_back(std::stoi(std::string(part)));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--domains") {
      flags.domains = std::stoi(value());
    } else if (arg == "--dns-port") {
      flags.dns_port = std::stoi(value());
    } else if (arg == "--rounds") {
      flags.rounds = std::max(1, std::stoi(value()));
    } else if (arg == "--threads") {
      flags.threads = ParseThreads(value());
    } else if (arg == "--pyspf-script") {
      flags.pyspf_script = value();
    } else if (arg == "--python") {
      flags.python = value();
    } else if (arg == "--spfquery") {
      flags.spfquery = value();
    } else if (arg == "--skip-pyspf") {
      flags.skip_pyspf = true;
    } else if (arg == "--skip-libspf2") {
      flags.skip_libspf2 = true;
    } else if (arg == "--keep") {
      flags.keep = true;
    } else {
      std::cerr << "usage: spf_bench [--domains N] [--dns-port P] "
                   "[--threads 1,2,8] [--rounds 3] [--pyspf-script PATH] "
                   "[--python PATH] [--spfquery PATH] [--skip-pyspf] "
                   "[--skip-libspf2] [--keep]\n";
      return 2;
    }
  }
  if (access(kKnotd, X_OK) != 0) {
    std::cerr << "knotd is not installed (scripts/install-deps.sh)\n";
    return 1;
  }
  if (!flags.skip_libspf2 && flags.dns_port != 53) {
    std::cerr << "libspf2 skipped: it can only reach a server on port 53\n";
    flags.skip_libspf2 = true;
  }
  if (!flags.skip_libspf2 && !ResolvConfIsLocal()) {
    std::cerr << "libspf2 skipped: /etc/resolv.conf does not name 127.0.0.1 "
                 "first (run through bench/spf_bench.sh)\n";
    flags.skip_libspf2 = true;
  }

  std::string zone;
  std::vector<BenchQuery> queries;
  BuildCorpus(flags.domains, &zone, &queries);
  char tmpl[] = "/tmp/deliverd-spf-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    std::ofstream q(dir + "/queries.txt");
    for (const BenchQuery& query : queries) {
      q << query.ip << " " << query.sender << " " << query.helo << "\n";
    }
  }
  pid_t knot = StartKnot(dir + "/knot", flags.dns_port, "bench.test", zone, /*query_stats=*/true);
  if (knot < 0) return 1;
  std::cout << "spf_bench: " << flags.domains << " domains, " << queries.size()
            << " evaluations per run, knotd on 127.0.0.1:" << flags.dns_port
            << ", files in " << dir << "\n";

  std::vector<Run> runs;  // Every run of every round, in order.
  auto timed = [&](auto fn) {
    double knot_before = CpuSeconds(knot);
    Usage own_before = OwnUsage();
    long queries_before = KnotQueries(dir + "/knot");
    Run run = fn();
    run.knot_cpu = CpuSeconds(knot) - knot_before;
    Usage own_after = OwnUsage();
    run.client_cpu = own_after.cpu - own_before.cpu;
    run.client_switches = own_after.switches - own_before.switches;
    long queries_after = KnotQueries(dir + "/knot");
    if (queries_before >= 0 && queries_after >= 0) {
      run.dns_queries = queries_after - queries_before;
    }
    std::cout << "  " << run.name << ": " << run.seconds << " s"
              << (run.note.empty() ? "" : "  [" + run.note + "]") << "\n"
              << std::flush;
    runs.push_back(std::move(run));
  };
  // One untimed pass first, so that no run pays for first-touch costs
  // (knotd's and this process's page faults, thread start-up).
  RunOurs(queries, flags.dns_port, 1, false);
  // Rounds interleave the evaluators, so a burst of other work on the
  // machine hits one round of each rather than all rounds of one.
  for (int round = 1; round <= flags.rounds; ++round) {
    std::cout << "round " << round << ":\n";
    for (bool cache : {false, true}) {
      for (int t : flags.threads) {
        if (cache && t != flags.threads.front() && t != flags.threads.back()) {
          continue;  // Cached: only the smallest and largest thread counts.
        }
        timed([&] { return RunOurs(queries, flags.dns_port, t, cache); });
      }
    }
    if (!flags.skip_pyspf) {
      timed(
          [&] { return RunPyspf(flags, dir, flags.dns_port, queries.size()); });
    }
    if (!flags.skip_libspf2) {
      timed([&] { return RunLibspf2(flags, dir, queries.size()); });
    }
  }

  // CheckDomain reports (SPF lints and probe walk, DKIM s1, DMARC, MX) for
  // every domain, uncached, on 8 threads: the rate a CI gate or the send
  // gate sees on a cold cache.
  std::vector<std::string> domains;
  for (const BenchQuery& q : queries) {
    std::string d = q.sender.substr(q.sender.rfind('@') + 1);
    if (domains.empty() || domains.back() != d) domains.push_back(d);
  }
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  for (int round = 1; round <= flags.rounds; ++round) {
    CaresOptions options;
    options.server = absl::StrCat("127.0.0.1:", flags.dns_port);
    auto cares = CaresResolver::Create(options);
    if (!cares.ok()) break;
    std::map<std::string, int> verdicts;
    std::mutex verdicts_mu;
    std::atomic<size_t> next{0};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < 8; ++t) {
      pool.emplace_back([&] {
        for (size_t i = next++; i < domains.size(); i = next++) {
          DomainCheckOptions check;
          check.dkim_selectors = {"s1"};
          DomainReport report = CheckDomain(**cares, domains[i], check);
          std::lock_guard<std::mutex> lock(verdicts_mu);
          ++verdicts[std::string(DomainVerdictName(report.verdict))];
        }
      });
    }
    for (std::thread& t : pool) t.join();
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    std::cout << "CheckDomain round " << round << ": " << domains.size()
              << " reports in " << seconds << " s = "
              << static_cast<double>(domains.size()) / seconds
              << " reports/s (8 threads, no cache); verdicts:";
    for (const auto& [name, count] : verdicts) {
      std::cout << " " << name << "=" << count;
    }
    std::cout << "\n";
  }

  kill(knot, SIGTERM);
  int status = 0;
  waitpid(knot, &status, 0);

  // Results: every run against ours, single thread, no cache, first round.
  const Run& reference = runs.front();
  std::map<std::string, int> distribution;
  for (const std::string& r : reference.results) ++distribution[r];
  std::cout << "\nresults of " << reference.name << ":";
  for (const auto& [name, n] : distribution) {
    std::cout << " " << name << "=" << n;
  }
  std::cout << "; DNS-querying terms per evaluation: "
            << reference.dns_lookups_avg << "\n";
  std::vector<std::string> names;  // Evaluators in order of first run.
  std::map<std::string, std::vector<const Run*>> by_name;
  std::map<std::string, int> mismatches;
  int total_mismatches = 0;
  for (const Run& run : runs) {
    if (by_name[run.name].empty()) names.push_back(run.name);
    by_name[run.name].push_back(&run);
    if (run.results.empty()) continue;
    for (size_t i = 0; i < queries.size(); ++i) {
      if (run.results[i] == reference.results[i]) continue;
      ++total_mismatches;
      if (++mismatches[run.name] <= 10) {
        std::cout << "  MISMATCH " << run.name << ": " << queries[i].ip << " "
                  << queries[i].sender << " (" << queries[i].kind
                  << "): deliverd=" << reference.results[i] << " " << run.name
                  << "=" << run.results[i] << "\n";
      }
    }
  }
  for (const std::string& name : names) {
    int completed = 0;
    for (const Run* run : by_name[name]) completed += !run->results.empty();
    std::cout << "mismatches " << name << " vs " << reference.name << ": "
              << mismatches[name] << " in " << completed << " x "
              << queries.size() << " evaluations\n";
  }

  // Per evaluator: the median over rounds (and the range of the seconds).
  struct Row {
    std::string name;
    double seconds = 0, min_seconds = 0, max_seconds = 0;
    double cpu = 0, switches = 0, knot_cpu = 0, dns_queries = 0;
    std::string note;
  };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    if (v.empty()) return 0.0;
    size_t mid = v.size() / 2;
    return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  };
  std::vector<Row> rows;
  double pyspf_rate = 0, libspf2_rate = 0;
  for (const std::string& name : names) {
    Row row;
    row.name = name;
    std::vector<double> seconds, cpu, switches, knot_cpu, dns;
    for (const Run* run : by_name[name]) {
      if (run->results.empty() || run->seconds <= 0) {
        row.note = run->note;
        continue;
      }
      seconds.push_back(run->seconds);
      cpu.push_back(run->client_cpu);
      switches.push_back(static_cast<double>(run->client_switches));
      knot_cpu.push_back(run->knot_cpu);
      dns.push_back(static_cast<double>(run->dns_queries));
    }
    if (!seconds.empty()) {
      row.seconds = median(seconds);
      row.min_seconds = *std::min_element(seconds.begin(), seconds.end());
      row.max_seconds = *std::max_element(seconds.begin(), seconds.end());
      row.cpu = median(cpu);
      row.switches = median(switches);
      row.knot_cpu = median(knot_cpu);
      row.dns_queries = median(dns);
      double rate = static_cast<double>(queries.size()) / row.seconds;
      if (name.rfind("pyspf", 0) == 0) pyspf_rate = rate;
      if (name.rfind("libspf2", 0) == 0) libspf2_rate = rate;
    }
    rows.push_back(row);
  }
  const double n = static_cast<double>(queries.size());
  std::cout << "\nMedian of " << flags.rounds << " round(s); seconds range "
            << "in brackets.\n\n"
            << "| evaluator | evaluations | seconds | evaluations/s | "
               "x pyspf | x libspf2 | DNS queries/eval | CPU ms/eval | "
               "switches/eval | knotd CPU s |\n"
            << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
               "---: | ---: |\n";
  for (const Row& row : rows) {
    if (row.seconds <= 0) {
      std::cout << "| " << row.name << " | not run: " << row.note
                << " | | | | | | | | |\n";
      continue;
    }
    double rate = n / row.seconds;
    char line[320];
    std::snprintf(
        line, sizeof(line),
        "| %s | %zu | %.2f [%.2f-%.2f] | %.0f | %.2f | %.2f | %.2f "
        "| %.3f | %.1f | %.2f |\n",
        row.name.c_str(), queries.size(), row.seconds, row.min_seconds,
        row.max_seconds, rate, pyspf_rate > 0 ? rate / pyspf_rate : 0.0,
        libspf2_rate > 0 ? rate / libspf2_rate : 0.0, row.dns_queries / n,
        row.cpu * 1000 / n, row.switches / n, row.knot_cpu);
    std::cout << line;
  }
  std::cout
      << "(x pyspf / x libspf2 are 0.00 when that evaluator did not run)\n"
      << "identical results: " << (total_mismatches == 0 ? "yes" : "NO")
      << "\n";
  if (!flags.keep) std::filesystem::remove_all(dir);
  return total_mismatches == 0 ? 0 : 3;
}
