// An in-memory Resolver for unit tests and offline tools (the SPF corpus
// checker): zone data plus injected failures, answered synchronously.
//
// Semantics mirror an authoritative server closely enough for SPF:
//   * a name with any record (of any type) exists: other types are kNoData;
//   * a name with no record at all is kNxDomain, unless it has descendants
//     (an "empty non-terminal", RFC 8020), which are kNoData;
//   * SetFailure(name, type, outcome) overrides one type; SetFailure(name,
//     outcome) without a type overrides every type of that name.
// Names are compared case-insensitively, a trailing dot ignored.
// Thread safety: all methods may be called concurrently (one mutex); callbacks
// run on the caller's thread before LookupAsync returns, outside the lock.
// It also counts queries, so tests can assert how many lookups were made.
#ifndef DELIVERD_AUTH_CHECKS_DNS_FAKE_RESOLVER_H_
#define DELIVERD_AUTH_CHECKS_DNS_FAKE_RESOLVER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth_checks/dns/resolver.h"

namespace deliverd::auth_checks::dns {

class FakeResolver : public Resolver {
 public:
  // Adds one record. For MX, `data` is the exchange and `preference` is used.
  void Add(std::string_view name, RrType type, std::string data,
           uint16_t preference = 0, uint32_t ttl = 300);
  void SetFailure(std::string_view name, RrType type, Outcome outcome);
  void SetFailure(std::string_view name, Outcome outcome);

  void LookupAsync(std::string_view name, RrType type,
                   Callback done) override;

  // Queries answered so far (all types), and the log "TYPE name".
  int query_count() const;
  std::vector<std::string> query_log() const;

 private:
  static std::string Key(std::string_view name);
  Answer Answer_(const std::string& key, RrType type) const;

  mutable std::mutex mu_;
  std::map<std::pair<std::string, RrType>, std::vector<Record>> records_;
  std::map<std::string, int> names_;  // name -> number of records
  std::map<std::pair<std::string, RrType>, Outcome> type_failures_;
  std::map<std::string, Outcome> name_failures_;
  std::vector<std::string> log_;
};

}  // namespace deliverd::auth_checks::dns

#endif  // DELIVERD_AUTH_CHECKS_DNS_FAKE_RESOLVER_H_
