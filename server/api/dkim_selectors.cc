#include "server/api/dkim_selectors.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace deliverd::api {

absl::StatusOr<std::vector<std::string>> ValidateDkimSelectors(
    const std::vector<std::string>& selectors) {
  if (selectors.size() > static_cast<size_t>(kMaxDkimSelectors)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dkim_selectors: at most ", kMaxDkimSelectors, " selectors"));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < selectors.size(); ++i) {
    std::string field = absl::StrCat("dkim_selectors[", i, "]");
    const std::string& s = selectors[i];
    if (s.empty() || s.size() > 200) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must be 1 to 200 characters"));
    }
    for (absl::string_view label : absl::StrSplit(s, '.')) {
      if (label.empty() || label.size() > 63) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": each dot-separated label must be 1 to 63 characters"));
      }
      for (char c : label) {
        if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
          return absl::InvalidArgumentError(absl::StrCat(
              field, ": only letters, digits, '-', '_' and '.' are allowed"));
        }
      }
    }
    std::string lower = absl::AsciiStrToLower(s);
    if (std::find(out.begin(), out.end(), lower) == out.end()) {
      out.push_back(lower);
    }
  }
  return out;
}

}  // namespace deliverd::api
