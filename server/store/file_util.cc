#include "server/store/file_util.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace deliverd::store {

absl::Status MakeDirectories(const std::string& path, int mode) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos == path.size() || path[pos] == '/') {
      std::string part = path.substr(0, pos);
      if (mkdir(part.c_str(), static_cast<mode_t>(mode)) != 0 &&
          errno != EEXIST) {
        return absl::UnavailableError(
            absl::StrCat("mkdir ", part, ": ", strerror(errno)));
      }
    }
  }
  return absl::OkStatus();
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content) {
  if (absl::Status s = MakeDirectories(ParentOf(path), 0700); !s.ok()) {
    return s;
  }
  std::string temp = absl::StrCat(path, ".tmp");
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("open ", temp, ": ", strerror(errno)));
  }
  fchmod(fd, 0600);
  bool written = write(fd, content.data(), content.size()) ==
                     static_cast<ssize_t>(content.size()) &&
                 fsync(fd) == 0;
  int saved_errno = errno;
  close(fd);
  if (!written || rename(temp.c_str(), path.c_str()) != 0) {
    if (written) saved_errno = errno;
    unlink(temp.c_str());
    return absl::UnavailableError(
        absl::StrCat("write ", path, ": ", strerror(saved_errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    }
    return absl::UnavailableError(
        absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  std::string data(max_bytes + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
  }
  return data;
}

}  // namespace deliverd::store
