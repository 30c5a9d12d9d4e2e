// The MIME reader of bounce classification; see mime_reader.h for the
// rules it follows and why it is not GMime's parser.
#include "hygiene/bounce/mime_reader.h"

#include <gmime/gmime.h>

#include <iconv.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "hygiene/gmime_init.h"

namespace deliverd::hygiene::bounce {
namespace {

bool IsLwsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// One line of `text` starting at `pos`: its content without the line break
// (a CR before the LF is cut too) and where the next line starts.
struct Line {
  absl::string_view content;
  size_t next;
};
Line LineAt(absl::string_view text, size_t pos) {
  size_t nl = text.find('\n', pos);
  size_t end = nl == absl::string_view::npos ? text.size() : nl;
  size_t next = nl == absl::string_view::npos ? text.size() : nl + 1;
  absl::string_view content = text.substr(pos, end - pos);
  if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
  return {content, next};
}

bool IsFieldName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) return false;
  }
  return true;
}

// Skips white space and RFC 5322 comments "(...)" (nested, with quoted
// pairs) from `pos`.
size_t SkipCfws(absl::string_view s, size_t pos) {
  while (pos < s.size()) {
    if (IsLwsp(s[pos])) {
      ++pos;
    } else if (s[pos] == '(') {
      int depth = 0;
      while (pos < s.size()) {
        char c = s[pos++];
        if (c == '\\') {
          ++pos;
        } else if (c == '(') {
          ++depth;
        } else if (c == ')' && --depth == 0) {
          break;
        }
      }
    } else {
      break;
    }
  }
  return std::min(pos, s.size());
}

// RFC 2045 token characters: printable ASCII but for tspecials.
constexpr std::array<bool, 256> kIsTokenChar = [] {
  std::array<bool, 256> table{};
  constexpr char kSpecials[] = "()<>@,;:\\\"/[]?=";
  for (int c = 33; c < 127; ++c) {
    bool special = false;
    for (char t : kSpecials) special = special || (t != 0 && t == c);
    table[c] = !special;
  }
  return table;
}();

bool IsTokenChar(char c) {
  return kIsTokenChar[static_cast<unsigned char>(c)];
}

// The token at `*pos` after CFWS (empty when there is none); `*pos` moves
// past it.
absl::string_view ReadToken(absl::string_view s, size_t* pos) {
  size_t i = SkipCfws(s, *pos);
  const size_t start = i;
  while (i < s.size() && IsTokenChar(s[i])) ++i;
  *pos = i;
  return s.substr(start, i - start);
}

// `value` up to its first NUL, as a C string (GMime reads C strings: a NUL
// ends a value for it).
std::string UpToNul(absl::string_view value) {
  return std::string(value.substr(0, value.find('\0')));
}

// A token or a quoted string at `pos` (after CFWS), unquoted; `pos` moves
// past it.
std::string ReadValue(absl::string_view s, size_t* pos) {
  size_t i = SkipCfws(s, *pos);
  std::string out;
  if (i < s.size() && s[i] == '"') {
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      // A folded quoted string: the line break goes, the white space stays.
      if (s[i] != '\r' && s[i] != '\n') out.push_back(s[i]);
      ++i;
    }
    if (i < s.size()) ++i;  // closing quote
  } else {
    // Lenient, as GMime: anything up to ';' (boundaries in the wild carry
    // characters, even spaces, a token may not), line breaks dropped and
    // white space at the end trimmed.
    while (i < s.size() && s[i] != ';') {
      if (s[i] != '\r' && s[i] != '\n') out.push_back(s[i]);
      ++i;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
      out.pop_back();
    }
  }
  *pos = i;
  return out;
}

