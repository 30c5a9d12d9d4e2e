// SHA-256 of a byte string (OpenSSL), the one digest every server layer uses
// for stored keys: API key hashes, request hashes, feedback fingerprints.
// Pure; thread-safe.
#ifndef DELIVERD_SERVER_STORE_SHA256_H_
#define DELIVERD_SERVER_STORE_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::store {

// The 32-byte digest.
std::string Sha256(absl::string_view bytes);

// The digest as 64 lower-case hex characters.
std::string Sha256Hex(absl::string_view bytes);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_SHA256_H_
