#include "server/jobs/cron.h"

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace deliverd::jobs {
namespace {

absl::StatusOr<int> Number(absl::string_view field, absl::string_view text,
                           int lo, int hi) {
  int value = 0;
  if (text.empty() ||
      text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not a number"));
  }
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value, " is outside ", lo, "-", hi));
  }
  return value;
}

// Sets the bits of `field_text` in `bits` (indexes lo..hi).
absl::Status ParseField(absl::string_view field, absl::string_view field_text,
                        int lo, int hi, std::vector<bool>* bits) {
  bits->assign(hi + 1, false);
  for (absl::string_view item : absl::StrSplit(field_text, ',')) {
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": empty list item in \"", field_text, "\""));
    }
    int step = 1;
    absl::string_view range = item;
    const size_t slash = item.find('/');
    if (slash != absl::string_view::npos) {
      range = item.substr(0, slash);
      absl::StatusOr<int> n = Number(field, item.substr(slash + 1), 1, hi);
      if (!n.ok()) return n.status();
      step = *n;
    }
    int first = lo;
    int last = hi;
    if (range != "*") {
      size_t dash = range.find('-');
      absl::StatusOr<int> a = Number(field, range.substr(0, dash), lo, hi);
      if (!a.ok()) return a.status();
      first = *a;
      if (dash != absl::string_view::npos) {
        absl::StatusOr<int> b = Number(field, range.substr(dash + 1), lo, hi);
        if (!b.ok()) return b.status();
        last = *b;
        if (last < first) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, ": range \"", range, "\" runs backwards"));
        }
      } else if (slash == absl::string_view::npos) {
        last = first;  // a plain number; "a/n" runs to the maximum
      }
    }
    for (int v = first; v <= last; v += step) (*bits)[v] = true;
  }
  return absl::OkStatus();
}

template <size_t N>
std::bitset<N> ToBits(const std::vector<bool>& v) {
  std::bitset<N> out;
  for (size_t i = 0; i < v.size() && i < N; ++i) out[i] = v[i];
  return out;
}

int Weekday(const absl::CivilDay& day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::sunday:
      return 0;
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
  }
  return 0;
}

}  // namespace

absl::StatusOr<CronSchedule> CronSchedule::Parse(absl::string_view spec) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(spec, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected 5 fields (minute hour day-of-month month day-of-week), got ",
        fields.size()));
  }
  CronSchedule s;
  s.spec_ = absl::StrJoin(fields, " ");
  std::vector<bool> bits;
  if (absl::Status st = ParseField("minute", fields[0], 0, 59, &bits); !st.ok())
    return st;
  s.minutes_ = ToBits<60>(bits);
  if (absl::Status st = ParseField("hour", fields[1], 0, 23, &bits); !st.ok())
    return st;
  s.hours_ = ToBits<24>(bits);
  if (absl::Status st = ParseField("day of month", fields[2], 1, 31, &bits);
      !st.ok())
    return st;
  s.days_of_month_ = ToBits<32>(bits);
  if (absl::Status st = ParseField("month", fields[3], 1, 12, &bits); !st.ok())
    return st;
  s.months_ = ToBits<13>(bits);
  if (absl::Status st = ParseField("day of week", fields[4], 0, 7, &bits);
      !st.ok())
    return st;
  for (int d = 0; d < 7; ++d) s.days_of_week_[d] = bits[d];
  if (bits[7]) s.days_of_week_[0] = true;  // 7 is Sunday too
  s.dom_restricted_ = fields[2][0] != '*';
  s.dow_restricted_ = fields[4][0] != '*';
  if (s.Next(absl::FromCivil(absl::CivilMinute(2000, 1, 1, 0, 0),
                             absl::UTCTimeZone())) == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s.spec_, "\" never fires"));
  }
  return s;
}

bool CronSchedule::DayMatches(const absl::CivilDay& day) const {
  bool dom = days_of_month_[day.day()];
  bool dow = days_of_week_[Weekday(day)];
  if (dom_restricted_ && dow_restricted_) return dom || dow;
  if (dom_restricted_) return dom;
  if (dow_restricted_) return dow;
  return true;
}

absl::Time CronSchedule::Next(absl::Time after) const {
  const absl::TimeZone utc = absl::UTCTimeZone();
  absl::CivilMinute t = absl::ToCivilMinute(after, utc) + 1;
  const absl::CivilYear limit = absl::CivilYear(t) + 8;
  // Skip whole months, days and hours that cannot match, so finding a
  // yearly schedule takes a few hundred steps, not half a million minutes.
  while (absl::CivilYear(t) < limit) {
    if (!months_[t.month()]) {
      t = absl::CivilMinute(absl::CivilMonth(t) + 1);
      continue;
    }
    if (!DayMatches(absl::CivilDay(t))) {
      t = absl::CivilMinute(absl::CivilDay(t) + 1);
      continue;
    }
    if (!hours_[t.hour()]) {
      t = absl::CivilMinute(absl::CivilHour(t) + 1);
      continue;
    }
    if (!minutes_[t.minute()]) {
      t += 1;
      continue;
    }
    return absl::FromCivil(t, utc);
  }
  return absl::InfiniteFuture();
}

}  // namespace deliverd::jobs
