#include "client/times.h"

#include <cctype>
#include <cmath>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace deliverd::client {
namespace {

constexpr absl::string_view kDurationHint =
    "a duration like 90s, 30m, 1h30m, 7d or 2w";
constexpr absl::string_view kTimeHint =
    "an RFC 3339 time like 2024-05-01T12:00:00Z or a date like 2024-05-01";

absl::Status DurationError(absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid duration \"", text, "\": expected ", kDurationHint));
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  if (text.empty()) return DurationError(text);
  absl::Duration total = absl::ZeroDuration();
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    while (pos < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '.')) {
      ++pos;
    }
    double number;
    if (pos == start || pos == text.size() ||
        !absl::SimpleAtod(text.substr(start, pos - start), &number) ||
        !std::isfinite(number)) {
      return DurationError(text);
    }
    absl::Duration unit;
    switch (text[pos]) {
      case 's':
        unit = absl::Seconds(1);
        break;
      case 'm':
        if (pos + 1 < text.size() && text[pos + 1] == 's') {
          unit = absl::Milliseconds(1);
          ++pos;
        } else {
          unit = absl::Minutes(1);
        }
        break;
      case 'h':
        unit = absl::Hours(1);
        break;
      case 'd':
        unit = absl::Hours(24);
        break;
      case 'w':
        unit = absl::Hours(24 * 7);
        break;
      default:
        return DurationError(text);
    }
    ++pos;
    total += unit * number;
  }
  if (total <= absl::ZeroDuration() || total == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration \"", text, "\": must be positive"));
  }
  return total;
}

absl::StatusOr<absl::Time> ParseAbsoluteTime(absl::string_view text) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &error)) {
    return time;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid time \"", text, "\": expected ", kTimeHint));
}

namespace {

absl::StatusOr<absl::Time> ParseRelativeTime(absl::string_view text,
                                             absl::Time now, int sign,
                                             absl::string_view meaning) {
  if (absl::StatusOr<absl::Duration> d = ParseDuration(text); d.ok()) {
    return now + sign * *d;
  }
  if (absl::StatusOr<absl::Time> t = ParseAbsoluteTime(text); t.ok()) {
    return *t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid time \"", text, "\": expected ", kTimeHint, ", or ",
                   kDurationHint, " (", meaning, ")"));
}

}  // namespace

absl::StatusOr<absl::Time> ParsePastTime(absl::string_view text,
                                         absl::Time now) {
  return ParseRelativeTime(text, now, -1, "meaning that long ago");
}

absl::StatusOr<absl::Time> ParseFutureTime(absl::string_view text,
                                           absl::Time now) {
  return ParseRelativeTime(text, now, +1, "meaning that long from now");
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  double seconds;
  if (absl::SimpleAtod(text, &seconds)) {
    if (!std::isfinite(seconds) || seconds <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid timeout \"", text,
                       "\": must be a positive number of "
                       "seconds"));
    }
    return absl::Seconds(seconds);
  }
  absl::StatusOr<absl::Duration> d = ParseDuration(text);
  if (!d.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid timeout \"", text,
                     "\": expected seconds (30, 0.5) or ", kDurationHint));
  }
  return d;
}

std::string FormatTimeUtc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  // ToUnixSeconds rounds towards the infinite past, so the remainder is in
  // [0, 1s) as the Timestamp type requires, also before 1970.
  const int64_t seconds = absl::ToUnixSeconds(time);
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  return FormatTimeUtc(FromTimestamp(timestamp));
}

}  // namespace deliverd::client
