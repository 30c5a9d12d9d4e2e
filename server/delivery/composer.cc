#include "server/delivery/composer.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hygiene/gmime_init.h"
#include "server/delivery/composer_internal.h"
#include "server/delivery/text_scan.h"

namespace deliverd::delivery {
namespace {

// RFC 5322 2.1.1: a line MUST NOT exceed 998 octets and SHOULD NOT exceed 78.
constexpr size_t kMaxLineOctets = 998;
constexpr size_t kFoldColumn = 78;
// RFC 2047 2: an encoded-word is at most 75 characters, delimiters included.
constexpr size_t kMaxEncodedWord = 75;

// ---------------------------------------------------------------------------
// GMime plumbing.

struct GObjectUnref {
  void operator()(void* object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GDateTimeUnref {
  void operator()(GDateTime* date) const { g_date_time_unref(date); }
};

struct GFree {
  void operator()(void* p) const { g_free(p); }
};

// ---------------------------------------------------------------------------
// Validation.

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

bool IsAtext(unsigned char c) {
  return absl::ascii_isalnum(c) ||
         absl::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
             absl::string_view::npos;
}

absl::string_view TrimWsp(absl::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

bool IsValidUtf8(absl::string_view s) {
  // Most text is ASCII, which the word-at-a-time scan settles much faster.
  return IsAllAscii(s) || g_utf8_validate_len(s.data(), s.size(), nullptr);
}

// Anything that ends up in a header: CR or LF would end the field early and
// let the caller inject new fields; NUL truncates C strings inside GMime; the
// other controls are not allowed in header text at all. TAB is whitespace.
absl::Status CheckHeaderText(absl::string_view field, absl::string_view value) {
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n' || u == '\0') {
      return Invalid(field, "must not contain CR, LF or NUL");
    }
    if ((u < 0x20 && u != '\t') || u == 0x7f) {
      return Invalid(field, "must not contain control characters");
    }
  }
  if (!IsValidUtf8(value)) return Invalid(field, "is not valid UTF-8");
  return absl::OkStatus();
}

// An addr-spec as hygiene/address produces it: dot-atom or quoted local part,
// host name or domain literal, with UTF-8 allowed (RFC 6531). This is not a
// full validator; it guarantees the address cannot break out of its angle
// brackets or add recipients (no unquoted specials, spaces or commas).
absl::Status CheckAddress(absl::string_view field, absl::string_view address) {
  if (absl::Status s = CheckHeaderText(field, address); !s.ok()) return s;
  if (address.empty()) return Invalid(field, "is empty");
  const size_t at = address.rfind('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 == address.size()) {
    return Invalid(field, "is not an address of the form local@domain");
  }
  const absl::string_view local = address.substr(0, at);
  const absl::string_view domain = address.substr(at + 1);

  if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      if (local[i] == '\\') {
        if (++i + 1 >= local.size()) {
          return Invalid(field, "has a malformed quoted local part");
        }
      } else if (local[i] == '"') {
        return Invalid(field, "has a malformed quoted local part");
      }
    }
  } else {
    for (char c : local) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (!(u >= 0x80 || IsAtext(u) || c == '.')) {
        return Invalid(field, "has a character not allowed in a local part");
      }
    }
  }

  if (domain.front() == '[') {
    if (domain.size() < 3 || domain.back() != ']') {
      return Invalid(field, "has a malformed domain literal");
    }
    for (char c : domain.substr(1, domain.size() - 2)) {
      if (c <= ' ' || c > '~' || c == '[' || c == ']' || c == '\\') {
        return Invalid(field, "has a malformed domain literal");
      }
    }
  } else {
    for (char c : domain) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (!(u >= 0x80 || absl::ascii_isalnum(u) || c == '-' || c == '.' ||
            c == '_')) {
        return Invalid(field, "has a character not allowed in a domain");
      }
    }
  }
  return absl::OkStatus();
}

