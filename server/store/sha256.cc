#include "server/store/sha256.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"

namespace deliverd::store {

std::string Sha256(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

std::string Sha256Hex(absl::string_view bytes) {
  return absl::BytesToHexString(Sha256(bytes));
}

}  // namespace deliverd::store
