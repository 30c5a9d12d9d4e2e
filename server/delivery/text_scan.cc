#include "server/delivery/text_scan.h"

#include <cstdint>
#include <cstring>

namespace deliverd::delivery {

bool IsAllAscii(absl::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  uint64_t high = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    high |= word;
  }
  for (; n > 0; ++p, --n) high |= static_cast<unsigned char>(*p);
  return (high & 0x8080808080808080ULL) == 0;
}

size_t LongestLine(absl::string_view text) {
  size_t longest = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* lf = std::memchr(p, '\n', end - p);
    const char* line_end = lf == nullptr ? end : static_cast<const char*>(lf);
    if (static_cast<size_t>(line_end - p) > longest) longest = line_end - p;
    if (lf == nullptr) break;
    p = line_end + 1;
  }
  return longest;
}

}  // namespace deliverd::delivery
