// DMARC record parsing and lints; see dmarc_record.h for the contract.
#include "auth_checks/dmarc/dmarc_record.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace deliverd::auth_checks::dmarc {
namespace {

// Small string helpers on std::string_view. (Debian's absl has its own
// string_view type, so absl's string functions do not take std's.)
void Append(std::string* s, std::string_view v) { s->append(v); }
template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void Append(std::string* s, T v) {
  s->append(std::to_string(v));
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string s;
  (Append(&s, args), ...);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

bool IsWsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLower(c);
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Tag names: ALPHA *(ALPHA / DIGIT / "_").
bool IsTagName(std::string_view s) {
  if (s.empty() || !IsAlpha(s[0])) {
    return false;
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '_') {
      return false;
    }
  }
  return true;
}

std::optional<Policy> ParsePolicy(std::string_view v) {
  std::string l = Lower(v);
  if (l == "none") return Policy::kNone;
  if (l == "quarantine") return Policy::kQuarantine;
  if (l == "reject") return Policy::kReject;
  return std::nullopt;
}

std::optional<Alignment> ParseAlignment(std::string_view v) {
  std::string l = Lower(v);
  if (l == "r") return Alignment::kRelaxed;
  if (l == "s") return Alignment::kStrict;
  return std::nullopt;
}

// A host name: dot-separated non-empty labels of letters, digits, '-' and
// '_' (no leading/trailing '-'), at most 63 octets each.
bool IsDomainName(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  for (std::string_view label : Split(d, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-' && c != '_') {
        return false;
      }
    }
  }
  return true;
}

std::string NormaliseDomain(std::string_view d) {
  d = Trim(d);
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return Lower(d);
}


// Parses one rua/ruf entry. On failure returns the reason.
std::optional<std::string> ParseReportUri(std::string_view entry,
                                          ReportUri* out) {
  if (entry.empty()) return "an empty URI";
  std::string_view uri = entry;
  size_t bang = entry.rfind('!');
  if (bang != std::string_view::npos) {
    uri = entry.substr(0, bang);
    std::string_view size = entry.substr(bang + 1);
    uint64_t mult = 1;
    if (!size.empty() && IsAlpha(size.back())) {
      switch (ToLower(size.back())) {
        case 'k':
          mult = uint64_t{1} << 10;
          break;
        case 'm':
          mult = uint64_t{1} << 20;
          break;
        case 'g':
          mult = uint64_t{1} << 30;
          break;
        case 't':
          mult = uint64_t{1} << 40;
          break;
        default:
          return Cat("size limit '!", size,
                     "' has an unknown unit (k, m, g or t)");
      }
      size.remove_suffix(1);
    }
    if (!AllDigits(size) || size.size() > 15) {
      return Cat("size limit '!", entry.substr(bang + 1),
                 "' is not a number with an optional k/m/g/t unit");
    }
    uint64_t n = 0;
    for (char c : size) n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > std::numeric_limits<uint64_t>::max() / mult) {
      return Cat("size limit '!", entry.substr(bang + 1), "' is too large");
    }
    out->max_size_bytes = n * mult;
  }
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Cat("'", uri, "' has no URI scheme (expected mailto:)");
  }
  std::string_view scheme = uri.substr(0, colon);
  if (!IsAlpha(scheme[0])) {
    return Cat("'", uri, "' has an invalid URI scheme");
  }
  for (char c : scheme) {
    if (!IsAlnum(c) && c != '+' && c != '-' && c != '.') {
      return Cat("'", uri, "' has an invalid URI scheme");
    }
  }
  for (char c : uri) {
    if (static_cast<unsigned char>(c) <= 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return Cat("'", uri, "' contains a space or a non-ASCII character");
    }
  }
  out->uri = std::string(uri);
  out->scheme = Lower(scheme);
  if (out->scheme == "mailto") {
    std::string_view addr = uri.substr(colon + 1);
    size_t q = addr.find('?');
    if (q != std::string_view::npos) addr = addr.substr(0, q);
    size_t at = addr.rfind('@');
    if (at == std::string_view::npos || at == 0) {
      return Cat("'", uri, "' is not a mailto: address");
    }
    std::string_view domain = addr.substr(at + 1);
    if (!IsDomainName(domain)) {
      return Cat("'", uri, "' has an invalid domain");
    }
    out->domain = Lower(domain);
  } else if (colon + 1 == uri.size()) {
    return Cat("'", uri, "' is empty after the scheme");
  }
  return std::nullopt;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view domain)
      : text_(text), domain_(NormaliseDomain(domain)) {}

  DmarcRecord Run();

 private:
  void Error(std::string code, std::string message, std::string fix) {
    rec_.findings.push_back(MakeFinding(Finding::kError, std::move(code),
                                 std::move(message), std::move(fix)));
  }
  void Invalid(std::string_view tag, std::string_view value, std::string why,
               std::string fix) {
    Error(Cat("dmarc.invalid_", tag),
          Cat("Tag ", tag, "=", value, " is invalid: ", why, "."),
          std::move(fix));
  }
  void Tag(std::string_view name, std::string_view value);
  void Uris(std::string_view tag, std::string_view value,
            std::vector<ReportUri>* out);
  void Lint();

  std::string_view text_;
  std::string domain_;
  DmarcRecord rec_;
  bool p_ok_ = false;
  bool p_seen_ = false;
  bool sp_bad_ = false;
  bool duplicate_ = false;
  bool fallback_ = false;  // Acting as p=none by the rua rule.
};

