#!/usr/bin/env bash
# `bazel coverage` needs Bazel's remote coverage tools, which are not
# available offline; this stand-in only says so.
echo "deliverd: bazel coverage is not supported by the offline Bazel setup (see README, Building with Bazel)" >&2
exit 1
