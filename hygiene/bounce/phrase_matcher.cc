// One-pass phrase matching; see phrase_matcher.h.
#include "hygiene/bounce/phrase_matcher.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace deliverd::hygiene::bounce {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<absl::string_view> SplitBars(absl::string_view text) {
  std::vector<absl::string_view> out;
  for (absl::string_view p : absl::StrSplit(text, '|')) {
    if (!p.empty()) out.push_back(p);
  }
  return out;
}

}  // namespace

PhraseMatcher::PhraseMatcher(absl::string_view bar_separated, Options options)
    : PhraseMatcher(SplitBars(bar_separated), options) {}

PhraseMatcher::PhraseMatcher(const std::vector<absl::string_view>& phrases,
                             Options options)
    : options_(options) {
  for (int c = 0; c < 256; ++c) {
    unsigned char u = static_cast<unsigned char>(c);
    fold_[c] = static_cast<unsigned char>(absl::ascii_tolower(u));
    if (options.fold_whitespace && IsSpace(static_cast<char>(c))) fold_[c] = ' ';
    word_byte_[c] = IsWordByte(fold_[c]);
  }
  // Indexes are 16-bit; the rule tables are far smaller.
  if (phrases.size() > 65535) std::abort();
  std::vector<std::pair<uint32_t, uint16_t>> keyed;  // (pair key, index)
  for (absl::string_view phrase : phrases) {
    if (phrase.empty()) std::abort();  // a programming error in a table
    std::string lower = absl::AsciiStrToLower(phrase);
    const unsigned char a = fold_[static_cast<unsigned char>(lower[0])];
    const unsigned char b =
        lower.size() > 1 ? fold_[static_cast<unsigned char>(lower[1])] : 0;
    keyed.emplace_back((uint32_t{a} << 8) | b,
                       static_cast<uint16_t>(phrases_.size()));
    if (lower.size() == 1) {
      single_[a] = true;
      has_single_ = true;
    } else {
      // Every raw pair that folds to (a, b).
      for (unsigned x = 0; x < 256; ++x) {
        if (fold_[x] != a) continue;
        for (unsigned y = 1; y < 256; ++y) {
          if (fold_[y] != b) continue;
          const unsigned key = PairKey(x, y);
          pairs_[key >> 6] |= uint64_t{1} << (key & 63);
        }
      }
    }
    uint32_t prefix = 0;
    if (lower.size() >= 4) {
      bool spaced = false;
      for (size_t k = 0; k < 4; ++k) {
        spaced = spaced || (options.fold_whitespace && lower[k] == ' ');
      }
      if (!spaced) {
        prefix = FoldedQuad(reinterpret_cast<const unsigned char*>(lower.data()));
      }
    }
    prefix_.push_back(prefix);
    phrases_.push_back(std::move(lower));
  }
  // Group by pair; a table at most half full.
  std::sort(keyed.begin(), keyed.end());
  size_t slots = 16;
  while (slots < 2 * keyed.size() + 2) slots *= 2;
  groups_.assign(slots, Group());
  group_mask_ = slots - 1;
  for (size_t i = 0; i < keyed.size();) {
    size_t j = i;
    while (j < keyed.size() && keyed[j].first == keyed[i].first) {
      grouped_.push_back(keyed[j].second);
      ++j;
    }
    const uint32_t key = keyed[i].first;
    size_t slot = ((key * 40503u) >> 4) & group_mask_;
    while (groups_[slot].key != kNoKey) slot = (slot + 1) & group_mask_;
    groups_[slot] = {key, static_cast<uint16_t>(i), static_cast<uint16_t>(j)};
    i = j;
  }
}

size_t PhraseMatcher::NextCandidate(const unsigned char* p, size_t i,
                                    size_t n) const {
  const uint64_t* bits = pairs_.data();
  auto pair_possible = [bits](unsigned key) {
    return (bits[key >> 6] >> (key & 63)) & 1;
  };
  if (!options_.word_start && !has_single_) {
    // The common case, kept tight: two positions from one four-byte load
    // (no phrase has a NUL second byte, so the last position can start
    // none).
    for (; i + 4 <= n; i += 2) {
      uint32_t word;
      std::memcpy(&word, p + i, 4);
      if (pair_possible(PairKeyAt(word, 0))) return i;
      if (pair_possible(PairKeyAt(word, 1))) return i + 1;
    }
    for (; i + 1 < n; ++i) {
      if (pair_possible(PairKey(p[i], p[i + 1]))) return i;
    }
    return n;
  }
  if (options_.word_start && !has_single_) {
    // Word starts only: a position after a letter or digit is skipped on
    // one table lookup.
    for (; i + 1 < n; ++i) {
      if (i > 0 && word_byte_[p[i - 1]]) continue;
      if (pair_possible(PairKey(p[i], p[i + 1]))) return i;
    }
    return n;
  }
  for (; i < n; ++i) {
    if (options_.word_start && i > 0 && IsWordByte(fold_[p[i - 1]])) continue;
    const unsigned key = PairKey(p[i], i + 1 < n ? p[i + 1] : 0);
    if (pair_possible(key) || (has_single_ && single_[fold_[p[i]]])) return i;
  }
  return n;
}

bool PhraseMatcher::MatchesAt(absl::string_view text, size_t pos,
                              absl::string_view phrase, size_t from) const {
  size_t t = pos;
  for (size_t k = from; k < phrase.size(); ++k) {
    const char pc = phrase[k];
    if (options_.fold_whitespace && pc == ' ') {
      if (t >= text.size() || !IsSpace(text[t])) return false;
      // As in the text with its white space collapsed and trimmed: a space
      // stands between two other bytes, never at the text's start or end.
      if (k == 0) {
        size_t before = t;
        while (before > 0 && IsSpace(text[before - 1])) --before;
        if (before == 0) return false;
      }
      while (t < text.size() && IsSpace(text[t])) ++t;
      if (t == text.size()) return false;
      continue;
    }
    if (t >= text.size() ||
        fold_[static_cast<unsigned char>(text[t])] !=
            static_cast<unsigned char>(pc)) {
      return false;
    }
    ++t;
  }
  return true;
}

int PhraseMatcher::LowestIndexIn(absl::string_view text) const {
  int lowest = -1;
  Scan(text, [&lowest](size_t, size_t index) {
    if (lowest < 0 || static_cast<int>(index) < lowest) {
      lowest = static_cast<int>(index);
    }
    return lowest != 0;  // nothing comes before the first phrase
  });
  return lowest;
}

bool PhraseMatcher::AnyIn(absl::string_view text) const {
  bool found = false;
  Scan(text, [&found](size_t, size_t) {
    found = true;
    return false;
  });
  return found;
}

void PhraseMatcher::FindAll(absl::string_view text,
                            std::vector<bool>* found) const {
  found->assign(phrases_.size(), false);
  Scan(text, [found](size_t, size_t index) {
    (*found)[index] = true;
    return true;
  });
}

}  // namespace deliverd::hygiene::bounce
