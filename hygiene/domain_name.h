// A sending domain as a user types it ("Example.COM.", "bücher.example")
// turned into the form DNS checks use: lower-case A-labels, no trailing dot.
// The rules are the address parser's for the domain part (so a domain that
// passes here is one we can send from), minus address literals.
//
// Pure; thread-safe. Errors are INVALID_ARGUMENT starting with the reason
// code of hygiene/address ("syntax.invalid_domain: ...") or
// "syntax.ip_literal" / "syntax.empty_domain".
#ifndef DELIVERD_HYGIENE_DOMAIN_NAME_H_
#define DELIVERD_HYGIENE_DOMAIN_NAME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

absl::StatusOr<std::string> NormalizeDomain(absl::string_view input);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_DOMAIN_NAME_H_