void Parser::Uris(std::string_view tag, std::string_view value,
                  std::vector<ReportUri>* out) {
  for (std::string_view entry : Split(value, ',')) {
    ReportUri uri;
    std::optional<std::string> why = ParseReportUri(Trim(entry), &uri);
    if (why.has_value()) {
      Invalid(tag, value, *why,
              Cat("Write ", tag,
                  " as comma-separated mailto: URIs, for example ", tag,
                  "=mailto:dmarc-reports@example.com (commas "
                  "and '!' inside a URI must be %-encoded)."));
      continue;
    }
    if (uri.scheme != "mailto") {
      rec_.findings.push_back(
          MakeFinding(Finding::kWarning, "dmarc.unsupported_uri_scheme",
               Cat("Report URI '", uri.uri, "' in ", tag, " uses the scheme '",
                   uri.scheme, "'; receivers send reports by mailto: only."),
               Cat("Use a mailto: address in ", tag, ".")));
    }
    out->push_back(std::move(uri));
  }
}

void Parser::Tag(std::string_view name, std::string_view value) {
  if (name == "p") {
    p_seen_ = true;
    if (auto p = ParsePolicy(value)) {
      rec_.policy = *p;
      rec_.policy_present = true;
      p_ok_ = true;
    } else {
      Invalid(name, value, "expected none, quarantine or reject",
              "Set p=none, p=quarantine or p=reject.");
    }
  } else if (name == "sp" || name == "np") {
    if (auto p = ParsePolicy(value)) {
      (name == "sp" ? rec_.subdomain_policy
                    : rec_.nonexistent_subdomain_policy) = *p;
    } else {
      if (name == "sp") sp_bad_ = true;
      Invalid(name, value, "expected none, quarantine or reject",
              Cat("Set ", name,
                  " to none, quarantine or reject, "
                  "or remove it."));
    }
  } else if (name == "pct") {
    int n = -1;
    if (AllDigits(value) && value.size() <= 3) {
      n = 0;
      for (char c : value) n = n * 10 + (c - '0');
    }
    if (n < 0 || n > 100) {
      Invalid(name, value, "expected a whole number from 0 to 100",
              "Set pct to a number from 0 to 100, or remove it (100).");
    } else {
      rec_.pct = n;
    }
  } else if (name == "rua") {
    Uris(name, value, &rec_.rua);
  } else if (name == "ruf") {
    Uris(name, value, &rec_.ruf);
  } else if (name == "adkim" || name == "aspf") {
    if (auto a = ParseAlignment(value)) {
      (name == "adkim" ? rec_.adkim : rec_.aspf) = *a;
    } else {
      Invalid(name, value, "expected r (relaxed) or s (strict)",
              Cat("Set ", name, "=r or ", name, "=s, or remove it (relaxed)."));
    }
  } else if (name == "fo") {
    FailureOptions fo;
    fo.all_fail = false;
    bool ok = true;
    for (std::string_view opt : Split(value, ':')) {
      std::string o = Lower(Trim(opt));
      if (o == "0")
        fo.all_fail = true;
      else if (o == "1")
        fo.any_fail = true;
      else if (o == "d")
        fo.dkim = true;
      else if (o == "s")
        fo.spf = true;
      else
        ok = false;
    }
    if (ok) {
      rec_.fo = fo;
    } else {
      Invalid(name, value, "expected ':'-separated options among 0, 1, d, s",
              "Set fo to options among 0, 1, d and s separated by ':' "
              "(for example fo=1), or remove it.");
    }
  } else if (name == "rf") {
    std::vector<std::string> formats;
    bool ok = true;
    for (std::string_view f : Split(value, ':')) {
      std::string l = Lower(Trim(f));
      if (l != "afrf") ok = false;
      formats.push_back(std::move(l));
    }
    if (ok) {
      rec_.rf = std::move(formats);
    } else {
      Invalid(name, value, "the only report format defined is afrf",
              "Set rf=afrf or remove it.");
    }
  } else if (name == "ri") {
    uint64_t n = 0;
    bool ok = AllDigits(value) && value.size() <= 32;
    if (ok) {
      for (char c : value) {
        n = n * 10 + static_cast<uint64_t>(c - '0');
        if (n > std::numeric_limits<uint32_t>::max()) {
          ok = false;
          break;
        }
      }
    }
    if (ok) {
      rec_.ri = static_cast<uint32_t>(n);
    } else {
      Invalid(name, value, "expected a number of seconds (32 bits)",
              "Set ri to a number of seconds, or remove it (86400).");
    }
  } else if (name == "t") {
    std::string l = Lower(value);
    if (l == "y" || l == "n") {
      rec_.testing = l == "y";
    } else {
      Invalid(name, value, "expected y or n", "Set t=y or t=n, or remove it.");
    }
  } else if (name == "psd") {
    std::string l = Lower(value);
    if (l == "y" || l == "n" || l == "u") {
      rec_.psd = l[0];
    } else {
      Invalid(name, value, "expected y, n or u",
              "Set psd to y, n or u, or remove it.");
    }
  } else {
    rec_.findings.push_back(
        MakeFinding(Finding::kInfo, "dmarc.unknown_tag",
             Cat("Tag '", name,
                 "' is not a DMARC tag; receivers ignore "
                 "it."),
             Cat("Remove '", name, "=", value,
                 "' unless a receiver you care about documents it.")));
  }
}

