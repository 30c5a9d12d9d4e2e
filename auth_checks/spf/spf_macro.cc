#include "auth_checks/spf/spf_macro.h"

#include <arpa/inet.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace deliverd::auth_checks::spf {
namespace {

bool IsDelimiter(char c) {
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' ||
         c == '_' || c == '=';
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

std::string Error(size_t pos, std::string_view what) {
  return absl::StrCat("macro error at offset ", pos, ": ", std::string(what));
}

// One parsed %{...}.
struct Expand {
  char letter;
  bool upper;
  int digits;  // 0: all.
  bool reverse;
  std::string delimiters;
};

// Parses text[pos..] after "%{"; on success sets *end after "}".
absl::Status ParseExpand(std::string_view text, size_t pos, bool explanation,
                         Expand* out, size_t* end) {
  const size_t start = pos - 2;
  if (pos >= text.size()) {
    return absl::InvalidArgumentError(Error(start, "unterminated %{"));
  }
  char letter = text[pos];
  out->upper = letter >= 'A' && letter <= 'Z';
  out->letter = Lower(letter);
  static constexpr std::string_view kLetters = "slodiphv";
  static constexpr std::string_view kExpLetters = "crt";
  if (kLetters.find(out->letter) == std::string_view::npos &&
      !(explanation && kExpLetters.find(out->letter) != std::string_view::npos)) {
    return absl::InvalidArgumentError(Error(
        pos, absl::StrCat("unknown macro letter '", std::string(1, letter),
                          "'")));
  }
  ++pos;
  std::string digits;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    digits += text[pos++];
  }
  out->digits = 0;
  if (!digits.empty()) {
    if (digits.size() > 3 || std::stoi(digits) == 0) {
      return absl::InvalidArgumentError(
          Error(pos, "transformer digits must be 1..999"));
    }
    out->digits = std::stoi(digits);
  }
  out->reverse = false;
  if (pos < text.size() && (text[pos] == 'r' || text[pos] == 'R')) {
    out->reverse = true;
    ++pos;
  }
  out->delimiters.clear();
  while (pos < text.size() && IsDelimiter(text[pos])) {
    out->delimiters += text[pos++];
  }
  if (pos >= text.size() || text[pos] != '}') {
    return absl::InvalidArgumentError(
        Error(pos, "expected '}' after macro transformers"));
  }
  *end = pos + 1;
  return absl::OkStatus();
}

std::string UrlEscape(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Transform(const std::string& value, const Expand& e) {
  std::string delims = e.delimiters.empty() ? "." : e.delimiters;
  std::vector<std::string> parts(1);
  for (char c : value) {
    if (delims.find(c) != std::string::npos) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  if (e.reverse) std::reverse(parts.begin(), parts.end());
  size_t first = 0;
  if (e.digits > 0 && static_cast<size_t>(e.digits) < parts.size()) {
    first = parts.size() - e.digits;
  }
  std::string out;
  for (size_t i = first; i < parts.size(); ++i) {
    if (i > first) out += '.';
    out += parts[i];
  }
  return out;
}

absl::StatusOr<std::string> Run(std::string_view text,
                                const MacroContext* context, bool explanation) {
  std::string out;
  std::string p_value;
  bool p_done = false;
  size_t pos = 0;
  while (pos < text.size()) {
    char c = text[pos];
    if (c != '%') {
      unsigned char u = static_cast<unsigned char>(c);
      if (!(u >= 0x21 && u <= 0x7e) && !(explanation && c == ' ')) {
        return absl::InvalidArgumentError(
            Error(pos, "character not allowed in a macro-string"));
      }
      out += c;
      ++pos;
      continue;
    }
    if (pos + 1 >= text.size()) {
      return absl::InvalidArgumentError(Error(pos, "lone '%' at the end"));
    }
    char next = text[pos + 1];
    if (next == '%') {
      out += '%';
      pos += 2;
    } else if (next == '_') {
      out += ' ';
      pos += 2;
    } else if (next == '-') {
      out += "%20";
      pos += 2;
    } else if (next == '{') {
      Expand e;
      size_t end = 0;
      absl::Status status = ParseExpand(text, pos + 2, explanation, &e, &end);
      if (!status.ok()) return status;
      pos = end;
      if (context == nullptr) continue;
      std::string value;
      switch (e.letter) {
        case 's': value = context->sender; break;
        case 'l': value = context->local_part; break;
        case 'o': value = context->sender_domain; break;
        case 'd': value = context->domain; break;
        case 'i': value = IpForIMacro(context->ip, context->ipv6); break;
        case 'c': value = context->ip; break;
        case 'v': value = context->ipv6 ? "ip6" : "in-addr"; break;
        case 'h': value = context->helo; break;
        case 'r': value = context->receiver; break;
        case 't': value = std::to_string(context->timestamp); break;
        case 'p':
          if (!p_done) {
            p_value = context->validated_domain ? context->validated_domain()
                                                : "unknown";
            p_done = true;
          }
          value = p_value;
          break;
      }
      value = Transform(value, e);
      out += e.upper ? UrlEscape(value) : value;
    } else {
      return absl::InvalidArgumentError(
          Error(pos, "'%' must be followed by '{', '%', '_' or '-'"));
    }
  }
  return out;
}

}  // namespace

absl::Status ValidateMacroString(std::string_view text, bool explanation) {
  return Run(text, nullptr, explanation).status();
}

absl::StatusOr<std::string> ExpandMacroString(std::string_view text,
                                              const MacroContext& context,
                                              bool explanation) {
  return Run(text, &context, explanation);
}

std::string TruncateDomain(std::string domain) {
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  while (domain.size() > 253) {
    size_t dot = domain.find('.');
    if (dot == std::string::npos) break;
    domain.erase(0, dot + 1);
  }
  return domain;
}

std::string IpForIMacro(const std::string& ip, bool ipv6) {
  if (!ipv6) return ip;
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, ip.c_str(), bytes) != 1) return ip;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i > 0) out += '.';
    out += kHex[bytes[i] >> 4];
    out += '.';
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace deliverd::auth_checks::spf
