#include "client/text.h"

#include <cstdint>

#include "hygiene/utf8.h"

namespace deliverd::client {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes the UTF-8 sequence at text[pos]. Sets `length` to the bytes
// consumed; returns kReplacement with length 1 for malformed input
// (overlong forms, surrogates, truncation, out-of-range values).
char32_t DecodeAt(absl::string_view text, size_t pos, size_t* length) {
  const auto byte = [&](size_t i) {
    return static_cast<uint8_t>(text[pos + i]);
  };
  const uint8_t lead = byte(0);
  *length = 1;
  if (lead < 0x80) return lead;
  size_t need;
  char32_t cp;
  char32_t min;
  if ((lead & 0xE0) == 0xC0) {
    need = 1, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    need = 2, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    need = 3, cp = lead & 0x07, min = 0x10000;
  } else {
    return kReplacement;
  }
  if (pos + need >= text.size()) return kReplacement;  // Truncated.
  for (size_t i = 1; i <= need; ++i) {
    const uint8_t b = byte(i);
    if ((b & 0xC0) != 0x80) return kReplacement;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return kReplacement;
  }
  *length = need + 1;
  return cp;
}


// A small approximation of wcwidth(): good enough for aligning tables of
// names and subjects without depending on the process locale.
int CodePointWidth(char32_t cp) {
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0xFE00 && cp <= 0xFE0F)) {
    return 0;  // Combining marks, zero-width spaces, variation selectors.
  }
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD)) {
    return 2;
  }
  return 1;
}

}  // namespace

std::string SanitizeForTerminal(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length;
    const char32_t cp = DecodeAt(text, pos, &length);
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      out.push_back(' ');
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
      out.push_back('?');
    } else {
      hygiene::AppendUtf8(cp, &out);
    }
    pos += length;
  }
  return out;
}

bool IsValidUtf8(absl::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length;
    const char32_t cp = DecodeAt(text, pos, &length);
    // A literal U+FFFD in the input decodes with length 3; a malformed
    // sequence decodes to U+FFFD with length 1.
    if (cp == kReplacement && length == 1) return false;
    pos += length;
  }
  return true;
}

size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length;
    width += CodePointWidth(DecodeAt(text, pos, &length));
    pos += length;
  }
  return width;
}

std::string TruncateToWidth(absl::string_view text, size_t width) {
  if (DisplayWidth(text) <= width) return std::string(text);
  if (width == 0) return "";
  std::string out;
  size_t used = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length;
    const int w = CodePointWidth(DecodeAt(text, pos, &length));
    if (used + w > width - 1) break;  // Keep one column for the ellipsis.
    out.append(text.data() + pos, length);
    used += w;
    pos += length;
  }
  out += "\u2026";
  return out;
}

}  // namespace deliverd::client
