// Parsing of the Retry-After response header (RFC 9110 section 10.2.3):
// either delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00
// GMT", also the obsolete RFC 850 and asctime forms).
//
// Contract: the wait from `now`, never negative (a date in the past gives
// zero); nullopt for a value that is neither form. Pure; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_RETRY_AFTER_H_
#define DELIVERD_SERVER_ALERTS_RETRY_AFTER_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace deliverd::alerts {

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_RETRY_AFTER_H_
