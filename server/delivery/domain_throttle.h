// Per-destination-domain limits for the dispatcher: at most N deliveries
// to one recipient domain at a time, and a back-off for a domain whose
// receivers said "slow down" (421, or a 4.7.x rate-limit reply), so one
// throttling provider delays its own messages and nobody else's.
//
// A back-off starts at `initial_backoff`, doubles while the domain keeps
// throttling (up to `max_backoff`) and is forgotten after a delivery to the
// domain succeeds.
//
// Thread-safe. Slots are taken for every domain of a message at once (all
// or nothing, so two workers never hold half of each other's domains) and
// given back by the returned Slots object.
#ifndef DELIVERD_SERVER_DELIVERY_DOMAIN_THROTTLE_H_
#define DELIVERD_SERVER_DELIVERY_DOMAIN_THROTTLE_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace deliverd::delivery {

struct DomainThrottleOptions {
  int max_concurrent_per_domain = 8;
  absl::Duration initial_backoff = absl::Minutes(1);
  absl::Duration max_backoff = absl::Minutes(30);
};

class DomainThrottle {
 public:
  explicit DomainThrottle(DomainThrottleOptions options);

  // Holds one slot per domain; releases them when destroyed.
  class Slots {
   public:
    Slots() = default;
    Slots(Slots&& other) noexcept;
    Slots& operator=(Slots&& other) noexcept;
    ~Slots();
    bool held() const { return owner_ != nullptr; }

   private:
    friend class DomainThrottle;
    Slots(DomainThrottle* owner, std::vector<std::string> domains)
        : owner_(owner), domains_(std::move(domains)) {}
    void Release();
    DomainThrottle* owner_ = nullptr;
    std::vector<std::string> domains_;
  };

  enum class Verdict { kGo, kBusy, kBackingOff };
  struct Decision {
    Verdict verdict = Verdict::kGo;
    Slots slots;                                // held when kGo
    absl::Time retry_at = absl::InfinitePast();  // when kBackingOff
  };

  // Domains are lower-cased by the caller's normalisation; duplicates are
  // fine.
  Decision TryAcquire(std::vector<std::string> domains, absl::Time now);

  // Waits until some slot is released or `deadline` passes.
  void WaitForRelease(absl::Time deadline);

  // The domain's receivers asked us to slow down; returns the end of the
  // back-off.
  absl::Time Throttled(const std::string& domain, absl::Time now);
  // A delivery to the domain succeeded: its back-off is over.
  void Succeeded(const std::string& domain);

  // For tests and status pages.
  int InFlight(const std::string& domain) const;
  absl::Time BackoffUntil(const std::string& domain) const;

 private:
  struct DomainState {
    int in_flight = 0;
    absl::Time backoff_until = absl::InfinitePast();
    absl::Duration last_backoff = absl::ZeroDuration();
  };
  void Release(const std::vector<std::string>& domains);
  void ForgetIfIdle(std::map<std::string, DomainState>::iterator it);

  const DomainThrottleOptions options_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  uint64_t releases_ = 0;
  std::map<std::string, DomainState> domains_;
};

// The domain part of an address, lower-cased ("" without '@').
std::string DomainOf(const std::string& address);

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_DOMAIN_THROTTLE_H_
