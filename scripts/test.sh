#!/usr/bin/env bash
# Quick start, command 2 (and CI): install what is missing, build, and run
# every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" \
  --timeout 600
./scripts/bazel.sh
