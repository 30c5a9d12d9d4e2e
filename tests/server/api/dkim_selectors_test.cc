#include "server/api/dkim_selectors.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ValidateDkimSelectors, LowerCasesAndDropsDuplicates) {
  auto s = ValidateDkimSelectors({"S1", "s1", "2024._mail", "k1.eu"});
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(*s, ElementsAre("s1", "2024._mail", "k1.eu"));
  EXPECT_TRUE(ValidateDkimSelectors({})->empty());
}

TEST(ValidateDkimSelectors, NamesTheBadOne) {
  for (const char* bad : {"", "a..b", "a/b", "sel ector", "x\r\ny"}) {
    auto s = ValidateDkimSelectors({"ok", bad});
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("dkim_selectors[1]"));
  }
  std::vector<std::string> many(11, "s");
  EXPECT_THAT(std::string(ValidateDkimSelectors(many).status().message()),
              HasSubstr("at most 10"));
  EXPECT_FALSE(ValidateDkimSelectors({std::string(64, 'a')}).ok());
}

}  // namespace
}  // namespace deliverd::api
