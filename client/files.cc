#include "client/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deliverd::client {

absl::StatusOr<std::string> ReadFileContents(const std::string& path) {
  // stdio rather than ifstream: it reports why a read failed (errno), e.g.
  // EISDIR for a directory, which ifstream would silently read as empty.
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    const std::string message = absl::StrCat(path, ": ", std::strerror(error));
    return error == ENOENT ? absl::NotFoundError(message)
                           : absl::PermissionDeniedError(message);
  }
  std::string contents;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    contents.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return absl::DataLossError(absl::StrCat(path, ": ", std::strerror(error)));
  }
  return contents;
}

absl::StatusOr<std::string> ReadStream(std::istream& in) {
  std::string contents((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError("error reading standard input");
  return contents;
}

}  // namespace deliverd::client
