#include "hygiene/disposable_domains.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "hygiene/data/embedded_data.h"

namespace deliverd::hygiene {
namespace {

// The hash of one name (a domain or a parent): eight octets at a time, so
// that the two or three suffixes of a typical domain cost a few multiplies
// each.
uint64_t NameHash(const char* p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t word = 0;
    for (size_t i = 0; i < n; ++i) {
      word |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    }
    h = (h ^ word) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
  }
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

// The entries of data/disposable_domains.txt, pointing into the embedded
// text (static storage). The file is lower-case already; entries that are
// not are lower-cased into owned strings kept alongside. An open-addressing
// table (linear probing, load at most 1/2) of indexes into `domains`, with
// the upper hash bits beside each index so that most misses never touch
// the strings.
struct DisposableIndex {
  std::unordered_set<std::string> owned;
  std::vector<absl::string_view> domains;  // distinct entries
  struct Slot {
    uint32_t tag = 0;    // upper 32 bits of the hash
    uint32_t index = 0;  // 1 + index into domains; 0 = empty
  };
  std::vector<Slot> slots;  // size is a power of two
  size_t mask = 0;
  bool has_dotless = false;  // some entry is a bare top-level label

  bool Contains(absl::string_view d, uint64_t h) const {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = static_cast<size_t>(h) & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.index == 0) return false;
      if (slot.tag == tag && domains[slot.index - 1] == d) return true;
    }
  }

  void Insert(absl::string_view d) {
    const uint64_t h = NameHash(d.data(), d.size());
    if (Contains(d, h)) return;
    domains.push_back(d);
    size_t i = static_cast<size_t>(h) & mask;
    while (slots[i].index != 0) i = (i + 1) & mask;
    slots[i].tag = static_cast<uint32_t>(h >> 32);
    slots[i].index = static_cast<uint32_t>(domains.size());
  }
};

const DisposableIndex& Index() {
  static const auto* const kIndex = [] {
    auto* index = new DisposableIndex();
    const auto entries = embedded::DataEntries(embedded::disposable_domains());
    size_t capacity = 16;
    while (capacity < 2 * entries.size()) capacity *= 2;
    index->slots.resize(capacity);
    index->mask = capacity - 1;
    index->domains.reserve(entries.size());
    for (absl::string_view entry : entries) {
      if (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
      if (entry.empty()) continue;
      if (std::any_of(entry.begin(), entry.end(), absl::ascii_isupper)) {
        entry = *index->owned.insert(absl::AsciiStrToLower(entry)).first;
      }
      if (entry.find('.') == absl::string_view::npos) {
        index->has_dotless = true;
      }
      index->Insert(entry);
    }
    return index;
  }();
  return *kIndex;
}

// No DNS name is longer (RFC 1035; ParseAddress enforces 253).
constexpr size_t kMaxDomain = 255;

}  // namespace

bool IsDisposableDomain(absl::string_view ascii_domain) {
  if (!ascii_domain.empty() && ascii_domain.back() == '.') {
    ascii_domain.remove_suffix(1);
  }
  if (ascii_domain.empty() || ascii_domain.size() > kMaxDomain ||
      ascii_domain.front() == '[') {
    return false;
  }
  const DisposableIndex& index = Index();
  // Lower-case into a stack buffer (no allocation per call), then look up
  // the name and each parent, i.e. each suffix that starts a label. A bare
  // top-level label is tried too, but only if the list holds one (it holds
  // none today).
  char buffer[kMaxDomain];
  const size_t n = ascii_domain.size();
  for (size_t i = 0; i < n; ++i) {
    buffer[i] =
        absl::ascii_tolower(static_cast<unsigned char>(ascii_domain[i]));
  }
  bool seen_dot = index.has_dotless;  // the suffix from i - 1 holds a '.'
  for (size_t i = n; i > 0; --i) {
    if (buffer[i - 1] == '.') seen_dot = true;
    const bool label_start = i == 1 || buffer[i - 2] == '.';
    if (label_start && seen_dot) {
      const char* suffix = buffer + i - 1;
      const size_t length = n - i + 1;
      if (index.Contains(absl::string_view(suffix, length),
                         NameHash(suffix, length))) {
        return true;
      }
    }
  }
  return false;
}

size_t DisposableDomainCount() { return Index().domains.size(); }

}  // namespace deliverd::hygiene
