#include "server/store/suppressed_addresses.h"

#include <utility>

#include "absl/hash/hash.h"

namespace deliverd::store {

uint64_t SuppressedAddresses::Key(int64_t tenant_id,
                                absl::string_view address_key) {
  return absl::Hash<std::pair<int64_t, absl::string_view>>{}(
      std::make_pair(tenant_id, address_key));
}

void SuppressedAddresses::Add(int64_t tenant_id, absl::string_view address_key) {
  uint64_t key = Key(tenant_id, address_key);
  std::lock_guard<std::mutex> lock(mu_);
  if (full_) return;
  if (keys_.size() >= max_entries_) {
    full_ = true;
    keys_ = {};  // give the memory back: every answer is "maybe" now
    return;
  }
  keys_.insert(key);
}

bool SuppressedAddresses::MayContain(int64_t tenant_id,
                                   absl::string_view address_key) const {
  uint64_t key = Key(tenant_id, address_key);
  std::lock_guard<std::mutex> lock(mu_);
  return full_ || keys_.contains(key);
}

}  // namespace deliverd::store
