// SPF macro strings (RFC 7208 section 7): syntax check and expansion.
//
// Why hand-written (as all of spf/): SPF is the core of what deliverd checks,
// its corner cases (limits, DNS outcome mapping, macros) decide pass or fail
// for real mail, and the available C libraries (libspf2) are unmaintained,
// not thread-safe with a shared resolver and cannot use our async Resolver.
// Owning the code lets us test every rule against the RFC.
//
// Contract
//   * Pure functions; thread-safe. The %{p} macro needs DNS: the caller
//     supplies it as a callback (evaluated at most once per expansion).
//   * Errors (absl::InvalidArgumentError) name the offending position; they
//     map to SPF permerror. c, r and t are legal only in explanations.
//   * Upper-case macro letters URL-escape their value (RFC 3986 unreserved
//     characters kept), the transformers (digits, "r") and delimiters apply
//     as in 7.3; "0" digits are an error.
#ifndef DELIVERD_AUTH_CHECKS_SPF_SPF_MACRO_H_
#define DELIVERD_AUTH_CHECKS_SPF_SPF_MACRO_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deliverd::auth_checks::spf {

struct MacroContext {
  std::string sender;         // s: local-part@domain of the identity.
  std::string local_part;     // l
  std::string sender_domain;  // o
  std::string domain;         // d: the current check_host() domain.
  std::string ip;             // the client IP as text (v4 dotted / v6).
  bool ipv6 = false;
  std::string helo;                  // h
  std::string receiver = "unknown";  // r
  int64_t timestamp = 0;             // t
  // p: the validated domain name of the client ("unknown" if none).
  std::function<std::string()> validated_domain;
};

// Checks macro-string syntax (RFC 7208 7.1). `explanation`: also allow SP
// and the c, r, t letters.
absl::Status ValidateMacroString(std::string_view text, bool explanation);

absl::StatusOr<std::string> ExpandMacroString(std::string_view text,
                                              const MacroContext& context,
                                              bool explanation);

// RFC 7208 7.3: an expanded domain longer than 253 octets loses labels from
// the left until it fits. Also drops one trailing dot.
std::string TruncateDomain(std::string domain);

// The "i" form of an address: dotted quad, or 32 dot-separated nibbles.
std::string IpForIMacro(const std::string& ip, bool ipv6);

}  // namespace deliverd::auth_checks::spf

#endif  // DELIVERD_AUTH_CHECKS_SPF_SPF_MACRO_H_
