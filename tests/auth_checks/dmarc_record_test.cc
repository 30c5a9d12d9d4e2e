// DMARC record parsing, defaults, lints and record selection (RFC 7489 6.3,
// 6.6.3, 7.1; DMARCbis np/t/psd). Written by us from the RFC's prose.
#include "auth_checks/dmarc/dmarc_record.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks::dmarc {
namespace {

using ::testing::Contains;
using ::testing::Not;

std::vector<std::string> Codes(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.code);
  return out;
}

const Finding* Find(const std::vector<Finding>& findings,
                    const std::string& code) {
  for (const Finding& f : findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

constexpr char kGood[] =
    "v=DMARC1; p=reject; rua=mailto:agg@example.com; ruf=mailto:f@example.com";

TEST(DmarcRecordTest, VersionDetection) {
  EXPECT_TRUE(IsDmarcRecord("v=DMARC1"));
  EXPECT_TRUE(IsDmarcRecord("v=DMARC1; p=none"));
  EXPECT_TRUE(IsDmarcRecord("V = DMARC1 ;p=none"));
  EXPECT_TRUE(IsDmarcRecord("  v=DMARC1;"));
  EXPECT_FALSE(IsDmarcRecord("v=dmarc1; p=none"));  // DMARC1 is exact.
  EXPECT_FALSE(IsDmarcRecord("v=DMARC1 p=none"));   // Missing ';'.
  EXPECT_FALSE(IsDmarcRecord("v=DMARC10; p=none"));
  EXPECT_FALSE(IsDmarcRecord("p=none; v=DMARC1"));
  EXPECT_FALSE(IsDmarcRecord("v=spf1 -all"));
  EXPECT_FALSE(IsDmarcRecord(""));
}

TEST(DmarcRecordTest, Defaults) {
  DmarcRecord r = ParseDmarcRecord("v=DMARC1; p=quarantine");
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.policy, Policy::kQuarantine);
  EXPECT_TRUE(r.policy_present);
  EXPECT_FALSE(r.subdomain_policy.has_value());
  EXPECT_EQ(r.EffectiveSubdomainPolicy(), Policy::kQuarantine);
  EXPECT_EQ(r.EffectiveNonexistentPolicy(), Policy::kQuarantine);
  EXPECT_EQ(r.pct, 100);
  EXPECT_EQ(r.adkim, Alignment::kRelaxed);
  EXPECT_EQ(r.aspf, Alignment::kRelaxed);
  EXPECT_TRUE(r.fo.all_fail);
  EXPECT_FALSE(r.fo.any_fail || r.fo.dkim || r.fo.spf);
  EXPECT_EQ(r.rf, std::vector<std::string>{"afrf"});
  EXPECT_EQ(r.ri, 86400u);
  EXPECT_FALSE(r.testing);
  EXPECT_TRUE(r.rua.empty());
  EXPECT_TRUE(r.ruf.empty());
}

TEST(DmarcRecordTest, EveryTag) {
  DmarcRecord r = ParseDmarcRecord(
      "v=DMARC1; p=reject; sp=quarantine; np=reject; pct=50; "
      "rua=mailto:a@example.com,mailto:b@example.net!10m; "
      "ruf=mailto:f@example.com!500k; adkim=s; aspf=s; fo=1:d:s; rf=afrf; "
      "ri=3600; t=y; psd=n",
      "example.com");
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.policy, Policy::kReject);
  EXPECT_EQ(r.subdomain_policy, Policy::kQuarantine);
  EXPECT_EQ(r.nonexistent_subdomain_policy, Policy::kReject);
  EXPECT_EQ(r.pct, 50);
  ASSERT_EQ(r.rua.size(), 2u);
  EXPECT_EQ(r.rua[0].uri, "mailto:a@example.com");
  EXPECT_EQ(r.rua[0].scheme, "mailto");
  EXPECT_EQ(r.rua[0].domain, "example.com");
  EXPECT_FALSE(r.rua[0].max_size_bytes.has_value());
  EXPECT_EQ(r.rua[1].uri, "mailto:b@example.net");
  EXPECT_EQ(r.rua[1].max_size_bytes, 10u * 1024 * 1024);
  ASSERT_EQ(r.ruf.size(), 1u);
  EXPECT_EQ(r.ruf[0].max_size_bytes, 500u * 1024);
  EXPECT_EQ(r.adkim, Alignment::kStrict);
  EXPECT_EQ(r.aspf, Alignment::kStrict);
  EXPECT_FALSE(r.fo.all_fail);
  EXPECT_TRUE(r.fo.any_fail && r.fo.dkim && r.fo.spf);
  EXPECT_EQ(r.rf, std::vector<std::string>{"afrf"});
  EXPECT_EQ(r.ri, 3600u);
  EXPECT_TRUE(r.testing);
  EXPECT_EQ(r.psd, 'n');
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.unknown_tag")));
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.testing"));
}

