#include "hygiene/offline_verdict.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hygiene/address.h"
#include "hygiene/address_fast_path.h"
#include "hygiene/disposable_domains.h"
#include "hygiene/role_accounts.h"
#include "hygiene/typo_suggestion.h"

namespace deliverd::hygiene {
namespace {

// Special-use top-level names that never take public mail: RFC 2606 (test,
// example, invalid, localhost), RFC 6761 (local via RFC 6762), RFC 7686
// (onion), and the infrastructure domain arpa.
constexpr absl::string_view kSpecialUseTlds[] = {
    "test", "example", "invalid", "localhost", "local", "onion", "arpa",
};

bool IsSpecialUse(absl::string_view ascii_domain) {
  if (ascii_domain.empty() || ascii_domain.front() == '[') return false;
  const size_t dot = ascii_domain.rfind('.');
  const absl::string_view tld = dot == absl::string_view::npos
                                    ? ascii_domain
                                    : ascii_domain.substr(dot + 1);
  if (tld.size() < 4 || tld.size() > 9) return false;  // local .. localhost
  for (absl::string_view special : kSpecialUseTlds) {
    if (absl::EqualsIgnoreCase(tld, special)) return true;
  }
  return false;
}

}  // namespace

absl::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kDeliverable:
      return "deliverable";
    case Verdict::kUndeliverable:
      return "undeliverable";
    case Verdict::kRisky:
      return "risky";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

AddressVerdict VerifyOffline(absl::string_view input) {
  AddressVerdict result;
  result.address = std::string(input);
  // The common plain-ASCII address needs no ParsedAddress: its local part
  // and domain are views of the normalised string.
  std::string normalized;
  size_t at = 0;
  absl::StatusOr<ParsedAddress> parsed;
  absl::string_view local_part;
  absl::string_view domain_ascii;
  bool ip_literal = false;
  if (ParseCommonAsciiAddress(input, &normalized, &at)) {
    result.normalized = std::move(normalized);
    local_part = absl::string_view(result.normalized).substr(0, at);
    domain_ascii = absl::string_view(result.normalized).substr(at + 1);
  } else {
    parsed = ParseAddressWithoutShortcut(input);
    if (!parsed.ok()) {
      result.verdict = Verdict::kUndeliverable;
      result.reason = AddressErrorCode(parsed.status());
      if (result.reason.empty()) result.reason = "syntax.invalid";
      return result;
    }
    result.normalized = std::move(parsed->normalized);
    result.smtputf8 = parsed->smtputf8;
    local_part = parsed->local_part;
    domain_ascii = parsed->domain_ascii;
    ip_literal = parsed->ip_literal;
  }
  result.valid = true;
  result.role = IsRoleAccount(local_part);
  if (!ip_literal) {
    result.disposable = IsDisposableDomain(domain_ascii);
    if (std::optional<std::string> domain = SuggestDomain(domain_ascii)) {
      result.suggestion = absl::StrCat(local_part, "@", *domain);
    }
  }

  if (!ip_literal && IsSpecialUse(domain_ascii)) {
    result.verdict = Verdict::kUndeliverable;
    result.reason = "undeliverable.special_use_domain";
  } else if (!result.suggestion.empty()) {
    result.verdict = Verdict::kRisky;
    result.reason = "risky.typo";
  } else if (result.disposable) {
    result.verdict = Verdict::kRisky;
    result.reason = "risky.disposable";
  } else if (result.role) {
    result.verdict = Verdict::kRisky;
    result.reason = "risky.role_account";
  } else {
    result.verdict = Verdict::kUnknown;
    result.reason = "ok.syntax";
  }
  return result;
}

}  // namespace deliverd::hygiene
