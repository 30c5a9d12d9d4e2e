#include "auth_checks/spf/spf_record.h"

#include <arpa/inet.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auth_checks/spf/spf_macro.h"

namespace deliverd::auth_checks::spf {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
  }
  return out;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

// toplabel = ( *alphanum ALPHA *alphanum ) /
//            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool IsTopLabel(std::string_view label) {
  if (label.empty()) return false;
  bool has_alpha = false, has_hyphen = false;
  for (char c : label) {
    if (IsAlpha(c)) {
      has_alpha = true;
    } else if (c == '-') {
      has_hyphen = true;
    } else if (!IsDigit(c)) {
      return false;
    }
  }
  if (!has_hyphen) return has_alpha;
  return IsAlnum(label.front()) && IsAlnum(label.back());
}

absl::Status TermError(int index, std::string_view term, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "term ", index + 1, " \"", std::string(term), "\": ", why));
}

// Parses "/N" (or nothing) at the end of `s`; returns false on bad syntax.
bool ParseCidr(std::string_view digits, int max, int* out) {
  if (digits.empty() || digits.size() > 3) return false;
  int value = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  // Leading zeros are not in the ABNF ("0" / %x31-39 0*1DIGIT).
  if (digits.size() > 1 && digits[0] == '0') return false;
  if (value > max) return false;
  *out = value;
  return true;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Splits "spec/24//64" into the spec and the dual-cidr-length. Only a
// trailing "/digits" and/or "//digits" is a CIDR length: a "/" elsewhere
// belongs to the (macro) domain-spec.
absl::Status SplitDualCidr(std::string_view arg, std::string_view* spec,
                           Mechanism* m) {
  std::string_view rest = arg;
  size_t dbl = rest.rfind("//");
  if (dbl != std::string_view::npos && AllDigits(rest.substr(dbl + 2))) {
    if (!ParseCidr(rest.substr(dbl + 2), 128, &m->cidr6)) {
      return absl::InvalidArgumentError("bad ip6 CIDR length");
    }
    rest = rest.substr(0, dbl);
  }
  size_t slash = rest.rfind('/');
  if (slash != std::string_view::npos && AllDigits(rest.substr(slash + 1))) {
    if (!ParseCidr(rest.substr(slash + 1), 32, &m->cidr4)) {
      return absl::InvalidArgumentError("bad ip4 CIDR length");
    }
    rest = rest.substr(0, slash);
  }
  *spec = rest;
  // Without a domain-spec nothing but the lengths may follow the name.
  if (!rest.empty() && rest[0] == '/') {
    return absl::InvalidArgumentError("malformed CIDR length");
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view MechanismName(MechanismKind kind) {
  switch (kind) {
    case MechanismKind::kAll: return "all";
    case MechanismKind::kInclude: return "include";
    case MechanismKind::kA: return "a";
    case MechanismKind::kMx: return "mx";
    case MechanismKind::kPtr: return "ptr";
    case MechanismKind::kIp4: return "ip4";
    case MechanismKind::kIp6: return "ip6";
    case MechanismKind::kExists: return "exists";
  }
  return "?";
}

bool IsSpfRecord(std::string_view text) {
  if (text.size() < 6 || Lower(text.substr(0, 6)) != "v=spf1") return false;
  return text.size() == 6 || text[6] == ' ';
}

absl::Status ValidateDomainSpec(std::string_view spec) {
  if (spec.empty()) return absl::InvalidArgumentError("empty domain-spec");
  absl::Status status = ValidateMacroString(spec, /*explanation=*/false);
  if (!status.ok()) return status;
  // domain-end = ( "." toplabel [ "." ] ) / macro-expand
  if (spec.back() == '}') return absl::OkStatus();
  std::string_view s = spec;
  if (s.back() == '.') s.remove_suffix(1);
  size_t dot = s.rfind('.');
  if (dot == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "domain-spec must end in a dot and a top label (or a macro)");
  }
  if (!IsTopLabel(s.substr(dot + 1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid top label \"", std::string(s.substr(dot + 1)), "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<SpfRecord> ParseSpfRecord(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80 || (c < 0x20 && c != '\t')) {
      return absl::InvalidArgumentError(
          "record contains a non-ASCII or control character");
    }
  }
  if (!IsSpfRecord(text)) {
    return absl::InvalidArgumentError("record does not start with \"v=spf1\"");
  }
  SpfRecord record;
  std::string_view rest = text.substr(6);
  int index = -1;
  while (!rest.empty()) {
    size_t skip = rest.find_first_not_of(' ');
    if (skip == std::string_view::npos) break;
    rest.remove_prefix(skip);
    size_t end = rest.find(' ');
    std::string_view term = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    ++index;

    // Modifier: name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / "-" /
    // "_" / "." ). A mechanism name never contains "=" before ":" or "/".
    size_t name_end = 0;
    while (name_end < term.size() &&
           (IsAlnum(term[name_end]) || term[name_end] == '-' ||
            term[name_end] == '_' || term[name_end] == '.')) {
      ++name_end;
    }
    if (name_end > 0 && name_end < term.size() && term[name_end] == '=' &&
        IsAlpha(term[0])) {
      std::string name = Lower(term.substr(0, name_end));
      std::string_view value = term.substr(name_end + 1);
      if (name == "redirect" || name == "exp") {
        auto& slot = name == "redirect" ? record.redirect : record.exp;
        if (slot.has_value()) {
          return TermError(index, term, "duplicate " + name + " modifier");
        }
        absl::Status status = ValidateDomainSpec(value);
        if (!status.ok()) return TermError(index, term, status.message());
        slot = std::string(value);
      } else {
        absl::Status status = ValidateMacroString(value, false);
        if (!status.ok()) return TermError(index, term, status.message());
        record.unknown_modifiers.push_back(Modifier{name, std::string(value)});
      }
      continue;
    }

    Mechanism m;
    m.text = std::string(term);
    std::string_view body = term;
    switch (body.empty() ? 0 : body[0]) {
      case '+': m.qualifier = Qualifier::kPass; body.remove_prefix(1); break;
      case '-': m.qualifier = Qualifier::kFail; body.remove_prefix(1); break;
      case '~': m.qualifier = Qualifier::kSoftFail; body.remove_prefix(1); break;
      case '?': m.qualifier = Qualifier::kNeutral; body.remove_prefix(1); break;
    }
    size_t name_len = 0;
    while (name_len < body.size() && IsAlnum(body[name_len])) ++name_len;
    std::string name = Lower(body.substr(0, name_len));
    std::string_view after = body.substr(name_len);
    bool has_colon = !after.empty() && after[0] == ':';
    std::string_view arg = has_colon ? after.substr(1) : after;
    if (!after.empty() && after[0] != ':' && after[0] != '/') {
      return TermError(index, term, "unknown mechanism or malformed modifier");
    }
    if (has_colon && arg.empty()) {
      return TermError(index, term, "empty argument after ':'");
    }
    std::string_view spec;
    absl::Status status;
    if (name == "all") {
      m.kind = MechanismKind::kAll;
      if (!after.empty()) return TermError(index, term, "\"all\" takes no argument");
    } else if (name == "include" || name == "exists" || name == "ptr") {
      m.kind = name == "include" ? MechanismKind::kInclude
               : name == "exists" ? MechanismKind::kExists
                                  : MechanismKind::kPtr;
      if (!after.empty() && !has_colon) {
        return TermError(index, term, "a CIDR length is not allowed here");
      }
      if (m.kind != MechanismKind::kPtr && !has_colon) {
        return TermError(index, term, "a domain-spec is required");
      }
      spec = arg;
    } else if (name == "a" || name == "mx") {
      m.kind = name == "a" ? MechanismKind::kA : MechanismKind::kMx;
      status = SplitDualCidr(arg, &spec, &m);
      if (!status.ok()) return TermError(index, term, status.message());
      if (has_colon && spec.empty()) {
        return TermError(index, term, "empty domain-spec");
      }
    } else if (name == "ip4" || name == "ip6") {
      bool v4 = name == "ip4";
      m.kind = v4 ? MechanismKind::kIp4 : MechanismKind::kIp6;
      if (!has_colon) return TermError(index, term, "an address is required");
      std::string_view address = arg;
      size_t slash = arg.find('/');
      if (slash != std::string_view::npos) {
        address = arg.substr(0, slash);
        if (!ParseCidr(arg.substr(slash + 1), v4 ? 32 : 128,
                       v4 ? &m.cidr4 : &m.cidr6)) {
          return TermError(index, term, "bad CIDR length");
        }
      }
      std::string a(address);
      if (inet_pton(v4 ? AF_INET : AF_INET6, a.c_str(), m.address.data()) != 1) {
        return TermError(index, term,
                         v4 ? "invalid IPv4 address" : "invalid IPv6 address");
      }
    } else {
      return TermError(index, term, "unknown mechanism");
    }
    if (!spec.empty()) {
      status = ValidateDomainSpec(spec);
      if (!status.ok()) return TermError(index, term, status.message());
      m.domain_spec = std::string(spec);
    }
    record.mechanisms.push_back(std::move(m));
  }
  return record;
}

}  // namespace deliverd::auth_checks::spf
