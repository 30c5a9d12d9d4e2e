// CSV output (RFC 4180 quoting) for exports such as `suppressions list --csv`
// and for cleaned lists (deliverctl clean, the server's cleaning jobs).
//
// Contract: a field is quoted when it contains a comma, a double quote, CR or
// LF, or starts or ends with a space (some readers trim unquoted fields);
// quotes inside are doubled. Values are written as they are, newlines
// included, so an export round-trips. Rows end in "\n" rather than RFC
// 4180's CRLF: the export is mostly read by shell tools, which see CR as data,
// and spreadsheet programs accept either.
#ifndef DELIVERD_HYGIENE_CSV_H_
#define DELIVERD_HYGIENE_CSV_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

std::string CsvField(absl::string_view value);

// Fields joined by commas, ending in "\n".
std::string CsvRow(const std::vector<std::string>& fields);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_CSV_H_