TEST(DmarcRecordTest, PolicyValues) {
  EXPECT_EQ(ParseDmarcRecord("v=DMARC1; p=none").policy, Policy::kNone);
  EXPECT_EQ(ParseDmarcRecord("v=DMARC1; p=quarantine").policy,
            Policy::kQuarantine);
  EXPECT_EQ(ParseDmarcRecord("v=DMARC1; p=reject").policy, Policy::kReject);
  EXPECT_EQ(PolicyName(Policy::kQuarantine), "quarantine");
  EXPECT_EQ(AlignmentName(Alignment::kStrict), "s");
}

TEST(DmarcRecordTest, SubdomainAndNonexistentPolicies) {
  DmarcRecord r = ParseDmarcRecord("v=DMARC1; p=reject; sp=none");
  EXPECT_EQ(r.EffectiveSubdomainPolicy(), Policy::kNone);
  EXPECT_EQ(r.EffectiveNonexistentPolicy(), Policy::kNone);
  r = ParseDmarcRecord("v=DMARC1; p=none; np=reject");
  EXPECT_EQ(r.EffectiveSubdomainPolicy(), Policy::kNone);
  EXPECT_EQ(r.EffectiveNonexistentPolicy(), Policy::kReject);
}

TEST(DmarcRecordTest, CaseInsensitiveTagsAndValues) {
  DmarcRecord r = ParseDmarcRecord(
      "V=DMARC1; P=Reject; SP=QUARANTINE; ADKIM=S; Aspf=s; FO=D; T=Y; "
      "RUA=MAILTO:Agg@Example.COM!1G; PCT=100",
      "Example.com.");
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.policy, Policy::kReject);
  EXPECT_EQ(r.subdomain_policy, Policy::kQuarantine);
  EXPECT_EQ(r.adkim, Alignment::kStrict);
  EXPECT_EQ(r.aspf, Alignment::kStrict);
  EXPECT_TRUE(r.fo.dkim);
  EXPECT_TRUE(r.testing);
  ASSERT_EQ(r.rua.size(), 1u);
  EXPECT_EQ(r.rua[0].scheme, "mailto");
  EXPECT_EQ(r.rua[0].domain, "example.com");
  EXPECT_EQ(r.rua[0].max_size_bytes, uint64_t{1} << 30);
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.external_rua")));
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.no_rua")));
  // The version literal itself is case-sensitive.
  EXPECT_FALSE(ParseDmarcRecord("v=Dmarc1; p=reject").valid);
}

TEST(DmarcRecordTest, WhitespaceTolerance) {
  DmarcRecord r = ParseDmarcRecord(
      "  v = DMARC1 ;\tp = reject ;  rua = mailto:a@example.com , "
      "mailto:b@example.com ;fo = 1 : d ;; pct=\t25 ; ");
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.policy, Policy::kReject);
  ASSERT_EQ(r.rua.size(), 2u);
  EXPECT_EQ(r.rua[1].uri, "mailto:b@example.com");
  EXPECT_TRUE(r.fo.any_fail);
  EXPECT_TRUE(r.fo.dkim);
  EXPECT_EQ(r.pct, 25);
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.syntax")));
}

TEST(DmarcRecordTest, VersionMustBeFirst) {
  DmarcRecord r = ParseDmarcRecord("p=reject; v=DMARC1");
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.syntax"));
  r = ParseDmarcRecord("");
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.syntax"));
  r = ParseDmarcRecord("v=DMARC1 p=reject");
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.syntax"));
}

TEST(DmarcRecordTest, SyntaxErrorsAreSkipped) {
  DmarcRecord r = ParseDmarcRecord(
      "v=DMARC1; p=reject; garbage; =x; 1x=y; rua=mailto:a@example.com");
  EXPECT_TRUE(r.valid);  // Syntax errors in the rest are ignored (6.6.3).
  EXPECT_EQ(r.policy, Policy::kReject);
  int syntax = 0;
  for (const Finding& f : r.findings) {
    if (f.code == "dmarc.syntax") {
      ++syntax;
      EXPECT_EQ(f.severity, Finding::kError);
      EXPECT_FALSE(f.fix.empty());
    }
  }
  EXPECT_EQ(syntax, 3);
}

