#!/usr/bin/env bash
# Address verification (issue 5): deliverd's offline verifier beside
# python3-email-validator (Debian, check_deliverability=False) and the npm
# packages validator (isEmail) and email-validator, side by side in one run
# on the same generated list; then the accuracy cases
# (bench/verify_cases.tsv) through all four; then VerifyWithDns against a
# local knotd. See BENCHMARKS.md, "Address verification (issue 5)".
#
#   bench/verify_compare.sh            (1,000,000 addresses, ~3 minutes)
#   COUNT=100000 SKIP_DNS=1 bench/verify_compare.sh
#
# Installs what it needs: knot and python3-email-validator through
# scripts/install-deps.sh, the pinned npm packages with `npm ci` into
# bench/verify_node/node_modules (registry access needed once). Builds
# build-bench (Release) if needed. Rates are for one thread each (deliverd
# also with 2); only the validation loops are timed, over lists already in
# memory. deliverd and the npm packages: best of 3 passes; python: one pass
# (it takes about a minute).
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build-bench}"
count="${COUNT:-1000000}"
seed="${SEED:-5}"
dns_port="${DNS_PORT:-15353}"
python=/usr/bin/python3  # Debian's, which sees python3-email-validator

extra=(python3-email-validator)
command -v node >/dev/null || extra+=(nodejs)
command -v npm >/dev/null || extra+=(npm)
scripts/install-deps.sh "${extra[@]}"

if [ ! -f bench/verify_node/node_modules/.package-lock.json ] ||
   [ bench/verify_node/package-lock.json -nt \
     bench/verify_node/node_modules/.package-lock.json ]; then
  (cd bench/verify_node && npm ci --no-audit --no-fund >/dev/null)
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
nice cmake --build "$build_dir" --target verify_bench -j2 >/dev/null
bench="$build_dir/bench/verify_bench"

work="$(mktemp -d /tmp/deliverd-verify-compare.XXXXXX)"
trap 'rm -rf "$work"' EXIT
list="$work/addresses.txt"
out="$work/results.txt"

echo "== generating $count addresses (seed $seed)"
"$python" bench/verify_gen.py "$list" --count "$count" --seed "$seed"
echo "   $(wc -l <"$list") lines, sha256 $(sha256sum "$list" | cut -c1-16)"
echo "   $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"

echo "== offline, same list"
"$bench" --rounds 3 "$list" | tee -a "$out"
"$bench" --rounds 3 --threads 2 "$list" | grep '^RESULT' | tee -a "$out"
"$python" bench/verify_python.py "$list" | tee -a "$out"
node bench/verify_node.js --rounds 3 "$list" | tee -a "$out"

echo "== accuracy (bench/verify_cases.tsv)"
cases=bench/verify_cases.tsv
{
  "$bench" --accuracy "$cases"
  "$python" bench/verify_python.py --accuracy "$cases"
  node bench/verify_node.js --accuracy "$cases"
} | tee "$work/accuracy.txt" | grep -v '^ACCURACY' || true
grep '^ACCURACY' "$work/accuracy.txt" >>"$out"

if [ -z "${SKIP_DNS:-}" ]; then
  echo "== with DNS: 100,000 addresses over 10,000 domains, local knotd"
  echo "-- one VerifyWithDns call for the whole list (all domains in flight)"
  "$bench" --dns --dns-port "$dns_port" --rounds 3 --chunk 0 |
    sed 's/name=deliverd-dns/name=dns-whole-list/' | tee -a "$out"
  echo "-- chunks of 10,000 rows with one MailRouteCache (deliverctl clean)"
  "$bench" --dns --dns-port "$dns_port" --rounds 1 --chunk 10000 |
    sed 's/name=deliverd-dns/name=dns-chunk-10000/' | tee -a "$out"
  echo "-- chunks of 100 rows (at most 100 domains in flight)"
  "$bench" --dns --dns-port "$dns_port" --rounds 3 --chunk 100 |
    sed 's/name=deliverd-dns/name=dns-chunk-100/' | tee -a "$out"
fi

echo
echo "== summary"
awk '
  function field(k,   i, kv) {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] }
    return ""
  }
  /^RESULT/ { name = field("name"); rate[name] = field("rate"); n[name] = field("n");
              valid[name] = field("valid"); invalid[name] = field("invalid");
              order[++count] = name }
  /^ACCURACY/ { name = field("name"); acc[name] = field("agree") "/" field("total");
                strict[name] = field("strict_agree") "/" field("strict_total") }
  END {
    py = rate["python-email-validator"]
    printf "| %-24s | %10s | %12s | %8s | %8s | %9s | %9s | %9s |\n", "validator", "addresses",
      "addresses/s", "valid", "invalid", "x python", "cases", "strict"
    for (i = 1; i <= count; i++) {
      k = order[i]
      printf "| %-24s | %10s | %12s | %8s | %8s | %9s | %9s | %9s |\n", k, n[k], rate[k],
        valid[k], invalid[k], (py > 0 && k !~ /^dns/) ? sprintf("%.1f", rate[k] / py) : "-",
        (k in acc) ? acc[k] : "-", (k in strict) ? strict[k] : "-"
    }
  }' "$out"
