#include "client/times.h"

#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << error;
  return t;
}

TEST(ParseDurationTest, SingleUnits) {
  EXPECT_EQ(*ParseDuration("90s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDuration("30m"), absl::Minutes(30));
  EXPECT_EQ(*ParseDuration("1h"), absl::Hours(1));
  EXPECT_EQ(*ParseDuration("7d"), absl::Hours(7 * 24));
  EXPECT_EQ(*ParseDuration("2w"), absl::Hours(14 * 24));
  EXPECT_EQ(*ParseDuration("250ms"), absl::Milliseconds(250));
}

TEST(ParseDurationTest, CombinedAndFractional) {
  EXPECT_EQ(*ParseDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("1.5h"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("1d12h"), absl::Hours(36));
}

TEST(ParseDurationTest, Rejects) {
  for (const char* bad :
       {"", "5", "h", "1x", "-1h", "0s", "1h-", "1e3s", "1 h", "..s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(ParseAbsoluteTimeTest, Rfc3339AndDates) {
  EXPECT_EQ(*ParseAbsoluteTime("2024-05-01T12:00:00Z"),
            absl::FromUnixSeconds(1714564800));
  EXPECT_EQ(*ParseAbsoluteTime("2024-05-01T14:00:00+02:00"),
            absl::FromUnixSeconds(1714564800));
  EXPECT_EQ(*ParseAbsoluteTime("2024-05-01T12:00:00.5Z"),
            absl::FromUnixSeconds(1714564800) + absl::Milliseconds(500));
  EXPECT_EQ(*ParseAbsoluteTime("2024-05-01"),
            absl::FromUnixSeconds(1714521600));
  EXPECT_FALSE(ParseAbsoluteTime("2024-05-01T12:00:00").ok());  // No zone.
  EXPECT_FALSE(ParseAbsoluteTime("yesterday").ok());
  EXPECT_FALSE(ParseAbsoluteTime("2024-13-01").ok());
}

TEST(ParsePastTimeTest, DurationsMeanAgo) {
  const absl::Time now = At("2024-05-08T00:00:00Z");
  EXPECT_EQ(*ParsePastTime("7d", now), At("2024-05-01T00:00:00Z"));
  EXPECT_EQ(*ParsePastTime("1h", now), At("2024-05-07T23:00:00Z"));
  EXPECT_EQ(*ParsePastTime("2024-01-02T03:04:05Z", now),
            At("2024-01-02T03:04:05Z"));
  EXPECT_FALSE(ParsePastTime("soon", now).ok());
}

TEST(ParseFutureTimeTest, DurationsMeanFromNow) {
  const absl::Time now = At("2024-05-01T00:00:00Z");
  EXPECT_EQ(*ParseFutureTime("30d", now), At("2024-05-31T00:00:00Z"));
  EXPECT_EQ(*ParseFutureTime("2025-01-01T00:00:00Z", now),
            At("2025-01-01T00:00:00Z"));
}

TEST(ParseTimeoutTest, SecondsOrDurations) {
  EXPECT_EQ(*ParseTimeout("30"), absl::Seconds(30));
  EXPECT_EQ(*ParseTimeout("0.5"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseTimeout("2m"), absl::Minutes(2));
  EXPECT_FALSE(ParseTimeout("0").ok());
  EXPECT_FALSE(ParseTimeout("-3").ok());
  EXPECT_FALSE(ParseTimeout("inf").ok());
  EXPECT_FALSE(ParseTimeout("nan").ok());
  EXPECT_FALSE(ParseTimeout("soon").ok());
}

TEST(FormatTest, Rfc3339UtcWholeSeconds) {
  EXPECT_EQ(FormatTimeUtc(absl::FromUnixSeconds(1714564800) +
                          absl::Milliseconds(999)),
            "2024-05-01T12:00:00Z");
}

TEST(TimestampTest, RoundTripIncludingBefore1970) {
  for (absl::Time t :
       {absl::FromUnixSeconds(1714564800) + absl::Nanoseconds(123456789),
        absl::FromUnixSeconds(-1) + absl::Milliseconds(250)}) {
    const google::protobuf::Timestamp ts = ToTimestamp(t);
    EXPECT_GE(ts.nanos(), 0);
    EXPECT_LT(ts.nanos(), 1000000000);
    EXPECT_EQ(FromTimestamp(ts), t);
  }
  EXPECT_EQ(ToTimestamp(absl::FromUnixSeconds(-1) + absl::Milliseconds(250))
                .seconds(),
            -1);
}

TEST(TimestampTest, UnsetPrintsAsDash) {
  EXPECT_EQ(FormatTimestamp(google::protobuf::Timestamp()), "-");
  EXPECT_EQ(FormatTimestamp(ToTimestamp(absl::FromUnixSeconds(1714564800))),
            "2024-05-01T12:00:00Z");
}

}  // namespace
}  // namespace deliverd::client
