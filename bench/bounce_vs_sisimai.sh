#!/bin/bash
# Bounce classification speed side by side with Sisimai, in alternating
# rounds: each round runs bounce_corpus_check (our parse and classify, and
# GMime's full parse for reference) and then bench/bounce_sisimai.pl on the
# same files, and gives the ratio of the two rates measured a moment apart.
# The machine's load moves both; the median ratio over the rounds is the
# figure BENCHMARKS.md reports.
#
#   bench/bounce_vs_sisimai.sh CHECK_BINARY CORPUS_DIR [ROUNDS]
#
# CHECK_BINARY: a Release build's bench/bounce_corpus_check. Needs perl and
# Sisimai (Debian: libsisimai-perl).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CHECK_BINARY CORPUS_DIR [ROUNDS]" >&2
  exit 2
fi
check=$1
corpus=$2
rounds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
ratios=()
printf '%5s %14s %14s %12s %8s\n' round "ours msg/s" "GMime msg/s" "Sisimai" ratio
for r in $(seq 1 "$rounds"); do
  out=$("$check" "$corpus")
  ours=$(sed -n 's/^messages per second: \([0-9]*\).*/\1/p' <<<"$out")
  gmime=$(sed -n 's/^GMime parse alone: *\([0-9]*\).*/\1/p' <<<"$out")
  sisimai=$(perl "$here/bounce_sisimai.pl" "$corpus" |
            sed -n 's/.* = \([0-9]*\) messages\/s.*/\1/p')
  if [ -z "$ours" ] || [ -z "$sisimai" ] || [ "$sisimai" -eq 0 ]; then
    echo "round $r: could not read a rate" >&2
    exit 1
  fi
  ratio=$(awk -v a="$ours" -v b="$sisimai" 'BEGIN { printf "%.1f", a / b }')
  ratios+=("$ratio")
  printf '%5d %14s %14s %12s %8s\n' "$r" "$ours" "$gmime" "$sisimai" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n |
         awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
                                   else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "median ratio (ours / Sisimai): $median"
