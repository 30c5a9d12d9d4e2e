// CronSchedule: parsing (every field form, refusals naming the field) and
// the next fire time in UTC, across hour, month and year ends, with the
// traditional day-of-month / day-of-week rule.
#include "server/jobs/cron.h"

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace deliverd::jobs {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

absl::Time NextOf(const std::string& spec, absl::Time after) {
  absl::StatusOr<CronSchedule> cron = CronSchedule::Parse(spec);
  EXPECT_TRUE(cron.ok()) << spec << ": " << cron.status();
  if (!cron.ok()) return absl::InfinitePast();
  return cron->Next(after);
}

TEST(CronTest, EveryMinuteIsStrictlyAfter) {
  EXPECT_EQ(NextOf("* * * * *", Utc(2024, 5, 1, 10, 0)),
            Utc(2024, 5, 1, 10, 1));
  EXPECT_EQ(NextOf("* * * * *", Utc(2024, 5, 1, 10, 0, 59)),
            Utc(2024, 5, 1, 10, 1));
}

TEST(CronTest, ExactMatchMovesToTheNextOne) {
  EXPECT_EQ(NextOf("0 * * * *", Utc(2024, 5, 1, 10, 0)),
            Utc(2024, 5, 1, 11, 0));
  EXPECT_EQ(NextOf("0 * * * *", Utc(2024, 5, 1, 10, 0, 30)),
            Utc(2024, 5, 1, 11, 0));
}

TEST(CronTest, Steps) {
  EXPECT_EQ(NextOf("*/15 * * * *", Utc(2024, 5, 1, 10, 7)),
            Utc(2024, 5, 1, 10, 15));
  EXPECT_EQ(NextOf("*/15 * * * *", Utc(2024, 5, 1, 10, 50)),
            Utc(2024, 5, 1, 11, 0));
  // a-b/n: 10, 20, 30.
  EXPECT_EQ(NextOf("10-30/10 * * * *", Utc(2024, 5, 1, 10, 30)),
            Utc(2024, 5, 1, 11, 10));
  // a/n runs to the maximum: 5, 25, 45.
  EXPECT_EQ(NextOf("5/20 * * * *", Utc(2024, 5, 1, 10, 26)),
            Utc(2024, 5, 1, 10, 45));
  EXPECT_EQ(NextOf("0 */6 * * *", Utc(2024, 5, 1, 13, 0)),
            Utc(2024, 5, 1, 18, 0));
}

TEST(CronTest, ListsAndRanges) {
  EXPECT_EQ(NextOf("0 1,2,5-6 * * *", Utc(2024, 5, 1, 2, 30)),
            Utc(2024, 5, 1, 5, 0));
  EXPECT_EQ(NextOf("0 1,2,5-6 * * *", Utc(2024, 5, 1, 6, 30)),
            Utc(2024, 5, 2, 1, 0));
}

TEST(CronTest, DailyAcrossMonthEnd) {
  EXPECT_EQ(NextOf("0 3 * * *", Utc(2024, 1, 31, 3, 0)), Utc(2024, 2, 1, 3, 0));
  EXPECT_EQ(NextOf("0 0 * * *", Utc(2024, 2, 28, 23, 30)),
            Utc(2024, 2, 29, 0, 0));  // leap year
  EXPECT_EQ(NextOf("0 0 * * *", Utc(2023, 2, 28, 23, 30)),
            Utc(2023, 3, 1, 0, 0));
}

TEST(CronTest, YearEnd) {
  EXPECT_EQ(NextOf("0 0 1 1 *", Utc(2023, 12, 31, 23, 59)),
            Utc(2024, 1, 1, 0, 0));
  EXPECT_EQ(NextOf("59 23 31 12 *", Utc(2024, 1, 1, 0, 0)),
            Utc(2024, 12, 31, 23, 59));
}

TEST(CronTest, SkipsMonthsWithoutTheDay) {
  // April has no 31st.
  EXPECT_EQ(NextOf("30 2 31 * *", Utc(2024, 4, 1, 0, 0)),
            Utc(2024, 5, 31, 2, 30));
  // February 29th: the next leap year.
  EXPECT_EQ(NextOf("0 0 29 2 *", Utc(2023, 3, 1, 0, 0)),
            Utc(2024, 2, 29, 0, 0));
}

TEST(CronTest, DayOfWeekOnly) {
  // 2024-09-07 is a Saturday: weekdays resume on Monday the 9th.
  EXPECT_EQ(NextOf("0 9 * * 1-5", Utc(2024, 9, 7, 10, 0)),
            Utc(2024, 9, 9, 9, 0));
  // 0 and 7 are both Sunday.
  EXPECT_EQ(NextOf("0 0 * * 7", Utc(2024, 9, 7, 10, 0)), Utc(2024, 9, 8, 0, 0));
  EXPECT_EQ(NextOf("0 0 * * 0", Utc(2024, 9, 7, 10, 0)), Utc(2024, 9, 8, 0, 0));
}

TEST(CronTest, DayOfMonthAndWeekBothRestrictedMatchEither) {
  // The 13th or any Friday: from Sunday 2024-09-01, Friday the 6th comes
  // first, then the 13th (itself a Friday), then Friday the 20th.
  EXPECT_EQ(NextOf("0 12 13 * 5", Utc(2024, 9, 1, 0, 0)),
            Utc(2024, 9, 6, 12, 0));
  EXPECT_EQ(NextOf("0 12 13 * 5", Utc(2024, 9, 6, 12, 0)),
            Utc(2024, 9, 13, 12, 0));
  // The 15th or Mondays: Monday 2024-09-09 before the 15th.
  EXPECT_EQ(NextOf("0 0 15 * 1", Utc(2024, 9, 3, 0, 0)), Utc(2024, 9, 9, 0, 0));
}

TEST(CronTest, DayOfMonthOnlyIgnoresWeekday) {
  EXPECT_EQ(NextOf("0 0 15 * *", Utc(2024, 9, 3, 0, 0)),
            Utc(2024, 9, 15, 0, 0));
}

TEST(CronTest, RefusesBadSpecsNamingTheField) {
  struct Case {
    const char* spec;
    const char* want;
  };
  for (const Case& c : {
           Case{"* * * *", "expected 5 fields"},
           Case{"* * * * * *", "expected 5 fields"},
           Case{"60 * * * *", "minute"},
           Case{"* 24 * * *", "hour"},
           Case{"* * 0 * *", "day of month"},
           Case{"* * * 13 *", "month"},
           Case{"* * * * 8", "day of week"},
           Case{"a * * * *", "minute"},
           Case{"5-1 * * * *", "backwards"},
           Case{"*/0 * * * *", "minute"},
           Case{",1 * * * *", "empty list item"},
           Case{"* * * JAN *", "month"},
           Case{"-1 * * * *", "minute"},
           Case{"0 0 31 2 *", "never fires"},
       }) {
    absl::StatusOr<CronSchedule> cron = CronSchedule::Parse(c.spec);
    ASSERT_FALSE(cron.ok()) << c.spec;
    EXPECT_EQ(cron.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(cron.status().message().find(c.want), std::string::npos)
        << c.spec << ": " << cron.status();
  }
}

TEST(CronTest, SpecIsNormalised) {
  absl::StatusOr<CronSchedule> cron = CronSchedule::Parse("  0   3 * *\t* ");
  ASSERT_TRUE(cron.ok()) << cron.status();
  EXPECT_EQ(cron->spec(), "0 3 * * *");
}

}  // namespace
}  // namespace deliverd::jobs