DmarcRecord Parser::Run() {
  std::vector<std::string_view> specs = Split(text_, ';');
  std::set<std::string> seen;
  bool first = true;
  for (std::string_view raw : specs) {
    std::string_view spec = Trim(raw);
    if (spec.empty()) {
      if (first) break;  // Reported below as a missing version tag.
      continue;
    }
    size_t eq = spec.find('=');
    std::string name =
        Lower(Trim(eq == std::string_view::npos ? spec : spec.substr(0, eq)));
    std::string_view value = eq == std::string_view::npos
                                 ? std::string_view()
                                 : Trim(spec.substr(eq + 1));
    if (first) {
      first = false;
      if (eq == std::string_view::npos || name != "v" || value != "DMARC1") {
        Error("dmarc.syntax",
              Cat("The record does not start with v=DMARC1 (it "
                  "starts with '",
                  spec, "'); receivers ignore it."),
              "Begin the record with exactly \"v=DMARC1;\" (DMARC1 in "
              "capitals).");
        return std::move(rec_);
      }
      seen.insert("v");
      continue;
    }
    if (eq == std::string_view::npos || !IsTagName(name)) {
      Error("dmarc.syntax",
            Cat("'", spec, "' is not a tag=value pair; ignored."),
            "Write each tag as name=value and separate tags with ';'.");
      continue;
    }
    if (!seen.insert(name).second) {
      duplicate_ = true;
      Error("dmarc.duplicate_tag",
            Cat("Tag '", name,
                "' appears more than once; receivers may reject the "
                "record or pick either value."),
            Cat("Keep a single ", name, "= tag."));
      continue;
    }
    Tag(name, value);
  }
  if (first) {
    Error("dmarc.syntax",
          "The record is empty or does not start with v=DMARC1.",
          "Begin the record with \"v=DMARC1;\" followed by p=.");
    return std::move(rec_);
  }

  rec_.valid = !duplicate_;
  if (!p_seen_) {
    Error("dmarc.missing_policy",
          "The record has no p= tag (required at the policy domain).",
          "Add p=none, p=quarantine or p=reject right after v=DMARC1.");
  }
  if (!p_ok_ || sp_bad_) {
    rec_.policy = Policy::kNone;
    rec_.subdomain_policy.reset();
    fallback_ = true;
    if (rec_.rua.empty()) {
      rec_.valid = false;
    }
    // Else receivers act as if p=none were published (RFC 7489 6.6.3).
  }
  if (rec_.valid) Lint();
  return std::move(rec_);
}

