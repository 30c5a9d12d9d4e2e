// Validation of the three inputs of an SPF check (the client IP, the MAIL
// FROM address and the HELO name) before any DNS is touched, shared by the
// CheckSpf RPC and `deliverctl spf --local` so both refuse the same things
// with the same words.
//
// Errors are INVALID_ARGUMENT and start with the field ("ip: ...",
// "mail_from: ...", "helo: ..."). Pure; thread-safe.
#ifndef DELIVERD_AUTH_CHECKS_SPF_SPF_INPUTS_H_
#define DELIVERD_AUTH_CHECKS_SPF_SPF_INPUTS_H_

#include <string_view>

#include "absl/status/status.h"

namespace deliverd::auth_checks::spf {

// `ip` is required (IPv4 or IPv6 text). `mail_from` may be empty (a bounce),
// and then `helo` is required; otherwise it needs a domain after its last
// "@". No input may hold control characters or spaces.
absl::Status ValidateSpfInputs(std::string_view ip, std::string_view mail_from,
                               std::string_view helo);

}  // namespace deliverd::auth_checks::spf

#endif  // DELIVERD_AUTH_CHECKS_SPF_SPF_INPUTS_H_
