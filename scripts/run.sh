#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run deliverd on
# its embedded defaults (SQLite under ./data, the outbox transport writing
# .eml files to ./data/outbox, gRPC on 127.0.0.1:7420). Extra arguments are
# passed to deliverd.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
exec ./build/server/deliverd "$@"
