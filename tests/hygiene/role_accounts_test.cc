#include "hygiene/role_accounts.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"
#include "hygiene/data/embedded_data.h"
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

// IsRoleAccount builds the key in a stack buffer and prefilters by first
// octet and length; it must agree with RoleAccountKey and the sorted list.
TEST(IsRoleAccount, AgreesWithKeyLookup) {
  std::vector<std::string> keys;
  for (absl::string_view entry :
       embedded::DataEntries(embedded::role_accounts())) {
    std::string key = RoleAccountKey(entry);
    if (!key.empty()) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  std::mt19937 rng(3);
  std::vector<std::string> inputs;
  for (const std::string& key : keys) {
    inputs.push_back(key);
    inputs.push_back(absl::AsciiStrToUpper(key) + "+tag");
    inputs.push_back("\"" + key + "\"");
    inputs.push_back(key.substr(1));
    inputs.push_back(key + "s");
    std::string dotted = key;
    dotted.insert(rng() % (dotted.size() + 1), 1, ".-_"[rng() % 3]);
    inputs.push_back(dotted);
  }
  for (const char* other : {"", "+", "\"\"", ".", "john.smith", "a", "x+y"}) {
    inputs.push_back(other);
  }
  for (const std::string& in : inputs) {
    const std::string key = RoleAccountKey(in);
    const bool want = !key.empty() && in.size() <= 256 &&
                      std::binary_search(keys.begin(), keys.end(), key);
    EXPECT_EQ(IsRoleAccount(in), want) << in;
  }
}

}  // namespace
}  // namespace deliverd::hygiene
