#include "hygiene/address_fast_path.h"

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "hygiene/address.h"
#include "hygiene/ascii_chars.h"

namespace deliverd::hygiene {
namespace {

// A finished domain label [start, end) of the lower-cased output is one the
// full parser accepts without IDNA: 1 to 63 octets, no hyphen at either end,
// and not "??--" (reserved for IDNA prefixes; "xn--" labels need libidn2).
bool PlainLabel(const char* out, size_t start, size_t end) {
  const size_t length = end - start;
  if (length == 0 || length > kMaxLabelOctets) return false;
  if (out[start] == '-' || out[end - 1] == '-') return false;
  if (length >= 4 && out[start + 2] == '-' && out[start + 3] == '-') {
    return false;
  }
  return true;
}

}  // namespace

bool ParseCommonAsciiAddress(absl::string_view input, std::string* normalized,
                             size_t* at_offset) {
  absl::string_view s = input;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  // Lower-casing keeps the length, so the output is as long as the input.
  if (s.empty() || s.size() > kMaxAddressOctets) return false;
  const size_t n = s.size();

  char o[kMaxAddressOctets];

  // Local part: a dot-atom of ASCII atext, kept as it is.
  size_t i = 0;
  char previous = '.';  // A leading dot fails like a doubled one.
  for (; i < n; ++i) {
    const char c = s[i];
    if (c == '@') break;
    if (c == '.') {
      if (previous == '.') return false;
    } else if (!IsAsciiAtext(c)) {
      return false;
    }
    o[i] = c;
    previous = c;
  }
  if (i == n || i == 0 || i > kMaxLocalPartOctets || previous == '.') {
    return false;
  }
  const size_t at = i;
  o[at] = '@';

  // Domain: letter-digit-hyphen labels, lower-cased on the way.
  size_t labels = 0;
  size_t label_start = at + 1;
  bool label_numeric = true;
  for (size_t j = at + 1; j < n; ++j) {
    const unsigned char c = static_cast<unsigned char>(s[j]);
    if (c == '.') {
      if (!PlainLabel(o, label_start, j)) return false;
      ++labels;
      label_start = j + 1;
      label_numeric = true;
      o[j] = '.';
      continue;
    }
    char lowered;
    if (c >= '0' && c <= '9') {
      lowered = static_cast<char>(c);
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      lowered = static_cast<char>(c | 0x20);
      label_numeric = false;
    } else if (c == '-') {
      lowered = '-';
      label_numeric = false;
    } else {
      return false;
    }
    o[j] = lowered;
  }
  // The last label: an empty one is a trailing root dot or an empty domain,
  // left to the full parser; so is an all-numeric top-level label.
  if (!PlainLabel(o, label_start, n) || label_numeric) return false;
  ++labels;
  if (labels < 2) return false;

  normalized->assign(o, n);
  *at_offset = at;
  return true;
}

}  // namespace deliverd::hygiene
