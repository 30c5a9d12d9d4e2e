// CheckDomain and `deliverctl check-domain` against a real authoritative
// DNS server (knotd with a zone written here): a clean domain, a subdomain
// that inherits DMARC and lacks SPF, "+all", a revoked DKIM key, a name
// whose server fails, a server that never answers, over gRPC, through
// deliverctl and in-process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"
#include "testing_knot.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kZone[] = R"(
$ORIGIN sender.net.
$TTL 300
@ SOA ns.sender.net. hostmaster.sender.net. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
@ MX 10 mx.sender.net.
mx A 192.0.2.25
@ TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.sender.net mx -all"
_spf TXT "v=spf1 ip6:2001:db8::/32 ~all"
s1._domainkey TXT "v=DKIM1; k=rsa; p=" "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2lbbq1CrP2zmz1MyHcJ6e/uI+kBkoY19ya5VJTmJqw/dMxUoBYdoUsySRJXXi3n/LI5afnXgVGFFVnwWDwsEK0hQqhnx+j2Phl/KbvuMMXtaiTT628Z7UGTHOOMbon7gcboEYzqpypVmbPyHtucVRrVDgVQ+" "+xvic5b47bYJC4Sww9HFidKVOCfY6v/Nr4hkKVEemeSOqptgz2a8FBffvHSm+DNl5NqmPrmjQqDeHRry59G1Kmq7DyKRAz4UES/aSg8nOmsm2BO8fhDVHseuo6iaE1AUE4hQ5/LQoV60EMIBhxIhyB5ySO+N9SuW6drnA9+/Rf+vMD+Dkijelb/cswIDAQAB"
s2._domainkey TXT "v=DKIM1; k=rsa; p="
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@sender.net"
news A 192.0.2.30
news MX 10 mx.sender.net.
weak TXT "v=spf1 +all"
weak MX 10 mx.sender.net.
)";

bool HasCode(const v1::DomainReport& r, const std::string& code) {
  for (const v1::Finding& f : r.findings()) {
    if (f.code() == code) return true;
  }
  return false;
}

class CheckDomainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Knot>> knot =
        Knot::Start({{"sender.net", kZone}}, {"broken.net"});
    ASSERT_TRUE(knot.ok()) << knot.status();
    knot_ = std::move(*knot).release();
    absl::StatusOr<std::unique_ptr<Deliverd>> server =
        Deliverd::Start({"--dns", knot_->address()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete knot_;
    knot_ = nullptr;
  }

  static absl::StatusOr<v1::DomainReport> Check(
      const std::string& domain, std::vector<std::string> selectors = {}) {
    Client client = server_->NewClient();
    v1::CheckDomainRequest request;
    request.set_domain(domain);
    for (const std::string& s : selectors) request.add_dkim_selectors(s);
    v1::DomainReport report;
    grpc::Status status = client.hygiene().CheckDomain(
        client.Context().get(), request, &report);
    if (!status.ok()) return FromGrpc(status);
    return report;
  }

  static Knot* knot_;
  static Deliverd* server_;
};

Knot* CheckDomainTest::knot_ = nullptr;
Deliverd* CheckDomainTest::server_ = nullptr;

TEST_F(CheckDomainTest, CleanDomainPassesWithItsWholeReport) {
  ASSERT_OK_AND_ASSIGN(v1::DomainReport r, Check("Sender.NET.", {"s1"}));
  EXPECT_EQ(r.domain(), "sender.net");
  EXPECT_EQ(r.verdict(), "pass") << r.DebugString();
  EXPECT_EQ(r.spf().record(),
            "v=spf1 ip4:192.0.2.0/24 include:_spf.sender.net mx -all");
  EXPECT_EQ(r.spf().dns_lookups(), 2);  // include, mx
  EXPECT_EQ(r.spf().void_lookups(), 0);
  ASSERT_EQ(r.spf().tree().children_size(), 1);
  EXPECT_EQ(r.spf().tree().children(0).via(), "include:_spf.sender.net");
  EXPECT_EQ(r.spf().tree().children(0).record(),
            "v=spf1 ip6:2001:db8::/32 ~all");
  ASSERT_EQ(r.dkim_size(), 1);
  EXPECT_EQ(r.dkim(0).key_type(), "rsa");
  EXPECT_EQ(r.dkim(0).key_bits(), 2048);
  EXPECT_EQ(r.dmarc().found_at(), "sender.net");
  EXPECT_FALSE(r.dmarc().inherited());
  EXPECT_EQ(r.dmarc().applied_policy(), "reject");
  EXPECT_EQ(r.dmarc().subdomain_policy(), "");
  ASSERT_EQ(r.mx().hosts_size(), 1);
  EXPECT_EQ(r.mx().hosts(0).host(), "mx.sender.net");
  EXPECT_TRUE(r.has_check_time());
}

