#!/usr/bin/env bash
# The Bazel build beside CMake (README: "Building with Bazel"): installs what
# is missing, then `bazel build //...` and `bazel test //...`, offline,
# against the system libraries. Called by scripts/test.sh, so CI runs both
# builds. Extra arguments are passed to both bazel commands, e.g.
#   scripts/bazel.sh --test_output=all
# Bazel's output base stays in ~/.cache/bazel (only the ignored bazel-*
# symlinks appear in the tree); settings are in .bazelrc (2 jobs, offline).
set -euo pipefail
cd "$(dirname "$0")/.."

# The build's packages, and Debian 12's Bazel 4.2.3 with the two rule sets
# WORKSPACE points at.
./scripts/install-deps.sh bazel-bootstrap bazel-rules-java bazel-platforms

step=""
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "scripts/bazel.sh: FAILED (exit $rc): $step" >&2; fi' EXIT

start=$SECONDS
step="bazel build //..."
echo "== $step" >&2
# Flags given to this script (scripts/test.sh passes --test_env) are for
# both commands; they change nothing in what is built.
bazel build //... "$@"

step="bazel test //..."
echo "== $step" >&2
bazel test //... "$@"

step=""
echo "scripts/bazel.sh: Bazel build and tests passed in $((SECONDS - start)) s" >&2
