// The common-case shortcut of address parsing: a plain ASCII mailbox such as
// "John.Smith+tag@Example.COM", parsed and normalised in one pass with one
// allocation.
//
// Contract
//   * ParseCommonAsciiAddress accepts a strict subset of what ParseAddress
//     (hygiene/address.h) accepts, and for every input it accepts it produces
//     exactly ParseAddress's `normalized` (local part unchanged, domain
//     lower-cased), with the '@' at *at_offset. Everything else — any
//     non-ASCII or control octet, a space inside the address, a quoted local
//     part, an address literal, an "xn--" or other "??--" label, a trailing
//     root dot, anything invalid — returns false and leaves the caller to the
//     full parser, which decides and explains. So the shortcut can never
//     change a verdict, only the time it takes (tests/hygiene compares it
//     with the full parser on generated inputs).
//   * Pure function; thread-safe; *normalized and *at_offset are written
//     only when it returns true.
//
// Why: about 80 % of a real list is such addresses, and the full parser's
// separate passes (character screening, local part, domain screening,
// lower-casing, label checks) and intermediate strings cost several times
// this single pass.

#ifndef DELIVERD_HYGIENE_ADDRESS_FAST_PATH_H_
#define DELIVERD_HYGIENE_ADDRESS_FAST_PATH_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

bool ParseCommonAsciiAddress(absl::string_view input, std::string* normalized,
                             size_t* at_offset);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_ADDRESS_FAST_PATH_H_
