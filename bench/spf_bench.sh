#!/usr/bin/env bash
# SPF evaluation throughput (issue 4): deliverd's SpfEvaluator, pyspf and
# libspf2 against one local knotd, side by side (see bench/spf_bench.cc and
# BENCHMARKS.md).
#
#   bench/spf_bench.sh [spf_bench flags...]     e.g. --domains 2000
#
# Installs what it needs (knot, python3-spf, spfquery) through
# scripts/install-deps.sh, builds build-bench (Release) if needed, then runs
# build-bench/bench/spf_bench. libspf2 takes its DNS server from
# /etc/resolv.conf only, and glibc only speaks to port 53, so as root the
# bench runs in a private mount namespace (unshare -m) where a resolv.conf
# naming 127.0.0.1 is bind-mounted over /etc/resolv.conf, with knotd on
# 127.0.0.1:53; the system's resolv.conf is never touched. Without root (or
# with 127.0.0.1:53 taken) libspf2 is skipped and knotd uses port 15353.
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build-bench}"

scripts/install-deps.sh python3-spf spfquery

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build_dir" spf_bench >/dev/null
bench="$build_dir/bench/spf_bench"

port53_free() {
  ! ss -Hlnu 'sport = :53' | grep -qE '(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]):53 '
}

if [ "$(id -u)" -ne 0 ] || ! port53_free; then
  echo "spf_bench.sh: not root or port 53 taken: libspf2 skipped" >&2
  exec "$bench" --dns-port 15353 --skip-libspf2 "$@"
fi

resolv="$(mktemp /tmp/deliverd-spf-bench-resolv.XXXXXX)"
trap 'rm -f "$resolv"' EXIT
printf 'nameserver 127.0.0.1\noptions attempts:2 timeout:2\n' >"$resolv"

# The bind mount exists only inside the new mount namespace (unshare makes
# its mounts private), so it disappears with the bench.
unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
  sh "$resolv" "$bench" --dns-port 53 "$@"
