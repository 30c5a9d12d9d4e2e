#include "hygiene/domain_name.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "hygiene/address.h"

namespace deliverd::hygiene {

absl::StatusOr<std::string> NormalizeDomain(absl::string_view input) {
  absl::string_view domain = input;
  if (absl::EndsWith(domain, ".")) domain.remove_suffix(1);
  if (domain.empty()) {
    return absl::InvalidArgumentError("syntax.empty_domain: no domain given");
  }
  if (absl::StartsWith(domain, "[")) {
    return absl::InvalidArgumentError(
        "syntax.ip_literal: an address literal is not a domain");
  }
  if (domain.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "syntax.invalid_domain: a domain has no \"@\" (give the part after "
        "it)");
  }
  // The address parser owns the domain rules (IDN, label lengths, LDH).
  absl::StatusOr<ParsedAddress> parsed =
      ParseAddress(absl::StrCat("postmaster@", domain));
  if (!parsed.ok()) return parsed.status();
  return parsed->domain_ascii;
}

}  // namespace deliverd::hygiene
