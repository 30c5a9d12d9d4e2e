// Reading whole files (message bodies, attachments, key files, batch input).
//
// Contract: a missing file is NotFound, any other failure (permissions, a
// directory, a read error) is another non-OK status; messages name the path
// and the system's reason. FileReader lets tests and commands substitute
// where bytes come from (e.g. "-" for stdin).
#ifndef DELIVERD_CLIENT_FILES_H_
#define DELIVERD_CLIENT_FILES_H_

#include <functional>
#include <istream>
#include <string>

#include "absl/status/statusor.h"

namespace deliverd::client {

using FileReader =
    std::function<absl::StatusOr<std::string>(const std::string& path)>;

absl::StatusOr<std::string> ReadFileContents(const std::string& path);

// Everything left in `in` (used for "-", standard input).
absl::StatusOr<std::string> ReadStream(std::istream& in);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_FILES_H_
