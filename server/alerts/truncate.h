// Bounding the text an alert sends: every field that comes from outside
// (SMTP replies, message ids, titles) is cut to a byte budget before it goes
// into a payload, so no channel ever receives an unbounded request.
//
// Contract: TruncateUtf8(text, max_bytes) returns `text` (made well-formed,
// see json.h SanitizeUtf8) if it fits in max_bytes bytes; otherwise its
// longest prefix that ends on a code point boundary and leaves room for
// kTruncationMarker, followed by the marker; the result is never longer than
// max_bytes (if max_bytes is smaller than the marker, the marker itself is
// cut). Byte budgets are conservative for services that count characters
// (Discord, Twilio): n bytes are at most n characters.
//
// Pure; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_TRUNCATE_H_
#define DELIVERD_SERVER_ALERTS_TRUNCATE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::alerts {

// Appended to text that was cut.
inline constexpr absl::string_view kTruncationMarker = " [...truncated]";

std::string TruncateUtf8(absl::string_view text, size_t max_bytes);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_TRUNCATE_H_
