// check_host() against an in-memory zone: every mechanism and qualifier, the
// DNS-outcome mapping, the processing limits, records selection, include,
// redirect and exp. Cases written from RFC 7208 (section numbers in names).
#include "auth_checks/spf/spf_evaluator.h"

#include <string>

#include "auth_checks/dns/fake_resolver.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks::spf {
namespace {

using dns::FakeResolver;
using dns::Outcome;
using dns::RrType;

class SpfEvaluatorTest : public ::testing::Test {
 protected:
  void Spf(const std::string& domain, const std::string& record) {
    zone_.Add(domain, RrType::kTxt, record);
  }
  SpfCheckResult Check(const std::string& ip, const std::string& domain,
                       const std::string& local = "alice") {
    SpfRequest request;
    request.ip = ip;
    request.domain = domain;
    request.sender = local + "@" + domain;
    request.helo = "helo.sender.test";
    request.timestamp = 1700000000;
    return SpfEvaluator(zone_, limits_).CheckHost(request);
  }
  SpfResult Result(const std::string& ip, const std::string& domain) {
    return Check(ip, domain).result;
  }

  FakeResolver zone_;
  SpfLimits limits_;
};

TEST_F(SpfEvaluatorTest, NoTxtRecordIsNone) {
  zone_.Add("nospf.test.example", RrType::kA, "192.0.2.1");
  EXPECT_EQ(Result("192.0.2.1", "nospf.test.example"), SpfResult::kNone);
  EXPECT_EQ(Result("192.0.2.1", "missing.test.example"), SpfResult::kNone);
}

TEST_F(SpfEvaluatorTest, OnlyNonSpfTxtRecordsIsNone) {
  zone_.Add("other.example", RrType::kTxt, "google-site-verification=x");
  zone_.Add("other.example", RrType::kTxt, "v=spf10 -all");
  EXPECT_EQ(Result("192.0.2.1", "other.example"), SpfResult::kNone);
}

TEST_F(SpfEvaluatorTest, MalformedDomainIsNone) {
  EXPECT_EQ(Result("192.0.2.1", "singlelabel"), SpfResult::kNone);
  EXPECT_EQ(Result("192.0.2.1", "a..example"), SpfResult::kNone);
  EXPECT_EQ(Result("192.0.2.1", std::string(64, 'x') + ".example"),
            SpfResult::kNone);
  EXPECT_EQ(zone_.query_count(), 0);
}

TEST_F(SpfEvaluatorTest, TwoSpfRecordsArePermerror) {
  Spf("two.example", "v=spf1 +all");
  Spf("two.example", "V=SPF1 -all");
  SpfCheckResult r = Check("192.0.2.1", "two.example");
  EXPECT_EQ(r.result, SpfResult::kPermError);
  EXPECT_NE(r.problem.find("2 SPF records"), std::string::npos) << r.problem;
}

TEST_F(SpfEvaluatorTest, RecordTxtLookupFailuresAreTemperror) {
  for (Outcome o : {Outcome::kServFail, Outcome::kTimeout, Outcome::kRefused,
                    Outcome::kMalformed}) {
    FakeResolver zone;
    zone.SetFailure("broken.example", RrType::kTxt, o);
    SpfRequest request;
    request.ip = "192.0.2.1";
    request.domain = "broken.example";
    request.sender = "a@broken.example";
    EXPECT_EQ(SpfEvaluator(zone).CheckHost(request).result,
              SpfResult::kTempError)
        << dns::OutcomeName(o);
  }
}

TEST_F(SpfEvaluatorTest, SyntaxErrorIsPermerrorWithMessage) {
  Spf("bad.example", "v=spf1 ip4:192.0.2.300 -all");
  SpfCheckResult r = Check("192.0.2.1", "bad.example");
  EXPECT_EQ(r.result, SpfResult::kPermError);
  EXPECT_NE(r.problem.find("invalid IPv4 address"), std::string::npos)
      << r.problem;
}

TEST_F(SpfEvaluatorTest, EachQualifier) {
  Spf("q-pass.example", "v=spf1 +all");
  Spf("q-default.example", "v=spf1 all");
  Spf("q-fail.example", "v=spf1 -all");
  Spf("q-soft.example", "v=spf1 ~all");
  Spf("q-neutral.example", "v=spf1 ?all");
  Spf("q-nothing.example", "v=spf1");
  EXPECT_EQ(Result("192.0.2.1", "q-pass.example"), SpfResult::kPass);
  EXPECT_EQ(Result("192.0.2.1", "q-default.example"), SpfResult::kPass);
  EXPECT_EQ(Result("192.0.2.1", "q-fail.example"), SpfResult::kFail);
  EXPECT_EQ(Result("192.0.2.1", "q-soft.example"), SpfResult::kSoftFail);
  EXPECT_EQ(Result("192.0.2.1", "q-neutral.example"), SpfResult::kNeutral);
  EXPECT_EQ(Result("192.0.2.1", "q-nothing.example"), SpfResult::kNeutral);
}

TEST_F(SpfEvaluatorTest, Ip4AndIp6WithCidr) {
  Spf("ip.example",
      "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:aa::/48 ip4:203.0.113.7 -all");
  EXPECT_EQ(Result("198.51.100.200", "ip.example"), SpfResult::kPass);
  EXPECT_EQ(Result("198.51.101.1", "ip.example"), SpfResult::kFail);
  EXPECT_EQ(Result("203.0.113.7", "ip.example"), SpfResult::kPass);
  EXPECT_EQ(Result("203.0.113.8", "ip.example"), SpfResult::kFail);
  EXPECT_EQ(Result("2001:db8:aa:ffff::1", "ip.example"), SpfResult::kPass);
  EXPECT_EQ(Result("2001:db8:ab::1", "ip.example"), SpfResult::kFail);
  // An IPv4-mapped IPv6 client is treated as the IPv4 client.
  EXPECT_EQ(Result("::ffff:198.51.100.9", "ip.example"), SpfResult::kPass);
  SpfCheckResult r = Check("198.51.100.1", "ip.example");
  EXPECT_EQ(r.matched_term, "ip4:198.51.100.0/24");
  EXPECT_EQ(r.dns_lookups, 0);
}

TEST_F(SpfEvaluatorTest, AMechanismWithDualCidr) {
  Spf("a.example", "v=spf1 a a:hosts.a.example/24//64 -all");
  zone_.Add("a.example", RrType::kA, "192.0.2.10");
  zone_.Add("hosts.a.example", RrType::kA, "198.51.100.1");
  zone_.Add("hosts.a.example", RrType::kAaaa, "2001:db8:1:2::1");
  EXPECT_EQ(Result("192.0.2.10", "a.example"), SpfResult::kPass);
  EXPECT_EQ(Result("192.0.2.11", "a.example"), SpfResult::kFail);
  EXPECT_EQ(Result("198.51.100.77", "a.example"), SpfResult::kPass);
  EXPECT_EQ(Result("2001:db8:1:2:ffff::9", "a.example"), SpfResult::kPass);
  EXPECT_EQ(Result("2001:db8:1:3::1", "a.example"), SpfResult::kFail);
}

TEST_F(SpfEvaluatorTest, AMechanismDnsFailureIsTemperror) {
  Spf("a-broken.example", "v=spf1 a:dead.example -all");
  zone_.SetFailure("dead.example", Outcome::kServFail);
  SpfCheckResult r = Check("192.0.2.1", "a-broken.example");
  EXPECT_EQ(r.result, SpfResult::kTempError);
  EXPECT_NE(r.problem.find("SERVFAIL"), std::string::npos) << r.problem;
}

TEST_F(SpfEvaluatorTest, MxMechanism) {
  Spf("mx.example", "v=spf1 mx/28 -all");
  zone_.Add("mx.example", RrType::kMx, "mail1.mx.example", 10);
  zone_.Add("mx.example", RrType::kMx, "mail2.mx.example", 20);
  zone_.Add("mail1.mx.example", RrType::kA, "192.0.2.1");
  zone_.Add("mail2.mx.example", RrType::kA, "203.0.113.33");
  EXPECT_EQ(Result("192.0.2.14", "mx.example"), SpfResult::kPass);
  EXPECT_EQ(Result("203.0.113.40", "mx.example"), SpfResult::kPass);
  EXPECT_EQ(Result("203.0.113.60", "mx.example"), SpfResult::kFail);
}

TEST_F(SpfEvaluatorTest, MoreThanTenMxNamesIsPermerror) {
  Spf("manymx.example", "v=spf1 mx -all");
  for (int i = 0; i < 11; ++i) {
    zone_.Add("manymx.example", RrType::kMx,
              "m" + std::to_string(i) + ".manymx.example", i);
  }
  EXPECT_EQ(Result("192.0.2.1", "manymx.example"), SpfResult::kPermError);
}

TEST_F(SpfEvaluatorTest, MxHostLookupFailureIsTemperror) {
  Spf("mxfail.example", "v=spf1 mx -all");
  zone_.Add("mxfail.example", RrType::kMx, "gone.mxfail.example", 10);
  zone_.SetFailure("gone.mxfail.example", RrType::kA, Outcome::kTimeout);
  EXPECT_EQ(Result("192.0.2.1", "mxfail.example"), SpfResult::kTempError);
}

TEST_F(SpfEvaluatorTest, PtrMechanismValidatesForwardLookup) {
  Spf("ptr.example", "v=spf1 ptr -all");
  zone_.Add("5.2.0.192.in-addr.arpa", RrType::kPtr, "mail.ptr.example");
  zone_.Add("mail.ptr.example", RrType::kA, "192.0.2.5");
  // Claims a name under ptr.example but the name does not point back.
  zone_.Add("6.2.0.192.in-addr.arpa", RrType::kPtr, "liar.ptr.example");
  zone_.Add("liar.ptr.example", RrType::kA, "192.0.2.99");
  EXPECT_EQ(Result("192.0.2.5", "ptr.example"), SpfResult::kPass);
  EXPECT_EQ(Result("192.0.2.6", "ptr.example"), SpfResult::kFail);
}

TEST_F(SpfEvaluatorTest, PtrLookupErrorIsNoMatchNotTemperror) {
  Spf("ptrerr.example", "v=spf1 ptr ?all");
  zone_.SetFailure("7.2.0.192.in-addr.arpa", Outcome::kServFail);
  EXPECT_EQ(Result("192.0.2.7", "ptrerr.example"), SpfResult::kNeutral);
}

TEST_F(SpfEvaluatorTest, OnlyTenPtrNamesAreChecked) {
  Spf("ptr10.example", "v=spf1 ptr -all");
  for (int i = 0; i < 10; ++i) {
    zone_.Add("8.2.0.192.in-addr.arpa", RrType::kPtr,
              "n" + std::to_string(i) + ".elsewhere.example");
  }
  // The 11th name would validate, but it is ignored.
  zone_.Add("8.2.0.192.in-addr.arpa", RrType::kPtr, "mail.ptr10.example");
  zone_.Add("mail.ptr10.example", RrType::kA, "192.0.2.8");
  EXPECT_EQ(Result("192.0.2.8", "ptr10.example"), SpfResult::kFail);
}

TEST_F(SpfEvaluatorTest, ExistsMechanism) {
  Spf("ex.example", "v=spf1 exists:%{ir}.allow.ex.example -all");
  zone_.Add("1.2.0.192.allow.ex.example", RrType::kA, "127.0.0.2");
  EXPECT_EQ(Result("192.0.2.1", "ex.example"), SpfResult::kPass);
  EXPECT_EQ(Result("192.0.2.2", "ex.example"), SpfResult::kFail);
  zone_.SetFailure("3.2.0.192.allow.ex.example", Outcome::kTimeout);
  EXPECT_EQ(Result("192.0.2.3", "ex.example"), SpfResult::kTempError);
}

TEST_F(SpfEvaluatorTest, IncludeResultMapping) {
  Spf("inc-pass.example", "v=spf1 ip4:192.0.2.0/24 -all");
  Spf("inc-fail.example", "v=spf1 -all");
  Spf("inc-soft.example", "v=spf1 ~all");
  Spf("inc-neutral.example", "v=spf1 ?all");
  Spf("inc-perm.example", "v=spf1 frobnicate");
  zone_.SetFailure("inc-temp.example", RrType::kTxt, Outcome::kServFail);
  zone_.Add("inc-none.example", RrType::kA, "192.0.2.1");
  for (const char* target : {"pass", "fail", "soft", "neutral", "perm", "temp",
                             "none"}) {
    Spf(std::string("top-") + target + ".example",
        std::string("v=spf1 include:inc-") + target + ".example ?all");
  }
  EXPECT_EQ(Result("192.0.2.1", "top-pass.example"), SpfResult::kPass);
  // A non-matching include leaves evaluation to continue (to "?all").
  EXPECT_EQ(Result("192.0.2.1", "top-fail.example"), SpfResult::kNeutral);
  EXPECT_EQ(Result("192.0.2.1", "top-soft.example"), SpfResult::kNeutral);
  EXPECT_EQ(Result("192.0.2.1", "top-neutral.example"), SpfResult::kNeutral);
  EXPECT_EQ(Result("192.0.2.1", "top-perm.example"), SpfResult::kPermError);
  EXPECT_EQ(Result("192.0.2.1", "top-temp.example"), SpfResult::kTempError);
  SpfCheckResult none = Check("192.0.2.1", "top-none.example");
  EXPECT_EQ(none.result, SpfResult::kPermError);
  EXPECT_NE(none.problem.find("no SPF record"), std::string::npos);
}

TEST_F(SpfEvaluatorTest, RedirectAppliesOnlyWhenNothingMatched) {
  Spf("r-src.example", "v=spf1 ip4:198.51.100.1 redirect=r-dst.example");
  Spf("r-dst.example", "v=spf1 ip4:192.0.2.0/24 -all");
  EXPECT_EQ(Result("198.51.100.1", "r-src.example"), SpfResult::kPass);
  EXPECT_EQ(Result("192.0.2.9", "r-src.example"), SpfResult::kPass);
  SpfCheckResult r = Check("203.0.113.1", "r-src.example");
  EXPECT_EQ(r.result, SpfResult::kFail);
  EXPECT_EQ(r.dns_lookups, 1);
  ASSERT_EQ(r.trace.children.size(), 1u);
  EXPECT_EQ(r.trace.children[0].domain, "r-dst.example");
}

TEST_F(SpfEvaluatorTest, RedirectToDomainWithoutRecordIsPermerror) {
  Spf("r-none.example", "v=spf1 redirect=empty.example");
  EXPECT_EQ(Result("192.0.2.1", "r-none.example"), SpfResult::kPermError);
}

TEST_F(SpfEvaluatorTest, RedirectUsesTargetsDomainForMacros) {
  Spf("r-mac.example", "v=spf1 redirect=_spf.r-mac.example");
  Spf("_spf.r-mac.example", "v=spf1 a -all");
  zone_.Add("_spf.r-mac.example", RrType::kA, "192.0.2.44");
  EXPECT_EQ(Result("192.0.2.44", "r-mac.example"), SpfResult::kPass);
}

TEST_F(SpfEvaluatorTest, EleventhDnsTermIsPermerror) {
  std::string ten = "v=spf1";
  for (int i = 0; i < 10; ++i) ten += " a:h" + std::to_string(i) + ".lim.example";
  for (int i = 0; i < 11; ++i) {
    zone_.Add("h" + std::to_string(i) + ".lim.example", RrType::kA,
              "198.51.100.1");
  }
  Spf("ten.lim.example", ten + " -all");
  Spf("eleven.lim.example", ten + " a:h10.lim.example -all");
  SpfCheckResult ok = Check("192.0.2.1", "ten.lim.example");
  EXPECT_EQ(ok.result, SpfResult::kFail);
  EXPECT_EQ(ok.dns_lookups, 10);
  SpfCheckResult over = Check("192.0.2.1", "eleven.lim.example");
  EXPECT_EQ(over.result, SpfResult::kPermError);
  EXPECT_NE(over.problem.find("DNS-querying terms"), std::string::npos);
}

TEST_F(SpfEvaluatorTest, LookupLimitCountsAcrossIncludes) {
  // Each level costs one include; the chain is 11 deep.
  for (int i = 0; i < 11; ++i) {
    Spf("l" + std::to_string(i) + ".chain.example",
        "v=spf1 include:l" + std::to_string(i + 1) + ".chain.example -all");
  }
  Spf("l11.chain.example", "v=spf1 +all");
  EXPECT_EQ(Result("192.0.2.1", "l0.chain.example"), SpfResult::kPermError);
  EXPECT_EQ(Result("192.0.2.1", "l1.chain.example"), SpfResult::kPass);
}

TEST_F(SpfEvaluatorTest, ThirdVoidLookupIsPermerror) {
  Spf("void2.example", "v=spf1 a:v1.void.example mx:v2.void.example -all");
  Spf("void3.example",
      "v=spf1 a:v1.void.example mx:v2.void.example exists:v3.void.example "
      "-all");
  zone_.Add("v2.void.example", RrType::kA, "198.51.100.1");  // MX: NODATA.
  SpfCheckResult two = Check("192.0.2.1", "void2.example");
  EXPECT_EQ(two.result, SpfResult::kFail);
  EXPECT_EQ(two.void_lookups, 2);
  SpfCheckResult three = Check("192.0.2.1", "void3.example");
  EXPECT_EQ(three.result, SpfResult::kPermError);
  EXPECT_NE(three.problem.find("void"), std::string::npos);
}

TEST_F(SpfEvaluatorTest, ExplanationOnlyOnFail) {
  Spf("exp.example", "v=spf1 ip4:192.0.2.1 -all exp=why.exp.example");
  zone_.Add("why.exp.example", RrType::kTxt,
            "%{i} may not send for %{d} (sender %{s})");
  SpfCheckResult fail = Check("198.51.100.3", "exp.example", "bob");
  EXPECT_EQ(fail.result, SpfResult::kFail);
  EXPECT_EQ(fail.explanation,
            "198.51.100.3 may not send for exp.example (sender "
            "bob@exp.example)");
  EXPECT_EQ(Check("192.0.2.1", "exp.example").explanation, "");
}

TEST_F(SpfEvaluatorTest, BrokenExplanationIsIgnored) {
  Spf("exp-two.example", "v=spf1 -all exp=two.exp.example");
  zone_.Add("two.exp.example", RrType::kTxt, "one");
  zone_.Add("two.exp.example", RrType::kTxt, "two");
  Spf("exp-fail.example", "v=spf1 -all exp=dead.exp.example");
  zone_.SetFailure("dead.exp.example", Outcome::kServFail);
  SpfCheckResult two = Check("192.0.2.1", "exp-two.example");
  EXPECT_EQ(two.result, SpfResult::kFail);
  EXPECT_EQ(two.explanation, "");
  SpfCheckResult dead = Check("192.0.2.1", "exp-fail.example");
  EXPECT_EQ(dead.result, SpfResult::kFail);
  EXPECT_EQ(dead.explanation, "");
}

TEST_F(SpfEvaluatorTest, ExplanationOfRedirectTargetNotOfIncludeOrSource) {
  zone_.Add("e-src.txt.example", RrType::kTxt, "from source");
  zone_.Add("e-dst.txt.example", RrType::kTxt, "from target");
  Spf("e-src.example", "v=spf1 exp=e-src.txt.example redirect=e-dst.example");
  Spf("e-dst.example", "v=spf1 -all exp=e-dst.txt.example");
  EXPECT_EQ(Check("192.0.2.1", "e-src.example").explanation, "from target");
  // An included record's exp never reaches the including domain's result.
  Spf("e-inc.example", "v=spf1 include:e-dst.example -all");
  SpfCheckResult inc = Check("192.0.2.1", "e-inc.example");
  EXPECT_EQ(inc.result, SpfResult::kFail);
  EXPECT_EQ(inc.explanation, "");
}

TEST_F(SpfEvaluatorTest, PMacroUsesValidatedName) {
  Spf("pmac.example", "v=spf1 -all exp=pmac.txt.example");
  zone_.Add("pmac.txt.example", RrType::kTxt, "connect from %{p}");
  zone_.Add("9.2.0.192.in-addr.arpa", RrType::kPtr, "mx.pmac.example");
  zone_.Add("mx.pmac.example", RrType::kA, "192.0.2.9");
  EXPECT_EQ(Check("192.0.2.9", "pmac.example").explanation,
            "connect from mx.pmac.example");
  EXPECT_EQ(Check("192.0.2.10", "pmac.example").explanation,
            "connect from unknown");
}

TEST_F(SpfEvaluatorTest, TraceRecordsTheTree) {
  Spf("t-top.example", "v=spf1 include:t-a.example include:t-b.example -all");
  Spf("t-a.example", "v=spf1 ip4:198.51.100.0/24 -all");
  Spf("t-b.example", "v=spf1 ip4:192.0.2.0/24 -all");
  SpfCheckResult r = Check("192.0.2.1", "t-top.example");
  EXPECT_EQ(r.result, SpfResult::kPass);
  EXPECT_EQ(r.matched_term, "include:t-b.example");
  ASSERT_EQ(r.trace.children.size(), 2u);
  EXPECT_EQ(r.trace.children[0].result, SpfResult::kFail);
  EXPECT_EQ(r.trace.children[1].result, SpfResult::kPass);
  std::string text = FormatTrace(r.trace);
  EXPECT_NE(text.find("include:t-b.example -> t-b.example: pass"),
            std::string::npos)
      << text;
}

TEST_F(SpfEvaluatorTest, MailFromAndHeloIdentities) {
  Spf("helo.example", "v=spf1 ip4:192.0.2.1 -all");
  SpfEvaluator evaluator(zone_);
  EXPECT_EQ(evaluator.CheckMailFrom("192.0.2.1", "", "helo.example").result,
            SpfResult::kPass);
  EXPECT_EQ(
      evaluator.CheckMailFrom("192.0.2.2", "x@helo.example", "other").result,
      SpfResult::kFail);
}

TEST_F(SpfEvaluatorTest, AddressFamilyMismatchNeverMatches) {
  Spf("fam.example", "v=spf1 ip6:::/0 ?all");
  Spf("fam4.example", "v=spf1 ip4:0.0.0.0/0 ?all");
  EXPECT_EQ(Result("192.0.2.1", "fam.example"), SpfResult::kNeutral);
  EXPECT_EQ(Result("2001:db8::1", "fam4.example"), SpfResult::kNeutral);
}

TEST_F(SpfEvaluatorTest, NxDomainAndNoDataAreVoidNotErrors) {
  Spf("void-a.example", "v=spf1 a:nothere.example mx:nomx.example ~all");
  zone_.Add("nomx.example", RrType::kA, "198.51.100.1");
  SpfCheckResult r = Check("192.0.2.1", "void-a.example");
  EXPECT_EQ(r.result, SpfResult::kSoftFail);
  EXPECT_EQ(r.void_lookups, 2);
  EXPECT_EQ(r.dns_lookups, 2);
}

TEST_F(SpfEvaluatorTest, RedirectCountsTowardTheLimit) {
  std::string nine = "v=spf1";
  for (int i = 0; i < 9; ++i) {
    nine += " a:r" + std::to_string(i) + ".rl.example";
    zone_.Add("r" + std::to_string(i) + ".rl.example", RrType::kA,
              "198.51.100.1");
  }
  Spf("nine.rl.example", nine + " redirect=end.rl.example");
  Spf("ten.rl.example", nine + " a:r0.rl.example redirect=end.rl.example");
  Spf("end.rl.example", "v=spf1 -all");
  EXPECT_EQ(Result("192.0.2.1", "nine.rl.example"), SpfResult::kFail);
  EXPECT_EQ(Result("192.0.2.1", "ten.rl.example"), SpfResult::kPermError);
}

TEST_F(SpfEvaluatorTest, NoExplanationForSoftfail) {
  Spf("soft-exp.example", "v=spf1 ~all exp=why.soft-exp.example");
  zone_.Add("why.soft-exp.example", RrType::kTxt, "not you");
  SpfCheckResult r = Check("192.0.2.1", "soft-exp.example");
  EXPECT_EQ(r.result, SpfResult::kSoftFail);
  EXPECT_EQ(r.explanation, "");
  EXPECT_EQ(zone_.query_count(), 1);  // The exp TXT was never fetched.
}

TEST_F(SpfEvaluatorTest, UnknownModifiersAreIgnored) {
  Spf("unk.example", "v=spf1 foo=%{d}.bar ip4:192.0.2.1 -all");
  EXPECT_EQ(Result("192.0.2.1", "unk.example"), SpfResult::kPass);
}

TEST_F(SpfEvaluatorTest, InvalidClientAddressIsPermerror) {
  Spf("inv.example", "v=spf1 +all");
  EXPECT_EQ(Result("not-an-ip", "inv.example"), SpfResult::kPermError);
}

}  // namespace
}  // namespace deliverd::auth_checks::spf
