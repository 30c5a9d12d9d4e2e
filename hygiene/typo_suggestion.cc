#include "hygiene/typo_suggestion.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hygiene/data/embedded_data.h"

namespace deliverd::hygiene {
namespace {

constexpr int kMaxDistance = 2;
constexpr size_t kMaxName = 255;

// Which characters occur in a name, one bit per class: a-z, 0-9, '-', '.',
// anything else. Each edit adds at most one character class that the other
// string lacks, so more than d classes missing on either side proves the
// distance exceeds d without running the table.
uint64_t CharMask(absl::string_view s) {
  uint64_t mask = 0;
  for (char c : s) {
    int bit;
    if (c >= 'a' && c <= 'z') {
      bit = c - 'a';
    } else if (c >= '0' && c <= '9') {
      bit = 26 + (c - '0');
    } else if (c == '-') {
      bit = 36;
    } else if (c == '.') {
      bit = 37;
    } else {
      bit = 38;
    }
    mask |= uint64_t{1} << bit;
  }
  return mask;
}

int Popcount(uint64_t x) {
  int n = 0;
  for (; x != 0; x &= x - 1) ++n;
  return n;
}

struct Candidate {
  std::string domain;
  int max_distance;  // from the length of the first label (see the header)
  uint64_t mask;     // CharMask(domain)
};

struct CommonDomains {
  std::vector<Candidate> candidates;  // sorted by domain
  size_t longest = 0;
};

int BoundForFirstLabel(absl::string_view domain) {
  const size_t first = std::min(domain.find('.'), domain.size());
  if (first <= 3) return 0;
  if (first <= 8) return 1;
  return 2;
}

const CommonDomains& Common() {
  static const auto* const kCommon = [] {
    auto* common = new CommonDomains();
    for (absl::string_view entry :
         embedded::DataEntries(embedded::common_domains())) {
      std::string domain = absl::AsciiStrToLower(entry);
      if (!domain.empty() && domain.back() == '.') domain.pop_back();
      if (domain.empty()) continue;
      common->longest = std::max(common->longest, domain.size());
      const int bound = BoundForFirstLabel(domain);
      const uint64_t mask = CharMask(domain);
      common->candidates.push_back({std::move(domain), bound, mask});
    }
    std::sort(common->candidates.begin(), common->candidates.end(),
              [](const Candidate& a, const Candidate& b) {
                return a.domain < b.domain;
              });
    common->candidates.erase(
        std::unique(common->candidates.begin(), common->candidates.end(),
                    [](const Candidate& a, const Candidate& b) {
                      return a.domain == b.domain;
                    }),
        common->candidates.end());
    return common;
  }();
  return *kCommon;
}

bool IsCommon(absl::string_view domain) {
  const auto& c = Common().candidates;
  auto it = std::lower_bound(
      c.begin(), c.end(), domain,
      [](const Candidate& a, absl::string_view d) { return a.domain < d; });
  return it != c.end() && it->domain == domain;
}

// A listed domain starts with `domain` + ".": the input may be cut short.
bool IsTruncationOfCommon(absl::string_view domain) {
  for (const Candidate& c : Common().candidates) {
    if (c.domain.size() > domain.size() && c.domain[domain.size()] == '.' &&
        absl::StartsWith(c.domain, domain)) {
      return true;
    }
  }
  return false;
}

// Top-level labels that are typing slips and not delegated TLDs.
struct TldFix {
  absl::string_view typo;
  absl::string_view fix;
};
constexpr TldFix kTldFixes[] = {
    {"con", "com"},  {"cmo", "com"}, {"ocm", "com"},  {"cpm", "com"},
    {"vom", "com"},  {"xom", "com"}, {"cim", "com"},  {"comm", "com"},
    {"coom", "com"}, {"nte", "net"}, {"nett", "net"}, {"ogr", "org"},
    {"prg", "org"},
};

}  // namespace

int BoundedEditDistance(absl::string_view a, absl::string_view b,
                        int max_distance) {
  const int over = max_distance + 1;
  if (max_distance < 0) return over;
  if (a.size() > kMaxName || b.size() > kMaxName) return over;
  const int n = static_cast<int>(a.size());
  const int m = static_cast<int>(b.size());
  if (std::abs(n - m) > max_distance) return over;
  // Three rows of the optimal-string-alignment table: i-2, i-1, i.
  int rows[3][kMaxName + 1];
  int* two_back = rows[0];
  int* prev = rows[1];
  int* cur = rows[2];
  for (int j = 0; j <= m; ++j) prev[j] = j;
  for (int i = 1; i <= n; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int best = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, two_back[j - 2] + 1);
      }
      cur[j] = best;
      row_min = std::min(row_min, best);
    }
    if (row_min > max_distance) return over;
    int* recycled = two_back;
    two_back = prev;
    prev = cur;
    cur = recycled;
  }
  return std::min(prev[m], over);
}

