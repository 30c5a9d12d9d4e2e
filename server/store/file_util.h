// Filesystem helpers shared by the server's parts (the store's folder, the
// outbox, the first-key file). Thread-safe; errors are UNAVAILABLE with
// errno's text.
#ifndef DELIVERD_SERVER_STORE_FILE_UTIL_H_
#define DELIVERD_SERVER_STORE_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"

namespace deliverd::store {

// Creates `path` and any missing parents (like mkdir -p) with `mode`.
absl::Status MakeDirectories(const std::string& path, int mode);

// The folder part of a path ("." when it has none).
std::string ParentOf(const std::string& path);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_FILE_UTIL_H_
