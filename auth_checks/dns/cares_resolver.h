// Resolver over c-ares 1.18 (Debian 12's libc-ares).
//
// Threading model (the choice, and why): for LookupAsync, one c-ares channel
// per resolver,
// guarded by a mutex, driven by one event-loop thread owned by the resolver.
// A channel per call would re-read resolv.conf and open new sockets for every
// query; one shared channel lets many queries (a whole check_host() fan-out,
// many domains at once) share sockets and c-ares' retry timers. c-ares
// channels are not thread-safe in 1.18, hence the mutex: LookupAsync() takes
// it only to enqueue the query and wake the loop (through a pipe), the loop
// takes it around ares_process_fd(). Completed answers are collected while
// the lock is held and the user callbacks run after it is released, so a
// callback may call LookupAsync() again without deadlocking. Blocking
// lookups (LookupAll, Lookup) instead borrow a private duplicate channel
// from a pool and drive it in the calling thread: a waiting caller has
// nothing better to do, and the hand-offs to and from the loop thread cost
// more than the query itself.
//
// Contract
//   * Safe to use from any number of threads. Callbacks run on the loop
//     thread. Destroying the resolver completes every pending lookup with
//     kError ("resolver destroyed") before the destructor returns.
//   * Bounded time: c-ares doubles the timeout on each later try, so a query
//     costs at most about timeout_ms * (2^tries - 1) per server (6 s with the
//     defaults); a dead server gives kTimeout, never a hang.
//   * ARES_FLAG_NOCHECKRESP is set so SERVFAIL and REFUSED are reported as
//     such (without it c-ares folds both into ECONNREFUSED and tries the next
//     server).
//   * `server` "HOST:PORT" (or "[v6]:PORT", or a comma-separated list) sends
//     every query there, which is how tests point it at a local knot/nsd;
//     empty means the system resolver (/etc/resolv.conf).
//   * Create() fails (absl::Status) only if c-ares cannot be initialised or
//     the server string is not understood.
#ifndef DELIVERD_AUTH_CHECKS_DNS_CARES_RESOLVER_H_
#define DELIVERD_AUTH_CHECKS_DNS_CARES_RESOLVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "auth_checks/dns/resolver.h"

namespace deliverd::auth_checks::dns {

struct CaresOptions {
  std::string server;        // "HOST:PORT", list, or empty for the system's.
  int timeout_ms = 2000;     // First try's timeout (c-ares backs off after).
  int tries = 2;             // Attempts per server.
  // Not here yet: a TTL cache (positive and negative) belongs in front of
  // this, as a Resolver decorator, so FakeResolver-based tests can use it.
};

class CaresResolver : public Resolver {
 public:
  static absl::StatusOr<std::unique_ptr<CaresResolver>> Create(
      const CaresOptions& options);
  ~CaresResolver() override;

  CaresResolver(const CaresResolver&) = delete;
  CaresResolver& operator=(const CaresResolver&) = delete;

  void LookupAsync(std::string_view name, RrType type,
                   Callback done) override;
  // Runs the queries in the calling thread on a channel of its own (a
  // duplicate of the resolver's, kept in a pool): a blocking lookup then
  // costs no thread hand-off, which dominated check_host()'s time
  // (bench/spf_bench).
  std::vector<Answer> LookupAll(const std::vector<Query>& queries) override;

  struct Impl;

 private:
  explicit CaresResolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Exposed for tests: turns a raw DNS reply (as c-ares hands it over) and the
// c-ares status into an Answer. `status` is an ARES_* code.
Answer ParseReply(int status, RrType type, const unsigned char* reply,
                  int length);

}  // namespace deliverd::auth_checks::dns

#endif  // DELIVERD_AUTH_CHECKS_DNS_CARES_RESOLVER_H_
