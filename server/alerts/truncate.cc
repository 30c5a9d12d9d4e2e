#include "server/alerts/truncate.h"

#include "absl/strings/str_cat.h"
#include "server/alerts/json.h"

namespace deliverd::alerts {
namespace {

// The longest prefix of well-formed `text` of at most `max_bytes` bytes that
// does not split a code point.
absl::string_view PrefixOnBoundary(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of a code point.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

}  // namespace

std::string TruncateUtf8(absl::string_view text, size_t max_bytes) {
  const std::string clean = SanitizeUtf8(text);
  if (clean.size() <= max_bytes) return clean;
  if (max_bytes <= kTruncationMarker.size()) {
    return std::string(kTruncationMarker.substr(0, max_bytes));
  }
  return absl::StrCat(
      PrefixOnBoundary(clean, max_bytes - kTruncationMarker.size()),
      kTruncationMarker);
}

}  // namespace deliverd::alerts
