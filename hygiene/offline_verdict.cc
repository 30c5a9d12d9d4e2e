#include "hygiene/offline_verdict.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hygiene/address.h"
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
  absl::StatusOr<ParsedAddress> parsed = ParseAddress(input);
  if (!parsed.ok()) {
    result.verdict = Verdict::kUndeliverable;
    result.reason = AddressErrorCode(parsed.status());
    if (result.reason.empty()) result.reason = "syntax.invalid";
    return result;
  }
  result.valid = true;
  result.normalized = std::move(parsed->normalized);
  result.smtputf8 = parsed->smtputf8;
  if (!parsed->ip_literal) {
    result.role = IsRoleAccount(parsed->local_part);
    result.disposable = IsDisposableDomain(parsed->domain_ascii);
    if (std::optional<std::string> domain =
            SuggestDomain(parsed->domain_ascii)) {
      result.suggestion = absl::StrCat(parsed->local_part, "@", *domain);
    }
  } else {
    result.role = IsRoleAccount(parsed->local_part);
  }

  if (!parsed->ip_literal && IsSpecialUse(parsed->domain_ascii)) {
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
