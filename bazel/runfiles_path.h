// Bazel only: where a test or benchmark built by Bazel finds the files and
// binaries it declares as data, i.e. its runfiles tree. The CMake build
// passes absolute build-tree paths as defines (DELIVERD_BINARY_DIR,
// DELIVERD_SOURCE_DIR, DELIVERD_BENCH_SERVER); a Bazel output has no fixed
// absolute path, so bazel/deliverd.bzl defines those macros as calls of the
// functions below and force-includes this header (-include), leaving the
// sources unchanged. The paths are absolute because the programs chdir
// before they exec a binary.
#ifndef DELIVERD_BAZEL_RUNFILES_PATH_H_
#define DELIVERD_BAZEL_RUNFILES_PATH_H_

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

namespace deliverd_bazel {

inline std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// This workspace's folder in the runfiles tree: $TEST_SRCDIR/<workspace>
// under `bazel test`, $RUNFILES_DIR/<workspace> when that is set, else
// <this executable>.runfiles/<workspace> (bazel run, or bazel-bin/... run by
// hand).
inline std::string RunfilesDir() {
  const char* workspace = getenv("TEST_WORKSPACE");
  std::string name =
      (workspace != nullptr && *workspace != '\0') ? workspace : "deliverd";
  for (const char* var : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    const char* dir = getenv(var);
    if (dir != nullptr && *dir != '\0') {
      return AbsolutePath(std::string(dir) + "/" + name);
    }
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) return std::string(exe, static_cast<size_t>(n)) + ".runfiles/" + name;
  return AbsolutePath(name);
}

// A file of this workspace in the runfiles tree, e.g. "server/deliverd".
inline std::string RunfilePath(const std::string& path) {
  return RunfilesDir() + "/" + path;
}

}  // namespace deliverd_bazel

#endif  // DELIVERD_BAZEL_RUNFILES_PATH_H_
