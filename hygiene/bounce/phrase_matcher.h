// PhraseMatcher: which of a fixed list of phrases occur in a text, found in
// one pass over the text instead of one search per phrase. Bounce
// classification asks "does this text say any of these ~100 phrases, and
// which comes first in the rule order" many times per bounce; searching for
// each phrase in turn (after lower-casing a copy of the text) was most of
// the classifier's time.
//
// Matching is ASCII case-insensitive (phrases are given in lower case; the
// text is not copied or lowered). Options:
//   * word_start: an occurrence counts only where the text has no letter or
//     digit just before it;
//   * fold_whitespace: a space in a phrase matches any run of spaces, tabs,
//     CRs and LFs in the text (as if the text's white space had been
//     collapsed first).
// A two-byte filter (a bitmap of the raw byte pairs that can start a
// phrase, every case and white space variant included) rejects most
// positions with one lookup.
//
// Immutable after construction; thread-safe. Phrases must be non-empty.
#ifndef DELIVERD_HYGIENE_BOUNCE_PHRASE_MATCHER_H_
#define DELIVERD_HYGIENE_BOUNCE_PHRASE_MATCHER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene::bounce {

class PhraseMatcher {
 public:
  struct Options {
    bool word_start = false;
    bool fold_whitespace = false;
  };

  PhraseMatcher(const std::vector<absl::string_view>& phrases,
                Options options);
  // '|'-separated phrases, as the rule tables write them.
  PhraseMatcher(absl::string_view bar_separated, Options options);

  size_t size() const { return phrases_.size(); }
  absl::string_view phrase(size_t index) const { return phrases_[index]; }

  // Calls on_match(position, index) for every occurrence, by position and,
  // at one position, by index, for as long as on_match returns true.
  template <typename OnMatch>
  void Scan(absl::string_view text, OnMatch&& on_match) const {
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    for (size_t i = 0; i < n; ++i) {
      // The raw bytes' pair first (no phrase has a NUL second byte, so the
      // last position passes only for a one-byte phrase).
      if (!PairPossible(p[i], i + 1 < n ? p[i + 1] : 0) &&
          !(has_single_ && single_[fold_[p[i]]])) {
        continue;
      }
      const unsigned char a = fold_[p[i]];
      const unsigned char b = i + 1 < n ? fold_[p[i + 1]] : 0;
      if (options_.word_start && i > 0 && IsWordByte(fold_[p[i - 1]])) {
        continue;
      }
      for (const Candidate& c : by_first_[a]) {
        if (c.second != b && !c.single) continue;
        if (MatchesAt(text, i, phrases_[c.index]) && !on_match(i, c.index)) {
          return;
        }
      }
    }
  }

  // The lowest index of a phrase `text` contains, or -1.
  int LowestIndexIn(absl::string_view text) const;
  // Whether `text` contains any phrase.
  bool AnyIn(absl::string_view text) const;
  // Marks found[index] for every phrase `text` contains (found is resized
  // to size()).
  void FindAll(absl::string_view text, std::vector<bool>* found) const;

 private:
  static bool IsWordByte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }
  bool PairPossible(unsigned char a, unsigned char b) const {
    const unsigned key = (unsigned{a} << 8) | b;
    return (pairs_[key >> 6] >> (key & 63)) & 1;
  }
  bool MatchesAt(absl::string_view text, size_t pos,
                 absl::string_view phrase) const;

  std::vector<std::string> phrases_;
  Options options_;
  std::array<unsigned char, 256> fold_;  // lower case (and white space)
  std::array<bool, 256> single_{};       // one-byte phrases' bytes
  // 65,536 bits, one per pair of raw bytes that folds to the first two
  // bytes of some phrase.
  std::array<uint64_t, 1024> pairs_{};
  bool has_single_ = false;
  struct Candidate {
    uint16_t index;
    unsigned char second;  // the phrase's second byte, folded
    bool single;           // a one-byte phrase
  };
  std::array<std::vector<Candidate>, 256> by_first_;  // by first byte
};

}  // namespace deliverd::hygiene::bounce

#endif  // DELIVERD_HYGIENE_BOUNCE_PHRASE_MATCHER_H_
