#include "server/api/api_keys.h"

#include <grpcpp/server_context.h>
#include <openssl/rand.h>
#include "server/store/sha256.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace deliverd::api {
namespace {

constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr char kKeyPrefix[] = "dk_";
constexpr size_t kKeyBodyLength = 52;  // ceil(256 / 5)
// Unknown keys are cached too, so a client hammering with a bad key does
// not turn every call into a database read; bounded to keep memory flat.
constexpr size_t kMaxCacheEntries = 10000;

}  // namespace

std::string NewApiKey() {
  unsigned char bytes[33] = {0};
  if (RAND_bytes(bytes, 32) != 1) {
    // Without randomness a key would be guessable; refuse to go on.
    abort();
  }
  std::string key = kKeyPrefix;
  unsigned buffer = 0;
  int bits = 0;
  for (int i = 0; i < 33 && key.size() < sizeof(kKeyPrefix) - 1 + kKeyBodyLength;
       ++i) {
    buffer = (buffer << 8) | bytes[i];
    bits += 8;
    while (bits >= 5 &&
           key.size() < sizeof(kKeyPrefix) - 1 + kKeyBodyLength) {
      key.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  return key;
}

std::string HashApiKey(absl::string_view key) { return store::Sha256(key); }

std::string ApiKeyPrefix(absl::string_view key) {
  return std::string(key.substr(0, 10));
}

absl::StatusOr<std::string> IssueApiKey(store::Store& store, int64_t tenant_id,
                                        absl::string_view label) {
  std::string key = NewApiKey();
  absl::StatusOr<store::ApiKey> stored =
      store.CreateApiKey(tenant_id, HashApiKey(key), ApiKeyPrefix(key), label);
  if (!stored.ok()) return stored.status();
  return key;
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    absl::string_view authorization_header) {
  absl::string_view value = authorization_header;
  if (!absl::ConsumePrefix(&value, "Bearer ") &&
      !absl::ConsumePrefix(&value, "bearer ")) {
    return absl::UnauthenticatedError(
        "missing API key: send metadata \"authorization: Bearer <key>\"");
  }
  value = absl::StripAsciiWhitespace(value);
  if (!absl::StartsWith(value, kKeyPrefix) || value.size() > 200) {
    return absl::UnauthenticatedError("malformed API key");
  }
  std::string hash = HashApiKey(value);
  absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) {
      if (!it->second.valid) {
        return absl::UnauthenticatedError("unknown or revoked API key");
      }
      return it->second.caller;
    }
  }
  Entry entry;
  entry.expires = now + cache_ttl_;
  absl::StatusOr<store::ApiKey> key = store_->FindApiKeyByHash(hash);
  if (key.ok() && !key->revoked) {
    entry.valid = true;
    entry.caller = Caller{key->tenant_id, key->id};
  } else if (!key.ok() && !absl::IsNotFound(key.status())) {
    return absl::UnavailableError(
        absl::StrCat("cannot check API key: ", key.status().message()));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_[hash] = entry;
  }
  if (!entry.valid) {
    return absl::UnauthenticatedError("unknown or revoked API key");
  }
  return entry.caller;
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    const grpc::CallbackServerContext& ctx) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing API key: send metadata \"authorization: Bearer <key>\"");
  }
  return Authenticate(absl::string_view(it->second.data(), it->second.size()));
}

}  // namespace deliverd::api