// Message-ID and Content-ID bodies, written inside angle brackets: ASCII
// dot-atom text around an '@' (RFC 5322 3.6.4), which is what every generator
// produces. Content-IDs are often bare ("logo"), which mail clients accept,
// so the '@' is only required for Message-ID.
absl::Status CheckId(absl::string_view field, absl::string_view id,
                     bool require_at) {
  if (absl::Status s = CheckHeaderText(field, id); !s.ok()) return s;
  if (id.empty()) return Invalid(field, "is empty");
  for (char c : id) {
    if (!(IsAtext(static_cast<unsigned char>(c)) || c == '.' || c == '@')) {
      return Invalid(field,
                     "must be printable ASCII without spaces, quotes or angle "
                     "brackets");
    }
  }
  const size_t ats = std::count(id.begin(), id.end(), '@');
  if (ats > 1 ||
      (require_at && (ats != 1 || id.front() == '@' || id.back() == '@'))) {
    return Invalid(field, "must have the form left@right");
  }
  return absl::OkStatus();
}

absl::string_view StripAngleBrackets(absl::string_view id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') {
    id = id.substr(1, id.size() - 2);
  }
  return id;
}

// RFC 5322 3.6.8: printable ASCII except colon.
bool IsFieldName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c < '!' || c > '~' || c == ':') return false;
  }
  return true;
}

// Fields written here. A second copy from the caller would make the message
// invalid (RFC 5322 3.6 allows one of each) or contradict the MIME structure;
// Bcc would disclose blind recipients.
bool IsComposerField(absl::string_view name) {
  static constexpr absl::string_view kOwned[] = {
      "Date",     "From",    "To",         "Cc",           "Bcc",
      "Reply-To", "Subject", "Message-ID", "MIME-Version", "X-Deliverd-Id"};
  for (absl::string_view owned : kOwned) {
    if (absl::EqualsIgnoreCase(name, owned)) return true;
  }
  return absl::StartsWithIgnoreCase(name, "Content-");
}

// RFC 2045 token characters (type, subtype).
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= ' ' || c > '~' ||
        absl::string_view("()<>@,;:\\\"/[]?=").find(c) !=
            absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Splits the "type/subtype" head of a Content-Type value; parameters, if
// any, are left to GMime's parser.
bool ParseMediaType(absl::string_view content_type, std::string* type,
                    std::string* subtype) {
  absl::string_view head = absl::StripAsciiWhitespace(
      content_type.substr(0, content_type.find(';')));
  const size_t slash = head.find('/');
  if (slash == absl::string_view::npos) return false;
  const absl::string_view t = head.substr(0, slash);
  const absl::string_view st = head.substr(slash + 1);
  if (!IsToken(t) || !IsToken(st)) return false;
  *type = absl::AsciiStrToLower(t);
  *subtype = absl::AsciiStrToLower(st);
  return true;
}

constexpr absl::string_view kDefaultContentType = "application/octet-stream";

absl::Status CheckBody(absl::string_view field, absl::string_view body) {
  // NUL is not text (RFC 2045 forbids it in 7bit and 8bit data) and many
  // receivers truncate at it; binary content belongs in an attachment.
  if (body.find('\0') != absl::string_view::npos) {
    return Invalid(field, "must not contain NUL; send binary as an attachment");
  }
  if (!IsValidUtf8(body)) return Invalid(field, "is not valid UTF-8");
  return absl::OkStatus();
}

