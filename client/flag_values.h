// Parsers for the structured values some flags take ("k=v", "Name: value",
// bounded integers), shared by the request builders.
//
// Contract: each returns InvalidArgument with a one-line message that names
// the flag and shows what was expected; the caller exits with kExitUsage.
#ifndef DELIVERD_CLIENT_FLAG_VALUES_H_
#define DELIVERD_CLIENT_FLAG_VALUES_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::client {

// "--meta k=v": splits at the first '=' (values may contain '='); the key
// must not be empty.
absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(
    absl::string_view flag, absl::string_view text);

// "--header 'Name: value'": splits at the first ':'; the name must be a
// non-empty RFC 5322 field name (printable ASCII without ':' or spaces); the
// value is trimmed of the space after the colon.
absl::StatusOr<std::pair<std::string, std::string>> ParseHeader(
    absl::string_view text);

// A decimal integer in [min, max].
absl::StatusOr<int64_t> ParseIntFlag(absl::string_view flag,
                                     absl::string_view text, int64_t min,
                                     int64_t max);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_FLAG_VALUES_H_
