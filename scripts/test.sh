#!/usr/bin/env bash
# Quick start, command 2 (and CI): install what is missing, build, and run
# every test. A throwaway MariaDB server (scripts/mariadb-test-server.sh)
# runs for the duration, so the MySQL store's tests always run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh

mariadb_dir=$(mktemp -d "${TMPDIR:-/tmp}/deliverd-mariadb.XXXXXX")
trap './scripts/mariadb-test-server.sh stop "$mariadb_dir"' EXIT
DELIVERD_TEST_MYSQL_URI=$(./scripts/mariadb-test-server.sh start "$mariadb_dir")
export DELIVERD_TEST_MYSQL_URI
# A missing server fails the MySQL tests instead of skipping them.
export DELIVERD_REQUIRE_MYSQL=1

ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" \
  --timeout 600
./scripts/bazel.sh --test_env=DELIVERD_TEST_MYSQL_URI \
  --test_env=DELIVERD_REQUIRE_MYSQL
