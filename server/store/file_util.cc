#include "server/store/file_util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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

}  // namespace deliverd::store
