#include "hygiene/address.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "hygiene/address_fast_path.h"
#include "hygiene/ascii_chars.h"

namespace deliverd::hygiene {
namespace {

// Bounds the work done on hostile input; see the header.
constexpr size_t kMaxInputOctets = 4096;

absl::Status Error(absl::string_view code, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(code, ": ", detail));
}

// Names a character without echoing it: the input may be hostile and the
// message may be logged or shown.
std::string Describe(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// Decodes the UTF-8 sequence starting at s[i]. Returns its length, or 0 when it
// is malformed, overlong, a surrogate or beyond U+10FFFF.
size_t DecodeUtf8(absl::string_view s, size_t i, char32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  char32_t min;
  char32_t value;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
    value = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
    value = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
    value = b0 & 0x07;
  } else {
    return 0;
  }
  if (len > s.size() - i) return 0;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF) return 0;
  if (value >= 0xD800 && value <= 0xDFFF) return 0;
  *cp = value;
  return len;
}

bool IsControl(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

// Characters that are legal UTF-8 but have no business in a mailbox: they are
// invisible, reorder text, break lines, look like a space, have no agreed
// rendering, or are canonically equivalent to an ASCII character (so a system
// that applies NFC would see a different, possibly forbidden, character). Each
// is a spoofing or data-corruption signal.
bool IsUnsafe(char32_t cp) {
  struct Range {
    char32_t lo, hi;
  };
  static constexpr Range kRanges[] = {
      {0x00A0, 0x00A0},     // no-break space
      {0x00AD, 0x00AD},     // soft hyphen
      {0x034F, 0x034F},     // combining grapheme joiner
      {0x037E, 0x037E},     // Greek question mark (NFC: ';')
      {0x061C, 0x061C},     // Arabic letter mark
      {0x115F, 0x1160},     // Hangul fillers
      {0x1680, 0x1680},     // Ogham space
      {0x17B4, 0x17B5},     // Khmer inherent vowels (invisible)
      {0x180E, 0x180E},     // Mongolian vowel separator
      {0x1FEF, 0x1FEF},     // Greek varia (NFC: '`')
      {0x2000, 0x200B},     // spaces, zero-width space
      {0x200E, 0x200F},     // LRM, RLM
      {0x2028, 0x202F},     // line/paragraph separators, bidi embeddings
      {0x205F, 0x206F},     // math space, word joiner, bidi isolates
      {0x212A, 0x212A},     // Kelvin sign (NFC: 'K')
      {0x3000, 0x3000},     // ideographic space
      {0x3164, 0x3164},     // Hangul filler
      {0xE000, 0xF8FF},     // private use
      {0xFDD0, 0xFDEF},     // noncharacters
      {0xFEFF, 0xFEFF},     // byte order mark
      {0xFFA0, 0xFFA0},     // halfwidth Hangul filler
      {0xFFF9, 0xFFFD},     // annotation controls, object/replacement chars
      {0x1D173, 0x1D17A},   // musical formatting controls
      {0xE0000, 0xE0FFF},   // tags, variation selector supplement
      {0xF0000, 0x10FFFF},  // private use planes
  };
  if ((cp & 0xFFFE) == 0xFFFE) return true;  // U+xxFFFE, U+xxFFFF
  for (const Range& r : kRanges) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

bool IsCombiningMark(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE20 && cp <= 0xFE2F);
}

// Input must be valid UTF-8; non-ASCII counts as atext (RFC 6531).
bool IsDotAtom(absl::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (static_cast<unsigned char>(c) < 0x80 && !IsAsciiAtext(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

bool HasNonAscii(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

bool IsJoiner(char32_t cp) { return cp == 0x200C || cp == 0x200D; }

// Whole-input character screening. Controls are looked for first and on their
// own so that an injection attempt is always reported as such, whatever else
// is wrong with the input.
//
// ZWNJ/ZWJ are needed in Persian and Indic names and in emoji sequences, but
// are invisible elsewhere; a cheap stand-in for the IDNA CONTEXTJ rule allows
// them only between two non-ASCII characters.
absl::Status ScreenCharacters(absl::string_view s) {
  unsigned char high = 0;  // OR of all octets: bit 7 set iff any non-ASCII.
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b == 0x7F) {
      return Error(
          "syntax.control_character",
          absl::StrCat("control character ", Describe(b), " at octet ", i));
    }
    high |= b;
  }
  // Pure ASCII without C0/DEL (checked above) has nothing left to refuse:
  // no ASCII character is a C1 control, unsafe or a joiner.
  if ((high & 0x80) == 0) return absl::OkStatus();
  char32_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {  // Same outcome as the decode below for ASCII.
      prev = b;
      ++i;
      continue;
    }
    char32_t cp;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      return Error("syntax.invalid_utf8",
                   absl::StrCat("malformed UTF-8 at octet ", i));
    }
    if (IsControl(cp)) {
      return Error(
          "syntax.control_character",
          absl::StrCat("control character ", Describe(cp), " at octet ", i));
    }
    bool unsafe = IsUnsafe(cp);
    if (IsJoiner(cp)) {
      char32_t next = 0;
      const bool has_next =
          i + len < s.size() && DecodeUtf8(s, i + len, &next) != 0;
      unsafe = prev < 0x80 || IsJoiner(prev) || !has_next || next < 0x80 ||
               IsJoiner(next);
    }
    if (unsafe) {
      return Error(
          "syntax.unsafe_character",
          absl::StrCat("invisible, formatting or private-use character ",
                       Describe(cp), " at octet ", i));
    }
    prev = cp;
    i += len;
  }
  return absl::OkStatus();
}

// The combining-mark rule from the header: no mark may directly follow the
// start or a dot, where it would fuse with the delimiter. Quoted content gets
// the same rule, since it may be unquoted into a dot-atom.
absl::Status CheckCombiningMarks(absl::string_view value) {
  bool at_start = true;
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    if (static_cast<unsigned char>(c) < 0x80) {  // ASCII is never a mark.
      at_start = c == '.';
      ++i;
      continue;
    }
    char32_t cp;
    size_t len = DecodeUtf8(value, i, &cp);
    if (len == 0) len = 1;  // Screened earlier; stay total regardless.
    if (at_start && IsCombiningMark(cp)) {
      return Error(
          "syntax.invalid_local_part",
          absl::StrCat("combining mark ", Describe(cp),
                       " at the start of the local part or of an atom"));
    }
    at_start = cp == '.';
    i += len;
  }
  return absl::OkStatus();
}