TEST(DmarcRecordTest, DuplicateTagInvalidatesRecord) {
  DmarcRecord r =
      ParseDmarcRecord("v=DMARC1; p=none; P=reject; rua=mailto:a@example.com");
  EXPECT_FALSE(r.valid);
  const Finding* f = Find(r.findings, "dmarc.duplicate_tag");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kError);
  EXPECT_NE(f->message.find("'p'"), std::string::npos);
  EXPECT_FALSE(ParseDmarcRecord("v=DMARC1; p=none; v=DMARC1").valid);
}

TEST(DmarcRecordTest, UnknownTagIsInfo) {
  DmarcRecord r =
      ParseDmarcRecord("v=DMARC1; p=reject; foo=bar; rua=mailto:a@example.com");
  EXPECT_TRUE(r.valid);
  const Finding* f = Find(r.findings, "dmarc.unknown_tag");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kInfo);
}

TEST(DmarcRecordTest, InvalidValuesFallBackToDefaults) {
  struct Case {
    const char* tag;
    const char* code;
  };
  for (const Case& c : std::vector<Case>{{"pct=101", "dmarc.invalid_pct"},
                                         {"pct=-1", "dmarc.invalid_pct"},
                                         {"pct=5a", "dmarc.invalid_pct"},
                                         {"pct=", "dmarc.invalid_pct"},
                                         {"adkim=x", "dmarc.invalid_adkim"},
                                         {"aspf=relaxed", "dmarc.invalid_aspf"},
                                         {"fo=2", "dmarc.invalid_fo"},
                                         {"fo=1:x", "dmarc.invalid_fo"},
                                         {"rf=iodef", "dmarc.invalid_rf"},
                                         {"ri=abc", "dmarc.invalid_ri"},
                                         {"ri=99999999999", "dmarc.invalid_ri"},
                                         {"t=maybe", "dmarc.invalid_t"},
                                         {"np=block", "dmarc.invalid_np"},
                                         {"psd=x", "dmarc.invalid_psd"}}) {
    DmarcRecord r = ParseDmarcRecord(
        std::string("v=DMARC1; p=reject; rua=mailto:a@example.com; ") + c.tag);
    EXPECT_TRUE(r.valid) << c.tag;
    const Finding* f = Find(r.findings, c.code);
    ASSERT_NE(f, nullptr) << c.tag;
    EXPECT_EQ(f->severity, Finding::kError) << c.tag;
    EXPECT_FALSE(f->fix.empty()) << c.tag;
    EXPECT_EQ(r.pct, 100) << c.tag;
    EXPECT_EQ(r.adkim, Alignment::kRelaxed) << c.tag;
    EXPECT_EQ(r.aspf, Alignment::kRelaxed) << c.tag;
    EXPECT_TRUE(r.fo.all_fail) << c.tag;
    EXPECT_EQ(r.ri, 86400u) << c.tag;
    EXPECT_FALSE(r.testing) << c.tag;
    EXPECT_FALSE(r.nonexistent_subdomain_policy.has_value()) << c.tag;
  }
}

TEST(DmarcRecordTest, PctBounds) {
  EXPECT_EQ(ParseDmarcRecord("v=DMARC1; p=reject; pct=0").pct, 0);
  EXPECT_EQ(ParseDmarcRecord("v=DMARC1; p=reject; pct=100").pct, 100);
  EXPECT_EQ(ParseDmarcRecord("v=DMARC1; p=reject; pct=007").pct, 7);
}

TEST(DmarcRecordTest, ReportUris) {
  DmarcRecord r = ParseDmarcRecord(
      "v=DMARC1; p=reject; rua=mailto:ok@example.com,notauri,"
      "mailto:nodomain,mailto:x@example.com!12q,mailto:y@example.com!");
  ASSERT_EQ(r.rua.size(), 1u);
  int bad = 0;
  for (const Finding& f : r.findings) bad += f.code == "dmarc.invalid_rua";
  EXPECT_EQ(bad, 4);

  r = ParseDmarcRecord(
      "v=DMARC1; p=reject; rua=https://reports.example.com/dmarc");
  ASSERT_EQ(r.rua.size(), 1u);
  EXPECT_EQ(r.rua[0].scheme, "https");
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.unsupported_uri_scheme"));
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.no_rua"));

  r = ParseDmarcRecord("v=DMARC1; p=reject; ruf=mailto:bad");
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.invalid_ruf"));
}

