#include "hygiene/typo_suggestion.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
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
struct CharClassBits {
  uint8_t bit[256] = {};
  constexpr CharClassBits() {
    for (int c = 0; c < 256; ++c) bit[c] = 38;
    for (int c = 'a'; c <= 'z'; ++c) bit[c] = static_cast<uint8_t>(c - 'a');
    for (int c = '0'; c <= '9'; ++c)
      bit[c] = static_cast<uint8_t>(26 + c - '0');
    bit[static_cast<unsigned char>('-')] = 36;
    bit[static_cast<unsigned char>('.')] = 37;
  }
};
constexpr CharClassBits kCharClassBits;

uint64_t CharMask(absl::string_view s) {
  uint64_t mask = 0;
  for (char c : s) {
    mask |= uint64_t{1} << kCharClassBits.bit[static_cast<unsigned char>(c)];
  }
  return mask;
}

// True if x has more than k bits set (k is small: the distance bound).
bool MoreBitsThan(uint64_t x, int k) {
  for (int i = 0; i < k && x != 0; ++i) x &= x - 1;
  return x != 0;
}

struct Candidate {
  std::string domain;
  int max_distance;  // from the length of the first label (see the header)
  uint64_t mask;     // CharMask(domain)
};

struct CommonDomains {
  std::vector<Candidate> candidates;  // sorted by domain
  size_t longest = 0;
  // The candidates ordered by length, and by_length[n] the index into it of
  // the first one at least n octets long (n = 0 .. longest + 1): the distance
  // search visits only lengths within the bound. Its result does not depend
  // on the order of the candidates (the minimum and the count at it).
  std::vector<const Candidate*> sorted_by_length;
  std::vector<size_t> by_length;
  // Every listed domain, and every prefix of one that ends where a '.'
  // follows (rule 1: IsCommon || IsTruncationOfCommon in one lookup).
  std::unordered_set<std::string_view> listed_or_truncated;
  // A candidate with a bound of 1 or more, compactly: the first search of
  // NearestCommon runs over these only.
  struct Reachable {
    uint64_t mask;
    const Candidate* candidate;
    int bound;
  };
  // reachable_for_length[n]: those whose length is within their own bound
  // of n (n = 0 .. longest + kMaxDistance), so that a name of length n is
  // compared only with them.
  std::vector<std::vector<Reachable>> reachable_for_length;
  // A quick "certainly not in listed_or_truncated" before hashing the name:
  // bit (last octet % 32) of rule1_filter[length % 64][first octet % 32] is
  // set for every entry of the set.
  uint32_t rule1_filter[64][32] = {};
  void AddToRule1Filter(std::string_view d) {
    rule1_filter[d.size() % 64][static_cast<unsigned char>(d.front()) % 32] |=
        uint32_t{1} << (static_cast<unsigned char>(d.back()) % 32);
  }
  bool MayBeInRule1Set(absl::string_view d) const {
    return (rule1_filter[d.size() % 64]
                        [static_cast<unsigned char>(d.front()) % 32] >>
            (static_cast<unsigned char>(d.back()) % 32)) &
           1;
  }
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
    for (const Candidate& c : common->candidates) {
      common->sorted_by_length.push_back(&c);
      const std::string_view d(c.domain);
      common->listed_or_truncated.insert(d);
      common->AddToRule1Filter(d);
      for (size_t k = 1; k < d.size(); ++k) {
        if (d[k] == '.') {
          common->listed_or_truncated.insert(d.substr(0, k));
          common->AddToRule1Filter(d.substr(0, k));
        }
      }
    }
    std::stable_sort(common->sorted_by_length.begin(),
                     common->sorted_by_length.end(),
                     [](const Candidate* a, const Candidate* b) {
                       return a->domain.size() < b->domain.size();
                     });
    common->by_length.assign(common->longest + 2, 0);
    for (size_t n = 0; n <= common->longest + 1; ++n) {
      size_t i = 0;
      while (i < common->sorted_by_length.size() &&
             common->sorted_by_length[i]->domain.size() < n) {
        ++i;
      }
      common->by_length[n] = i;
    }
    common->reachable_for_length.resize(common->longest + kMaxDistance + 1);
    for (const Candidate* c : common->sorted_by_length) {
      if (c->max_distance == 0) continue;
      const size_t length = c->domain.size();
      const size_t bound = static_cast<size_t>(c->max_distance);
      for (size_t n = length > bound ? length - bound : 0; n <= length + bound;
           ++n) {
        common->reachable_for_length[n].push_back(
            {c->mask, c, c->max_distance});
      }
    }
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

// Rule 1 for listed names: the domain is listed, or a listed domain starts
// with `domain` + "." (the input may be cut short).
bool IsCommonOrTruncationOfCommon(absl::string_view domain) {
  const CommonDomains& common = Common();
  if (domain.empty() || !common.MayBeInRule1Set(domain)) return false;
  return common.listed_or_truncated.count(
             std::string_view(domain.data(), domain.size())) != 0;
}

// A string of up to 4 octets as one integer: its length above the packed
// octets, so that distinct strings give distinct keys whatever they hold
// ("\0con" is not "con").
constexpr uint64_t ShortKey(absl::string_view s) {
  uint64_t packed = 0;
  for (char c : s) packed = (packed << 8) | static_cast<unsigned char>(c);
  return (uint64_t{s.size()} << 32) | packed;
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
  // Three rows of the optimal-string-alignment table: i-2, i-1, i. Only the
  // band |i - j| <= max_distance is computed: a cell outside it is at least
  // |i - j| > max_distance. Values are capped at `over`, which keeps every
  // result up to max_distance exact; the cells just outside the band that
  // the next row reads hold `over`.
  int rows[3][kMaxName + 2];
  int* two_back = rows[0];
  int* prev = rows[1];
  int* cur = rows[2];
  for (int j = 0; j <= m; ++j) prev[j] = std::min(j, over);
  prev[m + 1] = over;
  for (int i = 1; i <= n; ++i) {
    const int lo = std::max(1, i - max_distance);
    const int hi = std::min(m, i + max_distance);
    cur[lo - 1] = lo == 1 ? std::min(i, over) : over;
    cur[hi + 1] = over;
    int row_min = lo == 1 ? cur[0] : over;
    for (int j = lo; j <= hi; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int best = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, two_back[j - 2] + 1);
      }
      best = std::min(best, over);
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

bool WithinOneEdit(absl::string_view a, absl::string_view b) {
  const size_t n = a.size();
  const size_t m = b.size();
  if (n > m + 1 || m > n + 1) return false;
  // Strip the common prefix and then the common suffix (never into the
  // prefix); what is left must be one insertion, deletion or substitution,
  // or two adjacent characters swapped.
  size_t start = 0;
  while (start < n && start < m && a[start] == b[start]) ++start;
  size_t end_a = n;
  size_t end_b = m;
  while (end_a > start && end_b > start && a[end_a - 1] == b[end_b - 1]) {
    --end_a;
    --end_b;
  }
  const size_t left_a = end_a - start;
  const size_t left_b = end_b - start;
  if (left_a <= 1 && left_b <= 1) return true;
  return left_a == 2 && left_b == 2 && a[start] == b[start + 1] &&
         a[start + 1] == b[start];
}

// Rule 3 of the header: the unique nearest listed domain within bounds.
static std::optional<std::string> NearestCommon(absl::string_view domain) {
  const CommonDomains& common = Common();
  if (domain.size() > common.longest + kMaxDistance) return std::nullopt;
  const uint64_t mask = CharMask(domain);
  int best = kMaxDistance + 1;
  const Candidate* best_candidate = nullptr;
  int ties = 0;
  // Only candidates whose length is within the bound of the domain's.
  const size_t lo = domain.size() > static_cast<size_t>(kMaxDistance)
                        ? domain.size() - kMaxDistance
                        : 0;
  const size_t hi = std::min(domain.size() + kMaxDistance, common.longest);
  const size_t begin = common.by_length[lo];
  const size_t end = common.by_length[hi + 1];
  // A suggestion needs its candidate within the candidate's own bound. When
  // no candidate is, the answer is nothing whatever the nearest one is, so
  // this cheaper search (tighter bounds; none for 0-bound candidates) decides
  // most names; the full search below runs only when it finds one.
  bool reachable = false;
  if (domain.size() < common.reachable_for_length.size()) {
    for (const CommonDomains::Reachable& r :
         common.reachable_for_length[domain.size()]) {
      if (MoreBitsThan(mask & ~r.mask, r.bound) ||
          MoreBitsThan(r.mask & ~mask, r.bound)) {
        continue;
      }
      if (r.bound == 1 ? WithinOneEdit(domain, r.candidate->domain)
                       : BoundedEditDistance(domain, r.candidate->domain,
                                             r.bound) <= r.bound) {
        reachable = true;
        break;
      }
    }
  }
  if (!reachable) return std::nullopt;
  for (size_t k = begin; k < end; ++k) {
    const Candidate& c = *common.sorted_by_length[k];
    const int bound = std::min(best, kMaxDistance);
    const size_t longer = std::max(domain.size(), c.domain.size());
    const size_t shorter = std::min(domain.size(), c.domain.size());
    if (longer - shorter > static_cast<size_t>(bound) ||
        MoreBitsThan(mask & ~c.mask, bound) ||
        MoreBitsThan(c.mask & ~mask, bound)) {
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
  if (IsCommonOrTruncationOfCommon(domain)) return std::nullopt;

  // Rule 2.
  const size_t last_dot = domain.rfind('.');
  if (last_dot != absl::string_view::npos && last_dot > 0) {
    const absl::string_view name = domain.substr(0, last_dot);
    const absl::string_view tld = domain.substr(last_dot + 1);
    // Every typo in the table is 3 or 4 octets long: compared as integers.
    const uint64_t tld_key =
        tld.size() == 3 || tld.size() == 4 ? ShortKey(tld) : 0;
    for (const TldFix& fix : kTldFixes) {
      if (tld_key != ShortKey(fix.typo)) continue;
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
