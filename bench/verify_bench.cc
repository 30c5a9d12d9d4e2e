// Address verification throughput and accuracy (issue 5): deliverd's offline
// verifier (hygiene/offline_verdict.h, what `deliverctl verify --offline`
// runs), and VerifyWithDns (hygiene/verifier.h) against a local knotd.
// bench/verify_compare.sh runs it beside python3-email-validator and the npm
// packages validator and email-validator (bench/verify_python.py,
// bench/verify_node.js) on the same list; see BENCHMARKS.md.
//
// Modes:
//   verify_bench [--threads N] [--rounds R] LIST
//       LIST holds one address per line (split on "\n" only, so a CR inside
//       or at the end of a line is part of the address). All lines are read
//       into memory first; only the VerifyOffline loop is timed. Prints
//       addresses/s and the count of valid and invalid addresses. "valid"
//       means "can be sent to" offline: the verdict is not undeliverable
//       (a syntax error or a special-use domain such as .test is invalid;
//       risky and unknown are valid). The best of R rounds is reported.
//   verify_bench --accuracy CASES
//       CASES holds "expected<TAB>address[<TAB>note]" lines, expected being
//       valid or invalid; see bench/verify_cases.tsv for the escapes (<CR>,
//       <LF>, <TAB>, <NUL>, <c*N>). Prints agreement and every disagreement.
//   verify_bench --dns [--domains 10000] [--addresses 100000]
//                [--dns-port 15353] [--rounds 3] [--chunk N]
//       Generates a zone (vbench.net) of --domains mail domains: most with MX,
//       some null MX (RFC 7505), some with only A (implicit MX), some with no
//       mail host, some absent (NXDOMAIN); starts knotd on
//       127.0.0.1:--dns-port; then times VerifyWithDns over --addresses
//       addresses spread evenly over the domains, each round with a fresh
//       CaresResolver (no cache). --chunk N verifies the list in chunks of N
//       with one MailRouteCache, as the list cleaner does (0 = the whole list
//       in one call). Prints addresses/s and the verdict counts.
//
// Output lines starting with "RESULT " are machine-readable (the driver
// collects them): RESULT name=... n=... seconds=... rate=... valid=...
// invalid=...
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
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

#include "bench/bench_knot.h"
#include "auth_checks/dns/cares_resolver.h"
#include "hygiene/offline_verdict.h"
#include "hygiene/verifier.h"

namespace {

using ::deliverd::bench::kKnotd;
using ::deliverd::bench::StartKnot;

using deliverd::hygiene::AddressVerdict;
using deliverd::hygiene::MailRouteCache;
using deliverd::hygiene::Verdict;
using deliverd::hygiene::VerdictName;
using deliverd::hygiene::VerifyOffline;
using deliverd::hygiene::VerifyWithDns;
using Clock = std::chrono::steady_clock;

constexpr char kZone[] = "vbench.net";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.emplace_back(text, start, nl - start);
    start = nl + 1;
  }
  return lines;
}

// Offline "can be sent to": everything but undeliverable.
bool SendableOffline(const AddressVerdict& v) {
  return v.verdict != Verdict::kUndeliverable;
}

int RunOffline(const std::string& path, int threads, int rounds) {
  std::string text;
  if (!ReadFile(path, &text)) {
    std::cerr << "cannot read " << path << "\n";
    return 1;
  }
  std::vector<std::string> addresses = SplitLines(text);
  text.clear();
  const size_t n = addresses.size();
  double best = 1e300;
  size_t valid = 0;
  std::map<std::string, size_t> reasons;
  for (int round = 0; round < rounds; ++round) {
    std::vector<unsigned char> ok(n, 0);
    auto start = Clock::now();
    if (threads <= 1) {
      for (size_t i = 0; i < n; ++i) {
        ok[i] = SendableOffline(VerifyOffline(addresses[i]));
      }
    } else {
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          for (size_t i = t; i < n; i += threads) {
            ok[i] = SendableOffline(VerifyOffline(addresses[i]));
          }
        });
      }
      for (std::thread& th : pool) th.join();
    }
    double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    best = std::min(best, seconds);
    valid = std::count(ok.begin(), ok.end(), 1);
  }
  // Untimed: the verdict reasons, for the record.
  for (const std::string& a : addresses) reasons[VerifyOffline(a).reason]++;
  std::string name = threads <= 1 ? "deliverd"
                                  : "deliverd-" + std::to_string(threads) + "t";
  std::printf(
      "RESULT name=%s n=%zu seconds=%.3f rate=%.0f valid=%zu invalid=%zu\n",
      name.c_str(), n, best, n / best, valid, n - valid);
  std::printf("deliverd reasons:");
  for (const auto& [reason, count] : reasons) {
    std::printf(" %s=%zu", reason.c_str(), count);
  }
  std::printf("\n");
  return 0;
}