struct LocalPart {
  std::string sent;  // As it goes on the wire.
  bool quoted = false;
  size_t at = 0;  // Offset of the separating '@' in the input.
};

absl::Status UnquotedCharError(absl::string_view s, size_t i) {
  const char c = s[i];
  if (c == ' ') {
    return Error("syntax.whitespace",
                 absl::StrCat("space in the local part at octet ", i,
                              "; spaces are only allowed inside quotes"));
  }
  if (c == '(' || c == ')') {
    return Error("syntax.invalid_local_part",
                 "comments \"(...)\" are not accepted in a mailbox");
  }
  if (c == '<' || c == '>') {
    return Error("syntax.invalid_local_part",
                 "angle brackets: pass the bare mailbox, without display "
                 "name or <...>");
  }
  if (c == '"') {
    return Error("syntax.invalid_local_part",
                 "quotes must enclose the whole local part");
  }
  if (c == '\\') {
    return Error("syntax.invalid_local_part",
                 "backslash escapes are only allowed inside quotes");
  }
  return Error(
      "syntax.invalid_local_part",
      absl::StrCat("character ", Describe(static_cast<unsigned char>(c)),
                   " at octet ", i, " needs quoting"));
}

absl::StatusOr<LocalPart> ParseLocalPart(absl::string_view s) {
  LocalPart out;
  std::string value;
  if (!s.empty() && s[0] == '"') {
    size_t i = 1;
    bool closed = false;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        closed = true;
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= s.size()) break;
        char32_t cp;
        size_t len = DecodeUtf8(s, i + 1, &cp);
        if (len == 0) len = 1;
        value.append(s.substr(i + 1, len).data(), len);
        i += 1 + len;
        continue;
      }
      value.push_back(c);
      ++i;
    }
    if (!closed) {
      return Error("syntax.invalid_local_part", "unterminated quoted string");
    }
    if (i >= s.size()) {
      return Error("syntax.missing_at",
                   "nothing follows the quoted local part");
    }
    if (s[i] != '@') {
      if (s[i] == ' ') {
        return Error(
            "syntax.whitespace",
            absl::StrCat("space after the quoted local part at octet ", i));
      }
      return Error("syntax.invalid_local_part",
                   "a quoted string must be the whole local part (obsolete "
                   "mixed forms are not accepted)");
    }
    out.at = i;
    if (value.empty()) {
      return Error("syntax.invalid_local_part", "empty quoted local part");
    }
    if (absl::Status st = CheckCombiningMarks(value); !st.ok()) {
      return st;
    }
    if (IsDotAtom(value)) {
      out.sent = value;
    } else {
      out.quoted = true;
      out.sent.reserve(value.size() + 2);
      out.sent.push_back('"');
      for (char c : value) {
        if (c == '"' || c == '\\') out.sent.push_back('\\');
        out.sent.push_back(c);
      }
      out.sent.push_back('"');
    }
  } else {
    size_t i = 0;
    bool double_dot = false;
    while (i < s.size() && s[i] != '@') {
      const char c = s[i];
      if (c == '.') {
        double_dot |= i > 0 && s[i - 1] == '.';
      } else if (static_cast<unsigned char>(c) < 0x80 && !IsAsciiAtext(c)) {
        return UnquotedCharError(s, i);
      }
      ++i;
    }
    if (i >= s.size()) {
      return Error("syntax.missing_at", "no '@' after the local part");
    }
    out.at = i;
    value = std::string(s.substr(0, i));
    if (value.empty()) {
      return Error("syntax.invalid_local_part", "empty local part");
    }
    if (value.front() == '.' || value.back() == '.') {
      return Error("syntax.invalid_local_part",
                   "local part starts or ends with a dot");
    }
    if (double_dot) {  // "..": found in the scan above
      return Error("syntax.invalid_local_part",
                   "two consecutive dots in the local part");
    }
    if (absl::Status st = CheckCombiningMarks(value); !st.ok()) {
      return st;
    }
    out.sent = std::move(value);
  }
  if (out.sent.size() > kMaxLocalPartOctets) {
    return Error("syntax.local_too_long",
                 absl::StrCat("local part is ", out.sent.size(),
                              " octets; the limit is ", kMaxLocalPartOctets));
  }
  return out;
}

