#include "auth_checks/mx.h"

#include "gtest/gtest.h"

namespace deliverd::auth_checks {
namespace {

TEST(InterpretMx, NullMxOnlyWhenAlone) {
  dns::Answer answer;
  answer.outcome = dns::Outcome::kOk;
  answer.records.push_back({"", 0, 300});
  bool needs = true;
  EXPECT_EQ(InterpretMx(answer, &needs).route,
            MailRoute::kNullMx);
  EXPECT_FALSE(needs);
  answer.records.push_back({"mx2.example.org.", 20, 300});
  answer.records.push_back({"mx1.example.org", 10, 300});
  MailHosts hosts = InterpretMx(answer, &needs);
  EXPECT_EQ(hosts.route, MailRoute::kMx);
  ASSERT_EQ(hosts.hosts.size(), 2u);
  EXPECT_EQ(hosts.hosts[0].name, "mx1.example.org");
  EXPECT_EQ(hosts.hosts[1].name, "mx2.example.org");
}

TEST(WithAddressAnswers, ImplicitMxNoHostOrError) {
  dns::Answer a = dns::Answer::Of(dns::Outcome::kNoData);
  dns::Answer aaaa;
  aaaa.outcome = dns::Outcome::kOk;
  aaaa.records.push_back({"2001:db8::1", 0, 300});
  EXPECT_EQ(WithAddressAnswers(a, aaaa).route, MailRoute::kImplicit);
  EXPECT_EQ(WithAddressAnswers(a, dns::Answer::Of(dns::Outcome::kNoData)).route,
            MailRoute::kNoMailHost);
  EXPECT_EQ(WithAddressAnswers(a, dns::Answer::Of(dns::Outcome::kTimeout)).route,
            MailRoute::kDnsError);
}

}  // namespace
}  // namespace deliverd::auth_checks
