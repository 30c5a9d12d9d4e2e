// Five-field cron schedules ("minute hour day-of-month month day-of-week"),
// evaluated in UTC, for scheduled cleaning jobs.
//
// Each field accepts numbers, "*", ranges "a-b", steps "*/n" and "a-b/n"
// (and "a/n", meaning a to the field's maximum), and comma-separated lists
// of those. Ranges: minute 0-59, hour 0-23, day of month 1-31, month 1-12,
// day of week 0-7 (0 and 7 are Sunday). Names (JAN, MON) and the
// extensions of some crons (L, W, #, @daily) are refused rather than
// half-supported.
//
// Day matching follows the traditional cron rule: when both day of month
// and day of week are restricted (neither starts with "*"), a day matches
// if either matches; otherwise only the restricted one counts.
//
// Errors: Parse returns InvalidArgument naming the field ("minute: ...").
// A CronSchedule is immutable and thread-safe once parsed.
#ifndef DELIVERD_SERVER_JOBS_CRON_H_
#define DELIVERD_SERVER_JOBS_CRON_H_

#include <bitset>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace deliverd::jobs {

class CronSchedule {
 public:
  // Also refuses a schedule that never fires (e.g. "0 0 31 2 *"), since a
  // job with it would silently never run.
  static absl::StatusOr<CronSchedule> Parse(absl::string_view spec);

  // The first matching minute strictly after `after` (seconds dropped), or
  // InfiniteFuture when none comes within the next eight years (only for
  // schedules like February 29 on a Monday that fire that rarely).
  absl::Time Next(absl::Time after) const;

  const std::string& spec() const { return spec_; }

 private:
  CronSchedule() = default;
  bool DayMatches(const absl::CivilDay& day) const;

  std::string spec_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // index 1..31
  std::bitset<13> months_;         // index 1..12
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
};

}  // namespace deliverd::jobs

#endif  // DELIVERD_SERVER_JOBS_CRON_H_