TEST(DmarcRecordTest, MissingPolicyWithRuaActsAsNone) {
  DmarcRecord r =
      ParseDmarcRecord("v=DMARC1; rua=mailto:a@example.com", "example.com");
  EXPECT_TRUE(r.valid);
  EXPECT_FALSE(r.policy_present);
  EXPECT_EQ(r.policy, Policy::kNone);
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.missing_policy"));
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.policy_none"));
}

TEST(DmarcRecordTest, MissingOrInvalidPolicyWithoutRuaIsNotApplied) {
  DmarcRecord r = ParseDmarcRecord("v=DMARC1");
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.missing_policy"));
  r = ParseDmarcRecord("v=DMARC1; p=block");
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.invalid_p"));
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.missing_policy")));
}

TEST(DmarcRecordTest, InvalidSubdomainPolicyFallsBackToNone) {
  DmarcRecord r = ParseDmarcRecord(
      "v=DMARC1; p=reject; sp=bogus; rua=mailto:a@example.com");
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.policy, Policy::kNone);
  EXPECT_FALSE(r.subdomain_policy.has_value());
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.invalid_sp"));
  r = ParseDmarcRecord("v=DMARC1; p=reject; sp=bogus");
  EXPECT_FALSE(r.valid);
}

TEST(DmarcRecordTest, CleanRecordHasNoFindings) {
  DmarcRecord r = ParseDmarcRecord(kGood, "example.com");
  EXPECT_TRUE(r.valid);
  EXPECT_TRUE(r.findings.empty()) << Codes(r.findings).size();
}

TEST(DmarcRecordTest, LintPolicyNone) {
  DmarcRecord r =
      ParseDmarcRecord("v=DMARC1; p=none; rua=mailto:a@example.com");
  const Finding* f = Find(r.findings, "dmarc.policy_none");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kWarning);
  EXPECT_FALSE(f->fix.empty());
}

TEST(DmarcRecordTest, LintNoRua) {
  DmarcRecord r = ParseDmarcRecord("v=DMARC1; p=reject");
  const Finding* f = Find(r.findings, "dmarc.no_rua");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kWarning);
  // Only invalid rua entries: still no aggregate reports.
  r = ParseDmarcRecord("v=DMARC1; p=reject; rua=nope");
  EXPECT_THAT(Codes(r.findings), Contains("dmarc.no_rua"));
}

TEST(DmarcRecordTest, LintWeakSubdomainPolicy) {
  DmarcRecord r =
      ParseDmarcRecord("v=DMARC1; p=reject; sp=none; rua=mailto:a@example.com");
  const Finding* f = Find(r.findings, "dmarc.weak_subdomain_policy");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kWarning);
  r = ParseDmarcRecord(
      "v=DMARC1; p=quarantine; sp=reject; rua=mailto:a@example.com");
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.weak_subdomain_policy")));
  r = ParseDmarcRecord(
      "v=DMARC1; p=reject; sp=reject; rua=mailto:a@example.com");
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.weak_subdomain_policy")));
}

TEST(DmarcRecordTest, LintPctPartial) {
  DmarcRecord r = ParseDmarcRecord(
      "v=DMARC1; p=quarantine; pct=20; rua=mailto:a@example.com");
  const Finding* f = Find(r.findings, "dmarc.pct_partial");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kWarning);
  r = ParseDmarcRecord("v=DMARC1; p=none; pct=20; rua=mailto:a@example.com");
  f = Find(r.findings, "dmarc.pct_partial");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kInfo);
  r = ParseDmarcRecord("v=DMARC1; p=reject; pct=100; rua=mailto:a@example.com");
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.pct_partial")));
}

