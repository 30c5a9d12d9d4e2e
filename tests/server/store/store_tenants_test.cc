// Conformance: tenants and API keys.
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class TenantsTest : public StoreTest<F> {};
TYPED_TEST_SUITE(TenantsTest, StoreFactories, FactoryName);

TYPED_TEST(TenantsTest, CreateAndFindTenant) {
  STORE_ASSERT_OK_AND_ASSIGN(int64_t acme, this->store().CreateTenant("acme"));
  STORE_ASSERT_OK_AND_ASSIGN(int64_t globex,
                             this->store().CreateTenant("globex"));
  EXPECT_GT(acme, 0);
  EXPECT_GT(globex, 0);
  EXPECT_NE(acme, globex);

  STORE_ASSERT_OK_AND_ASSIGN(int64_t found, this->store().FindTenant("acme"));
  EXPECT_EQ(found, acme);
  STORE_ASSERT_OK_AND_ASSIGN(found, this->store().FindTenant("globex"));
  EXPECT_EQ(found, globex);

  absl::StatusOr<int64_t> missing = this->store().FindTenant("initech");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound)
      << missing.status();
}

TYPED_TEST(TenantsTest, TenantNameOfAnId) {
  STORE_ASSERT_OK_AND_ASSIGN(int64_t acme, this->store().CreateTenant("acme"));
  STORE_ASSERT_OK_AND_ASSIGN(int64_t globex,
                             this->store().CreateTenant("globex"));
  STORE_ASSERT_OK_AND_ASSIGN(std::string name, this->store().TenantName(acme));
  EXPECT_EQ(name, "acme");
  STORE_ASSERT_OK_AND_ASSIGN(name, this->store().TenantName(globex));
  EXPECT_EQ(name, "globex");
  absl::StatusOr<std::string> missing =
      this->store().TenantName(globex + acme + 1000);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound)
      << missing.status();
}

TYPED_TEST(TenantsTest, DuplicateTenantIsAlreadyExists) {
  STORE_ASSERT_OK_AND_ASSIGN(int64_t acme, this->store().CreateTenant("acme"));
  absl::StatusOr<int64_t> again = this->store().CreateTenant("acme");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists)
      << again.status();
  // The first one is untouched.
  STORE_ASSERT_OK_AND_ASSIGN(int64_t found, this->store().FindTenant("acme"));
  EXPECT_EQ(found, acme);
}

