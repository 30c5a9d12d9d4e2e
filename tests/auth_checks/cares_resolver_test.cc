// CaresResolver: reply decoding (TXT joining, TTLs, negative TTLs, outcome
// mapping) on hand-built packets, and the whole resolver against a tiny
// scripted UDP server on 127.0.0.1 (given as HOST:PORT) that answers,
// SERVFAILs, REFUSEs or stays silent. No external DNS server is needed.
#include "auth_checks/dns/cares_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace deliverd::auth_checks::dns {
namespace {

using Bytes = std::vector<unsigned char>;

void Put16(Bytes* b, int v) {
  b->push_back(static_cast<unsigned char>(v >> 8));
  b->push_back(static_cast<unsigned char>(v));
}
void Put32(Bytes* b, uint32_t v) {
  Put16(b, static_cast<int>(v >> 16));
  Put16(b, static_cast<int>(v & 0xffff));
}
void PutName(Bytes* b, const std::string& name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b->push_back(static_cast<unsigned char>(dot - start));
    b->insert(b->end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  b->push_back(0);
}

struct Rr {
  int type;
  uint32_t ttl;
  Bytes rdata;
};

// A reply to (name, qtype) with `rcode`, answers and authority records (all
// owned by the question name, via a compression pointer).
Bytes Reply(int id, const std::string& name, int qtype, int rcode,
            const std::vector<Rr>& answers, const std::vector<Rr>& authority) {
  Bytes b;
  Put16(&b, id);
  Put16(&b, 0x8400 | rcode);  // QR, AA.
  Put16(&b, 1);
  Put16(&b, static_cast<int>(answers.size()));
  Put16(&b, static_cast<int>(authority.size()));
  Put16(&b, 0);
  PutName(&b, name);
  Put16(&b, qtype);
  Put16(&b, 1);
  for (const auto* list : {&answers, &authority}) {
    for (const Rr& rr : *list) {
      Put16(&b, 0xc00c);
      Put16(&b, rr.type);
      Put16(&b, 1);
      Put32(&b, rr.ttl);
      Put16(&b, static_cast<int>(rr.rdata.size()));
      b.insert(b.end(), rr.rdata.begin(), rr.rdata.end());
    }
  }
  return b;
}

Bytes TxtRdata(const std::vector<std::string>& strings) {
  Bytes b;
  for (const std::string& s : strings) {
    b.push_back(static_cast<unsigned char>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
  }
  return b;
}

Rr Soa(uint32_t ttl, uint32_t minimum) {
  Bytes r;
  PutName(&r, "ns.example");
  PutName(&r, "admin.example");
  for (uint32_t v : {1u, 3600u, 600u, 86400u}) Put32(&r, v);
  Put32(&r, minimum);
  return Rr{6, ttl, r};
}

TEST(CaresParseTest, TxtRecordsJoinSplitStrings) {
  Bytes reply = Reply(
      1, "example.com", 16, 0,
      {Rr{16, 300, TxtRdata({"v=spf1 ip4:192.0.2.0/24 ", "include:x.example -all"})},
       Rr{16, 200, TxtRdata({"other"})}},
      {});
  Answer a = ParseReply(ARES_SUCCESS, RrType::kTxt, reply.data(),
                        static_cast<int>(reply.size()));
  ASSERT_EQ(a.outcome, Outcome::kOk);
  ASSERT_EQ(a.records.size(), 2u);
  EXPECT_EQ(a.records[0].data,
            "v=spf1 ip4:192.0.2.0/24 include:x.example -all");
  EXPECT_EQ(a.records[1].data, "other");
  EXPECT_EQ(a.ttl, 200u);
}

TEST(CaresParseTest, MxAndAddressRecords) {
  Bytes mx_rdata;
  Put16(&mx_rdata, 10);
  PutName(&mx_rdata, "mail.example.com");
  Bytes reply = Reply(2, "example.com", 15, 0, {Rr{15, 60, mx_rdata}}, {});
  Answer mx = ParseReply(ARES_SUCCESS, RrType::kMx, reply.data(),
                         static_cast<int>(reply.size()));
  ASSERT_EQ(mx.outcome, Outcome::kOk);
  EXPECT_EQ(mx.records.at(0).data, "mail.example.com");
  EXPECT_EQ(mx.records.at(0).preference, 10);
  EXPECT_EQ(mx.ttl, 60u);

  Bytes v6(16, 0);
  v6[0] = 0x20; v6[1] = 0x01; v6[2] = 0x0d; v6[3] = 0xb8; v6[15] = 1;
  reply = Reply(3, "example.com", 28, 0, {Rr{28, 30, v6}}, {});
  Answer aaaa = ParseReply(ARES_SUCCESS, RrType::kAaaa, reply.data(),
                           static_cast<int>(reply.size()));
  ASSERT_EQ(aaaa.outcome, Outcome::kOk);
  EXPECT_EQ(aaaa.records.at(0).data, "2001:db8::1");
}

TEST(CaresParseTest, NegativeAnswersCarrySoaTtl) {
  Bytes reply = Reply(4, "gone.example.com", 1, 3, {}, {Soa(900, 120)});
  Answer nx = ParseReply(ARES_ENOTFOUND, RrType::kA, reply.data(),
                         static_cast<int>(reply.size()));
  EXPECT_EQ(nx.outcome, Outcome::kNxDomain);
  EXPECT_EQ(nx.ttl, 120u);
  reply = Reply(5, "example.com", 1, 0, {}, {Soa(50, 120)});
  Answer nodata = ParseReply(ARES_ENODATA, RrType::kA, reply.data(),
                             static_cast<int>(reply.size()));
  EXPECT_EQ(nodata.outcome, Outcome::kNoData);
  EXPECT_EQ(nodata.ttl, 50u);
}

TEST(CaresParseTest, StatusMapping) {
  EXPECT_EQ(ParseReply(ARES_ESERVFAIL, RrType::kA, nullptr, 0).outcome,
            Outcome::kServFail);
  EXPECT_EQ(ParseReply(ARES_EREFUSED, RrType::kA, nullptr, 0).outcome,
            Outcome::kRefused);
  EXPECT_EQ(ParseReply(ARES_ETIMEOUT, RrType::kA, nullptr, 0).outcome,
            Outcome::kTimeout);
  EXPECT_EQ(ParseReply(ARES_EBADRESP, RrType::kA, nullptr, 0).outcome,
            Outcome::kMalformed);
  Bytes truncated = Reply(6, "example.com", 1, 0, {Rr{1, 5, Bytes{1, 2}}}, {});
  EXPECT_EQ(ParseReply(ARES_SUCCESS, RrType::kA, truncated.data(),
                       static_cast<int>(truncated.size()))
                .outcome,
            Outcome::kMalformed);
}

// A UDP "server" on 127.0.0.1 scripted by query name's first label.
class ScriptedServer {
 public:
  // `receive_buffer` > 0 shrinks the socket's buffer (SO_RCVBUF).
  explicit ScriptedServer(int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    if (receive_buffer > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                 sizeof(receive_buffer));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(port_);
  }
  int queries() const { return queries_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      unsigned char buffer[512];
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      ssize_t n = recvfrom(fd_, buffer, sizeof(buffer), 0,
                           reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 17) continue;
      ++queries_;
      int id = (buffer[0] << 8) | buffer[1];
      std::string name;
      size_t pos = 12;
      while (pos < static_cast<size_t>(n) && buffer[pos] != 0) {
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<char*>(buffer + pos + 1), buffer[pos]);
        pos += buffer[pos] + 1;
      }
      int qtype = (buffer[pos + 1] << 8) | buffer[pos + 2];
      std::string label = name.substr(0, name.find('.'));
      Bytes reply;
      if (label == "silent") continue;
      if (label == "servfail") {
        reply = Reply(id, name, qtype, 2, {}, {});
      } else if (label == "refused") {
        reply = Reply(id, name, qtype, 5, {}, {});
      } else if (label == "nx") {
        reply = Reply(id, name, qtype, 3, {}, {Soa(60, 30)});
      } else if (qtype == 1) {
        reply = Reply(id, name, qtype, 0, {Rr{1, 77, Bytes{192, 0, 2, 1}}}, {});
      } else {
        reply = Reply(id, name, qtype, 0, {}, {Soa(60, 30)});
      }
      sendto(fd_, reply.data(), reply.size(), 0,
             reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

std::unique_ptr<CaresResolver> Make(const std::string& server) {
  CaresOptions options;
  options.server = server;
  options.timeout_ms = 200;
  options.tries = 1;
  auto resolver = CaresResolver::Create(options);
  EXPECT_TRUE(resolver.ok()) << resolver.status();
  return resolver.ok() ? *std::move(resolver) : nullptr;
}

TEST(CaresResolverTest, OutcomesFromAServerAtHostPort) {
  ScriptedServer server;
  auto resolver = Make(server.address());
  ASSERT_NE(resolver, nullptr);
  Answer ok = resolver->Lookup("host.test.example", RrType::kA);
  ASSERT_EQ(ok.outcome, Outcome::kOk) << ok.detail;
  EXPECT_EQ(ok.records.at(0).data, "192.0.2.1");
  EXPECT_EQ(ok.ttl, 77u);
  EXPECT_EQ(resolver->Lookup("host.test.example", RrType::kMx).outcome,
            Outcome::kNoData);
  Answer nx = resolver->Lookup("nx.test.example", RrType::kA);
  EXPECT_EQ(nx.outcome, Outcome::kNxDomain);
  EXPECT_EQ(nx.ttl, 30u);
  EXPECT_EQ(resolver->Lookup("servfail.test.example", RrType::kTxt).outcome,
            Outcome::kServFail);
  EXPECT_EQ(resolver->Lookup("refused.test.example", RrType::kTxt).outcome,
            Outcome::kRefused);
}

TEST(CaresResolverTest, SilentServerTimesOutInBoundedTime) {
  ScriptedServer server;
  auto resolver = Make(server.address());
  ASSERT_NE(resolver, nullptr);
  auto start = std::chrono::steady_clock::now();
  Answer a = resolver->Lookup("silent.test.example", RrType::kTxt);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(a.outcome, Outcome::kTimeout);
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(CaresResolverTest, ManyLookupsInFlightFromManyThreads) {
  ScriptedServer server;
  auto resolver = Make(server.address());
  ASSERT_NE(resolver, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Query> queries;
      for (int i = 0; i < 25; ++i) {
        queries.push_back(Query{"h" + std::to_string(t * 100 + i) + ".example",
                                RrType::kA});
      }
      for (const Answer& a : resolver->LookupAll(queries)) {
        if (a.outcome == Outcome::kOk) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST(CaresResolverTest, ThousandsOfLookupsAtOnceAllAnswered) {
  // One LookupAll for a list's distinct domains: issued all at once they
  // overflowed the server's receive buffer and came back as timeouts.
  ScriptedServer server(/*receive_buffer=*/64 * 1024);
  auto resolver = Make(server.address());
  ASSERT_NE(resolver, nullptr);
  std::vector<Query> queries;
  for (int i = 0; i < 3000; ++i) {
    queries.push_back(Query{"h" + std::to_string(i) + ".example", RrType::kA});
  }
  int ok = 0;
  for (const Answer& a : resolver->LookupAll(queries)) {
    if (a.outcome == Outcome::kOk) ++ok;
  }
  EXPECT_EQ(ok, 3000);
}

TEST(CaresResolverTest, CallbackMayStartAnotherLookup) {
  ScriptedServer server;
  auto resolver = Make(server.address());
  ASSERT_NE(resolver, nullptr);
  Answer second;
  std::atomic<bool> done{false};
  resolver->LookupAsync("first.example", RrType::kA, [&](Answer) {
    resolver->LookupAsync("second.example", RrType::kA, [&](Answer a) {
      second = std::move(a);
      done = true;
    });
  });
  for (int i = 0; i < 200 && !done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(second.outcome, Outcome::kOk);
}

TEST(CaresResolverTest, DestroyCompletesPendingLookups) {
  ScriptedServer server;
  auto resolver = Make(server.address());
  ASSERT_NE(resolver, nullptr);
  std::atomic<int> calls{0};
  Outcome outcome = Outcome::kOk;
  resolver->LookupAsync("silent.example", RrType::kA, [&](Answer a) {
    outcome = a.outcome;
    ++calls;
  });
  resolver.reset();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(outcome, Outcome::kError);
}

TEST(CaresResolverTest, BadServerStringIsAnError) {
  CaresOptions options;
  options.server = "not an address";
  EXPECT_FALSE(CaresResolver::Create(options).ok());
}

}  // namespace
}  // namespace deliverd::auth_checks::dns
