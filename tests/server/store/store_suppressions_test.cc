// Conformance: suppressions — UpsertSuppression, FindSuppressions,
// RemoveSuppression, ListSuppressions.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

// SuppressionFilter builders (C++17 has no designated initializers).
SuppressionFilter AllScopes(
    const std::string& prefix = "",
    SuppressionReason reason = SuppressionReason::kUnspecified) {
  SuppressionFilter f;
  f.all_scopes = true;
  f.address_prefix = prefix;
  f.reason = reason;
  return f;
}
SuppressionFilter InScope(
    const std::string& scope, const std::string& prefix = "",
    SuppressionReason reason = SuppressionReason::kUnspecified) {
  SuppressionFilter f;
  f.scope = scope;
  f.address_prefix = prefix;
  f.reason = reason;
  return f;
}

template <typename F>
class SuppressionsTest : public StoreTest<F> {
 protected:
  void SetUp() override {
    StoreTest<F>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    tenant_ = this->MakeTenant("acme");
  }

  Suppression Make(const std::string& address, const std::string& scope,
                   SuppressionReason reason) {
    Suppression s;
    s.tenant_id = tenant_;
    s.address = address;
    s.scope = scope;
    s.reason = reason;
    s.create_time = T0();
    return s;
  }

  void Upsert(const Suppression& s) {
    absl::Status status = this->store().UpsertSuppression(s, "test");
    EXPECT_TRUE(status.ok()) << status;
  }

  // The one suppression applying to `address` in `stream` at `now`.
  std::optional<Suppression> FindOne(const std::string& address,
                                     const std::string& stream,
                                     absl::Time now = T0()) {
    absl::StatusOr<std::vector<std::optional<Suppression>>> found =
        this->store().FindSuppressions(tenant_, {address}, stream, now);
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok()) return std::nullopt;
    EXPECT_EQ(found->size(), 1u);
    if (found->size() != 1) return std::nullopt;
    return (*found)[0];
  }

  std::vector<Suppression> ListAll(const SuppressionFilter& filter,
                                   int page_size = 1000) {
    std::vector<Suppression> all;
    std::optional<SuppressionCursor> cursor;
    for (int pages = 0; pages < 10000; ++pages) {
      absl::StatusOr<SuppressionPage> page =
          this->store().ListSuppressions(tenant_, filter, page_size, cursor);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return all;
      EXPECT_LE(page->suppressions.size(), static_cast<size_t>(page_size));
      for (Suppression& s : page->suppressions) all.push_back(std::move(s));
      if (!page->next.has_value()) return all;
      EXPECT_FALSE(page->suppressions.empty());
      if (page->suppressions.empty()) return all;
      cursor = page->next;
    }
    ADD_FAILURE() << "ListSuppressions paging did not end";
    return all;
  }

  static std::vector<std::string> Keys(const std::vector<Suppression>& list) {
    std::vector<std::string> keys;
    for (const Suppression& s : list) {
      keys.push_back(absl::StrCat(s.address, "|", s.scope));
    }
    return keys;
  }

  int64_t tenant_ = 0;
};
TYPED_TEST_SUITE(SuppressionsTest, StoreFactories, FactoryName);

TYPED_TEST(SuppressionsTest, EveryFieldRoundTripsAndAddressIsLowerCased) {
  Suppression s =
      this->Make("John.Doe@Example.COM", "", SuppressionReason::kComplaint);
  s.create_time = T0() + absl::Microseconds(17);
  s.expire_time = T0() + absl::Hours(48) + absl::Microseconds(3);
  s.source_message = "m_123";
  s.evidence = "ARF report: abuse";
  this->Upsert(s);

  for (const char* probe :
       {"john.doe@example.com", "JOHN.DOE@EXAMPLE.COM", "John.Doe@Example.COM"}) {
    SCOPED_TRACE(probe);
    std::optional<Suppression> got = this->FindOne(probe, "");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->tenant_id, this->tenant_);
    EXPECT_EQ(got->address, "john.doe@example.com");
    EXPECT_EQ(got->scope, "");
    EXPECT_EQ(got->reason, SuppressionReason::kComplaint);
    EXPECT_EQ(got->create_time, s.create_time);
    EXPECT_EQ(got->expire_time, s.expire_time);
    EXPECT_EQ(got->source_message, "m_123");
    EXPECT_EQ(got->evidence, "ARF report: abuse");
  }
  std::vector<Suppression> listed = this->ListAll(AllScopes());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].address, "john.doe@example.com");
  EXPECT_EQ(listed[0].expire_time, s.expire_time);
}

