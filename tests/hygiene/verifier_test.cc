#include "hygiene/verifier.h"

#include "auth_checks/dns/fake_resolver.h"
#include "gtest/gtest.h"

namespace deliverd::hygiene {
namespace {

namespace dns = auth_checks::dns;

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    resolver_.Add("mx.example.org", dns::RrType::kMx, "in.mx.example.org", 10);
    resolver_.Add("implicit.example.org", dns::RrType::kA, "192.0.2.5");
    resolver_.Add("nullmx.example.org", dns::RrType::kMx, "", 0);
    resolver_.Add("nomail.example.org", dns::RrType::kTxt, "v=spf1 -all");
    resolver_.SetFailure("broken.example.org", dns::Outcome::kServFail);
    resolver_.Add("mailinator.com", dns::RrType::kMx, "mx.mailinator.com", 10);
  }

  AddressVerdict One(const std::string& address) {
    return VerifyWithDns(resolver_, {address}).front();
  }

  dns::FakeResolver resolver_;
};

TEST_F(VerifierTest, DomainRoutesDecideTheVerdict) {
  EXPECT_EQ(One("a@mx.example.org").reason, "ok.mx");
  EXPECT_EQ(One("a@mx.example.org").verdict, Verdict::kDeliverable);
  EXPECT_EQ(One("a@implicit.example.org").reason, "ok.implicit_mx");
  EXPECT_EQ(One("a@nullmx.example.org").reason, "domain.null_mx");
  EXPECT_EQ(One("a@nullmx.example.org").verdict, Verdict::kUndeliverable);
  EXPECT_EQ(One("a@nomail.example.org").reason, "domain.no_mail_host");
  EXPECT_EQ(One("a@nowhere.example.org").reason, "domain.nxdomain");
  EXPECT_EQ(One("a@broken.example.org").verdict, Verdict::kUnknown);
  EXPECT_EQ(One("a@broken.example.org").reason, "domain.dns_error");
}

TEST_F(VerifierTest, OfflineFindingsStayAndSyntaxErrorsSkipDns) {
  AddressVerdict role = One("postmaster@mx.example.org");
  EXPECT_EQ(role.verdict, Verdict::kRisky);
  EXPECT_TRUE(role.role);
  AddressVerdict disposable = One("x@mailinator.com");
  EXPECT_EQ(disposable.verdict, Verdict::kRisky);
  EXPECT_TRUE(disposable.disposable);
  AddressVerdict bad = One("not an address");
  EXPECT_EQ(bad.verdict, Verdict::kUndeliverable);
  EXPECT_FALSE(bad.valid);
}

TEST_F(VerifierTest, EachDomainIsLookedUpOnce) {
  std::vector<std::string> many;
  for (int i = 0; i < 50; ++i) {
    many.push_back("user" + std::to_string(i) + "@mx.example.org");
  }
  std::vector<AddressVerdict> verdicts = VerifyWithDns(resolver_, many);
  ASSERT_EQ(verdicts.size(), 50u);
  for (const AddressVerdict& v : verdicts) EXPECT_EQ(v.reason, "ok.mx");
  EXPECT_EQ(resolver_.query_count(), 1);
}

}  // namespace
}  // namespace deliverd::hygiene