TEST_F(CheckDomainTest, SubdomainWithoutSpfInheritsDmarcAndFails) {
  ASSERT_OK_AND_ASSIGN(v1::DomainReport r, Check("news.sender.net", {"s2"}));
  EXPECT_EQ(r.verdict(), "errors");
  EXPECT_EQ(r.worst(), v1::SEVERITY_ERROR);
  EXPECT_TRUE(HasCode(r, "spf.no_record"));
  // Selectors are looked up under the domain checked.
  EXPECT_TRUE(HasCode(r, "dkim.no_record")) << r.DebugString();
  EXPECT_TRUE(HasCode(r, "dmarc.inherited"));
  EXPECT_TRUE(r.dmarc().inherited());
  EXPECT_EQ(r.dmarc().found_at(), "sender.net");
  EXPECT_EQ(r.dmarc().applied_policy(), "reject");
  // Most severe first.
  EXPECT_EQ(r.findings(0).severity(), v1::SEVERITY_ERROR);
  for (const v1::Finding& f : r.findings()) {
    if (f.severity() != v1::SEVERITY_INFO) {
      EXPECT_FALSE(f.fix().empty()) << f.code();
    }
  }
}

TEST_F(CheckDomainTest, RevokedKeyIsReported) {
  ASSERT_OK_AND_ASSIGN(v1::DomainReport r, Check("sender.net", {"s1", "s2"}));
  ASSERT_EQ(r.dkim_size(), 2);
  EXPECT_FALSE(r.dkim(0).revoked());
  EXPECT_TRUE(r.dkim(1).revoked());
  EXPECT_TRUE(HasCode(r, "dkim.revoked"));
  EXPECT_NE(r.verdict(), "pass");
}

TEST_F(CheckDomainTest, PlusAllIsAnError) {
  ASSERT_OK_AND_ASSIGN(v1::DomainReport r, Check("weak.sender.net"));
  EXPECT_TRUE(HasCode(r, "spf.plus_all"));
  EXPECT_TRUE(HasCode(r, "dkim.no_selectors"));
  EXPECT_EQ(r.verdict(), "errors");
}

TEST_F(CheckDomainTest, FailingNameServerGivesWarningsNotAHang) {
  ASSERT_OK_AND_ASSIGN(v1::DomainReport r, Check("broken.net"));
  EXPECT_TRUE(HasCode(r, "spf.dns_failure"));
  EXPECT_TRUE(HasCode(r, "dmarc.dns_failure"));
  EXPECT_TRUE(HasCode(r, "mx.dns_failure"));
  EXPECT_EQ(r.verdict(), "warnings");
}

TEST_F(CheckDomainTest, BadInputIsInvalidArgumentNamingTheField) {
  absl::StatusOr<v1::DomainReport> bad = Check("not a domain");
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("domain"));
  absl::StatusOr<v1::DomainReport> selector = Check("sender.net", {"bad/sel"});
  ASSERT_TRUE(absl::IsInvalidArgument(selector.status()));
  EXPECT_THAT(std::string(selector.status().message()),
              HasSubstr("dkim_selectors[0]"));
}

TEST_F(CheckDomainTest, DeliverctlExitStatusGatesOnTheVerdict) {
  ProcessResult pass =
      server_->Deliverctl({"check-domain", "sender.net", "--dkim-selector", "s1"});
  EXPECT_EQ(pass.exit_code, 0) << pass;
  EXPECT_THAT(pass.out, HasSubstr("sender.net: pass"));
  EXPECT_THAT(pass.out, HasSubstr("include:_spf.sender.net -> _spf.sender.net"));
  EXPECT_THAT(pass.out, HasSubstr("DNS lookups 2 of 10"));

  ProcessResult errors = server_->Deliverctl(
      {"check-domain", "news.sender.net", "--dkim-selector", "s1,s2", "--json"});
  EXPECT_EQ(errors.exit_code, 4) << errors;
  EXPECT_THAT(errors.out, HasSubstr("\"verdict\":\"errors\""));

  ProcessResult warnings = server_->Deliverctl({"check-domain", "broken.net"});
  EXPECT_EQ(warnings.exit_code, 3) << warnings;

  ProcessResult usage = server_->Deliverctl({"check-domain", "a@b.net"});
  EXPECT_EQ(usage.exit_code, 2) << usage;
  EXPECT_THAT(usage.err, HasSubstr("domain"));
}

