#include "server/store/sha256.h"

#include <stdlib.h>

#include <memory>

#include <openssl/evp.h>

#include "absl/strings/escaping.h"

namespace deliverd::store {
namespace {

// SHA256() looks the algorithm up in OpenSSL 3's provider tables and
// allocates a context on every call, several times the cost of hashing an
// API key; the algorithm is fetched once and each thread keeps a context.
const EVP_MD* Sha256Algorithm() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) abort();  // the default provider always has it
    return fetched;
  }();
  return md;
}

struct ContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string Sha256(absl::string_view bytes) {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextFree> ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (ctx == nullptr ||
      EVP_DigestInit_ex2(ctx.get(), Sha256Algorithm(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) {
    abort();  // out of memory: no digest to give
  }
  return std::string(reinterpret_cast<char*>(digest), size);
}

std::string Sha256Hex(absl::string_view bytes) {
  return absl::BytesToHexString(Sha256(bytes));
}

}  // namespace deliverd::store
