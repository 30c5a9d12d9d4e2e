// Tests for hygiene/bounce/phrase_matcher.
#include "hygiene/bounce/phrase_matcher.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace deliverd::hygiene::bounce {
namespace {

TEST(PhraseMatcherTest, FindsPhrasesWhateverTheirCase) {
  PhraseMatcher m("user unknown|mailbox full|quota", PhraseMatcher::Options());
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.LowestIndexIn("550 5.2.2 MAILBOX FULL; over Quota"), 1);
  EXPECT_EQ(m.LowestIndexIn("550 User Unknown, mailbox full"), 0);
  EXPECT_EQ(m.LowestIndexIn("nothing here"), -1);
  EXPECT_EQ(m.LowestIndexIn(""), -1);
  EXPECT_TRUE(m.AnyIn("xxquotaxx"));
  EXPECT_FALSE(m.AnyIn("user  unknown"));  // two spaces: not folded
  EXPECT_FALSE(m.AnyIn("user unknow"));    // cut at the end of the text
}

TEST(PhraseMatcherTest, WordStartNeedsNoLetterOrDigitBefore) {
  PhraseMatcher::Options options;
  options.word_start = true;
  PhraseMatcher m("spam|rbl", options);
  EXPECT_TRUE(m.AnyIn("Spam detected"));
  EXPECT_TRUE(m.AnyIn("listed (rbl)"));
  EXPECT_FALSE(m.AnyIn("antispam filter"));
  EXPECT_FALSE(m.AnyIn("carbless"));
  EXPECT_TRUE(m.AnyIn("anti-spam"));
  EXPECT_TRUE(m.AnyIn("no spam; antispam"));
}

TEST(PhraseMatcherTest, FoldedWhitespaceMatchesAnyRun) {
  PhraseMatcher::Options options;
  options.fold_whitespace = true;
  PhraseMatcher m("after end of data| 5.1.1 ", options);
  EXPECT_TRUE(m.AnyIn("550 rejected after end\r\n\tof   DATA"));
  EXPECT_TRUE(m.AnyIn("550\n5.1.1\tno such user"));
  EXPECT_FALSE(m.AnyIn("550 5.1.10 x"));
  EXPECT_FALSE(m.AnyIn("after endof data"));
}

TEST(PhraseMatcherTest, FoldedSpacesAreNeverAtTheTextsEnds) {
  // As in the collapsed and trimmed text: " 5.1.1 " needs something on
  // both sides of its spaces.
  PhraseMatcher::Options options;
  options.fold_whitespace = true;
  PhraseMatcher m(" 5.1.1 ", options);
  EXPECT_FALSE(m.AnyIn("delivery failed 5.1.1\r\n"));
  EXPECT_FALSE(m.AnyIn("\n\t5.1.1 user unknown"));
  EXPECT_FALSE(m.AnyIn(" 5.1.1 "));
  EXPECT_TRUE(m.AnyIn("failed\n 5.1.1\tuser"));
}

TEST(PhraseMatcherTest, ScanReportsEveryOccurrenceInOrder) {
  PhraseMatcher m(std::vector<absl::string_view>{"ab", "b", "abc"},
                  PhraseMatcher::Options());
  std::vector<std::pair<size_t, size_t>> hits;
  m.Scan("xabcab", [&hits](size_t pos, size_t index) {
    hits.emplace_back(pos, index);
    return true;
  });
  std::vector<std::pair<size_t, size_t>> expected = {
      {1, 0}, {1, 2}, {2, 1}, {4, 0}, {5, 1}};
  EXPECT_EQ(hits, expected);
  // Stops when told to.
  int calls = 0;
  m.Scan("ababab", [&calls](size_t, size_t) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  std::vector<bool> found;
  m.FindAll("zzb", &found);
  EXPECT_EQ(found, (std::vector<bool>{false, true, false}));
}

TEST(PhraseMatcherTest, BytesOutsideAsciiAreCompared) {
  PhraseMatcher m("r\xc3\xa9ponse automatique", PhraseMatcher::Options());
  EXPECT_TRUE(m.AnyIn("Subject: R\xc3\xa9ponse automatique"));
  EXPECT_FALSE(m.AnyIn("Subject: R\xc3\x89PONSE automatique"));
}

}  // namespace
}  // namespace deliverd::hygiene::bounce