struct Domain {
  std::string ascii;
  std::string unicode;
  bool ip_literal = false;
};

absl::StatusOr<Domain> ParseIpLiteral(absl::string_view d) {
  if (d.size() < 2 || d.back() != ']') {
    return Error("syntax.invalid_ip_literal", "address literal without ']'");
  }
  const absl::string_view inner = d.substr(1, d.size() - 2);
  // inet_pton needs a terminated string and the text is short; longer text
  // cannot be an address anyway.
  if (inner.size() > 64) {
    return Error("syntax.invalid_ip_literal", "address literal too long");
  }
  Domain out;
  out.ip_literal = true;
  char text[INET6_ADDRSTRLEN];
  constexpr absl::string_view kV6Tag = "IPv6:";
  if (inner.size() >= kV6Tag.size() &&
      absl::EqualsIgnoreCase(inner.substr(0, kV6Tag.size()), kV6Tag)) {
    const std::string addr(inner.substr(kV6Tag.size()));
    in6_addr a6;
    if (inet_pton(AF_INET6, addr.c_str(), &a6) != 1 ||
        inet_ntop(AF_INET6, &a6, text, sizeof(text)) == nullptr) {
      return Error("syntax.invalid_ip_literal", "not a valid IPv6 address");
    }
    out.ascii = absl::StrCat("[IPv6:", text, "]");
  } else if (absl::StrContains(inner, ':')) {
    return Error("syntax.invalid_ip_literal",
                 "only IPv4 and \"IPv6:\" address literals are accepted");
  } else {
    const std::string addr(inner);
    in_addr a4;
    if (inet_pton(AF_INET, addr.c_str(), &a4) != 1 ||
        inet_ntop(AF_INET, &a4, text, sizeof(text)) == nullptr) {
      return Error("syntax.invalid_ip_literal", "not a valid IPv4 address");
    }
    out.ascii = absl::StrCat("[", text, "]");
  }
  out.unicode = out.ascii;
  return out;
}

