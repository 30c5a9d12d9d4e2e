// The data files of hygiene/data/, compiled into deliverd_hygiene.
//
// Each hygiene/data/NAME.txt becomes a function NAME() returning the file's
// bytes unchanged. The definitions are generated at build time: by
// hygiene/CMakeLists.txt (file(READ) + file(CONFIGURE) into the build tree,
// re-run when a data file changes) and, for Bazel, by the genrule in
// hygiene/BUILD with bazel/embed_hygiene_data.sh. Embedding keeps the library
// free of run-time file paths: a batch job or test links it and the lists are
// there. Internal to hygiene/: callers use IsRoleAccount(),
// IsDisposableDomain() and SuggestDomain().
//
// Data files must not contain '@' (file(CONFIGURE) would treat @NAME@ as a
// variable) nor the raw-string delimiter; both generators refuse them.

#ifndef DELIVERD_HYGIENE_DATA_EMBEDDED_DATA_H_
#define DELIVERD_HYGIENE_DATA_EMBEDDED_DATA_H_

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace deliverd::hygiene::embedded {

absl::string_view role_accounts();       // data/role_accounts.txt
absl::string_view disposable_domains();  // data/disposable_domains.txt
absl::string_view common_domains();      // data/common_domains.txt

// The entries of a data file: its lines with surrounding ASCII white space
// removed, skipping blank lines and comment lines (first character '#').
// The views point into the embedded text, which lives for the whole program.
inline std::vector<absl::string_view> DataEntries(absl::string_view text) {
  std::vector<absl::string_view> entries;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    entries.push_back(line);
  }
  return entries;
}

}  // namespace deliverd::hygiene::embedded

#endif  // DELIVERD_HYGIENE_DATA_EMBEDDED_DATA_H_
