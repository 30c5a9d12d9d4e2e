// Starts a throwaway knotd for the DNS benchmarks (spf_bench, verify_bench):
// one zone, served on 127.0.0.1:PORT from files under a folder the caller
// owns. The child dies with the bench (PR_SET_PDEATHSIG). Not thread-safe;
// call from main.
#ifndef DELIVERD_BENCH_BENCH_KNOT_H_
#define DELIVERD_BENCH_BENCH_KNOT_H_

#include <sys/types.h>

#include <string>

namespace deliverd::bench {

inline constexpr char kKnotd[] = "/usr/sbin/knotd";

// True when the server on `port` answers an SOA query for `origin` (e.g.
// "bench.test") within `wait_ms`.
bool KnotAnswers(int port, const std::string& origin, int wait_ms);

// Writes `zone_text` as zone `origin` under `dir`, starts knotd and waits
// (up to 20 s) until it answers; its pid, or -1 with the reason on stderr.
// `query_stats` adds knot's per-protocol query counters (mod-stats).
pid_t StartKnot(const std::string& dir, int port, const std::string& origin,
                const std::string& zone_text, bool query_stats = false);

}  // namespace deliverd::bench

#endif  // DELIVERD_BENCH_BENCH_KNOT_H_