// The escapes of bench/verify_cases.tsv: <CR> <LF> <TAB> <NUL> and <c*N>
// (the single character c, one UTF-8 sequence, repeated N times).
std::string Unescape(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '<') {
      bool done = false;
      for (const auto& [token, c] :
           {std::pair<const char*, char>{"<CR>", '\r'}, {"<LF>", '\n'},
            {"<TAB>", '\t'}, {"<NUL>", '\0'}}) {
        if (s.compare(i, std::strlen(token), token) == 0) {
          out += c;
          i += std::strlen(token);
          done = true;
          break;
        }
      }
      if (done) continue;
      // <c*N>: c is one UTF-8 sequence (its lead byte gives the length).
      unsigned char lead = i + 1 < s.size() ? s[i + 1] : 0;
      size_t len = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
      size_t star = i + 1 + len;
      if (star < s.size() && s[star] == '*') {
        size_t end = star + 1;
        while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end])))
          ++end;
        if (end > star + 1 && end < s.size() && s[end] == '>') {
          std::string c = s.substr(i + 1, len);
          for (unsigned long k = std::stoul(s.substr(star + 1, end - star - 1));
               k > 0; --k) {
            out += c;
          }
          i = end + 1;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return out;
}

int RunAccuracy(const std::string& path) {
  std::string text;
  if (!ReadFile(path, &text)) {
    std::cerr << "cannot read " << path << "\n";
    return 1;
  }
  size_t total = 0, agree = 0, strict_total = 0, strict_agree = 0;
  for (const std::string& line : SplitLines(text)) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string expected = line.substr(0, tab);
    size_t tab2 = line.find('\t', tab + 1);
    std::string raw = line.substr(
        tab + 1, tab2 == std::string::npos ? std::string::npos : tab2 - tab - 1);
    std::string note =
        tab2 == std::string::npos ? "" : line.substr(tab2 + 1);
    bool either = note.rfind("either", 0) == 0;
    AddressVerdict v = VerifyOffline(Unescape(raw));
    std::string got = SendableOffline(v) ? "valid" : "invalid";
    ++total;
    if (!either) ++strict_total;
    if (got == expected) {
      ++agree;
      if (!either) ++strict_agree;
    } else {
      std::printf("MISMATCH deliverd expected=%s got=%s (%s) %s%s\n",
                  expected.c_str(), got.c_str(), v.reason.c_str(),
                  raw.c_str(), either ? "  [either]" : "");
    }
  }
  std::printf("ACCURACY name=deliverd agree=%zu total=%zu strict_agree=%zu "
              "strict_total=%zu\n",
              agree, total, strict_agree, strict_total);
  return 0;
}

// ---- DNS mode ---------------------------------------------------------------

// What a generated domain publishes; index i gets kind i % 20.
//   0..15 MX (two hosts), 16 null MX, 17 A only (implicit MX),
//   18 TXT only (no mail host), 19 absent (NXDOMAIN).
std::string DomainName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "d%05d", i);
  return std::string(buf) + "." + kZone;
}

std::string MakeZone(int domains) {
  std::ostringstream z;
  z << "$ORIGIN " << kZone << ".\n$TTL 3600\n"
    << "@ SOA ns.vbench.net. hostmaster.vbench.net. 1 3600 600 86400 300\n"
    << "@ NS ns\nns A 127.0.0.1\n"
    << "mx1 A 192.0.2.1\nmx1 AAAA 2001:db8::1\nmx2 A 192.0.2.2\n";
  for (int i = 0; i < domains; ++i) {
    char label[16];
    std::snprintf(label, sizeof(label), "d%05d", i);
    switch (i % 20) {
      case 16:
        z << label << " MX 0 .\n";
        break;
      case 17:
        z << label << " A 192.0.2." << (i % 250) + 1 << "\n";
        break;
      case 18:
        z << label << " TXT \"no mail here\"\n";
        break;
      case 19:
        break;  // NXDOMAIN
      default:
        z << label << " MX 10 mx1\n" << label << " MX 20 mx2\n";
    }
  }
  return z.str();
}


