#include "auth_checks/dmarc/dmarc_discovery.h"

#include "auth_checks/dns/fake_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks::dmarc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool HasCode(const std::vector<Finding>& findings, const std::string& code) {
  for (const Finding& f : findings) {
    if (f.code == code) return true;
  }
  return false;
}

TEST(OrganizationalDomain, UsesThePublicSuffixList) {
  EXPECT_EQ(OrganizationalDomain("mail.shop.example.co.uk"), "example.co.uk");
  EXPECT_EQ(OrganizationalDomain("a.b.example.com"), "example.com");
  EXPECT_EQ(OrganizationalDomain("example.com"), "example.com");
  // A private-section suffix: each user's name is its own organisation.
  EXPECT_EQ(OrganizationalDomain("x.someone.github.io"), "someone.github.io");
}

TEST(TreeWalkNames, ShortensOneLabelAtATime) {
  EXPECT_THAT(TreeWalkNames("a.b.example.com"),
              ElementsAre("_dmarc.a.b.example.com", "_dmarc.b.example.com",
                          "_dmarc.example.com", "_dmarc.com"));
  EXPECT_THAT(TreeWalkNames("example"), ElementsAre("_dmarc.example"));
}

TEST(TreeWalkNames, LongNamesJumpToSevenLabels) {
  std::vector<std::string> names =
      TreeWalkNames("l1.l2.l3.l4.l5.l6.l7.l8.l9.example");
  ASSERT_EQ(names.size(), 8u);
  EXPECT_EQ(names[0], "_dmarc.l1.l2.l3.l4.l5.l6.l7.l8.l9.example");
  EXPECT_EQ(names[1], "_dmarc.l4.l5.l6.l7.l8.l9.example");
  EXPECT_EQ(names.back(), "_dmarc.example");
}

TEST(DiscoverDmarc, RecordAtTheDomainItself) {
  dns::FakeResolver dns;
  dns.Add("_dmarc.example.com", dns::RrType::kTxt,
          "v=DMARC1; p=reject; rua=mailto:d@example.com");
  DmarcDiscovery d = DiscoverDmarc(dns, "example.com");
  EXPECT_EQ(d.found_at, "example.com");
  EXPECT_FALSE(d.inherited);
  EXPECT_EQ(d.applied_policy, Policy::kReject);
  EXPECT_THAT(d.queried, ElementsAre("_dmarc.example.com"));
  EXPECT_FALSE(HasCode(d.findings, "dmarc.no_record"));
}

TEST(DiscoverDmarc, SubdomainInheritsTheParentsSubdomainPolicy) {
  dns::FakeResolver dns;
  dns.Add("_dmarc.example.com", dns::RrType::kTxt,
          "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com");
  DmarcDiscovery d = DiscoverDmarc(dns, "news.mail.example.com");
  EXPECT_EQ(d.found_at, "example.com");
  EXPECT_TRUE(d.inherited);
  EXPECT_EQ(d.organizational_domain, "example.com");
  EXPECT_EQ(d.applied_policy, Policy::kQuarantine);
  EXPECT_THAT(d.queried, ElementsAre("_dmarc.news.mail.example.com",
                                     "_dmarc.mail.example.com",
                                     "_dmarc.example.com"));
  EXPECT_TRUE(HasCode(d.findings, "dmarc.inherited"));
  EXPECT_FALSE(HasCode(d.findings, "dmarc.no_record"));
}

TEST(DiscoverDmarc, NothingAnywhereIsAnErrorWithAFix) {
  dns::FakeResolver dns;
  DmarcDiscovery d = DiscoverDmarc(dns, "mail.example.co.uk");
  EXPECT_EQ(d.found_at, "");
  EXPECT_FALSE(d.applied_policy.has_value());
  ASSERT_TRUE(HasCode(d.findings, "dmarc.no_record"));
  for (const Finding& f : d.findings) {
    if (f.code != "dmarc.no_record") continue;
    EXPECT_EQ(f.severity, Finding::kError);
    EXPECT_THAT(f.message, HasSubstr("nor at any parent"));
    EXPECT_THAT(f.fix, HasSubstr("_dmarc.example.co.uk"));
  }
  EXPECT_EQ(d.queried.size(), 4u);  // down to "uk"
}

TEST(DiscoverDmarc, DnsFailureStopsTheWalk) {
  dns::FakeResolver dns;
  dns.SetFailure("_dmarc.mail.example.com", dns::Outcome::kServFail);
  dns.Add("_dmarc.example.com", dns::RrType::kTxt, "v=DMARC1; p=reject");
  DmarcDiscovery d = DiscoverDmarc(dns, "a.mail.example.com");
  EXPECT_EQ(d.found_at, "");
  EXPECT_TRUE(HasCode(d.findings, "dmarc.dns_failure"));
  EXPECT_THAT(d.queried, ElementsAre("_dmarc.a.mail.example.com",
                                     "_dmarc.mail.example.com"));
}

TEST(DiscoverDmarc, InvalidRecordAtTheDomainIsReportedNotSkipped) {
  dns::FakeResolver dns;
  dns.Add("_dmarc.example.com", dns::RrType::kTxt, "v=DMARC1; p=bogus");
  dns.Add("_dmarc.com", dns::RrType::kTxt, "v=DMARC1; p=reject");
  DmarcDiscovery d = DiscoverDmarc(dns, "example.com");
  EXPECT_EQ(d.found_at, "example.com");
  EXPECT_TRUE(HasCode(d.findings, "dmarc.invalid_p"));
  EXPECT_EQ(d.queried.size(), 1u);
}

}  // namespace
}  // namespace deliverd::auth_checks::dmarc