TEST_F(CheckDomainTest, LocalModeGivesTheSameReport) {
  ProcessResult local = server_->Deliverctl(
      {"--local", "--dns", knot_->address(), "check-domain", "sender.net",
       "--dkim-selector", "s1", "--json"});
  EXPECT_EQ(local.exit_code, 0) << local;
  EXPECT_THAT(local.out, HasSubstr("\"verdict\":\"pass\""));
  EXPECT_THAT(local.out, HasSubstr("\"keyBits\":2048"));
}

TEST_F(CheckDomainTest, GatedTenantCannotSendFromAnUnauthenticatedDomain) {
  ASSERT_OK_AND_ASSIGN(std::string key, server_->CreateKey("gated"));
  ProcessResult policy = server_->Admin(
      {"tenants", "policy", "--tenant", "gated", "--require-domain-auth",
       "true", "--dkim-selectors", "s1"});
  ASSERT_EQ(policy.exit_code, 0) << policy;
  EXPECT_THAT(policy.out, HasSubstr("require domain auth:  true"));
  EXPECT_THAT(policy.out, HasSubstr("DKIM selectors:       s1"));
  Client gated = server_->NewClient(key);

  ASSERT_OK(gated.Send(MakeSend("a@sender.net", "b@example.org", "ok", "Hi"))
                .status());
  absl::StatusOr<v1::Message> refused =
      gated.Send(MakeSend("a@news.sender.net", "b@example.org", "no", "Hi"));
  ASSERT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("content.from: news.sender.net"));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("spf.no_record"));

  v1::SendBatchRequest batch;
  *batch.add_messages() = MakeSend("a@sender.net", "b@example.org", "1", "Hi");
  *batch.add_messages() =
      MakeSend("a@weak.sender.net", "b@example.org", "2", "Hi");
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse response, gated.SendBatch(batch));
  EXPECT_EQ(response.accepted_count(), 1);
  EXPECT_EQ(response.rejected_count(), 1);
  EXPECT_TRUE(response.results(0).has_message());
  EXPECT_THAT(response.results(1).error().message(), HasSubstr("spf.plus_all"));

  // Nothing of the refused sends was stored.
  v1::ListMessagesRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Message> stored,
                       gated.ListAllMessages(list));
  EXPECT_EQ(stored.size(), 2u);

  // Other tenants are not gated.
  Client open = server_->NewClient();
  EXPECT_OK(open.Send(MakeSend("a@news.sender.net", "b@example.org", "x", "Hi"))
                .status());
}

TEST_F(CheckDomainTest, TenantPolicyCommandRefusesBadInput) {
  ProcessResult unknown = server_->Admin(
      {"tenants", "policy", "--tenant", "no-such-tenant"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_THAT(unknown.err, HasSubstr("no-such-tenant"));
  ProcessResult bad = server_->Admin({"tenants", "policy", "--tenant",
                                      "default", "--dkim-selectors", "a/b"});
  EXPECT_EQ(bad.exit_code, 2) << bad;
  EXPECT_THAT(bad.err, HasSubstr("dkim_selectors[0]"));
  ProcessResult show = server_->Admin({"tenants", "policy", "--tenant", "default"});
  EXPECT_EQ(show.exit_code, 0) << show;
  EXPECT_THAT(show.out, HasSubstr("require domain auth:  false"));
}

// A DNS server that never answers: a UDP socket nobody reads.
TEST(DnsTimeoutTest, SilentServerGivesTemperrorAndWarningsInBoundedTime) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string dns = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start({"--dns", dns}));
  Client client = server->NewClient();

  auto start = std::chrono::steady_clock::now();
  v1::CheckSpfRequest spf;
  spf.set_ip("192.0.2.1");
  spf.set_mail_from("user@slow.example");
  v1::CheckSpfResponse spf_result;
  grpc::Status status = client.hygiene().CheckSpf(
      client.Context(Seconds(30)).get(), spf, &spf_result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(spf_result.result(), v1::SPF_RESULT_TEMPERROR);
  EXPECT_THAT(spf_result.explanation(), HasSubstr("TIMEOUT"));

  v1::CheckDomainRequest request;
  request.set_domain("slow.example");
  v1::DomainReport report;
  status = client.hygiene().CheckDomain(client.Context(Seconds(30)).get(),
                                        request, &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(report.verdict(), "warnings") << report.DebugString();
  EXPECT_TRUE(HasCode(report, "spf.dns_failure"));
  EXPECT_TRUE(HasCode(report, "mx.dns_failure"));
  // c-ares gives up after its tries (about 6 s per question); the two
  // checks together must not take more than a few of those.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
  close(fd);
}

}  // namespace
}  // namespace deliverd::e2e