// Checks a lower-case ASCII domain (trailing dot already removed).
absl::Status ValidateHostname(absl::string_view d) {
  if (d.empty()) return Error("syntax.invalid_domain", "empty domain");
  if (d.size() > kMaxDomainOctets) {
    return Error("syntax.domain_too_long",
                 absl::StrCat("domain is ", d.size(), " octets; the limit is ",
                              kMaxDomainOctets));
  }
  // Labels in order, without building a vector (d is non-empty here).
  size_t label_count = 0;
  absl::string_view last_label;
  for (size_t start = 0; start <= d.size();) {
    size_t dot = d.find('.', start);
    if (dot == absl::string_view::npos) dot = d.size();
    const absl::string_view label = d.substr(start, dot - start);
    start = dot + 1;
    ++label_count;
    last_label = label;
    if (label.empty()) {
      return Error("syntax.invalid_domain",
                   "empty label (leading, trailing or doubled dot)");
    }
    if (label.size() > kMaxLabelOctets) {
      return Error("syntax.label_too_long",
                   absl::StrCat("a label is ", label.size(),
                                " octets; the limit is ", kMaxLabelOctets));
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return Error(
            "syntax.invalid_domain",
            absl::StrCat("character ", Describe(static_cast<unsigned char>(c)),
                         " is not allowed in a host name"));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Error("syntax.invalid_domain",
                   "a label starts or ends with a hyphen");
    }
    if (label.size() >= 4 && label.substr(2, 2) == "--" &&
        !absl::StartsWith(label, "xn--")) {
      return Error("syntax.invalid_domain",
                   "hyphens in label positions 3 and 4 are reserved for "
                   "IDNA (only \"xn--\" is in use)");
    }
  }
  if (label_count < 2) {
    return Error("syntax.dotless_domain",
                 "single-label domain; mail on the public internet needs a "
                 "fully qualified domain");
  }
  bool numeric = true;
  for (char c : last_label) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) numeric = false;
  }
  if (numeric) {
    return Error("syntax.invalid_domain",
                 "all-numeric top-level label (use [a.b.c.d] for an IP "
                 "address)");
  }
  return absl::OkStatus();
}

absl::Status IdnError(int rc) {
  switch (rc) {
    case IDN2_TOO_BIG_DOMAIN:
      return Error("syntax.domain_too_long",
                   "domain is too long after IDNA conversion");
    case IDN2_TOO_BIG_LABEL:
    // libidn2 encodes each label into a 63-octet buffer, so an over-long
    // A-label shows up as the encoder running out of room.
    case IDN2_PUNYCODE_BIG_OUTPUT:
      return Error("syntax.label_too_long",
                   "a label is too long after IDNA conversion");
    default:
      return Error("syntax.idn", absl::StrCat("IDNA conversion failed (",
                                              idn2_strerror_name(rc), ")"));
  }
}

// Owns a string allocated by libidn2.
struct Idn2String {
  char* p = nullptr;
  ~Idn2String() { idn2_free(p); }
};

