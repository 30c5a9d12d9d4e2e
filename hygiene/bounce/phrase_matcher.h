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
//     CRs and LFs in the text, but not one at the text's start or end (as
//     if the text's white space had been collapsed and trimmed first); a
//     phrase that starts with a space is reported at the run's last byte.
// A two-byte filter (a bitmap of the raw byte pairs that can start a
// phrase, every case and white space variant included) rejects most
// positions with one lookup.
//
// Immutable after construction; thread-safe. Phrases must be non-empty and
// hold no NUL; with fold_whitespace their only white space is ' '.
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
  // at one position, by index (one-byte phrases last), for as long as
  // on_match returns true.
  template <typename OnMatch>
  void Scan(absl::string_view text, OnMatch&& on_match) const {
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    for (size_t i = NextCandidate(p, 0, n); i < n;
         i = NextCandidate(p, i + 1, n)) {
      const unsigned char a = fold_[p[i]];
      const unsigned char b = i + 1 < n ? fold_[p[i + 1]] : 0;
      // The text's next four bytes, folded, rule out most candidates of a
      // group (which share their first two bytes) without a comparison
      // loop; 0 near the end, where no prefix can match anyway.
      const uint32_t quad =
          i + 4 <= n ? FoldedQuad(p + i) : 0;
      // (No phrase of two or more bytes has a NUL second byte: the group
      // of (a, 0) is the one-byte phrases, visited below.)
      if (b != 0) {
        const Group& group = FindGroup(a, b);
        for (size_t k = group.begin; k < group.end; ++k) {
          const uint16_t c = grouped_[k];
          // A phrase whose first four bytes the quad matched is compared
          // from its fifth.
          const size_t verified = prefix_[c] != 0 ? 4 : 0;
          if (verified != 0 && prefix_[c] != quad) continue;
          if (MatchesAt(text, i + verified, phrases_[c], verified) &&
              !on_match(i, c)) {
            return;
          }
        }
      }
      if (has_single_ && single_[a]) {
        const Group& singles = FindGroup(a, 0);
        for (size_t k = singles.begin; k < singles.end; ++k) {
          if (!on_match(i, grouped_[k])) return;
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
  uint32_t FoldedQuad(const unsigned char* q) const {
    return uint32_t{fold_[q[0]]} | (uint32_t{fold_[q[1]]} << 8) |
           (uint32_t{fold_[q[2]]} << 16) | (uint32_t{fold_[q[3]]} << 24);
  }
  // The first position at or after `i` that the filters let through (a
  // word start where asked, a raw pair some phrase can start with, or a
  // one-byte phrase's byte), or n.
  size_t NextCandidate(const unsigned char* p, size_t i, size_t n) const;
  static bool IsWordByte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }
  // A pair's bit: the two bytes as a little-endian 16-bit load reads them.
  static unsigned PairKey(unsigned first, unsigned second) {
    return first | (second << 8);
  }
  // The pair at byte `offset` of a little-endian 32-bit load.
  static unsigned PairKeyAt(uint32_t word, int offset) {
    uint32_t bytes = word;
    if (!kLittleEndian) {
      bytes = ((word & 0xFF) << 24) | ((word & 0xFF00) << 8) |
              ((word >> 8) & 0xFF00) | (word >> 24);
    }
    return (bytes >> (8 * offset)) & 0xFFFF;
  }
  static constexpr bool kLittleEndian =
      __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
  // Whether phrase[from..] matches text[pos..].
  bool MatchesAt(absl::string_view text, size_t pos, absl::string_view phrase,
                 size_t from) const;

  std::vector<std::string> phrases_;
  // Each phrase's first four bytes as FoldedQuad() would read them, or 0
  // when the phrase is shorter or (with fold_whitespace) has white space
  // in them (a run in the text may be longer than one byte).
  std::vector<uint32_t> prefix_;
  Options options_;
  std::array<unsigned char, 256> fold_;  // lower case (and white space)
  std::array<bool, 256> single_{};       // one-byte phrases' bytes
  std::array<bool, 256> word_byte_{};    // letters and digits, any case
  // 65,536 bits, one per pair of raw bytes that folds to the first two
  // bytes of some phrase.
  std::array<uint64_t, 1024> pairs_{};
  bool has_single_ = false;
  // Phrase indexes grouped by their first two folded bytes (one-byte
  // phrases under a second byte of 0), ascending within a group; groups_
  // is an open-addressing table from a pair to its range in grouped_.
  struct Group {
    uint32_t key = kNoKey;  // (first << 8) | second
    uint16_t begin = 0;
    uint16_t end = 0;
  };
  static constexpr uint32_t kNoKey = ~uint32_t{0};
  const Group& FindGroup(unsigned char a, unsigned char b) const {
    const uint32_t key = (uint32_t{a} << 8) | b;
    size_t slot = ((key * 40503u) >> 4) & group_mask_;
    while (groups_[slot].key != key && groups_[slot].key != kNoKey) {
      slot = (slot + 1) & group_mask_;
    }
    return groups_[slot];
  }
  std::vector<Group> groups_;
  size_t group_mask_ = 0;
  std::vector<uint16_t> grouped_;
};

}  // namespace deliverd::hygiene::bounce

#endif  // DELIVERD_HYGIENE_BOUNCE_PHRASE_MATCHER_H_
