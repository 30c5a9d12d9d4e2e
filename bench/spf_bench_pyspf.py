#!/usr/bin/python3
"""pyspf side of bench/spf_bench: evaluates every query of a query file.

Usage: spf_bench_pyspf.py SERVER PORT QUERIES RESULTS

QUERIES has one "ip sender helo" line per query (spfquery -file's format).
RESULTS gets one result name per query, in order. Prints the seconds the
evaluation loop took (interpreter start-up and imports excluded).

Run with Debian's /usr/bin/python3 (python3-spf, which uses python3-dns, i.e.
pydns). pyspf keeps a DNS cache per query object only, so, as in its normal
use through spf.check2(), every evaluation starts cold.
"""

import sys
import time

import DNS  # pydns, the resolver pyspf uses when dnspython is absent.
import spf


def main():
    server, port, queries_path, results_path = sys.argv[1:5]
    DNS.defaults['server'] = [server]
    DNS.defaults['port'] = int(port)
    with open(queries_path) as f:
        queries = [line.split() for line in f if line.strip()]
    results = []
    start = time.perf_counter()
    for ip, sender, helo in queries:
        result, _ = spf.check2(i=ip, s=sender, h=helo)
        results.append(result)
    elapsed = time.perf_counter() - start
    with open(results_path, 'w') as f:
        f.write('\n'.join(results) + '\n')
    print('%.6f' % elapsed)


if __name__ == '__main__':
    main()
