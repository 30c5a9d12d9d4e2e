#include "server/alerts/retry_after.h"

#include "gtest/gtest.h"

namespace deliverd::alerts {
namespace {

// Sun, 06 Nov 1994 08:49:37 GMT
const absl::Time kNow = absl::FromUnixSeconds(784111777);

TEST(RetryAfterTest, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("120", kNow), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", kNow), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", kNow),
            absl::InfiniteDuration());
}

TEST(RetryAfterTest, HttpDates) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", kNow),
            absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:50:37 GMT", kNow),
            absl::Seconds(60));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:51:37 1994", kNow),
            absl::Seconds(120));
  // In the past: no wait.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", kNow),
            absl::ZeroDuration());
}

TEST(RetryAfterTest, Invalid) {
  EXPECT_EQ(ParseRetryAfter("", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", kNow), std::nullopt);
}

}  // namespace
}  // namespace deliverd::alerts
