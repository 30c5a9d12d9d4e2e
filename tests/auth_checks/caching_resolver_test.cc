#include "auth_checks/dns/caching_resolver.h"

#include "auth_checks/dns/fake_resolver.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks::dns {
namespace {

class CachingResolverTest : public ::testing::Test {
 protected:
  CachingResolverTest()
      : cache_(&inner_, 3600, 1000, [this] { return now_; }) {}

  std::chrono::steady_clock::time_point now_{};
  FakeResolver inner_;
  CachingResolver cache_;
};

TEST_F(CachingResolverTest, PositiveAnswersLiveForTheirTtl) {
  inner_.Add("example.org", RrType::kTxt, "v=spf1 -all", 0, 60);
  EXPECT_EQ(cache_.Lookup("example.org", RrType::kTxt).outcome, Outcome::kOk);
  Answer again = cache_.Lookup("EXAMPLE.org.", RrType::kTxt);
  EXPECT_EQ(again.outcome, Outcome::kOk);
  EXPECT_EQ(again.records.at(0).data, "v=spf1 -all");
  EXPECT_EQ(inner_.query_count(), 1);
  now_ += std::chrono::seconds(30);
  EXPECT_EQ(cache_.Lookup("example.org", RrType::kTxt).ttl, 30u);
  EXPECT_EQ(inner_.query_count(), 1);
  now_ += std::chrono::seconds(31);
  cache_.Lookup("example.org", RrType::kTxt);
  EXPECT_EQ(inner_.query_count(), 2);
}

TEST_F(CachingResolverTest, FailuresAreNeverCachedAndTtlsAreCapped) {
  inner_.SetFailure("broken.org", Outcome::kServFail);
  cache_.Lookup("broken.org", RrType::kMx);
  cache_.Lookup("broken.org", RrType::kMx);
  EXPECT_EQ(inner_.query_count(), 2);

  inner_.Add("long.org", RrType::kA, "192.0.2.1", 0, 864000);
  cache_.Lookup("long.org", RrType::kA);
  now_ += std::chrono::seconds(3601);
  cache_.Lookup("long.org", RrType::kA);
  EXPECT_EQ(inner_.query_count(), 4);
}

TEST_F(CachingResolverTest, LookupAllAsksOnlyForTheMissesInOrder) {
  inner_.Add("a.org", RrType::kA, "192.0.2.1", 0, 60);
  inner_.Add("b.org", RrType::kA, "192.0.2.2", 0, 60);
  inner_.Add("c.org", RrType::kA, "192.0.2.3", 0, 60);
  cache_.Lookup("b.org", RrType::kA);
  ASSERT_EQ(inner_.query_count(), 1);
  std::vector<Answer> all = cache_.LookupAll(
      {{"a.org", RrType::kA}, {"b.org", RrType::kA}, {"c.org", RrType::kA}});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].records.at(0).data, "192.0.2.1");
  EXPECT_EQ(all[1].records.at(0).data, "192.0.2.2");
  EXPECT_EQ(all[2].records.at(0).data, "192.0.2.3");
  EXPECT_EQ(inner_.query_count(), 3);  // b came from the cache
  cache_.LookupAll({{"a.org", RrType::kA}, {"c.org", RrType::kA}});
  EXPECT_EQ(inner_.query_count(), 3);
}

TEST_F(CachingResolverTest, TypesAreSeparate) {
  inner_.Add("example.org", RrType::kA, "192.0.2.1", 0, 60);
  inner_.Add("example.org", RrType::kMx, "mx.example.org", 10, 60);
  EXPECT_EQ(cache_.Lookup("example.org", RrType::kA).records.at(0).data,
            "192.0.2.1");
  EXPECT_EQ(cache_.Lookup("example.org", RrType::kMx).records.at(0).data,
            "mx.example.org");
  EXPECT_EQ(cache_.size(), 2u);
}

}  // namespace
}  // namespace deliverd::auth_checks::dns
