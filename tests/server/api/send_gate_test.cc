#include "server/api/send_gate.h"

#include <stdlib.h>

#include <filesystem>
#include <future>

#include "auth_checks/dns/fake_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/sqlite_store.h"

namespace deliverd::api {
namespace {

using ::testing::HasSubstr;

class SendGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/send-gate-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = *store::SqliteStore::Open(dir_ + "/db");
    tenant_ = *store_->CreateTenant("t");
    dns_.Add("good.example", auth_checks::dns::RrType::kTxt, "v=spf1 -all", 0,
             300);
    dns_.Add("_dmarc.good.example", auth_checks::dns::RrType::kTxt,
             "v=DMARC1; p=reject; rua=mailto:d@good.example", 0, 300);
    dns_.Add("good.example", auth_checks::dns::RrType::kMx, "mx.good.example",
             10, 300);
    dns_.Add("bad.example", auth_checks::dns::RrType::kMx, "mx.good.example",
             10, 300);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::vector<absl::Status> Check(SendGate& gate,
                                  std::vector<std::string> from) {
    std::promise<std::vector<absl::Status>> promise;
    gate.Check(tenant_, std::move(from), [&](std::vector<absl::Status> s) {
      promise.set_value(std::move(s));
    });
    return promise.get_future().get();
  }

  void RequireAuth() {
    store::TenantSendPolicy policy;
    policy.require_domain_auth = true;
    ASSERT_TRUE(store_->SetSendPolicy(tenant_, policy).ok());
  }

  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
  int64_t tenant_ = 0;
  auth_checks::dns::FakeResolver dns_;
};

TEST_F(SendGateTest, PolicyOffChecksNothing) {
  SendGate gate(store_.get(), &dns_);
  std::vector<absl::Status> s = Check(gate, {"a@bad.example"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].ok());
  EXPECT_EQ(dns_.query_count(), 0);
}

TEST_F(SendGateTest, RefusesOnlyTheUnauthenticatedDomain) {
  RequireAuth();
  SendGate gate(store_.get(), &dns_);
  std::vector<absl::Status> s =
      Check(gate, {"a@good.example", "b@bad.example", "c@GOOD.example"});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(s[0].ok()) << s[0];
  EXPECT_TRUE(absl::IsFailedPrecondition(s[1]));
  EXPECT_THAT(std::string(s[1].message()), HasSubstr("spf.no_record"));
  EXPECT_THAT(std::string(s[1].message()), HasSubstr("dmarc.no_record"));
  EXPECT_TRUE(s[2].ok());
}

TEST_F(SendGateTest, ReportsAreCachedForTheirTtl) {
  RequireAuth();
  SendGate gate(store_.get(), &dns_);
  ASSERT_TRUE(Check(gate, {"a@good.example"})[0].ok());
  int queries = dns_.query_count();
  ASSERT_GT(queries, 0);
  ASSERT_TRUE(Check(gate, {"b@good.example"})[0].ok());
  EXPECT_EQ(dns_.query_count(), queries);
}

TEST_F(SendGateTest, DnsFailureIsNotCachedAndDoesNotRefuse) {
  RequireAuth();
  dns_.SetFailure("flaky.example", auth_checks::dns::Outcome::kServFail);
  dns_.SetFailure("_dmarc.flaky.example", auth_checks::dns::Outcome::kServFail);
  SendGate gate(store_.get(), &dns_);
  EXPECT_TRUE(Check(gate, {"a@flaky.example"})[0].ok());
  int queries = dns_.query_count();
  EXPECT_TRUE(Check(gate, {"a@flaky.example"})[0].ok());
  EXPECT_GT(dns_.query_count(), queries);
}

TEST_F(SendGateTest, NoResolverMeansUnavailableForGatedTenants) {
  RequireAuth();
  SendGate gate(store_.get(), nullptr);
  EXPECT_TRUE(absl::IsUnavailable(Check(gate, {"a@good.example"})[0]));
}

}  // namespace
}  // namespace deliverd::api
