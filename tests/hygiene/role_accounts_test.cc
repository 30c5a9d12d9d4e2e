#include "hygiene/role_accounts.h"

#include "gtest/gtest.h"
#include "hygiene/address.h"

namespace deliverd::hygiene {
namespace {

TEST(IsRoleAccount, Rfc2142Names) {
  for (const char* name : {"postmaster", "abuse", "hostmaster", "webmaster",
                           "info", "sales", "support", "security", "noc"}) {
    EXPECT_TRUE(IsRoleAccount(name)) << name;
  }
}

TEST(IsRoleAccount, OurOwnNames) {
  for (const char* name : {"admin", "billing", "noreply", "donotreply",
                           "mailer-daemon", "helpdesk"}) {
    EXPECT_TRUE(IsRoleAccount(name)) << name;
  }
}

TEST(IsRoleAccount, CaseInsensitive) {
  EXPECT_TRUE(IsRoleAccount("PostMaster"));
  EXPECT_TRUE(IsRoleAccount("NOREPLY"));
  EXPECT_TRUE(IsRoleAccount("Info"));
}

TEST(IsRoleAccount, SeparatorsAreIgnored) {
  EXPECT_TRUE(IsRoleAccount("no-reply"));
  EXPECT_TRUE(IsRoleAccount("no_reply"));
  EXPECT_TRUE(IsRoleAccount("no.reply"));
  EXPECT_TRUE(IsRoleAccount("do-not-reply"));
  EXPECT_TRUE(IsRoleAccount("Do_Not_Reply"));
  EXPECT_TRUE(IsRoleAccount("MAILER-DAEMON"));
}

TEST(IsRoleAccount, PlusTagIsIgnored) {
  EXPECT_TRUE(IsRoleAccount("support+tickets"));
  EXPECT_TRUE(IsRoleAccount("no-reply+news"));
  EXPECT_FALSE(IsRoleAccount("+support"));
  EXPECT_FALSE(IsRoleAccount("john+support"));
}

TEST(IsRoleAccount, PersonalNamesAreNot) {
  for (const char* name : {"john", "jane.doe", "info.john", "salesforce",
                           "administrators-wife", "supporter", "", "+", "-",
                           "\xC3\xBC"
                           "ser"}) {
    EXPECT_FALSE(IsRoleAccount(name)) << name;
  }
}

TEST(IsRoleAccount, QuotedLocalPartIsMatchedOnItsContent) {
  EXPECT_TRUE(IsRoleAccount("\"postmaster\""));
  EXPECT_FALSE(IsRoleAccount("\"john smith\""));
}

TEST(IsRoleAccount, WorksOnParsedLocalParts) {
  auto parsed = ParseAddress("\"No-Reply\"@Example.ORG");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(IsRoleAccount(parsed->local_part));
}

TEST(RoleAccountKey, Normalises) {
  EXPECT_EQ(RoleAccountKey("No-Reply+x.y"), "noreply");
  EXPECT_EQ(RoleAccountKey("a_b.c-d"), "abcd");
  EXPECT_EQ(RoleAccountKey("\"Info\""), "info");
}

TEST(IsRoleAccount, OverlongInputIsNotARole) {
  EXPECT_FALSE(IsRoleAccount(std::string(5000, 'a')));
  EXPECT_FALSE(IsRoleAccount(std::string("info") + std::string(300, '.')));
}

}  // namespace
}  // namespace deliverd::hygiene