TYPED_TEST(SuppressionsTest, UpsertReplacesTheSameAddressAndScope) {
  Suppression first =
      this->Make("bob@example.org", "news", SuppressionReason::kSoftBounce);
  first.expire_time = T0() + absl::Hours(1);
  first.evidence = "first";
  this->Upsert(first);
  Suppression second =
      this->Make("BOB@example.org", "news", SuppressionReason::kHardBounce);
  second.create_time = T0() + absl::Minutes(5);
  second.evidence = "second";  // and no expiry: replaces the first's
  this->Upsert(second);

  std::vector<Suppression> listed = this->ListAll(AllScopes());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].address, "bob@example.org");
  EXPECT_EQ(listed[0].reason, SuppressionReason::kHardBounce);
  EXPECT_EQ(listed[0].evidence, "second");
  EXPECT_EQ(listed[0].create_time, T0() + absl::Minutes(5));
  EXPECT_EQ(listed[0].expire_time, absl::InfiniteFuture());
  // Still applies after the first one's expiry.
  EXPECT_TRUE(this->FindOne("bob@example.org", "news", T0() + absl::Hours(2))
                  .has_value());

  // Another scope is another row.
  this->Upsert(this->Make("bob@example.org", "", SuppressionReason::kManual));
  EXPECT_EQ(this->ListAll(AllScopes()).size(), 2u);
}

TYPED_TEST(SuppressionsTest, ExpiryIsRespectedAtNow) {
  Suppression s =
      this->Make("soft@example.org", "", SuppressionReason::kSoftBounce);
  s.expire_time = T0() + absl::Hours(1);
  this->Upsert(s);
  EXPECT_TRUE(this->FindOne("soft@example.org", "", T0()).has_value());
  EXPECT_TRUE(this->FindOne("soft@example.org", "",
                            T0() + absl::Hours(1) - absl::Microseconds(1))
                  .has_value());
  EXPECT_FALSE(this->FindOne("soft@example.org", "", T0() + absl::Hours(2))
                   .has_value());
  EXPECT_FALSE(
      this->FindOne("soft@example.org", "news", T0() + absl::Hours(2))
          .has_value());
}

TYPED_TEST(SuppressionsTest, TenantWideAppliesToEveryStream) {
  this->Upsert(this->Make("all@example.org", "", SuppressionReason::kManual));
  for (const char* stream : {"", "news", "billing"}) {
    SCOPED_TRACE(stream);
    std::optional<Suppression> got = this->FindOne("all@example.org", stream);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->scope, "");
  }
}

TYPED_TEST(SuppressionsTest, StreamScopedAppliesOnlyToItsStream) {
  this->Upsert(
      this->Make("news@example.org", "news", SuppressionReason::kUnsubscribed));
  std::optional<Suppression> got = this->FindOne("news@example.org", "news");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->scope, "news");
  EXPECT_EQ(got->reason, SuppressionReason::kUnsubscribed);
  EXPECT_FALSE(this->FindOne("news@example.org", "billing").has_value());
  EXPECT_FALSE(this->FindOne("news@example.org", "").has_value());
}

// Other streams' rows on both sides of the stream's own, in key order, and
// an expired own row: each stream finds its own live row and nothing else.
TYPED_TEST(SuppressionsTest, OtherStreamsRowsAroundItsOwnAreSkipped) {
  for (const char* scope : {"alpha", "news", "zeta"}) {
    this->Upsert(this->Make("many@example.org", scope,
                            SuppressionReason::kUnsubscribed));
  }
  Suppression old =
      this->Make("many@example.org", "mid", SuppressionReason::kSoftBounce);
  old.expire_time = T0() - absl::Hours(1);
  this->Upsert(old);
  for (const char* stream : {"alpha", "news", "zeta"}) {
    SCOPED_TRACE(stream);
    std::optional<Suppression> got = this->FindOne("many@example.org", stream);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->scope, stream);
  }
  EXPECT_FALSE(this->FindOne("many@example.org", "").has_value());
  EXPECT_FALSE(this->FindOne("many@example.org", "mid").has_value());
  EXPECT_FALSE(this->FindOne("many@example.org", "beta").has_value());
}

