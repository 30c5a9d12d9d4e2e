#include "auth_checks/domain_check.h"

#include "auth_checks/dns/fake_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks {
namespace {

bool HasCode(const DomainReport& r, const std::string& code) {
  for (const Finding& f : r.findings) {
    if (f.code == code) return true;
  }
  return false;
}

TEST(CheckDomain, ProbeWalksEveryIncludeAndCountsLookups) {
  dns::FakeResolver dns;
  dns.Add("example.com", dns::RrType::kTxt,
          "v=spf1 ip4:0.0.0.0/5 include:a.example.com include:b.example.com -all");
  dns.Add("a.example.com", dns::RrType::kTxt, "v=spf1 mx a -all");
  dns.Add("b.example.com", dns::RrType::kTxt, "v=spf1 include:c.example.com -all");
  dns.Add("c.example.com", dns::RrType::kTxt, "v=spf1 ip4:198.51.100.0/24 -all");
  dns.Add("a.example.com", dns::RrType::kMx, "mx.example.com", 10);
  dns.Add("mx.example.com", dns::RrType::kA, "198.51.100.1");
  dns.Add("a.example.com", dns::RrType::kA, "198.51.100.2");
  dns.Add("example.com", dns::RrType::kMx, "mx.example.com", 10);
  dns.Add("_dmarc.example.com", dns::RrType::kTxt,
          "v=DMARC1; p=reject; rua=mailto:d@example.com");
  DomainReport r = CheckDomain(dns, "example.com", {});
  // include a (mx, a), include b (include c): 5 lookups, and nothing in
  // 0.0.0.0/5 stopped the walk... except the probe address 0.0.0.1 is in it.
  EXPECT_EQ(r.spf_probe.dns_lookups, 0);
  EXPECT_EQ(r.spf_probe.matched_term, "ip4:0.0.0.0/5");

  dns::FakeResolver plain;
  plain.Add("example.com", dns::RrType::kTxt,
            "v=spf1 include:a.example.com include:b.example.com -all");
  plain.Add("a.example.com", dns::RrType::kTxt, "v=spf1 mx a -all");
  plain.Add("b.example.com", dns::RrType::kTxt,
            "v=spf1 include:c.example.com -all");
  plain.Add("c.example.com", dns::RrType::kTxt, "v=spf1 ip4:198.51.100.0/24 -all");
  plain.Add("a.example.com", dns::RrType::kMx, "mx.example.com", 10);
  plain.Add("mx.example.com", dns::RrType::kA, "198.51.100.1");
  plain.Add("a.example.com", dns::RrType::kA, "198.51.100.2");
  plain.Add("example.com", dns::RrType::kMx, "mx.example.com", 10);
  plain.Add("_dmarc.example.com", dns::RrType::kTxt,
            "v=DMARC1; p=reject; rua=mailto:d@example.com");
  DomainReport walked = CheckDomain(plain, "example.com", {{"s1"}});
  EXPECT_EQ(walked.spf_probe.dns_lookups, 5);
  ASSERT_EQ(walked.spf_probe.trace.children.size(), 2u);
  EXPECT_EQ(walked.spf_probe.trace.children[1].children.size(), 1u);
  EXPECT_TRUE(HasCode(walked, "dkim.no_record"));  // s1 not published
  EXPECT_EQ(walked.verdict, DomainVerdict::kErrors);
  EXPECT_EQ(walked.ttl, 60u);  // the fake resolver's negative-answer TTL
}

TEST(CheckDomain, ElevenLookupsBreakTheRecord) {
  dns::FakeResolver dns;
  std::string record = "v=spf1";
  for (int i = 0; i < 11; ++i) {
    std::string name = "i" + std::to_string(i) + ".example.com";
    record += " include:" + name;
    dns.Add(name, dns::RrType::kTxt, "v=spf1 ip4:198.51.100." + std::to_string(i) + " -all");
  }
  dns.Add("example.com", dns::RrType::kTxt, record + " -all");
  DomainReport r = CheckDomain(dns, "example.com", {{"s1"}});
  EXPECT_TRUE(HasCode(r, "spf.too_many_lookups"));
  EXPECT_EQ(r.verdict, DomainVerdict::kErrors);
}

TEST(CheckDomain, VerdictFollowsTheWorstFinding) {
  dns::FakeResolver dns;
  dns.Add("example.com", dns::RrType::kTxt, "v=spf1 mx ~all");
  dns.Add("example.com", dns::RrType::kMx, "mx.example.com", 10);
  dns.Add("mx.example.com", dns::RrType::kA, "198.51.100.1");
  dns.Add("_dmarc.example.com", dns::RrType::kTxt,
          "v=DMARC1; p=none; rua=mailto:d@example.com");
  dns.Add("s1._domainkey.example.com", dns::RrType::kTxt,
          "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  DomainReport r = CheckDomain(dns, "example.com", {{"s1"}});
  EXPECT_TRUE(HasCode(r, "dmarc.policy_none"));
  EXPECT_EQ(r.verdict, DomainVerdict::kWarnings);
  EXPECT_EQ(r.dkim[0].key.key_type, "ed25519");
  EXPECT_EQ(DomainVerdictName(r.verdict), "warnings");
}

}  // namespace
}  // namespace deliverd::auth_checks