absl::Status CheckMailboxes(absl::string_view list_name,
                            const std::vector<Mailbox>& mailboxes) {
  for (size_t i = 0; i < mailboxes.size(); ++i) {
    const std::string prefix = absl::StrCat(list_name, "[", i, "]");
    if (absl::Status s = CheckAddress(absl::StrCat(prefix, ".address"),
                                      mailboxes[i].address);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckHeaderText(absl::StrCat(prefix, ".display_name"),
                                         mailboxes[i].display_name);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateInput(const ComposeInput& in) {
  if (absl::Status s = CheckAddress("from.address", in.from.address); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckHeaderText("from.display_name", in.from.display_name);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckMailboxes("to", in.to); !s.ok()) return s;
  if (absl::Status s = CheckMailboxes("cc", in.cc); !s.ok()) return s;
  if (absl::Status s = CheckMailboxes("reply_to", in.reply_to); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckHeaderText("subject", in.subject); !s.ok())
    return s;

  if (in.text_body.empty() && in.html_body.empty()) {
    return Invalid("text_body", "a text_body or an html_body is required");
  }
  if (absl::Status s = CheckBody("text_body", in.text_body); !s.ok()) return s;
  if (absl::Status s = CheckBody("html_body", in.html_body); !s.ok()) return s;

  for (size_t i = 0; i < in.headers.size(); ++i) {
    const auto& [name, value] = in.headers[i];
    const std::string name_field = absl::StrCat("headers[", i, "].name");
    if (absl::Status s = CheckHeaderText(name_field, name); !s.ok()) return s;
    if (!IsFieldName(name)) {
      return Invalid(name_field, "is not a valid RFC 5322 field name");
    }
    if (absl::EqualsIgnoreCase(name, "Bcc")) {
      return Invalid(name_field, "Bcc must never appear in message headers");
    }
    if (IsComposerField(name)) {
      return Invalid(name_field,
                     absl::StrCat("\"", name,
                                  "\" is written by the composer and cannot be "
                                  "set as an extra header"));
    }
    if (absl::Status s =
            CheckHeaderText(absl::StrCat("headers[", i, "].value"), value);
        !s.ok()) {
      return s;
    }
  }

  std::set<std::string> content_ids;
  for (size_t i = 0; i < in.attachments.size(); ++i) {
    const OutgoingAttachment& a = in.attachments[i];
    const std::string prefix = absl::StrCat("attachments[", i, "]");
    if (absl::Status s =
            CheckHeaderText(absl::StrCat(prefix, ".filename"), a.filename);
        !s.ok()) {
      return s;
    }
    const std::string type_field = absl::StrCat(prefix, ".content_type");
    if (absl::Status s = CheckHeaderText(type_field, a.content_type); !s.ok()) {
      return s;
    }
    if (!a.content_type.empty()) {
      std::string type, subtype;
      if (!ParseMediaType(a.content_type, &type, &subtype)) {
        return Invalid(type_field,
                       "is not a MIME type of the form type/subtype");
      }
      // RFC 2046 5.1.1 and 5.2: these may not be base64 encoded, and a
      // caller-made multipart would need our boundary handling anyway.
      if (type == "multipart" || type == "message") {
        return Invalid(type_field,
                       "multipart/* and message/* cannot be sent as an "
                       "attachment; use application/octet-stream");
      }
    }
    if (!a.content_id.empty()) {
      const std::string id_field = absl::StrCat(prefix, ".content_id");
      const absl::string_view id = StripAngleBrackets(a.content_id);
      if (absl::Status s = CheckId(id_field, id, /*require_at=*/false);
          !s.ok()) {
        return s;
      }
      if (!content_ids.insert(std::string(id)).second) {
        return Invalid(id_field,
                       "repeats the content_id of another attachment");
      }
    }
  }

  if (absl::Status s =
          CheckId("message_id", in.message_id, /*require_at=*/true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckHeaderText("deliverd_id", in.deliverd_id);
      !s.ok()) {
    return s;
  }
  if (in.deliverd_id.empty()) return Invalid("deliverd_id", "is empty");
  for (char c : in.deliverd_id) {
    if (c < '!' || c > '~') {
      return Invalid("deliverd_id", "must be printable ASCII without spaces");
    }
  }
  if (in.date == absl::InfinitePast() || in.date == absl::InfiniteFuture()) {
    return Invalid("date", "must be a finite time");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Header field bodies (see the header comment for why they are built here).

// True when |text| cannot be written as plain header text: it has 8-bit
// bytes, contains something a decoder would take for an encoded-word, or has
// a word too long to fit on a folded 78-column line.
bool NeedsEncodedWords(absl::string_view text) {
  if (absl::StrContains(text, "=?")) return true;
  size_t word = 0;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
    word = IsWsp(c) ? 0 : word + 1;
    if (word > kFoldColumn - 1) return true;
  }
  return false;
}

// The Q characters RFC 2047 5(3) allows even inside a phrase, so one encoder
// serves display names and unstructured text alike.
bool IsQLiteral(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '!' || c == '*' || c == '+' ||
         c == '-' || c == '/';
}

size_t QSize(unsigned char c) { return (IsQLiteral(c) || c == ' ') ? 1 : 3; }

std::string QEncode(absl::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u == ' ') {
      out += '_';
    } else if (IsQLiteral(u)) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '=';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

size_t Base64Size(size_t bytes) { return (bytes + 2) / 3 * 4; }

size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

// Encodes all of |text| (valid UTF-8) as UTF-8 encoded-words separated by
// single spaces, each at most 75 characters and holding whole characters only
// (RFC 2047 5(3) forbids splitting one). Whitespace inside |text| is encoded
// as well, because decoders drop whitespace between adjacent encoded-words.
// Q is used when it is no longer than B, so mostly-Latin text stays readable.
std::string EncodeWords(absl::string_view text) {
  size_t q_total = 0;
  for (char c : text) q_total += QSize(static_cast<unsigned char>(c));
  const bool use_q = q_total <= Base64Size(text.size());
  const absl::string_view prefix = use_q ? "=?UTF-8?Q?" : "=?UTF-8?B?";
  const size_t budget = kMaxEncodedWord - prefix.size() - 2;  // minus "?="
  const size_t max_b_bytes = budget / 4 * 3;

  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    // Take whole characters while the encoded text fits the budget.
    size_t end = start;
    size_t q_size = 0;
    size_t aligned_end = 0;  // last end with a multiple of 3 bytes, if any
    while (end < text.size()) {
      const size_t n =
          std::min(Utf8SequenceLength(static_cast<unsigned char>(text[end])),
                   text.size() - end);
      size_t ch_q = 0;
      for (size_t i = end; i < end + n; ++i) {
        ch_q += QSize(static_cast<unsigned char>(text[i]));
      }
      const bool fits =
          use_q ? q_size + ch_q <= budget : end + n - start <= max_b_bytes;
      if (!fits && end > start) break;
      q_size += ch_q;
      end += n;
      if ((end - start) % 3 == 0) aligned_end = end;
    }
    // GMime 3.2's decoder joins adjacent B words before decoding them and
    // stops at the first '=' padding, losing the rest of the field. So only
    // the last word may need padding: end earlier words on a 3-byte multiple.
    if (!use_q && end < text.size() && aligned_end > start) end = aligned_end;
    const absl::string_view chunk = text.substr(start, end - start);
    words.push_back(absl::StrCat(
        prefix, use_q ? QEncode(chunk) : absl::Base64Escape(chunk), "?="));
    start = end;
  }
  return absl::StrJoin(words, " ");
}

// Subject and non-ASCII extra header values (unstructured, RFC 5322 3.2.5).
// Leading and trailing whitespace carries no meaning there and is dropped.
std::string EncodeUnstructured(absl::string_view text) {
  text = TrimWsp(text);
  return NeedsEncodedWords(text) ? EncodeWords(text) : std::string(text);
}

// A display name as an RFC 5322 phrase: atoms as they are, a quoted-string
// when it has specials (commas, dots, quotes), encoded-words when plain text
// cannot carry it.
std::string EncodePhrase(absl::string_view name) {
  name = TrimWsp(name);
  if (NeedsEncodedWords(name)) return EncodeWords(name);
  const bool atoms_only = std::all_of(name.begin(), name.end(), [](char c) {
    return IsAtext(static_cast<unsigned char>(c)) || IsWsp(c);
  });
  if (atoms_only) return std::string(name);
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string FormatMailbox(const Mailbox& mailbox) {
  const std::string phrase = EncodePhrase(mailbox.display_name);
  if (phrase.empty()) return mailbox.address;
  return absl::StrCat(phrase, " <", mailbox.address, ">");
}

std::string FormatMailboxes(const std::vector<Mailbox>& mailboxes) {
  return absl::StrJoin(mailboxes, ", ", [](std::string* out, const Mailbox& m) {
    out->append(FormatMailbox(m));
  });
}

// Folds "name: value" before whitespace runs so lines stay within 78 columns
// where the value allows it (RFC 5322 2.2.3: unfolding only removes the CRLF,
// so the value's meaning is unchanged). Returns the field body as it goes
// after "Name:": a leading space, CRLF line breaks and a final CRLF. Fails,
// naming |field|, if a run without whitespace cannot fit in a 998-octet
// line.
absl::StatusOr<std::string> FoldField(absl::string_view field,
                                      absl::string_view name,
                                      absl::string_view value) {
  if (value.empty()) return std::string("\r\n");
  std::string raw;
  size_t line = name.size() + 1;  // "Name:"
  size_t longest = 0;
  bool line_has_value = false;
  for (size_t i = 0; i < value.size();) {
    const size_t start = i;
    while (i < value.size() && IsWsp(value[i])) ++i;
    while (i < value.size() && !IsWsp(value[i])) ++i;
    // The first segment starts right after the colon; the conventional
    // space there is its whitespace.
    const std::string piece =
        raw.empty() ? absl::StrCat(" ", value.substr(start, i - start))
                    : std::string(value.substr(start, i - start));
    // Breaking right after "Name:" only helps if the piece then fits.
    if (line + piece.size() > kFoldColumn &&
        (line_has_value || piece.size() <= kFoldColumn)) {
      raw += "\r\n";
      longest = std::max(longest, line);
      line = 0;
    }
    raw += piece;
    line += piece.size();
    line_has_value = true;
  }
  longest = std::max(longest, line);
  if (longest > kMaxLineOctets) {
    return Invalid(field,
                   "has a run without whitespace too long to fold into a "
                   "998-octet line");
  }
  raw += "\r\n";
  return raw;
}

struct Field {
  std::string name;
  std::string value;        // unfolded, already encoded
  std::string input_field;  // for errors
};

// ---------------------------------------------------------------------------
// Body parts.

// MIME text form (RFC 2046 4.1.1): every line break is CRLF on the wire. The
// text is given to GMime with LF breaks and the DOS newline format turns them
// into CRLF; a lone CR would otherwise survive as a bare CR. A final line
// break is added so a receiver sees the same text whether the part ends the
// message or is followed by a boundary.
std::string CanonicalText(absl::string_view body) {
  std::string out;
  out.reserve(body.size() + 1);
  size_t start = 0;
  while (true) {
    const size_t cr = body.find('\r', start);
    if (cr == absl::string_view::npos) {
      out.append(body.data() + start, body.size() - start);
      break;
    }
    out.append(body.data() + start, cr - start);
    out += '\n';
    start = cr + 1;
    if (start < body.size() && body[start] == '\n') ++start;
  }
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

void SetContent(GMimePart* part, absl::string_view bytes) {
  // The memory stream copies the bytes, so |bytes| need not outlive the part.
  GObjectPtr<GMimeStream> stream(
      g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  GObjectPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(
      stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part, wrapper.get());
}

// Whether canonical text may go out as 7bit: only ASCII with lines up to
// 998 octets may (RFC 2045 2.7). Anything else is quoted-printable, whose
// soft line breaks keep every line short and which relays never need to
// re-encode.
bool FitsSevenBit(absl::string_view text) {
  return IsAllAscii(text) && LongestLine(text) <= kMaxLineOctets;
}

GObjectPtr<GMimeObject> MakeTextPart(const char* subtype,
                                     absl::string_view body) {
  const std::string text = CanonicalText(body);
  const bool seven_bit = FitsSevenBit(text);
  GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
  SetContent(GMIME_PART(part), text);
  g_mime_text_part_set_charset(
      part, seven_bit || IsAllAscii(text) ? "us-ascii" : "utf-8");
  g_mime_part_set_content_encoding(
      GMIME_PART(part), seven_bit ? GMIME_CONTENT_ENCODING_7BIT
                                  : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return GObjectPtr<GMimeObject>(GMIME_OBJECT(part));
}

// Labels a non-ASCII parameter value as UTF-8 so GMime's RFC 2231 encoding
// uses it, instead of the smallest legacy charset that fits.
void MarkParamUtf8(GMimeParamList* params, const char* name) {
  if (params == nullptr) return;
  if (GMimeParam* param = g_mime_param_list_get_parameter(params, name)) {
    g_mime_param_set_charset(param, "UTF-8");
  }
}

GObjectPtr<GMimeObject> MakeAttachmentPart(const OutgoingAttachment& a) {
  std::string type = "application";
  std::string subtype = "octet-stream";
  const std::string content_type = a.content_type.empty()
                                       ? std::string(kDefaultContentType)
                                       : a.content_type;
  ParseMediaType(content_type, &type, &subtype);  // validated beforehand

  GObjectPtr<GMimeObject> object(GMIME_OBJECT(g_mime_part_new()));
  GMimePart* part = GMIME_PART(object.get());
  // GMime parses the parameters (quoting, RFC 2231) and serialises them
  // again, so nothing in the caller's string reaches the wire verbatim.
  GObjectPtr<GMimeContentType> parsed(
      g_mime_content_type_parse(nullptr, content_type.c_str()));
  g_mime_content_type_set_media_type(parsed.get(), type.c_str());
  g_mime_content_type_set_media_subtype(parsed.get(), subtype.c_str());
  g_mime_object_set_content_type(object.get(), parsed.get());

  const absl::string_view content_id = StripAngleBrackets(a.content_id);
  g_mime_object_set_disposition(object.get(), content_id.empty()
                                                  ? GMIME_DISPOSITION_ATTACHMENT
                                                  : GMIME_DISPOSITION_INLINE);
  if (!a.filename.empty()) {
    // Sets both Content-Disposition filename and the older Content-Type
    // name, which some clients still read.
    g_mime_part_set_filename(part, a.filename.c_str());
    MarkParamUtf8(g_mime_content_disposition_get_parameters(
                      g_mime_object_get_content_disposition(object.get())),
                  "filename");
    MarkParamUtf8(g_mime_content_type_get_parameters(
                      g_mime_object_get_content_type(object.get())),
                  "name");
  }
  if (!content_id.empty()) {
    g_mime_object_set_content_id(object.get(), std::string(content_id).c_str());
  }
  SetContent(part, a.content);
  // Always base64: the bytes arrive exactly as given (no line-ending
  // canonicalisation of text/* files), and binary content needs it anyway.
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
  return object;
}

GObjectPtr<GMimeObject> NewMultipart(const char* subtype) {
  return GObjectPtr<GMimeObject>(
      GMIME_OBJECT(g_mime_multipart_new_with_subtype(subtype)));
}

void AddPart(GMimeObject* multipart, GMimeObject* part) {
  g_mime_multipart_add(GMIME_MULTIPART(multipart), part);  // takes a ref
}

GObjectPtr<GMimeObject> BuildBody(const ComposeInput& in) {
  const bool has_text = !in.text_body.empty();
  const bool has_html = !in.html_body.empty();

  // Inline parts only make sense next to the HTML that references them.
  std::vector<const OutgoingAttachment*> related, mixed;
  for (const OutgoingAttachment& a : in.attachments) {
    (has_html && !a.content_id.empty() ? related : mixed).push_back(&a);
  }

  GObjectPtr<GMimeObject> html;
  if (has_html) {
    html = MakeTextPart("html", in.html_body);
    if (!related.empty()) {
      GObjectPtr<GMimeObject> group = NewMultipart("related");
      // RFC 2387 3.1: the type parameter names the root part's type.
      g_mime_object_set_content_type_parameter(group.get(), "type",
                                               "text/html");
      AddPart(group.get(), html.get());
      for (const OutgoingAttachment* a : related) {
        AddPart(group.get(), MakeAttachmentPart(*a).get());
      }
      html = std::move(group);
    }
  }

  GObjectPtr<GMimeObject> body;
  if (has_text && has_html) {
    // RFC 2046 5.1.4: least faithful first, so the text part leads.
    body = NewMultipart("alternative");
    AddPart(body.get(), MakeTextPart("plain", in.text_body).get());
    AddPart(body.get(), html.get());
  } else if (has_text) {
    body = MakeTextPart("plain", in.text_body);
  } else {
    body = std::move(html);
  }

  if (!mixed.empty()) {
    GObjectPtr<GMimeObject> outer = NewMultipart("mixed");
    AddPart(outer.get(), body.get());
    for (const OutgoingAttachment* a : mixed) {
      AddPart(outer.get(), MakeAttachmentPart(*a).get());
    }
    body = std::move(outer);
  }
  return body;
}

// Last line of defence for the wire format promised in the header: CRLF
// everywhere, no line over 998 octets, no NUL, a final CRLF.
absl::Status CheckWireFormat(absl::string_view message) {
  if (message.find('\0') != absl::string_view::npos) {
    return absl::InternalError("composed message has a NUL");
  }
  size_t start = 0;
  while (start < message.size()) {
    const size_t lf = message.find('\n', start);
    size_t end = lf == absl::string_view::npos ? message.size() : lf;
    if (lf != absl::string_view::npos) {
      if (end == start || message[end - 1] != '\r') {
        return absl::InternalError("composed message has a bare LF");
      }
      --end;  // the line's CR
    }
    const absl::string_view line = message.substr(start, end - start);
    if (line.find('\r') != absl::string_view::npos) {
      return absl::InternalError("composed message has a bare CR");
    }
    if (line.size() > kMaxLineOctets) {
      return absl::InternalError(
          "composed message has a line longer than 998 octets");
    }
    start = lf == absl::string_view::npos ? message.size() : lf + 1;
  }
  if (!absl::EndsWith(message, "\r\n")) {
    return absl::InternalError("composed message does not end with CRLF");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ComposeMessage(const ComposeInput& input) {
  if (absl::Status s = ValidateInput(input); !s.ok()) return s;
  hygiene::EnsureGMimeInitialized();

  std::unique_ptr<GDateTime, GDateTimeUnref> date(
      g_date_time_new_from_unix_utc(absl::ToUnixSeconds(input.date)));
  if (date == nullptr) return Invalid("date", "is out of range");
  std::unique_ptr<char, GFree> date_text(
      g_mime_utils_header_format_date(date.get()));

  // Order follows common practice; RFC 5322 imposes none.
  std::vector<Field> fields;
  fields.push_back({"Date", date_text.get(), "date"});
  fields.push_back({"From", FormatMailbox(input.from), "from"});
  if (!input.reply_to.empty()) {
    fields.push_back({"Reply-To", FormatMailboxes(input.reply_to), "reply_to"});
  }
  if (!input.to.empty()) {
    fields.push_back({"To", FormatMailboxes(input.to), "to"});
  }
  if (!input.cc.empty()) {
    fields.push_back({"Cc", FormatMailboxes(input.cc), "cc"});
  }
  fields.push_back({"Subject", EncodeUnstructured(input.subject), "subject"});
  fields.push_back(
      {"Message-ID", absl::StrCat("<", input.message_id, ">"), "message_id"});
  fields.push_back({"MIME-Version", "1.0", "mime_version"});
  fields.push_back({"X-Deliverd-Id", input.deliverd_id, "deliverd_id"});
  for (size_t i = 0; i < input.headers.size(); ++i) {
    const auto& [name, value] = input.headers[i];
    // ASCII values keep their text (minus surrounding whitespace, which has
    // no meaning in a field body): their grammar is unknown here and an
    // encoded-word would corrupt a structured field such as
    // List-Unsubscribe. Only 8-bit values are treated as unstructured text.
    const bool ascii = IsAllAscii(value);
    fields.push_back(
        {name,
         ascii ? std::string(TrimWsp(value)) : EncodeWords(TrimWsp(value)),
         absl::StrCat("headers[", i, "].value")});
  }

  // The message's own fields are written here, already encoded and folded;
  // GMime serialises only the MIME body (its Content-* fields and content).
  // Handing the fields to a GMimeMessage would make GMime parse each one
  // into its model (address lists, dates) only to write the same text back:
  // most of the cost of composing a simple message, measured.
  std::string out;
  for (const Field& f : fields) {
    absl::StatusOr<std::string> raw = FoldField(f.input_field, f.name, f.value);
    if (!raw.ok()) return raw.status();
    absl::StrAppend(&out, f.name, ":", *raw);
  }

  if (std::optional<std::string> plain = internal::PlainBody(input)) {
    out += *plain;
  } else {
    absl::StatusOr<std::string> body = internal::GMimeBody(input);
    if (!body.ok()) return body.status();
    out += *body;
  }
  if (absl::Status s = CheckWireFormat(out); !s.ok()) return s;
  return out;
}

namespace internal {

absl::StatusOr<std::string> GMimeBody(const ComposeInput& input) {
  hygiene::EnsureGMimeInitialized();
  GObjectPtr<GMimeObject> body = BuildBody(input);
  static GMimeFormatOptions* const options = [] {
    GMimeFormatOptions* o = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(o, GMIME_NEWLINE_FORMAT_DOS);
    return o;
  }();
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new());
  if (g_mime_object_write_to_stream(body.get(), options, stream.get()) < 0) {
    return absl::InternalError("GMime failed to serialise the message");
  }
  GByteArray* bytes =
      g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

std::optional<std::string> PlainBody(const ComposeInput& input) {
  if (!input.attachments.empty() ||
      input.text_body.empty() == input.html_body.empty()) {
    return std::nullopt;  // no body, or a multipart one
  }
  const bool html = input.text_body.empty();
  const std::string text = CanonicalText(html ? input.html_body
                                              : input.text_body);
  // As MakeTextPart decides it: 7bit, and so charset us-ascii.
  if (!FitsSevenBit(text)) return std::nullopt;
  std::string out = absl::StrCat(
      "Content-Type: text/", html ? "html" : "plain",
      "; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
  out.reserve(out.size() + text.size() + text.size() / 32 + 2);
  size_t start = 0;
  while (start < text.size()) {
    const size_t lf = text.find('\n', start);  // CanonicalText ends with one
    out.append(text, start, lf - start);
    out += "\r\n";
    start = lf + 1;
  }
  return out;
}

}  // namespace internal
}  // namespace deliverd::delivery