TYPED_TEST(SuppressionsTest, TenantWideIsPreferredWhenBothApply) {
  // The stream one first, so insertion order cannot explain the result.
  this->Upsert(
      this->Make("both@example.org", "news", SuppressionReason::kUnsubscribed));
  Suppression wide =
      this->Make("both@example.org", "", SuppressionReason::kHardBounce);
  wide.expire_time = T0() + absl::Hours(1);
  this->Upsert(wide);
  std::optional<Suppression> got = this->FindOne("both@example.org", "news");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->scope, "");
  EXPECT_EQ(got->reason, SuppressionReason::kHardBounce);
  // Once the tenant-wide one expired, the stream's own still applies.
  got = this->FindOne("both@example.org", "news", T0() + absl::Hours(2));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->scope, "news");
  EXPECT_EQ(got->reason, SuppressionReason::kUnsubscribed);
}

TYPED_TEST(SuppressionsTest, FindAnswersEachAddressInOrder) {
  this->Upsert(this->Make("a@example.org", "", SuppressionReason::kManual));
  this->Upsert(this->Make("c@example.org", "news", SuppressionReason::kInvalid));
  STORE_ASSERT_OK_AND_ASSIGN(
      auto found, this->store().FindSuppressions(
                      this->tenant_,
                      {"c@example.org", "b@example.org", "A@example.org",
                       "a@example.org", "c@example.org"},
                      "news", T0()));
  ASSERT_EQ(found.size(), 5u);
  ASSERT_TRUE(found[0].has_value());
  EXPECT_EQ(found[0]->address, "c@example.org");
  EXPECT_FALSE(found[1].has_value());
  ASSERT_TRUE(found[2].has_value());
  EXPECT_EQ(found[2]->address, "a@example.org");
  ASSERT_TRUE(found[3].has_value());
  EXPECT_EQ(found[3]->reason, SuppressionReason::kManual);
  ASSERT_TRUE(found[4].has_value());
  EXPECT_EQ(found[4]->reason, SuppressionReason::kInvalid);

  STORE_ASSERT_OK_AND_ASSIGN(
      auto none, this->store().FindSuppressions(this->tenant_, {}, "news", T0()));
  EXPECT_TRUE(none.empty());
}

TYPED_TEST(SuppressionsTest, RemoveReturnsTheRowAndNotFoundWhenAbsent) {
  Suppression wide =
      this->Make("Gone@Example.org", "", SuppressionReason::kComplaint);
  wide.create_time = T0() + absl::Microseconds(9);
  wide.expire_time = T0() + absl::Hours(5);
  wide.source_message = "m_9";
  wide.evidence = "fbl";
  this->Upsert(wide);
  this->Upsert(
      this->Make("gone@example.org", "news", SuppressionReason::kUnsubscribed));

  STORE_ASSERT_OK_AND_ASSIGN(
      Suppression removed,
      this->store().RemoveSuppression(this->tenant_, "GONE@example.ORG", "",
                                      "customer asked"));
  EXPECT_EQ(removed.tenant_id, this->tenant_);
  EXPECT_EQ(removed.address, "gone@example.org");
  EXPECT_EQ(removed.scope, "");
  EXPECT_EQ(removed.reason, SuppressionReason::kComplaint);
  EXPECT_EQ(removed.create_time, wide.create_time);
  EXPECT_EQ(removed.expire_time, wide.expire_time);
  EXPECT_EQ(removed.source_message, "m_9");
  EXPECT_EQ(removed.evidence, "fbl");

  // Only that scope went.
  EXPECT_FALSE(this->FindOne("gone@example.org", "").has_value());
  std::optional<Suppression> left = this->FindOne("gone@example.org", "news");
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->scope, "news");

  absl::StatusOr<Suppression> again = this->store().RemoveSuppression(
      this->tenant_, "gone@example.org", "", "twice");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound)
      << again.status();
  absl::StatusOr<Suppression> never = this->store().RemoveSuppression(
      this->tenant_, "never@example.org", "news", "");
  EXPECT_EQ(never.status().code(), absl::StatusCode::kNotFound)
      << never.status();
  EXPECT_EQ(this->ListAll(AllScopes()).size(), 1u);
}

