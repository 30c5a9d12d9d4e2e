#include "hygiene/domain_name.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::hygiene {
namespace {

using ::testing::StartsWith;

TEST(NormalizeDomain, LowerCaseALabelsWithoutTheRootDot) {
  EXPECT_EQ(*NormalizeDomain("Example.COM."), "example.com");
  EXPECT_EQ(*NormalizeDomain("b\xc3\xbc" "cher.example"), "xn--bcher-kva.example");
}

TEST(NormalizeDomain, RefusesWhatIsNotADomain) {
  for (const char* bad : {"", ".", "[192.0.2.1]", "a@example.com", "exa mple.com",
                          "-bad.example", "localhost"}) {
    absl::StatusOr<std::string> d = NormalizeDomain(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(d.status()));
    EXPECT_THAT(std::string(d.status().message()), StartsWith("syntax.")) << bad;
  }
}

}  // namespace
}  // namespace deliverd::hygiene
