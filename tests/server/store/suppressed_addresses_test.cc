#include "server/store/suppressed_addresses.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace deliverd::store {
namespace {

TEST(SuppressedAddresses, KnowsWhatItWasGivenPerTenant) {
  SuppressedAddresses set;
  EXPECT_FALSE(set.MayContain(1, "a@example.org"));
  set.Add(1, "a@example.org");
  EXPECT_TRUE(set.MayContain(1, "a@example.org"));
  EXPECT_FALSE(set.MayContain(2, "a@example.org"));  // another tenant
  EXPECT_FALSE(set.MayContain(1, "b@example.org"));
  EXPECT_FALSE(set.MayContain(1, "a@example.or"));
  EXPECT_FALSE(set.MayContain(1, ""));
}

// Past its limit it keeps nothing and says "maybe" for everything, so the
// store asks the database: never a wrong "no".
TEST(SuppressedAddresses, PastItsLimitEveryAnswerIsMaybe) {
  SuppressedAddresses set(/*max_entries=*/100);
  for (int i = 0; i < 100; ++i) set.Add(1, absl::StrCat("u", i, "@x.org"));
  EXPECT_TRUE(set.MayContain(1, "u7@x.org"));
  EXPECT_FALSE(set.MayContain(1, "never@x.org"));
  set.Add(1, "one-more@x.org");
  EXPECT_TRUE(set.MayContain(1, "one-more@x.org"));
  EXPECT_TRUE(set.MayContain(1, "never@x.org"));
  EXPECT_TRUE(set.MayContain(9, "anything@else.org"));
  set.Add(2, "later@x.org");
  EXPECT_TRUE(set.MayContain(2, "later@x.org"));
}

}  // namespace
}  // namespace deliverd::store
