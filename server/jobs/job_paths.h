// Validation of a cleaning job's server-side paths. A tenant names files on
// the server, so every path must stay inside one configured root (the
// --jobs-dir): otherwise a job could read /etc/shadow as a "list" or
// overwrite any file deliverd can write.
//
// Two checks, because they catch different things:
//   - ValidateJobPath (at create time, and again before each run): the text
//     itself: absolute, no NUL, no "." or ".." components, strictly under
//     the root. Cheap and independent of what exists on disk.
//   - ResolveUnderRoot (before each run): resolves symbolic links of the
//     existing part of the path and checks the result is still under the
//     resolved root, so a link placed inside the root cannot point out.
// Errors are INVALID_ARGUMENT starting with the field name ("source: ...").
// Thread-safe (no state).
#ifndef DELIVERD_SERVER_JOBS_JOB_PATHS_H_
#define DELIVERD_SERVER_JOBS_JOB_PATHS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::jobs {

// The path with repeated slashes collapsed, or the error.
absl::StatusOr<std::string> ValidateJobPath(absl::string_view field,
                                            absl::string_view path,
                                            absl::string_view root);

// For a file that must exist (`must_exist`, the source) the resolved path
// of the file itself; otherwise (the destination) its folder is resolved
// and the file name appended. NOT_FOUND-free: a missing file or folder is
// INVALID_ARGUMENT naming the field, so a run records a clear error.
absl::StatusOr<std::string> ResolveUnderRoot(absl::string_view field,
                                             const std::string& path,
                                             const std::string& root,
                                             bool must_exist);

}  // namespace deliverd::jobs

#endif  // DELIVERD_SERVER_JOBS_JOB_PATHS_H_