TEST(DmarcRecordTest, LintExternalRua) {
  DmarcRecord r = ParseDmarcRecord(
      "v=DMARC1; p=reject; rua=mailto:a@example.com,"
      "mailto:b@reports.example.com,mailto:c@vendor.example.net; "
      "ruf=mailto:d@otherexample.com",
      "example.com");
  int external = 0;
  for (const Finding& f : r.findings) {
    if (f.code != "dmarc.external_rua") continue;
    ++external;
    EXPECT_EQ(f.severity, Finding::kInfo);
    EXPECT_NE(f.fix.find("._report._dmarc."), std::string::npos);
  }
  EXPECT_EQ(external, 2);  // vendor.example.net and otherexample.com.
  // Without a domain the lint is skipped.
  r = ParseDmarcRecord("v=DMARC1; p=reject; rua=mailto:c@vendor.example.net");
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.external_rua")));
}

TEST(DmarcRecordTest, NoLintsOnRecordThatIsNotApplied) {
  DmarcRecord r = ParseDmarcRecord("v=DMARC1; p=none; p=none");
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.policy_none")));
  EXPECT_THAT(Codes(r.findings), Not(Contains("dmarc.no_rua")));
}

dns::Answer Txt(std::vector<std::string> texts) {
  dns::Answer a = dns::Answer::Of(dns::Outcome::kOk);
  a.ttl = 300;
  for (std::string& t : texts) a.records.push_back({std::move(t), 0, 300});
  return a;
}

TEST(SelectDmarcRecordTest, OneRecordAmongOtherTxt) {
  DmarcLookup l = SelectDmarcRecord(
      Txt({"some-verification=abc", kGood, "v=spf1 -all"}), "example.com");
  EXPECT_EQ(l.status, DmarcLookup::kFound);
  ASSERT_TRUE(l.record.has_value());
  EXPECT_EQ(l.record->policy, Policy::kReject);
  EXPECT_TRUE(l.findings.empty());
  EXPECT_EQ(l.ttl, 300u);
}

TEST(SelectDmarcRecordTest, RecordFindingsAreCopied) {
  DmarcLookup l = SelectDmarcRecord(Txt({"v=DMARC1; p=none"}), "example.com");
  EXPECT_EQ(l.status, DmarcLookup::kFound);
  EXPECT_THAT(Codes(l.findings), Contains("dmarc.policy_none"));
  EXPECT_THAT(Codes(l.findings), Contains("dmarc.no_rua"));
}

TEST(SelectDmarcRecordTest, NoRecord) {
  for (dns::Answer a :
       {dns::Answer::Of(dns::Outcome::kNxDomain),
        dns::Answer::Of(dns::Outcome::kNoData), Txt({"v=spf1 -all"})}) {
    DmarcLookup l = SelectDmarcRecord(a, "example.com");
    EXPECT_EQ(l.status, DmarcLookup::kNoRecord);
    EXPECT_FALSE(l.record.has_value());
    const Finding* f = Find(l.findings, "dmarc.no_record");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->severity, Finding::kError);
    EXPECT_NE(f->message.find("_dmarc.example.com"), std::string::npos);
  }
}

TEST(SelectDmarcRecordTest, NearMissIsExplained) {
  DmarcLookup l = SelectDmarcRecord(Txt({"v=dmarc1; p=reject"}), "example.com");
  EXPECT_EQ(l.status, DmarcLookup::kNoRecord);
  const Finding* f = Find(l.findings, "dmarc.no_record");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("looks like DMARC"), std::string::npos);
}

TEST(SelectDmarcRecordTest, MultipleRecordsActAsNone) {
  DmarcLookup l = SelectDmarcRecord(
      Txt({"v=DMARC1; p=reject", "v=DMARC1; p=none"}), "example.com");
  EXPECT_EQ(l.status, DmarcLookup::kMultipleRecords);
  EXPECT_FALSE(l.record.has_value());
  const Finding* f = Find(l.findings, "dmarc.multiple_records");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kError);
}

TEST(SelectDmarcRecordTest, DnsFailure) {
  for (dns::Outcome o :
       {dns::Outcome::kServFail, dns::Outcome::kTimeout, dns::Outcome::kRefused,
        dns::Outcome::kMalformed, dns::Outcome::kError}) {
    DmarcLookup l =
        SelectDmarcRecord(dns::Answer::Of(o, "boom"), "example.com");
    EXPECT_EQ(l.status, DmarcLookup::kDnsFailure);
    EXPECT_FALSE(l.record.has_value());
    const Finding* f = Find(l.findings, "dmarc.dns_failure");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->severity, Finding::kWarning);
    EXPECT_NE(f->message.find("boom"), std::string::npos);
  }
}

}  // namespace
}  // namespace deliverd::auth_checks::dmarc
