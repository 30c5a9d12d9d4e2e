// SPF record parsing: terms, qualifiers, mechanisms, CIDR lengths, modifiers
// and the syntax errors that make a record a permerror (RFC 7208 4.6, 5, 6,
// 12).
#include "auth_checks/spf/spf_record.h"

#include <string>

#include "gtest/gtest.h"

namespace deliverd::auth_checks::spf {
namespace {

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<SpfRecord> r = ParseSpfRecord(text);
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(SpfRecordTest, VersionTag) {
  EXPECT_TRUE(IsSpfRecord("v=spf1"));
  EXPECT_TRUE(IsSpfRecord("V=SPF1 -all"));
  EXPECT_FALSE(IsSpfRecord("v=spf10 -all"));
  EXPECT_FALSE(IsSpfRecord("v=spf1-all"));
  EXPECT_FALSE(IsSpfRecord(" v=spf1 -all"));
  EXPECT_FALSE(IsSpfRecord("spf2.0/pra -all"));
}

TEST(SpfRecordTest, AllMechanismsAndQualifiers) {
  absl::StatusOr<SpfRecord> r = ParseSpfRecord(
      "v=spf1 +a -mx ~ptr ?include:_spf.example.com ip4:192.0.2.0/24 "
      "ip6:2001:db8::/32 exists:%{i}.x.example.com all");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->mechanisms.size(), 8u);
  EXPECT_EQ(r->mechanisms[0].kind, MechanismKind::kA);
  EXPECT_EQ(r->mechanisms[0].qualifier, Qualifier::kPass);
  EXPECT_EQ(r->mechanisms[1].kind, MechanismKind::kMx);
  EXPECT_EQ(r->mechanisms[1].qualifier, Qualifier::kFail);
  EXPECT_EQ(r->mechanisms[2].kind, MechanismKind::kPtr);
  EXPECT_EQ(r->mechanisms[2].qualifier, Qualifier::kSoftFail);
  EXPECT_EQ(r->mechanisms[3].kind, MechanismKind::kInclude);
  EXPECT_EQ(r->mechanisms[3].qualifier, Qualifier::kNeutral);
  EXPECT_EQ(r->mechanisms[3].domain_spec, "_spf.example.com");
  EXPECT_EQ(r->mechanisms[4].kind, MechanismKind::kIp4);
  EXPECT_EQ(r->mechanisms[4].cidr4, 24);
  EXPECT_EQ(r->mechanisms[5].kind, MechanismKind::kIp6);
  EXPECT_EQ(r->mechanisms[5].cidr6, 32);
  EXPECT_EQ(r->mechanisms[6].kind, MechanismKind::kExists);
  EXPECT_EQ(r->mechanisms[7].kind, MechanismKind::kAll);
  EXPECT_EQ(r->mechanisms[7].qualifier, Qualifier::kPass);
  int dns_terms = 0;
  for (const Mechanism& m : r->mechanisms) dns_terms += m.QueriesDns();
  EXPECT_EQ(dns_terms, 5);
}

TEST(SpfRecordTest, MechanismNamesAreCaseInsensitive) {
  absl::StatusOr<SpfRecord> r = ParseSpfRecord("v=spf1 MX IP4:192.0.2.1 -ALL");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->mechanisms[0].kind, MechanismKind::kMx);
  EXPECT_EQ(r->mechanisms[2].kind, MechanismKind::kAll);
}

TEST(SpfRecordTest, DualCidrLengths) {
  absl::StatusOr<SpfRecord> r =
      ParseSpfRecord("v=spf1 a/24//64 mx:mail.example.com//96 a:x.example.com/16");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->mechanisms[0].cidr4, 24);
  EXPECT_EQ(r->mechanisms[0].cidr6, 64);
  EXPECT_EQ(r->mechanisms[0].domain_spec, "");
  EXPECT_EQ(r->mechanisms[1].cidr4, 32);
  EXPECT_EQ(r->mechanisms[1].cidr6, 96);
  EXPECT_EQ(r->mechanisms[1].domain_spec, "mail.example.com");
  EXPECT_EQ(r->mechanisms[2].cidr4, 16);
  EXPECT_EQ(r->mechanisms[2].cidr6, 128);
}

