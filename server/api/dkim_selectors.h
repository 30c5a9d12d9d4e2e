// Validation of DKIM selector names given by callers (CheckDomain, the
// send-gating tenant setting): 1 to 10 selectors, each one or more DNS
// labels of letters, digits, '-' and '_' (RFC 6376 3.1), at most 63 octets
// per label and 200 in all. Pure; thread-safe. Errors are INVALID_ARGUMENT
// naming the field "dkim_selectors[i]".
#ifndef DELIVERD_SERVER_API_DKIM_SELECTORS_H_
#define DELIVERD_SERVER_API_DKIM_SELECTORS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace deliverd::api {

inline constexpr int kMaxDkimSelectors = 10;

// Lower-cased, duplicates removed, order kept.
absl::StatusOr<std::vector<std::string>> ValidateDkimSelectors(
    const std::vector<std::string>& selectors);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_DKIM_SELECTORS_H_
