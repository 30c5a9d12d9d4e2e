// A Resolver decorator that remembers answers for as long as DNS says they
// are valid: positive answers for their smallest record TTL, NODATA and
// NXDOMAIN for the negative TTL from the zone's SOA (RFC 2308). Failures
// (SERVFAIL, timeout, ...) are never cached, so a recovering server is
// asked again at once. TTLs are capped (`max_ttl`) so a misconfigured zone
// cannot pin an answer for days.
//
// Concurrent lookups of the same name and type while one is in flight are
// not merged; each goes to the wrapped resolver (simple, and correct).
//
// Thread-safe. The wrapped resolver must outlive this one. The clock is a
// function so tests can move time.
#ifndef DELIVERD_AUTH_CHECKS_DNS_CACHING_RESOLVER_H_
#define DELIVERD_AUTH_CHECKS_DNS_CACHING_RESOLVER_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "auth_checks/dns/resolver.h"

namespace deliverd::auth_checks::dns {

class CachingResolver : public Resolver {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit CachingResolver(
      Resolver* inner, uint32_t max_ttl_seconds = 3600,
      size_t max_entries = 100000,
      Clock clock = [] { return std::chrono::steady_clock::now(); });

  void LookupAsync(std::string_view name, RrType type, Callback done) override;
  // Hits from the cache; the misses in one LookupAll of the inner resolver.
  std::vector<Answer> LookupAll(const std::vector<Query>& queries) override;

  size_t size() const;

 private:
  struct Entry {
    Answer answer;
    std::chrono::steady_clock::time_point expires;
  };
  using Key = std::pair<std::string, RrType>;

  void Store(const Key& key, const Answer& answer);
  std::optional<Answer> Cached(const Key& key);

  Resolver* inner_;
  uint32_t max_ttl_;
  size_t max_entries_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<Key, Entry> entries_;
};

}  // namespace deliverd::auth_checks::dns

#endif  // DELIVERD_AUTH_CHECKS_DNS_CACHING_RESOLVER_H_
