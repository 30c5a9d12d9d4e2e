#include "hygiene/csv.h"

#include "absl/strings/str_replace.h"

namespace deliverd::hygiene {

std::string CsvField(absl::string_view value) {
  const bool needs_quotes =
      value.find_first_of(",\"\r\n") != absl::string_view::npos ||
      (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!needs_quotes) return std::string(value);
  return "\"" + absl::StrReplaceAll(value, {{"\"", "\"\""}}) + "\"";
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string row;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) row += ',';
    row += CsvField(fields[i]);
  }
  row += '\n';
  return row;
}

}  // namespace deliverd::hygiene
