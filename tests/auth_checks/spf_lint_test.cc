#include "auth_checks/spf/spf_lint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks::spf {
namespace {

std::vector<std::string> Codes(const std::vector<Finding>& findings) {
  std::vector<std::string> codes;
  for (const Finding& f : findings) codes.push_back(f.code);
  return codes;
}

dns::Answer Txt(std::vector<std::string> records) {
  dns::Answer a;
  a.outcome = dns::Outcome::kOk;
  a.ttl = 300;
  for (std::string& r : records) a.records.push_back({std::move(r), 0, 300});
  return a;
}

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(SelectSpfRecord, PicksTheOneRecordAmongOtherTxt) {
  PublishedSpf p = SelectSpfRecord(
      Txt({"google-site-verification=x", "v=spf1 mx -all"}), "example.com");
  EXPECT_EQ(p.status, PublishedSpf::kFound);
  EXPECT_EQ(p.record, "v=spf1 mx -all");
  EXPECT_THAT(p.findings, IsEmpty());
  EXPECT_EQ(p.ttl, 300u);
}

TEST(SelectSpfRecord, NoneSeveralOrFailing) {
  EXPECT_THAT(Codes(SelectSpfRecord(Txt({"hello"}), "e.com").findings),
              Contains("spf.no_record"));
  EXPECT_THAT(Codes(SelectSpfRecord(dns::Answer::Of(dns::Outcome::kNxDomain),
                                    "e.com")
                        .findings),
              Contains("spf.no_record"));
  EXPECT_THAT(
      Codes(SelectSpfRecord(Txt({"v=spf1 -all", "v=spf1 mx -all"}), "e.com")
                .findings),
      Contains("spf.multiple_records"));
  PublishedSpf failed =
      SelectSpfRecord(dns::Answer::Of(dns::Outcome::kTimeout), "e.com");
  EXPECT_EQ(failed.status, PublishedSpf::kDnsFailure);
  EXPECT_EQ(failed.findings[0].severity, Finding::kWarning);
}

TEST(SelectSpfRecord, LintsTheRecord) {
  auto codes = [](const char* record) {
    return Codes(SelectSpfRecord(Txt({record}), "e.com").findings);
  };
  EXPECT_THAT(codes("v=spf1 +all"), Contains("spf.plus_all"));
  EXPECT_THAT(codes("v=spf1 mx all"), Contains("spf.plus_all"));
  EXPECT_THAT(codes("v=spf1 mx ?all"), Contains("spf.neutral_all"));
  EXPECT_THAT(codes("v=spf1 mx"), Contains("spf.no_all"));
  EXPECT_THAT(codes("v=spf1 redirect=_spf.e.com"), Not(Contains("spf.no_all")));
  EXPECT_THAT(codes("v=spf1 -all redirect=_spf.e.com"),
              Contains("spf.redirect_ignored"));
  EXPECT_THAT(codes("v=spf1 ptr -all"), Contains("spf.ptr"));
  EXPECT_THAT(codes("v=spf1 foo=bar -all"), Contains("spf.unknown_modifier"));
  EXPECT_THAT(codes("v=spf1 ip4:300.1.1.1 -all"), Contains("spf.syntax"));
  EXPECT_THAT(codes("v=spf1 mx ~all"), IsEmpty());
  std::string long_record = "v=spf1";
  for (int i = 0; i < 40; ++i) long_record += " ip4:198.51.100." + std::to_string(i);
  long_record += " -all";
  EXPECT_THAT(codes(long_record.c_str()), Contains("spf.long_record"));
}

TEST(LintSpfEvaluation, CountsAgainstTheLimits) {
  SpfCheckResult probe;
  probe.result = SpfResult::kFail;
  probe.dns_lookups = 4;
  EXPECT_THAT(LintSpfEvaluation(probe), IsEmpty());
  probe.dns_lookups = 9;
  EXPECT_THAT(Codes(LintSpfEvaluation(probe)), Contains("spf.lookups_near_limit"));
  probe.dns_lookups = 11;
  probe.result = SpfResult::kPermError;
  probe.problem = "too many DNS lookups";
  std::vector<std::string> over = Codes(LintSpfEvaluation(probe));
  EXPECT_THAT(over, Contains("spf.too_many_lookups"));
  // The limit explains the permerror; it is not reported twice.
  EXPECT_THAT(over, Not(Contains("spf.evaluation_error")));
  probe.dns_lookups = 3;
  probe.void_lookups = 3;
  EXPECT_THAT(Codes(LintSpfEvaluation(probe)),
              Contains("spf.too_many_void_lookups"));
  probe.void_lookups = 1;
  probe.result = SpfResult::kTempError;
  probe.problem = "SERVFAIL for _spf.e.com";
  std::vector<Finding> temp = LintSpfEvaluation(probe);
  EXPECT_THAT(Codes(temp), Contains("spf.void_lookup"));
  EXPECT_THAT(Codes(temp), Contains("spf.evaluation_error"));
}

}  // namespace
}  // namespace deliverd::auth_checks::spf