// Moves past a token or quoted string at `pos` (after CFWS), as
// ReadValue() would, without copying it.
size_t SkipValue(absl::string_view s, size_t pos) {
  size_t i = SkipCfws(s, pos);
  if (i < s.size() && s[i] == '"') {
    ++i;
    while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    return std::min(i + 1, s.size());
  }
  while (i < s.size() && s[i] != ';') ++i;
  return i;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 2231 extended value: "charset'language'%xx..." for the first
// section, "%xx..." after it. Bytes are kept as they are (no conversion).
std::string PercentDecode(absl::string_view v, bool first_section) {
  if (first_section) {
    size_t q1 = v.find('\'');
    size_t q2 = q1 == absl::string_view::npos ? q1 : v.find('\'', q1 + 1);
    if (q2 != absl::string_view::npos) v.remove_prefix(q2 + 1);
  }
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && HexValue(v[i + 1]) >= 0 &&
        HexValue(v[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(v[i + 1]) * 16 +
                                      HexValue(v[i + 2])));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

// The codec of a Content-Transfer-Encoding value: its first token (comments
// and case ignored); DEFAULT for identity encodings and unknown names.
GMimeContentEncoding TransferEncodingOf(absl::string_view value) {
  size_t i = 0;
  const std::string name = absl::AsciiStrToLower(ReadToken(value, &i));
  if (name == "base64") return GMIME_CONTENT_ENCODING_BASE64;
  if (name == "quoted-printable") return GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  if (name == "x-uuencode" || name == "uuencode" || name == "x-uue") {
    return GMIME_CONTENT_ENCODING_UUENCODE;
  }
  return GMIME_CONTENT_ENCODING_DEFAULT;
}

// glibc loads a charset's converter (a shared object, through dlopen) in
// every iconv_open() while no other descriptor for that charset is open,
// and GMime opens and closes one for every header value it decodes: that
// load was a tenth of classifying a bounce with an encoded Subject. One
// descriptor per charset kept open for the life of the process keeps the
// converter loaded. At most kMaxPinnedCharsets names are tried (they come
// from the messages); later ones are simply loaded each time.
constexpr size_t kMaxPinnedCharsets = 64;

void PinCharset(const std::string& charset) {
  // Names this thread already saw pinned (or refused) skip the lock.
  thread_local std::vector<std::string> seen;
  if (std::find(seen.begin(), seen.end(), charset) != seen.end()) return;
  static std::mutex* const mu = new std::mutex;
  // Kept reachable (not leaked): the open descriptors and the names tried.
  static std::vector<iconv_t>* const kept = new std::vector<iconv_t>;
  static std::set<std::string>* const tried = new std::set<std::string>;
  {
    std::lock_guard<std::mutex> lock(*mu);
    if (tried->count(charset) == 0) {
      if (tried->size() >= kMaxPinnedCharsets) return;  // names from mail
      tried->insert(charset);
      iconv_t cd =
          iconv_open("UTF-8", g_mime_charset_iconv_name(charset.c_str()));
      if (cd != reinterpret_cast<iconv_t>(-1)) kept->push_back(cd);
    }
  }
  if (seen.size() < kMaxPinnedCharsets) seen.push_back(charset);
}

// Pins the charsets GMime will convert `value` from: those named by its
// encoded words ("=?charset?"), and the fallback for raw 8-bit text.
void PinCharsetsOf(absl::string_view value, bool eight_bit) {
  if (eight_bit) PinCharset("iso-8859-1");
  for (size_t pos = value.find("=?"); pos != absl::string_view::npos;
       pos = value.find("=?", pos + 2)) {
    absl::string_view rest = value.substr(pos + 2, 64);
    size_t end = rest.find_first_of("?*");
    if (end == absl::string_view::npos || end == 0) continue;
    PinCharset(absl::AsciiStrToLower(rest.substr(0, end)));
  }
}

}  // namespace

std::optional<absl::string_view> MimeEntity::Field(
    absl::string_view name) const {
  for (const MimeField& f : fields) {
    if (absl::EqualsIgnoreCase(f.name, name)) return f.raw_value;
  }
  return std::nullopt;
}

std::optional<absl::string_view> MimeEntity::LastField(
    absl::string_view name) const {
  for (auto f = fields.rbegin(); f != fields.rend(); ++f) {
    if (absl::EqualsIgnoreCase(f->name, name)) return f->raw_value;
  }
  return std::nullopt;
}

MimeEntity ReadMimeEntity(absl::string_view text, size_t max_fields) {
  MimeEntity entity;
  bool in_field = false;  // continuation lines extend the last field
  size_t pos = 0;
  while (pos < text.size()) {
    Line line = LineAt(text, pos);
    if (line.content.empty()) {
      entity.body = text.substr(line.next);
      return entity;
    }
    const size_t line_end = pos + line.content.size();
    if (line.content[0] == ' ' || line.content[0] == '\t') {
      if (in_field) {
        absl::string_view& value = entity.fields.back().raw_value;
        const char* begin = value.data();
        value = absl::string_view(begin, text.data() + line_end - begin);
      }
      pos = line.next;
      continue;
    }
    in_field = false;
    size_t colon = line.content.find(':');
    if (colon != absl::string_view::npos) {
      absl::string_view name = line.content.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
        name.remove_suffix(1);
      }
      if (IsFieldName(name) && entity.fields.size() < max_fields) {
        entity.fields.push_back(
            {name, text.substr(pos + colon + 1, line_end - pos - colon - 1)});
        in_field = true;
      }
    }
    pos = line.next;
  }
  return entity;  // no empty line: no body
}