TYPED_TEST(TenantsTest, SendPolicyDefaultsOffAndIsKeptPerTenant) {
  STORE_ASSERT_OK_AND_ASSIGN(int64_t acme, this->store().CreateTenant("acme"));
  STORE_ASSERT_OK_AND_ASSIGN(int64_t globex,
                             this->store().CreateTenant("globex"));
  STORE_ASSERT_OK_AND_ASSIGN(TenantSendPolicy initial,
                             this->store().GetSendPolicy(acme));
  EXPECT_FALSE(initial.require_domain_auth);
  EXPECT_TRUE(initial.dkim_selectors.empty());
  EXPECT_EQ(initial.soft_bounce_half_life_seconds, 0);
  EXPECT_EQ(initial.soft_bounce_threshold, 0);
  EXPECT_EQ(initial.soft_bounce_suppress_seconds, 0);

  TenantSendPolicy strict;
  strict.require_domain_auth = true;
  strict.dkim_selectors = {"s1", "2024.k2"};
  strict.soft_bounce_half_life_seconds = 3600;
  strict.soft_bounce_threshold = 1.25;
  strict.soft_bounce_suppress_seconds = 86400;
  ASSERT_TRUE(this->store().SetSendPolicy(acme, strict).ok());
  STORE_ASSERT_OK_AND_ASSIGN(TenantSendPolicy read,
                             this->store().GetSendPolicy(acme));
  EXPECT_TRUE(read.require_domain_auth);
  EXPECT_EQ(read.dkim_selectors, strict.dkim_selectors);
  EXPECT_EQ(read.soft_bounce_half_life_seconds, 3600);
  EXPECT_DOUBLE_EQ(read.soft_bounce_threshold, 1.25);
  EXPECT_EQ(read.soft_bounce_suppress_seconds, 86400);
  STORE_ASSERT_OK_AND_ASSIGN(TenantSendPolicy other,
                             this->store().GetSendPolicy(globex));
  EXPECT_FALSE(other.require_domain_auth);

  EXPECT_EQ(this->store().GetSendPolicy(acme + globex + 100).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(this->store().SetSendPolicy(acme + globex + 100, strict).code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(TenantsTest, CreateApiKeyAndFindByHash) {
  int64_t acme = this->MakeTenant("acme");
  int64_t globex = this->MakeTenant("globex");
  // Hashes are raw SHA-256 bytes: NULs and high bytes must survive.
  const std::string hash_a("\x00\x01\xfe\xff key-a \x00 tail", 16);
  const std::string hash_b("\x00\x01\xfe\xff key-b \x00 tail", 16);

  absl::Time before = absl::Now();
  STORE_ASSERT_OK_AND_ASSIGN(
      ApiKey created,
      this->store().CreateApiKey(acme, hash_a, "dk_live_ab", "ci deploys"));
  absl::Time after = absl::Now();
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.tenant_id, acme);
  EXPECT_EQ(created.prefix, "dk_live_ab");
  EXPECT_EQ(created.label, "ci deploys");
  EXPECT_FALSE(created.revoked);

  STORE_ASSERT_OK_AND_ASSIGN(
      ApiKey other, this->store().CreateApiKey(globex, hash_b, "dk_live_cd", ""));
  EXPECT_NE(other.id, created.id);

  STORE_ASSERT_OK_AND_ASSIGN(ApiKey found,
                             this->store().FindApiKeyByHash(hash_a));
  EXPECT_EQ(found.id, created.id);
  EXPECT_EQ(found.tenant_id, acme);
  EXPECT_EQ(found.tenant_name, "acme");
  EXPECT_EQ(found.prefix, "dk_live_ab");
  EXPECT_EQ(found.label, "ci deploys");
  EXPECT_FALSE(found.revoked);
  // Stored to (at least) the microsecond, at the time of creation.
  EXPECT_GE(found.create_time, absl::FromUnixMicros(absl::ToUnixMicros(before)));
  EXPECT_LE(found.create_time, after);

  STORE_ASSERT_OK_AND_ASSIGN(ApiKey found_b,
                             this->store().FindApiKeyByHash(hash_b));
  EXPECT_EQ(found_b.id, other.id);
  EXPECT_EQ(found_b.tenant_id, globex);
  EXPECT_EQ(found_b.tenant_name, "globex");
}

TYPED_TEST(TenantsTest, UnknownHashIsNotFound) {
  int64_t acme = this->MakeTenant("acme");
  const std::string hash("\x10\x20\x00\x30", 4);
  STORE_ASSERT_OK(this->store().CreateApiKey(acme, hash, "dk_1", "k"));

  for (const std::string& probe :
       {std::string("nope"), std::string("\x10\x20", 2),  // a prefix
        std::string("\x10\x20\x00\x30\x40", 5),           // an extension
        std::string()}) {
    absl::StatusOr<ApiKey> key = this->store().FindApiKeyByHash(probe);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound)
        << "probe of " << probe.size() << " bytes: " << key.status();
  }
}

TYPED_TEST(TenantsTest, CountApiKeysCountsEveryTenant) {
  STORE_ASSERT_OK_AND_ASSIGN(int64_t count, this->store().CountApiKeys());
  EXPECT_EQ(count, 0);
  int64_t acme = this->MakeTenant("acme");
  int64_t globex = this->MakeTenant("globex");
  STORE_ASSERT_OK(this->store().CreateApiKey(acme, "h1", "p1", ""));
  STORE_ASSERT_OK(this->store().CreateApiKey(acme, "h2", "p2", ""));
  STORE_ASSERT_OK(this->store().CreateApiKey(globex, "h3", "p3", ""));
  STORE_ASSERT_OK_AND_ASSIGN(count, this->store().CountApiKeys());
  EXPECT_EQ(count, 3);
}

TYPED_TEST(TenantsTest, DuplicateKeyHashIsRefused) {
  int64_t acme = this->MakeTenant("acme");
  int64_t globex = this->MakeTenant("globex");
  STORE_ASSERT_OK(this->store().CreateApiKey(acme, "same-hash", "p1", ""));
  absl::StatusOr<ApiKey> dup =
      this->store().CreateApiKey(globex, "same-hash", "p2", "");
  EXPECT_FALSE(dup.ok());
  // The original key still resolves to its own tenant.
  STORE_ASSERT_OK_AND_ASSIGN(ApiKey found,
                             this->store().FindApiKeyByHash("same-hash"));
  EXPECT_EQ(found.tenant_id, acme);
  STORE_ASSERT_OK_AND_ASSIGN(int64_t count, this->store().CountApiKeys());
  EXPECT_EQ(count, 1);
}

TYPED_TEST(TenantsTest, KeyForUnknownTenantIsRefused) {
  int64_t acme = this->MakeTenant("acme");
  absl::StatusOr<ApiKey> orphan =
      this->store().CreateApiKey(acme + 1000, "orphan-hash", "p1", "");
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kNotFound)
      << orphan.status();
  EXPECT_EQ(this->store().FindApiKeyByHash("orphan-hash").status().code(),
            absl::StatusCode::kNotFound);
  STORE_ASSERT_OK_AND_ASSIGN(int64_t count, this->store().CountApiKeys());
  EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace deliverd::store::conformance
