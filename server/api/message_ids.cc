#include "server/api/message_ids.h"

#include <pthread.h>
#include <string.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace deliverd::api {
namespace {

// Counts forks, so a child process drops the random bytes its parent had
// drawn but not used (else both would hand out the same ids).
std::atomic<uint64_t> fork_generation{0};

// OpenSSL 3 spends several thousand instructions per RAND_bytes call
// (locks, the DRBG's bookkeeping) whatever the length, as much as the rest
// of making an id; each thread draws a block at a time instead.
void RandomBytes(unsigned char* out, size_t n) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });
  });
  struct Block {
    unsigned char bytes[4096];
    size_t used = sizeof(bytes);
    uint64_t generation = 0;
  };
  thread_local Block block;
  uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (block.generation != generation || sizeof(block.bytes) - block.used < n) {
    if (RAND_bytes(block.bytes, sizeof(block.bytes)) != 1) abort();
    block.used = 0;
    block.generation = generation;
  }
  memcpy(out, block.bytes + block.used, n);
  // Bytes handed out are not kept around.
  OPENSSL_cleanse(block.bytes + block.used, n);
  block.used += n;
}

}  // namespace

std::string NewMessageId(absl::Time now) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  unsigned char bytes[16];
  uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(now));
  for (int i = 0; i < 6; ++i) {
    bytes[i] = static_cast<unsigned char>(millis >> (8 * (5 - i)));
  }
  RandomBytes(bytes + 6, 10);
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
