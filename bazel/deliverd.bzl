"""Macros mirroring the CMake functions of tests/CMakeLists.txt."""

load("@rules_cc//cc:defs.bzl", "cc_test")

# The CMake build passes absolute build-tree paths; under Bazel they are the
# runfiles tree, found at run time (bazel/runfiles_path.h, force-included).
# Each entry is shell-tokenized by Bazel, hence the single quotes.
RUNFILES_COPTS = ["-include", "bazel/runfiles_path.h"]

RUNFILES_DEPS = ["//bazel:runfiles_path"]

TEST_DEFINES = [
    "'DELIVERD_BINARY_DIR=deliverd_bazel::RunfilesDir()'",
    "'DELIVERD_SOURCE_DIR=deliverd_bazel::RunfilesDir()'",
]

def deliverd_test_dir(name, dir, deps, data = [], size = "small", **kwargs):
    """deliverd_test_dir() of tests/CMakeLists.txt: one GoogleTest binary.

    tests/<dir>/*_test.cc plus tests/<dir>/testing_*.cc (and the folder's
    headers) form cc_test `name`, linked against `deps`, gmock and
    gtest_main. No *_test.cc files: no target, as in CMake.

    Args:
      name: the cc_test.
      dir: the folder under tests/.
      deps: the libraries under test.
      data: binaries the tests run (found under DELIVERD_BINARY_DIR).
      size: Bazel test size: "small" (60 s timeout) for unit tests,
        "medium" (300 s, ctest's timeout) for tests that start processes.
      **kwargs: passed to cc_test (tags, shard_count...).
    """
    tests = native.glob([dir + "/*_test.cc"], allow_empty = True)
    if not tests:
        return
    support = native.glob(
        [dir + "/testing_*.cc", dir + "/*.h"],
        allow_empty = True,
    )
    cc_test(
        name = name,
        srcs = tests + support,
        # As CMake: the project root (Bazel's default) and tests/.
        copts = RUNFILES_COPTS + ["-I" + native.package_name()],
        local_defines = TEST_DEFINES,
        deps = deps + RUNFILES_DEPS + [
            "//bazel/system:gmock",
            "//bazel/system:gtest_main",
        ],
        data = data,
        size = size,
        **kwargs
    )
