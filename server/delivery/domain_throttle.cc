#include "server/delivery/domain_throttle.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"

namespace deliverd::delivery {

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos) return "";
  return absl::AsciiStrToLower(address.substr(at + 1));
}

DomainThrottle::DomainThrottle(DomainThrottleOptions options)
    : options_(options) {}

DomainThrottle::Slots::Slots(Slots&& other) noexcept
    : owner_(other.owner_), domains_(std::move(other.domains_)) {
  other.owner_ = nullptr;
}

DomainThrottle::Slots& DomainThrottle::Slots::operator=(
    Slots&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    domains_ = std::move(other.domains_);
    other.owner_ = nullptr;
  }
  return *this;
}

DomainThrottle::Slots::~Slots() { Release(); }

void DomainThrottle::Slots::Release() {
  if (owner_ != nullptr) owner_->Release(domains_);
  owner_ = nullptr;
}

DomainThrottle::Decision DomainThrottle::TryAcquire(
    std::vector<std::string> domains, absl::Time now) {
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  Decision decision;
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time latest_backoff = absl::InfinitePast();
  bool busy = false;
  for (const std::string& d : domains) {
    auto it = domains_.find(d);
    if (it == domains_.end()) continue;
    if (it->second.backoff_until > now) {
      latest_backoff = std::max(latest_backoff, it->second.backoff_until);
    }
    if (it->second.in_flight >= options_.max_concurrent_per_domain) busy = true;
  }
  if (latest_backoff > now) {
    decision.verdict = Verdict::kBackingOff;
    decision.retry_at = latest_backoff;
    return decision;
  }
  if (busy) {
    decision.verdict = Verdict::kBusy;
    return decision;
  }
  for (const std::string& d : domains) ++domains_[d].in_flight;
  decision.slots = Slots(this, std::move(domains));
  return decision;
}

void DomainThrottle::Release(const std::vector<std::string>& domains) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& d : domains) {
      auto it = domains_.find(d);
      if (it == domains_.end()) continue;
      --it->second.in_flight;
      ForgetIfIdle(it);
    }
    ++releases_;
  }
  released_.notify_all();
}

void DomainThrottle::ForgetIfIdle(
    std::map<std::string, DomainState>::iterator it) {
  // Keep the map to the domains that matter right now.
  if (it->second.in_flight == 0 &&
      it->second.last_backoff == absl::ZeroDuration()) {
    domains_.erase(it);
  }
}

void DomainThrottle::WaitForRelease(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t seen = releases_;
  released_.wait_for(lock,
                     absl::ToChronoNanoseconds(
                         std::max(deadline - absl::Now(), absl::ZeroDuration())),
                     [&] { return releases_ != seen; });
}

absl::Time DomainThrottle::Throttled(const std::string& domain,
                                     absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  DomainState& s = domains_[domain];
  if (s.backoff_until > now) return s.backoff_until;  // already backing off
  s.last_backoff = s.last_backoff == absl::ZeroDuration()
                       ? options_.initial_backoff
                       : std::min(s.last_backoff * 2, options_.max_backoff);
  s.backoff_until = now + s.last_backoff;
  return s.backoff_until;
}

void DomainThrottle::Succeeded(const std::string& domain) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = domains_.find(domain);
  if (it == domains_.end()) return;
  it->second.backoff_until = absl::InfinitePast();
  it->second.last_backoff = absl::ZeroDuration();
  ForgetIfIdle(it);
}

int DomainThrottle::InFlight(const std::string& domain) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = domains_.find(domain);
  return it == domains_.end() ? 0 : it->second.in_flight;
}

absl::Time DomainThrottle::BackoffUntil(const std::string& domain) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = domains_.find(domain);
  return it == domains_.end() ? absl::InfinitePast() : it->second.backoff_until;
}

}  // namespace deliverd::delivery
