// Filesystem helpers shared by the server's parts (the store's folder, the
// outbox, the first-key file). Thread-safe; errors are UNAVAILABLE with
// errno's text.
#ifndef DELIVERD_SERVER_STORE_FILE_UTIL_H_
#define DELIVERD_SERVER_STORE_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deliverd::store {

// Creates `path` and any missing parents (like mkdir -p) with `mode`.
absl::Status MakeDirectories(const std::string& path, int mode);

// The folder part of a path ("." when it has none).
std::string ParentOf(const std::string& path);

// Writes `content` to `path` readable only by the owner (0600), synced,
// through a temporary file renamed into place, so a reader never sees half
// a secret. Creates missing parent folders (0700).
absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content);

// The whole of a small file (at most `max_bytes`); NOT_FOUND when it does
// not exist.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes = 64 * 1024);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_FILE_UTIL_H_