absl::StatusOr<std::string> ToAscii(const std::string& in) {
  Idn2String out;
  const int rc = idn2_to_ascii_8z(in.c_str(), &out.p,
                                  IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK || out.p == nullptr) return IdnError(rc);
  return std::string(out.p);
}

absl::StatusOr<std::string> ToUnicode(const std::string& in) {
  Idn2String out;
  const int rc = idn2_to_unicode_8z8z(in.c_str(), &out.p, 0);
  if (rc != IDN2_OK || out.p == nullptr) return IdnError(rc);
  return std::string(out.p);
}

bool HasALabel(absl::string_view d) {
  // Each label starts at 0 or after a '.'; look for "xn--" there.
  for (size_t start = 0; start <= d.size();) {
    if (d.size() - start >= 4 &&
        absl::EqualsIgnoreCase(d.substr(start, 4), "xn--")) {
      return true;
    }
    const size_t dot = d.find('.', start);
    if (dot == absl::string_view::npos) break;
    start = dot + 1;
  }
  return false;
}

// A domain with non-ASCII or an "xn--" label, through libidn2.
absl::StatusOr<Domain> ParseIdnDomain(absl::string_view d) {
  Domain out;
  absl::StatusOr<std::string> ascii = ToAscii(std::string(d));
  if (!ascii.ok()) return ascii.status();
  out.ascii = absl::AsciiStrToLower(*ascii);
  // UTS #46 maps ideographic and full-width stops to '.', so the root dot is
  // looked for only after conversion.
  if (!out.ascii.empty() && out.ascii.back() == '.') out.ascii.pop_back();
  if (absl::Status st = ValidateHostname(out.ascii); !st.ok()) return st;
  if (HasALabel(out.ascii)) {
    absl::StatusOr<std::string> unicode = ToUnicode(out.ascii);
    if (!unicode.ok()) return unicode.status();
    // When the Unicode form is the input itself (the usual "bücher.de"),
    // converting it again would convert `d` again, which is what made
    // out.ascii: the round trip holds without the second, costly, call.
    if (*unicode != d) {
      absl::StatusOr<std::string> again = ToAscii(*unicode);
      if (!again.ok()) return again.status();
      if (absl::AsciiStrToLower(*again) != out.ascii) {
        return Error("syntax.idn", "an A-label does not survive a round trip");
      }
    }
    out.unicode = std::move(*unicode);
  } else {
    out.unicode = out.ascii;
  }
  return out;
}

// ParseIdnDomain memoised per thread. libidn2's conversions (normalisation,
// mapping, Punycode both ways for the round trip) cost about 10 us a name,
// 20 to 50 times the rest of the parse, and lists repeat their domains, so
// a handful of recent names answers most lookups. The function is pure, so
// a hit returns exactly what a fresh conversion would. Direct-mapped: a
// colliding name replaces the entry. Bounded: kIdnMemoEntries names of at
// most kIdnMemoMaxKey octets per thread; longer names are not kept.
constexpr size_t kIdnMemoEntries = 64;
constexpr size_t kIdnMemoMaxKey = 255;

struct IdnMemoEntry {
  bool used = false;
  std::string key;
  absl::StatusOr<Domain> value;
};

absl::StatusOr<Domain> ParseIdnDomainMemoized(absl::string_view d) {
  if (d.size() > kIdnMemoMaxKey) return ParseIdnDomain(d);
  thread_local std::array<IdnMemoEntry, kIdnMemoEntries> memo;
  IdnMemoEntry& entry =
      memo[std::hash<std::string_view>()(std::string_view(d.data(), d.size())) %
           kIdnMemoEntries];
  if (entry.used && entry.key == d) return entry.value;
  entry.value = ParseIdnDomain(d);
  entry.key.assign(d.data(), d.size());
  entry.used = true;
  return entry.value;
}