TEST(SpfRecordTest, BadCidrLengths) {
  EXPECT_NE(ErrorOf("v=spf1 a/33"), "");
  EXPECT_NE(ErrorOf("v=spf1 a//129"), "");
  EXPECT_NE(ErrorOf("v=spf1 ip4:192.0.2.0/024"), "");
  EXPECT_NE(ErrorOf("v=spf1 ip6:::1/129"), "");
  EXPECT_NE(ErrorOf("v=spf1 ptr/24"), "");
  EXPECT_NE(ErrorOf("v=spf1 include:x.example.com/24"), "");
}

TEST(SpfRecordTest, ModifiersRedirectExpAndUnknown) {
  absl::StatusOr<SpfRecord> r = ParseSpfRecord(
      "v=spf1 -all redirect=_spf.example.com exp=why.example.com "
      "moo.cow-far_out=%{d}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->redirect.value_or(""), "_spf.example.com");
  EXPECT_EQ(r->exp.value_or(""), "why.example.com");
  ASSERT_EQ(r->unknown_modifiers.size(), 1u);
  EXPECT_EQ(r->unknown_modifiers[0].name, "moo.cow-far_out");
}

TEST(SpfRecordTest, DuplicateModifiersArePermerror) {
  EXPECT_NE(ErrorOf("v=spf1 redirect=a.example.com redirect=b.example.com")
                .find("duplicate redirect"),
            std::string::npos);
  EXPECT_NE(ErrorOf("v=spf1 exp=a.example.com exp=b.example.com")
                .find("duplicate exp"),
            std::string::npos);
}

TEST(SpfRecordTest, ErrorsNameTheTerm) {
  EXPECT_EQ(ErrorOf("v=spf1 a -frobnicate"),
            "term 2 \"-frobnicate\": unknown mechanism");
  EXPECT_EQ(ErrorOf("v=spf1 ip4:1.2.3"),
            "term 1 \"ip4:1.2.3\": invalid IPv4 address");
  EXPECT_NE(ErrorOf("v=spf1 all:example.com").find("takes no argument"),
            std::string::npos);
  EXPECT_NE(ErrorOf("v=spf1 include").find("domain-spec is required"),
            std::string::npos);
  EXPECT_NE(ErrorOf("v=spf1 exists:").find("empty argument"),
            std::string::npos);
}

TEST(SpfRecordTest, DomainEndRule) {
  EXPECT_EQ(ErrorOf("v=spf1 a:example.com."), "");
  EXPECT_EQ(ErrorOf("v=spf1 a:%{d}"), "");
  EXPECT_EQ(ErrorOf("v=spf1 a:x-1.example.co-m"), "");
  EXPECT_NE(ErrorOf("v=spf1 a:localhost"), "");
  EXPECT_NE(ErrorOf("v=spf1 a:192.0.2.1"), "");  // Numeric top label.
  EXPECT_NE(ErrorOf("v=spf1 a:example.-com"), "");
}

TEST(SpfRecordTest, BadMacroInDomainSpec) {
  EXPECT_NE(ErrorOf("v=spf1 exists:%{q}.example.com").find("unknown macro"),
            std::string::npos);
  EXPECT_NE(ErrorOf("v=spf1 include:%{d0}.example.com"), "");
  EXPECT_NE(ErrorOf("v=spf1 a:%x.example.com"), "");
  // c, r and t belong to explanations only.
  EXPECT_NE(ErrorOf("v=spf1 exists:%{c}.example.com"), "");
}

TEST(SpfRecordTest, NonAsciiIsPermerror) {
  EXPECT_NE(ErrorOf("v=spf1 a:caf\xc3\xa9.example.com -all"), "");
  EXPECT_NE(ErrorOf(std::string("v=spf1 -all\0", 12)), "");
}

TEST(SpfRecordTest, ExtraSpacesAreAllowed) {
  absl::StatusOr<SpfRecord> r = ParseSpfRecord("v=spf1   a    -all  ");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->mechanisms.size(), 2u);
}

}  // namespace
}  // namespace deliverd::auth_checks::spf
