// CheckSpf and `deliverctl spf` against a real authoritative DNS server
// (knotd with zones written here): pass, fail, softfail through include,
// none, permerror and temperror (SERVFAIL), over gRPC and in-process.
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

class SpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Knot>> knot =
        Knot::Start({{"spf.test", kZone}}, {"broken.test"});
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

Knot* SpfTest::knot_ = nullptr;
Deliverd* SpfTest::server_ = nullptr;

TEST_F(SpfTest, ResultsFromRealDnsOverGrpc) {
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

TEST_F(SpfTest, FailCarriesTheDomainsExplanation) {
  v1::CheckSpfResponse fail = Check("198.51.100.7", "user@exp.spf.test");
  EXPECT_EQ(fail.result(), v1::SPF_RESULT_FAIL);
  EXPECT_EQ(fail.explanation(),
            "Mail from exp.spf.test is not accepted from 198.51.100.7");
}

TEST_F(SpfTest, BadInputIsInvalidArgumentNamingTheField) {
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

TEST_F(SpfTest, DeliverctlThroughTheServerAndLocal) {
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

}  // namespace
}  // namespace deliverd::e2e
