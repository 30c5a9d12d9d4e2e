#include "hygiene/disposable_domains.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "hygiene/data/embedded_data.h"

namespace deliverd::hygiene {
namespace {

// The entries of data/disposable_domains.txt, pointing into the embedded
// text (static storage). The file is lower-case already; entries that are
// not are lower-cased into owned strings kept alongside.
struct DisposableIndex {
  std::unordered_set<std::string> owned;
  std::unordered_set<std::string_view> domains;
};

const DisposableIndex& Index() {
  static const auto* const kIndex = [] {
    auto* index = new DisposableIndex();
    const auto entries = embedded::DataEntries(embedded::disposable_domains());
    index->domains.reserve(entries.size());
    for (absl::string_view entry : entries) {
      if (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
      if (entry.empty()) continue;
      if (std::any_of(entry.begin(), entry.end(), absl::ascii_isupper)) {
        entry = *index->owned.insert(absl::AsciiStrToLower(entry)).first;
      }
      index->domains.insert(std::string_view(entry.data(), entry.size()));
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
  // Lower-case into a stack buffer: no allocation per call.
  char buffer[kMaxDomain];
  for (size_t i = 0; i < ascii_domain.size(); ++i) {
    buffer[i] =
        absl::ascii_tolower(static_cast<unsigned char>(ascii_domain[i]));
  }
  absl::string_view domain(buffer, ascii_domain.size());
  const auto& domains = Index().domains;
  // The domain, then each parent: drop one leading label at a time. A bare
  // top-level label is tried too; the list holds none.
  while (!domain.empty()) {
    if (domains.count(std::string_view(domain.data(), domain.size())) != 0) {
      return true;
    }
    const size_t dot = domain.find('.');
    if (dot == absl::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return false;
}

size_t DisposableDomainCount() { return Index().domains.size(); }

}  // namespace deliverd::hygiene
