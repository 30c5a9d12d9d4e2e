// Single-pass scans over message text that the composer and the SMTP session
// run on every outgoing message (a few kilobytes each, several times per
// message): word-at-a-time or memchr-based rather than a branch per byte.
// Pure functions; thread-safe.
#ifndef DELIVERD_SERVER_DELIVERY_TEXT_SCAN_H_
#define DELIVERD_SERVER_DELIVERY_TEXT_SCAN_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace deliverd::delivery {

// True when every byte is below 0x80.
bool IsAllAscii(absl::string_view text);

// The longest line's length in bytes, not counting its '\n' (a line ends at
// '\n' or at the end of the text).
size_t LongestLine(absl::string_view text);

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_TEXT_SCAN_H_
