#include "server/api/message_ids.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>

namespace deliverd::api {

std::string NewMessageId(absl::Time now) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  unsigned char bytes[16];
  uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(now));
  for (int i = 0; i < 6; ++i) {
    bytes[i] = static_cast<unsigned char>(millis >> (8 * (5 - i)));
  }
  if (RAND_bytes(bytes + 6, 10) != 1) abort();
  // 128 bits -> 26 base32 digits (130 bits, the top two are zero).
  std::string id = "m_";
  id.reserve(28);
  unsigned __int128 value = 0;
  for (unsigned char b : bytes) value = (value << 8) | b;
  char digits[26];
  for (int i = 25; i >= 0; --i) {
    digits[i] = kAlphabet[static_cast<int>(value & 31)];
    value >>= 5;
  }
  id.append(digits, 26);
  return id;
}

}  // namespace deliverd::api
