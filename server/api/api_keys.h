// API keys: generation, hashing and the per-request check.
//
// A key is "dk_" followed by 32 random bytes in base32 (256 bits). Only its
// SHA-256 is stored: a key has full entropy, so a slow password hash would add
// latency to every call without adding protection. Authenticator keeps a
// short-lived cache of hash -> tenant so a call does not need a database
// read; a revoked key stops working within the cache's lifetime.
//
// Thread-safe.
#ifndef DELIVERD_SERVER_API_API_KEYS_H_
#define DELIVERD_SERVER_API_API_KEYS_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/store.h"

namespace grpc {
class CallbackServerContext;
}

namespace deliverd::api {

std::string NewApiKey();
// Raw 32-byte SHA-256 digest.
std::string HashApiKey(absl::string_view key);
// The part of a key that is safe to print and log.
std::string ApiKeyPrefix(absl::string_view key);

// Creates a key for `tenant_id` and returns the key itself (shown once).
absl::StatusOr<std::string> IssueApiKey(store::Store& store, int64_t tenant_id,
                                        absl::string_view label);

struct Caller {
  int64_t tenant_id = 0;
  int64_t key_id = 0;
};

class Authenticator {
 public:
  explicit Authenticator(store::Store* store,
                         absl::Duration cache_ttl = absl::Seconds(10))
      : store_(store), cache_ttl_(cache_ttl) {}

  // UNAUTHENTICATED when the metadata has no well-formed bearer key, or the
  // key is unknown or revoked.
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization_header);
  absl::StatusOr<Caller> Authenticate(const grpc::CallbackServerContext& ctx);

 private:
  struct Entry {
    Caller caller;
    bool valid = false;
    absl::Time expires;
  };
  store::Store* store_;
  absl::Duration cache_ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_API_KEYS_H_
