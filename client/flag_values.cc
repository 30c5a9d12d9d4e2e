#include "client/flag_values.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace deliverd::client {

absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(
    absl::string_view flag, absl::string_view text) {
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " needs KEY=VALUE, got \"", text, "\""));
  }
  return std::make_pair(std::string(text.substr(0, eq)),
                        std::string(text.substr(eq + 1)));
}

absl::StatusOr<std::pair<std::string, std::string>> ParseHeader(
    absl::string_view text) {
  const size_t colon = text.find(':');
  const auto error = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--header needs \"Name: value\", got \"", text, "\""));
  };
  if (colon == absl::string_view::npos || colon == 0) return error();
  const absl::string_view name = text.substr(0, colon);
  for (char c : name) {
    // RFC 5322 section 2.2: printable US-ASCII except colon.
    if (c <= ' ' || c > '~') return error();
  }
  return std::make_pair(
      std::string(name),
      std::string(absl::StripAsciiWhitespace(text.substr(colon + 1))));
}

absl::StatusOr<int64_t> ParseIntFlag(absl::string_view flag,
                                     absl::string_view text, int64_t min,
                                     int64_t max) {
  int64_t value;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " needs a whole number from ", min, " to ",
                     max, ", got \"", text, "\""));
  }
  return value;
}

}  // namespace deliverd::client