absl::StatusOr<Domain> ParseDomain(absl::string_view d) {
  if (d.empty()) return Error("syntax.invalid_domain", "empty domain");
  // One pass for what the checks below look for (they keep their order).
  bool has_at = false;
  bool has_space = false;
  bool has_paren = false;
  unsigned char high = 0;  // bit 7 set iff any non-ASCII octet
  for (char c : d) {
    has_at |= c == '@';
    has_space |= c == ' ';
    has_paren |= c == '(';
    high |= static_cast<unsigned char>(c);
  }
  if (has_at) {
    return Error("syntax.multiple_at",
                 "more than one '@' outside a quoted local part");
  }
  if (has_space) {
    return Error("syntax.whitespace", "space in the domain");
  }
  if (d.front() == '[') return ParseIpLiteral(d);
  if (has_paren) {
    return Error("syntax.invalid_domain",
                 "comments \"(...)\" are not accepted in a mailbox");
  }

  const bool idn = (high & 0x80) != 0 || HasALabel(d);
  if (idn) return ParseIdnDomainMemoized(d);
  Domain out;
  out.ascii.resize(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    out.ascii[i] = absl::ascii_tolower(static_cast<unsigned char>(d[i]));
  }
  if (out.ascii.back() == '.') out.ascii.pop_back();
  if (absl::Status st = ValidateHostname(out.ascii); !st.ok()) return st;
  out.unicode = out.ascii;
  return out;
}

absl::StatusOr<ParsedAddress> ParseAddressFully(absl::string_view input) {
  absl::string_view s = input;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return Error("syntax.empty", "no address");
  if (s.size() > kMaxInputOctets) {
    return Error("syntax.address_too_long",
                 absl::StrCat("input is ", s.size(), " octets"));
  }
  if (absl::Status st = ScreenCharacters(s); !st.ok()) return st;
  if (s.find('@') == absl::string_view::npos) {
    return Error("syntax.missing_at",
                 "no '@' separating local part and domain");
  }

  absl::StatusOr<LocalPart> local = ParseLocalPart(s);
  if (!local.ok()) return local.status();
  absl::StatusOr<Domain> domain = ParseDomain(s.substr(local->at + 1));
  if (!domain.ok()) return domain.status();

  ParsedAddress out;
  out.local_part = std::move(local->sent);
  out.quoted_local_part = local->quoted;
  out.smtputf8 = HasNonAscii(out.local_part);
  out.domain_ascii = std::move(domain->ascii);
  out.domain_unicode = std::move(domain->unicode);
  out.ip_literal = domain->ip_literal;
  out.normalized = absl::StrCat(out.local_part, "@", out.domain_ascii);
  if (out.normalized.size() > kMaxAddressOctets) {
    return Error("syntax.address_too_long",
                 absl::StrCat("address is ", out.normalized.size(),
                              " octets; the limit is ", kMaxAddressOctets));
  }
  return out;
}

}  // namespace

absl::StatusOr<ParsedAddress> ParseAddress(absl::string_view input) {
  std::string normalized;
  size_t at = 0;
  if (ParseCommonAsciiAddress(input, &normalized, &at)) {
    ParsedAddress out;
    out.local_part = normalized.substr(0, at);
    out.domain_ascii = normalized.substr(at + 1);
    out.domain_unicode = out.domain_ascii;
    out.normalized = std::move(normalized);
    return out;
  }
  return ParseAddressFully(input);
}

absl::StatusOr<ParsedAddress> ParseAddressWithoutShortcut(
    absl::string_view input) {
  return ParseAddressFully(input);
}

std::string AddressErrorCode(const absl::Status& status) {
  if (status.ok()) return "";
  const absl::string_view msg = status.message();
  const absl::string_view code = msg.substr(0, msg.find(": "));
  if (!absl::StartsWith(code, "syntax.")) return "";
  for (char c : code) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_') {
      return "";
    }
  }
  return std::string(code);
}

}  // namespace deliverd::hygiene
