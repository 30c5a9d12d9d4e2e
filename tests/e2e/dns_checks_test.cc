// The DNS-using RPCs against a real authoritative DNS server (knotd with
// zones written here): CheckSpf and `deliverctl spf` (pass, fail, softfail
// through include, none, permerror, temperror from SERVFAIL), and
// VerifyAddresses and `deliverctl verify` (MX, implicit MX, null MX, no mail
// host, NXDOMAIN, DNS failure), over gRPC and in-process.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"
#include "testing_knot.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kZone[] = R"(
$ORIGIN spf.test.
$TTL 300
@ SOA ns.spf.test. hostmaster.spf.test. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
@ TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.spf.test -all"
_spf TXT "v=spf1 ip6:2001:db8::/32 ~all"
soft TXT "v=spf1 a:mail.spf.test ~all"
mail A 203.0.113.5
two TXT "v=spf1 -all"
two TXT "v=spf1 +all"
nospf A 192.0.2.77
exp TXT "v=spf1 -all exp=why.spf.test"
why TXT "Mail from %{d} is not accepted from %{i}"
)";

// Address verification needs names outside the special-use .test, which
// the verifier refuses without looking them up.
constexpr char kVerifyZone[] = R"(
$ORIGIN fixture.net.
$TTL 300
@ SOA ns.fixture.net. hostmaster.fixture.net. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
mailer MX 10 mx1.fixture.net.
mx1 A 192.0.2.25
implicit A 192.0.2.26
nullmx MX 0 .
txtonly TXT "no mail here"
)";

class DnsChecksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Knot>> knot =
        Knot::Start({{"spf.test", kZone}, {"fixture.net", kVerifyZone}},
                    {"broken.test", "broken.net"});
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

  v1::CheckSpfResponse Check(const std::string& ip, const std::string& from,
                             const std::string& helo = "") {
    Client client = server_->NewClient();
    v1::CheckSpfRequest request;
    request.set_ip(ip);
    request.set_mail_from(from);
    request.set_helo(helo);
    v1::CheckSpfResponse response;
    grpc::Status status =
        client.hygiene().CheckSpf(client.Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static Knot* knot_;
  static Deliverd* server_;
};

Knot* DnsChecksTest::knot_ = nullptr;
Deliverd* DnsChecksTest::server_ = nullptr;

TEST_F(DnsChecksTest, ResultsFromRealDnsOverGrpc) {
  v1::CheckSpfResponse pass = Check("192.0.2.9", "user@spf.test");
  EXPECT_EQ(pass.result(), v1::SPF_RESULT_PASS);
  EXPECT_EQ(pass.matched_term(), "ip4:192.0.2.0/24");

  EXPECT_EQ(Check("2001:db8::5", "user@spf.test").result(), v1::SPF_RESULT_PASS);
  v1::CheckSpfResponse fail = Check("198.51.100.1", "user@spf.test");
  EXPECT_EQ(fail.result(), v1::SPF_RESULT_FAIL);
  EXPECT_EQ(fail.dns_lookups(), 1);

  EXPECT_EQ(Check("203.0.113.5", "user@soft.spf.test").result(),
            v1::SPF_RESULT_PASS);
  EXPECT_EQ(Check("203.0.113.6", "user@soft.spf.test").result(),
            v1::SPF_RESULT_SOFTFAIL);
  EXPECT_EQ(Check("192.0.2.1", "user@nospf.spf.test").result(),
            v1::SPF_RESULT_NONE);
  EXPECT_EQ(Check("192.0.2.1", "user@two.spf.test").result(),
            v1::SPF_RESULT_PERMERROR);
  v1::CheckSpfResponse temp = Check("192.0.2.1", "user@broken.test");
  EXPECT_EQ(temp.result(), v1::SPF_RESULT_TEMPERROR);
  EXPECT_THAT(temp.explanation(), HasSubstr("SERVFAIL"));
  // An empty MAIL FROM is checked as postmaster@HELO.
  EXPECT_EQ(Check("192.0.2.9", "", "spf.test").result(), v1::SPF_RESULT_PASS);
}

TEST_F(DnsChecksTest, FailCarriesTheDomainsExplanation) {
  v1::CheckSpfResponse fail = Check("198.51.100.7", "user@exp.spf.test");
  EXPECT_EQ(fail.result(), v1::SPF_RESULT_FAIL);
  EXPECT_EQ(fail.explanation(),
            "Mail from exp.spf.test is not accepted from 198.51.100.7");
}

TEST_F(DnsChecksTest, BadInputIsInvalidArgumentNamingTheField) {
  Client client = server_->NewClient();
  v1::CheckSpfRequest request;
  request.set_ip("not-an-ip");
  request.set_mail_from("user@spf.test");
  v1::CheckSpfResponse response;
  grpc::Status status =
      client.hygiene().CheckSpf(client.Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), StartsWith("ip: "));
  Client anonymous = server_->NewClient("");
  status = anonymous.hygiene().CheckSpf(anonymous.Context().get(), request,
                                        &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(DnsChecksTest, DeliverctlThroughTheServerAndLocal) {
  ProcessResult remote = server_->Deliverctl(
      {"spf", "--ip", "192.0.2.9", "--mail-from", "user@spf.test", "--json"});
  ASSERT_EQ(remote.exit_code, 0) << remote;
  EXPECT_THAT(remote.out, StartsWith("{\"result\":\"pass\",\"explanation\":"));

  ProcessResult local = server_->Deliverctl(
      {"--local", "spf", "--ip", "198.51.100.1", "--mail-from",
       "user@spf.test", "--dns", knot_->address(), "--json"});
  ASSERT_EQ(local.exit_code, 0) << local;
  EXPECT_THAT(local.out, StartsWith("{\"result\":\"fail\""));

  ProcessResult text = server_->Deliverctl(
      {"spf", "--local", "--dns", knot_->address(), "--ip", "192.0.2.1",
       "--mail-from", "user@broken.test"});
  ASSERT_EQ(text.exit_code, 0) << text;
  EXPECT_THAT(text.out, StartsWith("temperror\n"));

  ProcessResult bad = server_->Deliverctl(
      {"spf", "--local", "--ip", "300.1.1.1", "--mail-from", "u@spf.test"});
  EXPECT_EQ(bad.exit_code, 2) << bad;
  EXPECT_THAT(bad.err, HasSubstr("ip: "));
}

TEST_F(DnsChecksTest, VerifyAddressesUsesTheDomainsMailRoute) {
  Client client = server_->NewClient();
  v1::AddSuppressionRequest suppress;
  suppress.set_address("gone@mailer.fixture.net");
  suppress.set_reason(v1::SUPPRESSION_REASON_HARD_BOUNCE);
  ASSERT_TRUE(client.AddSuppression(suppress).ok());

  v1::VerifyAddressesRequest request;
  for (const char* a :
       {"user@mailer.fixture.net", "user@implicit.fixture.net",
        "user@nullmx.fixture.net", "user@txtonly.fixture.net",
        "user@nothere.fixture.net", "user@broken.net",
        "postmaster@mailer.fixture.net", "gone@mailer.fixture.net",
        "not-an-address"}) {
    request.add_addresses(a);
  }
  v1::VerifyAddressesResponse response;
  grpc::Status status = client.hygiene().VerifyAddresses(
      client.Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.verdicts_size(), 9);
  auto reason = [&](int i) { return response.verdicts(i).reason(); };
  EXPECT_EQ(response.verdicts(0).verdict(), v1::VERDICT_DELIVERABLE);
  EXPECT_EQ(reason(0), "ok.mx");
  EXPECT_EQ(reason(1), "ok.implicit_mx");
  EXPECT_EQ(reason(2), "domain.null_mx");
  EXPECT_EQ(response.verdicts(2).verdict(), v1::VERDICT_UNDELIVERABLE);
  EXPECT_EQ(reason(3), "domain.no_mail_host");
  EXPECT_EQ(reason(4), "domain.nxdomain");
  EXPECT_EQ(reason(5), "domain.dns_error");
  EXPECT_EQ(response.verdicts(5).verdict(), v1::VERDICT_UNKNOWN);
  EXPECT_EQ(response.verdicts(6).verdict(), v1::VERDICT_RISKY);
  EXPECT_TRUE(response.verdicts(6).role());
  EXPECT_TRUE(response.verdicts(7).suppressed());
  EXPECT_FALSE(response.verdicts(0).suppressed());
  EXPECT_FALSE(response.verdicts(8).valid());

  v1::VerifyAddressesRequest empty;
  status = client.hygiene().VerifyAddresses(client.Context().get(), empty,
                                            &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), StartsWith("addresses: "));
}

TEST_F(DnsChecksTest, DeliverctlVerifyLocalAndThroughTheServer) {
  ProcessResult local = server_->Deliverctl(
      {"verify", "--local", "--dns", knot_->address(), "--json",
       "user@nullmx.fixture.net", "user@mailer.fixture.net"});
  ASSERT_EQ(local.exit_code, 0) << local;
  EXPECT_THAT(local.out, HasSubstr("\"reason\":\"domain.null_mx\""));
  EXPECT_THAT(local.out, HasSubstr("\"verdict\":\"deliverable\""));

  ProcessResult offline = server_->Deliverctl(
      {"verify", "--offline", "--json", "a@gmial.com"});
  ASSERT_EQ(offline.exit_code, 0) << offline;
  EXPECT_THAT(offline.out, HasSubstr("\"suggestion\":\"a@gmail.com\""));
  EXPECT_THAT(offline.out, HasSubstr("\"suppressed\":false"));
}

}  // namespace
}  // namespace deliverd::e2e
