// SMTP reply parsing; see smtp_reply.h for the contract.
#include "hygiene/bounce/smtp_reply.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace deliverd::hygiene::bounce {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

absl::Status Error(absl::string_view code, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(code, ": ", why));
}

// Reads 1-3 digits at s[*pos]; false if none or a 4th digit follows.
bool ReadNumber(absl::string_view s, size_t* pos, int* value) {
  size_t start = *pos;
  int v = 0;
  while (*pos < s.size() && IsDigit(s[*pos])) {
    if (*pos - start == 3) return false;
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
  }
  if (*pos == start) return false;
  *value = v;
  return true;
}

// Tries to read "c.s.d" starting at s[pos]; on success sets *end to the
// position after it. Does not check what follows.
bool ReadEnhanced(absl::string_view s, size_t pos, EnhancedStatusCode* out,
                  size_t* end) {
  if (pos >= s.size()) return false;
  char c = s[pos];
  if (c != '2' && c != '4' && c != '5') return false;
  if (pos + 1 < s.size() && IsDigit(s[pos + 1])) return false;
  size_t p = pos + 1;
  if (p >= s.size() || s[p] != '.') return false;
  ++p;
  int subject = 0, detail = 0;
  if (!ReadNumber(s, &p, &subject)) return false;
  if (p >= s.size() || s[p] != '.') return false;
  ++p;
  if (!ReadNumber(s, &p, &detail)) return false;
  out->klass = c - '0';
  out->subject = subject;
  out->detail = detail;
  *end = p;
  return true;
}

bool ValidReplyCode(absl::string_view s) {
  return s.size() == 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' &&
         s[1] <= '5' && IsDigit(s[2]);
}

// Appends `in` to `out`, replacing each maximal invalid UTF-8 subsequence
// (per byte) with U+FFFD.
void AppendSanitizedUtf8(absl::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size()) {
    unsigned char b = static_cast<unsigned char>(in[i]);
    if (b < 0x80) {
      out->push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    }
    bool ok = need > 0 && i + need < in.size();
    if (ok) {
      for (size_t k = 1; k <= need; ++k) {
        unsigned char c = static_cast<unsigned char>(in[i + k]);
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (c < l || c > h) {
          ok = false;
          break;
        }
      }
    }
    if (ok) {
      out->append(in.data() + i, need + 1);
      i += need + 1;
    } else {
      out->append("\xEF\xBF\xBD");
      ++i;
    }
  }
}

}  // namespace

std::string EnhancedStatusCode::ToString() const {
  return absl::StrCat(klass, ".", subject, ".", detail);
}

absl::StatusOr<EnhancedStatusCode> ParseEnhancedStatusCode(
    absl::string_view s) {
  EnhancedStatusCode code;
  size_t end = 0;
  if (!ReadEnhanced(s, 0, &code, &end) || end != s.size()) {
    return Error("enhanced.syntax",
                 "not class.subject.detail with class 2, 4 or 5 and 1-3 "
                 "digit subject and detail");
  }
  return code;
}

std::string SmtpReplyErrorCode(const absl::Status& status) {
  if (status.ok() || status.code() != absl::StatusCode::kInvalidArgument) {
    return "";
  }
  absl::string_view m = status.message();
  size_t colon = m.find(": ");
  if (colon == absl::string_view::npos) return "";
  absl::string_view code = m.substr(0, colon);
  if (code.substr(0, 6) != "reply.") return "";
  return std::string(code);
}

