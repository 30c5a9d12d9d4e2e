#include "server/jobs/job_paths.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace deliverd::jobs {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool Under(absl::string_view path, absl::string_view root) {
  if (root == "/") return path.size() > 1 && path[0] == '/';
  return absl::StartsWith(path, root) && path.size() > root.size() + 1 &&
         path[root.size()] == '/';
}

absl::StatusOr<std::string> RealPath(absl::string_view field,
                                     const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    return Bad(field, absl::StrCat(path, ": ", strerror(errno)));
  }
  return std::string(resolved);
}

}  // namespace

absl::StatusOr<std::string> ValidateJobPath(absl::string_view field,
                                            absl::string_view path,
                                            absl::string_view root) {
  if (path.empty()) return Bad(field, "required");
  if (path.find('\0') != absl::string_view::npos) {
    return Bad(field, "contains a NUL byte");
  }
  if (path[0] != '/') return Bad(field, "must be an absolute path");
  std::vector<absl::string_view> parts =
      absl::StrSplit(path, '/', absl::SkipEmpty());
  for (absl::string_view part : parts) {
    if (part == "." || part == "..") {
      return Bad(field, "must not contain \".\" or \"..\" components");
    }
  }
  std::string clean = absl::StrCat("/", absl::StrJoin(parts, "/"));
  std::string clean_root(root);
  while (clean_root.size() > 1 && clean_root.back() == '/')
    clean_root.pop_back();
  if (!Under(clean, clean_root)) {
    return Bad(field,
               absl::StrCat("must be under the jobs folder ", clean_root));
  }
  return clean;
}

absl::StatusOr<std::string> ResolveUnderRoot(absl::string_view field,
                                             const std::string& path,
                                             const std::string& root,
                                             bool must_exist) {
  absl::StatusOr<std::string> real_root = RealPath("jobs folder", root);
  if (!real_root.ok()) return real_root.status();
  std::string resolved;
  if (must_exist) {
    absl::StatusOr<std::string> real = RealPath(field, path);
    if (!real.ok()) return real.status();
    resolved = *real;
  } else {
    size_t slash = path.rfind('/');
    std::string folder = slash == 0 ? "/" : path.substr(0, slash);
    absl::StatusOr<std::string> real = RealPath(field, folder);
    if (!real.ok()) return real.status();
    resolved = absl::StrCat(*real == "/" ? "" : *real, path.substr(slash));
  }
  if (!Under(resolved, *real_root)) {
    return Bad(field, absl::StrCat("resolves to ", resolved,
                                   ", outside the jobs folder"));
  }
  return resolved;
}

}  // namespace deliverd::jobs