int RunDns(int domains, int count, int port, int rounds, size_t chunk) {
  if (access(kKnotd, X_OK) != 0) {
    std::cerr << "knotd is not installed (scripts/install-deps.sh)\n";
    return 1;
  }
  char tmpl[] = "/tmp/deliverd-verify-bench.XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  pid_t knot = StartKnot(dir + "/knot", port, "vbench.net", MakeZone(domains));
  if (knot < 0) return 1;

  // Addresses spread evenly over the domains, interleaved so that a chunk
  // holds many domains (as a real list does).
  std::vector<std::string> addresses;
  addresses.reserve(count);
  for (int i = 0; i < count; ++i) {
    addresses.push_back("user" + std::to_string(i) + "@" +
                        DomainName(i % domains));
  }
  std::printf("dns: %d addresses over %d domains, knotd on 127.0.0.1:%d, "
              "chunk %zu, fresh resolver per round\n",
              count, domains, port, chunk);
  double best = 1e300;
  std::map<std::string, size_t> counts;
  for (int round = 0; round < rounds; ++round) {
    deliverd::auth_checks::dns::CaresOptions options;
    options.server = "127.0.0.1:" + std::to_string(port);
    auto resolver =
        deliverd::auth_checks::dns::CaresResolver::Create(options);
    if (!resolver.ok()) {
      std::cerr << "resolver: " << resolver.status() << "\n";
      kill(knot, SIGTERM);
      return 1;
    }
    std::vector<AddressVerdict> verdicts;
    auto start = Clock::now();
    if (chunk == 0) {
      verdicts = VerifyWithDns(**resolver, addresses);
    } else {
      MailRouteCache cache;
      for (size_t i = 0; i < addresses.size(); i += chunk) {
        std::vector<std::string> part(
            addresses.begin() + i,
            addresses.begin() + std::min(addresses.size(), i + chunk));
        std::vector<AddressVerdict> got =
            VerifyWithDns(**resolver, part, &cache);
        for (AddressVerdict& v : got) verdicts.push_back(std::move(v));
      }
    }
    double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("  round %d: %.3f s, %.0f addresses/s\n", round + 1, seconds,
                count / seconds);
    best = std::min(best, seconds);
    counts.clear();
    for (const AddressVerdict& v : verdicts) {
      counts[std::string(VerdictName(v.verdict)) + "/" + v.reason]++;
    }
  }
  size_t deliverable = 0;
  for (const auto& [key, c] : counts) {
    if (key.rfind("deliverable/", 0) == 0) deliverable += c;
  }
  std::printf(
      "RESULT name=deliverd-dns n=%d seconds=%.3f rate=%.0f valid=%zu "
      "invalid=%zu\n",
      count, best, count / best, deliverable, count - deliverable);
  std::printf("dns verdicts:");
  for (const auto& [key, c] : counts) std::printf(" %s=%zu", key.c_str(), c);
  std::printf("\n");
  kill(knot, SIGTERM);
  int status = 0;
  waitpid(knot, &status, 0);
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string list, accuracy;
  bool dns = false;
  int threads = 1, rounds = 3, domains = 10000, count = 100000, port = 15353;
  size_t chunk = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--accuracy") {
      accuracy = value();
    } else if (a == "--threads") {
      threads = std::stoi(value());
    } else if (a == "--rounds") {
      rounds = std::max(1, std::stoi(value()));
    } else if (a == "--dns") {
      dns = true;
    } else if (a == "--domains") {
      domains = std::max(1, std::stoi(value()));
    } else if (a == "--addresses") {
      count = std::max(1, std::stoi(value()));
    } else if (a == "--dns-port") {
      port = std::stoi(value());
    } else if (a == "--chunk") {
      chunk = std::stoul(value());
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "usage: verify_bench [--threads N] [--rounds R] LIST | "
                   "--accuracy CASES | --dns [--domains N] [--addresses N] "
                   "[--dns-port P] [--rounds R] [--chunk N]\n";
      return 2;
    } else {
      list = a;
    }
  }
  if (!accuracy.empty()) return RunAccuracy(accuracy);
  if (dns) return RunDns(domains, count, port, rounds, chunk);
  if (list.empty()) {
    std::cerr << "no address list given\n";
    return 2;
  }
  return RunOffline(list, threads, rounds);
}
