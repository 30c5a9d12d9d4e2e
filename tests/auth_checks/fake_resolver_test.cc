// FakeResolver: the outcomes the SPF tests rely on must mirror DNS.
#include "auth_checks/dns/fake_resolver.h"

#include "gtest/gtest.h"

namespace deliverd::auth_checks::dns {
namespace {

TEST(FakeResolverTest, Outcomes) {
  FakeResolver zone;
  zone.Add("host.example", RrType::kA, "192.0.2.1", 0, 120);
  zone.Add("deep.under.tree.example", RrType::kTxt, "x");
  zone.SetFailure("bad.example", RrType::kTxt, Outcome::kServFail);
  zone.SetFailure("slow.example", Outcome::kTimeout);

  Answer a = zone.Lookup("HOST.example.", RrType::kA);
  EXPECT_EQ(a.outcome, Outcome::kOk);
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].data, "192.0.2.1");
  EXPECT_EQ(a.ttl, 120u);
  EXPECT_EQ(zone.Lookup("host.example", RrType::kMx).outcome, Outcome::kNoData);
  EXPECT_EQ(zone.Lookup("nothing.example", RrType::kA).outcome,
            Outcome::kNxDomain);
  // An empty non-terminal exists (RFC 8020): NODATA, not NXDOMAIN.
  EXPECT_EQ(zone.Lookup("tree.example", RrType::kA).outcome, Outcome::kNoData);
  EXPECT_EQ(zone.Lookup("bad.example", RrType::kTxt).outcome,
            Outcome::kServFail);
  EXPECT_EQ(zone.Lookup("bad.example", RrType::kA).outcome, Outcome::kNxDomain);
  EXPECT_EQ(zone.Lookup("slow.example", RrType::kMx).outcome, Outcome::kTimeout);
  EXPECT_EQ(zone.query_count(), 7);
}

TEST(FakeResolverTest, LookupAllKeepsOrder) {
  FakeResolver zone;
  zone.Add("a.example", RrType::kA, "192.0.2.1");
  zone.Add("b.example", RrType::kMx, "mx.b.example", 5);
  std::vector<Answer> answers = zone.LookupAll(
      {{"b.example", RrType::kMx}, {"a.example", RrType::kA},
       {"c.example", RrType::kA}});
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].records.at(0).preference, 5);
  EXPECT_EQ(answers[1].records.at(0).data, "192.0.2.1");
  EXPECT_EQ(answers[2].outcome, Outcome::kNxDomain);
}

}  // namespace
}  // namespace deliverd::auth_checks::dns