TYPED_TEST(SuppressionsTest, ListFiltersByReasonScopeAndPrefix) {
  this->Upsert(this->Make("alice@example.org", "", SuppressionReason::kHardBounce));
  this->Upsert(
      this->Make("alice@example.org", "news", SuppressionReason::kUnsubscribed));
  this->Upsert(this->Make("alfred@example.org", "", SuppressionReason::kComplaint));
  this->Upsert(
      this->Make("bob@example.org", "billing", SuppressionReason::kHardBounce));
  this->Upsert(this->Make("carol@example.org", "news", SuppressionReason::kManual));
  int64_t other = this->MakeTenant("globex");
  Suppression foreign = this->Make("alice@example.org", "", SuppressionReason::kManual);
  foreign.tenant_id = other;
  this->Upsert(foreign);

  using V = std::vector<std::string>;
  EXPECT_EQ(this->Keys(this->ListAll(AllScopes())),
            (V{"alfred@example.org|", "alice@example.org|",
               "alice@example.org|news", "bob@example.org|billing",
               "carol@example.org|news"}));
  // Not all_scopes: exactly the given scope ("" = tenant-wide rows only).
  EXPECT_EQ(this->Keys(this->ListAll(InScope(""))),
            (V{"alfred@example.org|", "alice@example.org|"}));
  EXPECT_EQ(this->Keys(this->ListAll(InScope("news"))),
            (V{"alice@example.org|news", "carol@example.org|news"}));
  EXPECT_TRUE(this->ListAll(InScope("nope")).empty());
  EXPECT_EQ(this->Keys(this->ListAll(AllScopes("", SuppressionReason::kHardBounce))),
            (V{"alice@example.org|", "bob@example.org|billing"}));
  EXPECT_EQ(this->Keys(this->ListAll(InScope("", "", SuppressionReason::kHardBounce))),
            (V{"alice@example.org|"}));
  EXPECT_EQ(this->Keys(this->ListAll(AllScopes("al"))),
            (V{"alfred@example.org|", "alice@example.org|",
               "alice@example.org|news"}));
  EXPECT_EQ(this->Keys(this->ListAll(AllScopes("ALI"))),
            (V{"alice@example.org|", "alice@example.org|news"}))
      << "the prefix is compared case-insensitively, like addresses";
  EXPECT_EQ(this->Keys(this->ListAll(InScope("news", "alice@", SuppressionReason::kUnsubscribed))),
            (V{"alice@example.org|news"}));
  EXPECT_TRUE(
      this->ListAll(AllScopes("zed")).empty());
  EXPECT_TRUE(
      this->ListAll(AllScopes("example")).empty())
      << "a prefix, not a substring";
}

// Regression: the prefix condition once bound the prefix's length in bytes
// while SQLite's substr() counts characters, so a prefix with a non-ASCII
// character never matched.
TYPED_TEST(SuppressionsTest, ListPrefixWithNonAsciiCharacters) {
  this->Upsert(this->Make("jörg@example.de", "", SuppressionReason::kManual));
  this->Upsert(this->Make("jorge@example.es", "", SuppressionReason::kManual));
  this->Upsert(this->Make("jöx@example.de", "", SuppressionReason::kManual));
  using V = std::vector<std::string>;
  EXPECT_EQ(this->Keys(this->ListAll(AllScopes("jö"))),
            (V{"jörg@example.de|", "jöx@example.de|"}))
      << "STORE BUG: address_prefix length counted in bytes, substr in "
         "characters";
  EXPECT_EQ(this->Keys(this->ListAll(AllScopes("jörg@"))),
            (V{"jörg@example.de|"}))
      << "STORE BUG: address_prefix length counted in bytes, substr in "
         "characters";
  // The address itself round-trips.
  EXPECT_TRUE(this->FindOne("jörg@example.de", "").has_value());
}

TYPED_TEST(SuppressionsTest, ListPagesWithoutDuplicatesOrGaps) {
  std::vector<std::string> want;
  // 31 rows: some addresses with two scopes, inserted out of order.
  for (int n = 0; n < 20; ++n) {
    int i = (n * 7) % 20;
    std::string address = absl::StrCat("user", i / 10, i % 10, "@example.org");
    this->Upsert(this->Make(address, "", SuppressionReason::kManual));
    if (i % 2 == 0) {
      this->Upsert(this->Make(address, "news", SuppressionReason::kManual));
    }
  }
  this->Upsert(this->Make("zz@example.org", "a", SuppressionReason::kManual));
  std::vector<std::string> all =
      this->Keys(this->ListAll(AllScopes(), 1000));
  ASSERT_EQ(all.size(), 31u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1], all[i]) << "not in (address, scope) order";
  }
  for (int page_size : {1, 4, 10, 30, 31, 32}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    EXPECT_EQ(this->Keys(this->ListAll(AllScopes(), page_size)), all);
  }
  // Paging with a filter.
  std::vector<std::string> news;
  for (const std::string& k : all) {
    if (absl::EndsWith(k, "|news")) news.push_back(k);
  }
  ASSERT_EQ(news.size(), 10u);
  EXPECT_EQ(this->Keys(this->ListAll(InScope("news"), 3)), news);
}

}  // namespace
}  // namespace deliverd::store::conformance