// Rule 3 of the header: the unique nearest listed domain within bounds.
static std::optional<std::string> NearestCommon(absl::string_view domain) {
  const CommonDomains& common = Common();
  if (domain.size() > common.longest + kMaxDistance) return std::nullopt;
  const uint64_t mask = CharMask(domain);
  int best = kMaxDistance + 1;
  const Candidate* best_candidate = nullptr;
  int ties = 0;
  for (const Candidate& c : common.candidates) {
    const int bound = std::min(best, kMaxDistance);
    const size_t longer = std::max(domain.size(), c.domain.size());
    const size_t shorter = std::min(domain.size(), c.domain.size());
    if (longer - shorter > static_cast<size_t>(bound) ||
        Popcount(mask & ~c.mask) > bound || Popcount(c.mask & ~mask) > bound) {
      continue;
    }
    const int d = BoundedEditDistance(domain, c.domain, bound);
    if (d > kMaxDistance) continue;
    if (d < best) {
      best = d;
      best_candidate = &c;
      ties = 1;
    } else if (d == best) {
      ++ties;
    }
  }
  if (best_candidate == nullptr || ties != 1 ||
      best > best_candidate->max_distance) {
    return std::nullopt;
  }
  return best_candidate->domain;
}

std::optional<std::string> SuggestDomain(absl::string_view ascii_domain) {
  if (!ascii_domain.empty() && ascii_domain.back() == '.') {
    ascii_domain.remove_suffix(1);
  }
  if (ascii_domain.empty() || ascii_domain.size() > kMaxName ||
      ascii_domain.front() == '[') {
    return std::nullopt;
  }
  char buffer[kMaxName];
  for (size_t i = 0; i < ascii_domain.size(); ++i) {
    buffer[i] =
        absl::ascii_tolower(static_cast<unsigned char>(ascii_domain[i]));
  }
  const absl::string_view domain(buffer, ascii_domain.size());

  // Rule 1.
  if (IsCommon(domain) || IsTruncationOfCommon(domain)) return std::nullopt;

  // Rule 2.
  const size_t last_dot = domain.rfind('.');
  if (last_dot != absl::string_view::npos && last_dot > 0) {
    const absl::string_view name = domain.substr(0, last_dot);
    const absl::string_view tld = domain.substr(last_dot + 1);
    for (const TldFix& fix : kTldFixes) {
      if (tld != fix.typo) continue;
      // The TLD fix, then a name fix if one applies (gmial.con -> gmail.com).
      std::string fixed = absl::StrCat(name, ".", fix.fix);
      if (IsCommon(fixed)) return fixed;
      if (auto nearer = NearestCommon(fixed)) return nearer;
      return fixed;
    }
    if (tld == "co") {
      std::string fixed = absl::StrCat(name, ".com");
      if (IsCommon(fixed)) return fixed;
    }
  }

  // Rule 3.
  return NearestCommon(domain);
}

}  // namespace deliverd::hygiene
