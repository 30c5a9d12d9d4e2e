// Parsing and formatting of the times and durations deliverctl reads from
// flags and prints in tables.
//
// Contract:
//   - Durations are one or more <number><unit> terms ("90s", "1h30m",
//     "1.5h", "7d"); units are ms, s, m, h, d (24h) and w (7d). They must be
//     positive. A bare number is not a duration (is "5" minutes or days?),
//     except for --timeout, where the flag's unit (seconds) is documented.
//   - Absolute times are RFC 3339 ("2024-05-01T12:00:00Z", offsets and
//     fractions allowed) or a date ("2024-05-01", midnight UTC).
//   - Printed times are RFC 3339 in UTC with whole seconds, so they can be
//     pasted back into --since, --until or --send-at.
#ifndef DELIVERD_CLIENT_TIMES_H_
#define DELIVERD_CLIENT_TIMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace deliverd::client {

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);

absl::StatusOr<absl::Time> ParseAbsoluteTime(absl::string_view text);

// For --since/--until: an absolute time, or a duration meaning that long
// before `now` ("7d" is a week ago).
absl::StatusOr<absl::Time> ParsePastTime(absl::string_view text,
                                         absl::Time now);

// For --expires: an absolute time, or a duration meaning that long after
// `now` ("30d" is in thirty days).
absl::StatusOr<absl::Time> ParseFutureTime(absl::string_view text,
                                           absl::Time now);

// For --timeout: seconds ("30", "0.5") or a duration ("2m").
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text);

// "2024-05-01T12:00:00Z".
std::string FormatTimeUtc(absl::Time time);

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);
google::protobuf::Timestamp ToTimestamp(absl::Time time);

// FormatTimeUtc of a proto timestamp, or "-" when it is unset (the zero
// timestamp is proto3's "not set" as far as the API is concerned).
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_TIMES_H_