std::string MimeHeaderValue(absl::string_view raw_value) {
  const bool encoded_words = raw_value.find("=?") != absl::string_view::npos;
  bool eight_bit = false, nul = false;
  for (char ch : raw_value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c == 0) {
      eight_bit = eight_bit || c >= 0x80;
      nul = nul || c == 0;
    }
  }
  if (!encoded_words && !eight_bit && !nul) {
    // Line breaks removed (the white space after them stays), then the
    // ends trimmed; a value on one line is only trimmed.
    std::string out;
    if (raw_value.find_first_of("\r\n") == absl::string_view::npos) {
      out = std::string(raw_value);
    } else {
      out.reserve(raw_value.size());
      for (char c : raw_value) {
        if (c != '\r' && c != '\n') out.push_back(c);
      }
    }
    size_t b = 0, e = out.size();
    while (b < e && (out[b] == ' ' || out[b] == '\t')) ++b;
    while (e > b && (out[e - 1] == ' ' || out[e - 1] == '\t')) --e;
    if (b > 0 || e < out.size()) out = out.substr(b, e - b);
    return out;
  }
  hygiene::EnsureGMimeInitialized();
  const std::string z = UpToNul(raw_value);
  PinCharsetsOf(z, eight_bit);
  char* unfolded = g_mime_utils_header_unfold(z.c_str());
  if (unfolded == nullptr) return "";
  char* decoded = g_mime_utils_header_decode_text(nullptr, unfolded);
  g_free(unfolded);
  if (decoded == nullptr) return "";
  std::string out(decoded);
  g_free(decoded);
  return out;
}

MimeContentType ParseMimeContentType(absl::string_view raw_value) {
  MimeContentType ct;
  size_t i = 0;
  const absl::string_view type = ReadToken(raw_value, &i);
  i = SkipCfws(raw_value, i);
  absl::string_view subtype;
  if (i < raw_value.size() && raw_value[i] == '/') {
    ++i;
    subtype = ReadToken(raw_value, &i);
  }
  if (type.empty() || subtype.empty()) {
    ct.type = "application";
    ct.subtype = "octet-stream";
  } else {
    ct.type = absl::AsciiStrToLower(type);
    ct.subtype = absl::AsciiStrToLower(subtype);
  }
  ct.parameters = raw_value.substr(std::min(i, raw_value.size()));
  return ct;
}

std::string MimeDispositionType(absl::string_view raw_value) {
  size_t i = 0;
  return absl::AsciiStrToLower(ReadToken(raw_value, &i));
}

