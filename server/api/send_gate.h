// Send gating: for a tenant whose send policy asks for it, a message whose
// From domain fails sender authentication is refused with
// FAILED_PRECONDITION naming the findings, before anything is stored.
//
// "Fails" means an error-level finding of SPF, DMARC, or DKIM for the
// selectors the policy lists (auth_checks/domain_check). Warnings, and DNS
// failures (which are warnings), do not refuse: a name server hiccup must
// not stop a tenant's mail, and the dispatcher retries anyway.
//
// Reports are cached per (domain, selectors) until the smallest TTL of the
// answers they were built from (at most kMaxReportAge); a report that saw a
// DNS failure is not cached. Tenant policies are cached for kPolicyAge, so
// `deliverd tenants set-policy` takes effect within that time.
//
// Thread-safe. Check() calls `done` exactly once, on the caller's thread
// when the answer is known at once (policy off, report cached), else on a
// thread of its own (DNS may take seconds); at most kMaxChecks such threads
// run at once (more are RESOURCE_EXHAUSTED). The destructor waits for them.
#ifndef DELIVERD_SERVER_API_SEND_GATE_H_
#define DELIVERD_SERVER_API_SEND_GATE_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "auth_checks/dns/resolver.h"
#include "auth_checks/finding.h"
#include "server/store/store.h"

namespace deliverd::api {

class SendGate {
 public:
  static constexpr int kMaxChecks = 64;
  static constexpr absl::Duration kMaxReportAge = absl::Hours(1);
  static constexpr absl::Duration kPolicyAge = absl::Seconds(10);

  // `resolver` may be null (no DNS): gated tenants' sends are then refused
  // with UNAVAILABLE, since nothing can be checked.
  SendGate(store::Store* store, auth_checks::dns::Resolver* resolver);
  ~SendGate();

  // Checks the domains of `from_addresses` (one per message; duplicates
  // are checked once) for `tenant_id`. `done` receives one status per
  // address, in order.
  void Check(int64_t tenant_id, std::vector<std::string> from_addresses,
             std::function<void(std::vector<absl::Status>)> done);

 private:
  struct CachedReport {
    std::vector<auth_checks::Finding> blocking;  // error-level, gated parts
    absl::Time expires;
  };
  struct CachedPolicy {
    store::TenantSendPolicy policy;
    absl::Time expires;
  };
  absl::StatusOr<store::TenantSendPolicy> Policy(int64_t tenant_id);
  // The blocking findings of `domain` from the cache, if fresh.
  bool Cached(const std::string& key, std::vector<auth_checks::Finding>* out);
  std::vector<auth_checks::Finding> CheckNow(const std::string& domain,
                                             const store::TenantSendPolicy& p);
  std::vector<absl::Status> Verdicts(
      const std::vector<std::string>& from_addresses,
      const std::map<std::string, std::vector<auth_checks::Finding>>& findings);

  store::Store* store_;
  auth_checks::dns::Resolver* resolver_;
  std::mutex mu_;
  std::condition_variable idle_;
  int running_ = 0;
  std::map<int64_t, CachedPolicy> policies_;
  std::map<std::string, CachedReport> reports_;
};

// The domain of a From address as the checks want it ("" when none).
std::string FromDomain(const std::string& address);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_SEND_GATE_H_