void Parser::Lint() {
  auto add = [this](Finding::Severity s, const char* code, std::string msg,
                    std::string fix) {
    rec_.findings.push_back(MakeFinding(s, code, std::move(msg), std::move(fix)));
  };
  if (rec_.policy == Policy::kNone) {
    add(Finding::kWarning, "dmarc.policy_none",
        !fallback_
            ? "p=none: DMARC only monitors; mail failing authentication is "
              "still delivered."
            : "No valid policy: receivers act as if p=none (monitoring only).",
        "Once aggregate reports show your legitimate mail passes, move to "
        "p=quarantine and then p=reject.");
  }
  bool mailto_rua = false;
  for (const ReportUri& u : rec_.rua) mailto_rua |= u.scheme == "mailto";
  if (!mailto_rua) {
    add(Finding::kWarning, "dmarc.no_rua",
        "No aggregate report address (rua): you cannot see who sends mail "
        "as this domain or whether it passes.",
        "Add rua=mailto:<address> pointing at a mailbox or a DMARC report "
        "service.");
  }
  if (rec_.subdomain_policy.has_value() &&
      *rec_.subdomain_policy < rec_.policy) {
    add(Finding::kWarning, "dmarc.weak_subdomain_policy",
        Cat("sp=", PolicyName(*rec_.subdomain_policy),
            " is weaker than p=", PolicyName(rec_.policy),
            ": spoofing a subdomain is easier than the domain."),
        Cat("Set sp=", PolicyName(rec_.policy),
            " (or remove sp so subdomains inherit p)."));
  }
  if (rec_.pct < 100) {
    add(rec_.policy == Policy::kNone ? Finding::kInfo : Finding::kWarning,
        "dmarc.pct_partial",
        Cat("pct=", rec_.pct, ": the policy applies to only ", rec_.pct,
            "% of failing mail; the rest is treated one "
            "step more leniently."),
        "Raise pct to 100 (or remove it) once the rollout is done.");
  }
  if (!domain_.empty()) {
    auto external = [this, &add](const std::vector<ReportUri>& uris,
                                 const char* tag) {
      for (const ReportUri& u : uris) {
        if (u.scheme != "mailto" || u.domain.empty()) continue;
        if (u.domain == domain_ || EndsWith(u.domain, Cat(".", domain_))) {
          continue;
        }
        add(Finding::kInfo, "dmarc.external_rua",
            Cat(tag, " address ", u.uri, " is outside ", domain_,
                "; unless both are in the same organisational "
                "domain, receivers only send reports there if ",
                u.domain, " authorises it."),
            Cat("Publish a TXT record \"v=DMARC1\" at ", domain_,
                "._report._dmarc.", u.domain,
                " (the report receiver usually does this)."));
      }
    };
    external(rec_.rua, "rua");
    external(rec_.ruf, "ruf");
  }
  if (rec_.testing) {
    add(Finding::kInfo, "dmarc.testing",
        "t=y: the policy is in testing mode; receivers may apply a policy "
        "one step more lenient.",
        "Remove t=y (or set t=n) when the rollout is done.");
  }
}

}  // namespace