std::optional<std::string> MimeParameter(absl::string_view parameters,
                                         absl::string_view name) {
  std::optional<std::string> plain;
  std::vector<std::pair<int, std::string>> sections;  // RFC 2231
  size_t pos = 0;
  while (pos < parameters.size()) {
    size_t semi = parameters.find(';', pos);
    if (semi == absl::string_view::npos) break;
    size_t i = SkipCfws(parameters, semi + 1);
    size_t start = i;
    while (i < parameters.size() &&
           (IsTokenChar(parameters[i]) || parameters[i] == '*') &&
           parameters[i] != '=') {
      ++i;
    }
    absl::string_view attribute = parameters.substr(start, i - start);
    i = SkipCfws(parameters, i);
    if (i >= parameters.size() || parameters[i] != '=') {
      pos = i > semi ? i : semi + 1;
      continue;
    }
    ++i;
    const bool exact = absl::EqualsIgnoreCase(attribute, name);
    if (!exact && (attribute.size() < name.size() + 1 ||
                   !absl::StartsWithIgnoreCase(attribute, name) ||
                   attribute[name.size()] != '*')) {
      pos = SkipValue(parameters, i);  // another parameter
      continue;
    }
    std::string value = ReadValue(parameters, &i);
    pos = i;
    if (exact) {
      if (!plain) plain = std::move(value);
      continue;
    }
    absl::string_view rest = attribute.substr(name.size() + 1);
    const bool extended = absl::EndsWith(rest, "*") || rest.empty();
    if (absl::EndsWith(rest, "*")) rest.remove_suffix(1);
    int section = 0;
    if (!rest.empty()) {
      if (rest.size() > 3) continue;
      for (char c : rest) {
        if (c < '0' || c > '9') {
          section = -1;
          break;
        }
        section = section * 10 + (c - '0');
      }
      if (section < 0) continue;
    }
    sections.emplace_back(
        section, extended ? PercentDecode(value, section == 0) : value);
  }
  if (plain) return plain;
  if (sections.empty()) return std::nullopt;
  std::stable_sort(sections.begin(), sections.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string joined;
  for (auto& [index, text] : sections) joined += text;
  return joined;
}

std::vector<absl::string_view> SplitMultipart(absl::string_view body,
                                              absl::string_view boundary,
                                              size_t max_parts) {
  std::vector<absl::string_view> parts;
  if (boundary.empty()) return parts;
  bool in_part = false;
  size_t part_start = 0;
  // The part before a delimiter line ends before that line's preceding
  // line break.
  // A delimiter line right after another delimits nothing (as for GMime).
  auto close_part = [&](size_t delimiter_pos) {
    if (delimiter_pos <= part_start) return;
    size_t end = delimiter_pos;
    if (end > part_start && body[end - 1] == '\n') --end;
    if (end > part_start && body[end - 1] == '\r') --end;
    parts.push_back(body.substr(part_start, end - part_start));
  };
  size_t pos = 0;
  while (pos < body.size()) {
    // Only lines starting with "--" can be delimiters: jump to the next one.
    if (!(body[pos] == '-' && pos + 1 < body.size() && body[pos + 1] == '-')) {
      size_t next = body.find("\n--", pos);
      if (next == absl::string_view::npos) break;
      pos = next + 1;
      continue;
    }
    Line line = LineAt(body, pos);
    absl::string_view rest = line.content.substr(2);
    if (absl::StartsWith(rest, boundary)) {
      rest.remove_prefix(boundary.size());
      const bool closing = absl::StartsWith(rest, "--");
      if (closing) rest.remove_prefix(2);
      bool only_space = true;
      for (char c : rest) only_space = only_space && IsLwsp(c);
      if (only_space) {
        if (in_part) close_part(pos);
        if (closing || parts.size() >= max_parts) return parts;
        in_part = true;
        part_start = line.next;
      }
    }
    pos = line.next;
  }
  if (in_part && part_start < body.size()) {
    parts.push_back(body.substr(part_start));
  }
  return parts;
}

std::string DecodeMimeBody(absl::string_view body,
                           absl::string_view transfer_encoding, size_t limit) {
  const GMimeContentEncoding encoding = TransferEncodingOf(transfer_encoding);
  if (encoding == GMIME_CONTENT_ENCODING_DEFAULT) {
    return std::string(body.substr(0, limit));
  }
  hygiene::EnsureGMimeInitialized();
  GMimeEncoding state;
  g_mime_encoding_init_decode(&state, encoding);
  if (encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
    // The data starts after the "begin <mode> <name>" line (GMime's
    // decoding filter skips to it the same way); nothing without one.
    size_t begin = absl::StartsWith(body, "begin ") ? 0 : body.find("\nbegin ");
    if (begin == absl::string_view::npos) return "";
    size_t line_end = body.find('\n', begin + 1);
    if (line_end == absl::string_view::npos) return "";
    body.remove_prefix(line_end + 1);
    state.state |= GMIME_UUDECODE_STATE_BEGIN;
  }
  // No decoding makes the text longer than a third of it (quoted-printable
  // "=XX" at worst): three times the limit, and a line, hold `limit`
  // decoded bytes.
  if (limit < body.size() / 3) body = body.substr(0, limit * 3 + 128);
  std::string out(g_mime_encoding_outlen(&state, body.size()), '\0');
  size_t n = g_mime_encoding_flush(
      &state, body.data(), body.size(), out.data());
  out.resize(std::min(n, limit));
  return out;
}

bool IsEncodedTransfer(absl::string_view transfer_encoding) {
  return TransferEncodingOf(transfer_encoding) !=
         GMIME_CONTENT_ENCODING_DEFAULT;
}

std::string MimeMessageId(absl::string_view raw_value) {
  hygiene::EnsureGMimeInitialized();
  char* id = g_mime_utils_decode_message_id(UpToNul(raw_value).c_str());
  if (id == nullptr) return "";
  std::string out(id);
  g_free(id);
  return out;
}

}  // namespace deliverd::hygiene::bounce