absl::StatusOr<SmtpReply> ParseSmtpReply(absl::string_view raw) {
  if (raw.empty()) return Error("reply.empty", "no bytes");
  if (raw.size() > kMaxReplyOctets) {
    return Error("reply.too_long",
                 absl::StrCat("reply over ", kMaxReplyOctets, " octets"));
  }
  // Split into lines, checking bytes as we go. A terminator after the last
  // line is optional.
  std::vector<absl::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i <= raw.size(); ++i) {
    bool at_end = i == raw.size();
    char c = at_end ? '\n' : raw[i];
    if (c == '\r') {
      if (i + 1 < raw.size() && raw[i + 1] == '\n') continue;  // CRLF
      return Error("reply.control_character",
                   absl::StrCat("bare CR on line ", lines.size() + 1));
    }
    if (c == '\n') {
      size_t stop = i;
      if (!at_end && stop > start && raw[stop - 1] == '\r') --stop;
      if (at_end && start == raw.size()) break;  // terminator was the last byte
      if (stop - start > kMaxLineOctets) {
        return Error("reply.line_too_long",
                     absl::StrCat("line ", lines.size() + 1, " over ",
                                  kMaxLineOctets, " octets"));
      }
      if (lines.size() == kMaxReplyLines) {
        return Error("reply.too_many_lines",
                     absl::StrCat("more than ", kMaxReplyLines, " lines"));
      }
      lines.push_back(raw.substr(start, stop - start));
      start = i + 1;
      continue;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) {
      return Error(
          "reply.control_character",
          absl::StrCat("control octet 0x", absl::Hex(u, absl::kZeroPad2),
                       " on line ", lines.size() + 1));
    }
  }

  SmtpReply reply;
  std::vector<absl::string_view> texts;
  std::vector<std::optional<EnhancedStatusCode>> line_codes;
  std::vector<size_t> code_ends;
  bool final_seen = false;
  for (size_t n = 0; n < lines.size(); ++n) {
    absl::string_view line = lines[n];
    if (final_seen) {
      return Error("reply.trailing_data",
                   absl::StrCat("line ", n + 1, " follows the final line"));
    }
    if (line.size() < 3 || !ValidReplyCode(line.substr(0, 3))) {
      return Error("reply.bad_code",
                   absl::StrCat("line ", n + 1,
                                " does not start with a reply code 200-559"));
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (n == 0) {
      reply.code = code;
    } else if (code != reply.code) {
      return Error(
          "reply.mismatched_code",
          absl::StrCat("line ", n + 1, " has a different code than line 1"));
    }
    absl::string_view text;
    if (line.size() == 3) {
      final_seen = true;
    } else if (line[3] == ' ') {
      final_seen = true;
      text = line.substr(4);
    } else if (line[3] == '-') {
      text = line.substr(4);
    } else {
      return Error("reply.bad_separator",
                   absl::StrCat("line ", n + 1,
                                ": code not followed by SP, '-' or end"));
    }
    EnhancedStatusCode enhanced;
    size_t end = 0;
    std::optional<EnhancedStatusCode> line_code;
    if (ReadEnhanced(text, 0, &enhanced, &end) &&
        (end == text.size() || text[end] == ' ') &&
        enhanced.klass == code / 100) {
      line_code = enhanced;
      if (!reply.enhanced) reply.enhanced = enhanced;
    }
    texts.push_back(text);
    line_codes.push_back(line_code);
    code_ends.push_back(end);
  }
  if (!final_seen) {
    return Error("reply.incomplete", "no final line (only \"NNN-\" lines)");
  }
  reply.line_count = static_cast<int>(lines.size());
  for (size_t n = 0; n < texts.size(); ++n) {
    absl::string_view text = texts[n];
    if (line_codes[n] && reply.enhanced && *line_codes[n] == *reply.enhanced) {
      text = text.substr(code_ends[n]);
      if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
    }
    if (n > 0) reply.text.push_back('\n');
    AppendSanitizedUtf8(text, &reply.text);
  }
  return reply;
}

FoundStatusCodes FindStatusCodesInText(absl::string_view text) {
  if (text.size() > kMaxReplyOctets) text = text.substr(0, kMaxReplyOctets);
  FoundStatusCodes found;
  auto glued = [&](size_t pos) {  // is text[pos] a char that glues a token?
    if (pos >= text.size()) return false;
    char c = text[pos];
    return IsAlnum(c) || c == '.';
  };
  // One pass over the tokens starting with a class digit ('2' to '5'; most
  // bytes are not one). Enhanced code: the first one standing alone, else
  // the first one ending a sentence ("... 5.1.1.", a final '.' followed by
  // space or the end taken as a boundary). Reply code: the first one of
  // the enhanced code's class, or the first one when there is no enhanced
  // code.
  std::optional<EnhancedStatusCode> sentence_end;
  std::optional<int> first_reply;
  std::optional<int> first_of_class[6];
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '2' || c > '5' || (i > 0 && glued(i - 1))) continue;
    if (!found.enhanced && c != '3' && i + 1 < text.size() &&
        text[i + 1] == '.') {
      EnhancedStatusCode code;
      size_t end = 0;
      if (ReadEnhanced(text, i, &code, &end)) {
        if (!glued(end)) {
          found.enhanced = code;
        } else if (!sentence_end && text[end] == '.' &&
                   (end + 1 == text.size() || text[end + 1] == ' ')) {
          sentence_end = code;
        }
      }
    }
    if (i + 3 <= text.size()) {
      absl::string_view digits = text.substr(i, 3);
      const size_t end = i + 3;
      if (ValidReplyCode(digits) &&
          (end == text.size() || text[end] == ' ' || text[end] == '-')) {
        const int code = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 +
                         (digits[2] - '0');
        if (!first_reply) first_reply = code;
        if (!first_of_class[code / 100]) first_of_class[code / 100] = code;
      }
    }
    // Decided: a standing enhanced code and a reply code of its class.
    if (found.enhanced && first_of_class[found.enhanced->klass]) break;
  }
  if (!found.enhanced) found.enhanced = sentence_end;
  found.reply_code =
      found.enhanced ? first_of_class[found.enhanced->klass] : first_reply;
  return found;
}

}  // namespace deliverd::hygiene::bounce