std::string_view PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kNone:
      return "none";
    case Policy::kQuarantine:
      return "quarantine";
    case Policy::kReject:
      return "reject";
  }
  return "none";
}

std::string_view AlignmentName(Alignment mode) {
  return mode == Alignment::kStrict ? "s" : "r";
}

bool IsDmarcRecord(std::string_view text) {
  std::string_view s = Trim(text);
  size_t semi = s.find(';');
  std::string_view first = s.substr(0, semi);
  size_t eq = first.find('=');
  if (eq == std::string_view::npos) return false;
  return Lower(Trim(first.substr(0, eq))) == "v" &&
         Trim(first.substr(eq + 1)) == "DMARC1";
}

DmarcRecord ParseDmarcRecord(std::string_view text, std::string_view domain) {
  return Parser(text, domain).Run();
}

DmarcLookup SelectDmarcRecord(const dns::Answer& answer,
                              std::string_view domain) {
  DmarcLookup out;
  out.ttl = answer.ttl;
  std::string where = domain.empty() ? std::string("_dmarc.<domain>")
                                     : Cat("_dmarc.", NormaliseDomain(domain));
  if (dns::IsTransientFailure(answer.outcome)) {
    out.status = DmarcLookup::kDnsFailure;
    out.findings.push_back(MakeFinding(
        Finding::kWarning, "dmarc.dns_failure",
        Cat("The TXT lookup of ", where, " failed (",
            dns::OutcomeName(answer.outcome), answer.detail.empty() ? "" : ": ",
            answer.detail, "); receivers treat this as a temporary error."),
        "Check that the domain's name servers answer TXT queries, then "
        "check again."));
    return out;
  }
  std::vector<const dns::Record*> dmarc;
  bool near_miss = false;
  for (const dns::Record& r : answer.records) {
    if (IsDmarcRecord(r.data)) {
      dmarc.push_back(&r);
    } else if (Lower(Trim(r.data).substr(0, 7)) == "v=dmarc") {
      near_miss = true;
    }
  }
  if (dmarc.empty()) {
    out.status = DmarcLookup::kNoRecord;
    out.findings.push_back(
        MakeFinding(Finding::kError, "dmarc.no_record",
             near_miss ? Cat(where,
                             " has a TXT record that looks like DMARC "
                             "but does not start with exactly "
                             "\"v=DMARC1;\", so receivers ignore it.")
                       : Cat("No DMARC record at ", where,
                             ": receivers apply no DMARC policy."),
             Cat("Publish a TXT record at ", where,
                 " such as \"v=DMARC1; p=none; rua=mailto:<address>\", "
                 "then tighten p.")));
    return out;
  }
  if (dmarc.size() > 1) {
    out.status = DmarcLookup::kMultipleRecords;
    out.findings.push_back(
        MakeFinding(Finding::kError, "dmarc.multiple_records",
             Cat(where, " has ", dmarc.size(),
                 " v=DMARC1 records; receivers then apply none of them."),
             "Merge them into a single v=DMARC1 TXT record."));
    return out;
  }
  out.status = DmarcLookup::kFound;
  out.record_text = dmarc[0]->data;
  out.record = ParseDmarcRecord(dmarc[0]->data, domain);
  out.findings.insert(out.findings.end(), out.record->findings.begin(),
                      out.record->findings.end());
  return out;
}

}  // namespace deliverd::auth_checks::dmarc
