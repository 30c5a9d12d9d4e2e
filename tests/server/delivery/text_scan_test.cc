#include "server/delivery/text_scan.h"

#include <algorithm>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace deliverd::delivery {
namespace {

bool ReferenceIsAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80;
  });
}

size_t ReferenceLongestLine(const std::string& s) {
  size_t longest = 0, line = 0;
  for (char c : s) {
    if (c == '\n') {
      longest = std::max(longest, line);
      line = 0;
    } else {
      ++line;
    }
  }
  return std::max(longest, line);
}

TEST(TextScan, Examples) {
  EXPECT_TRUE(IsAllAscii(""));
  EXPECT_TRUE(IsAllAscii("plain text\r\n"));
  EXPECT_FALSE(IsAllAscii("caf\xc3\xa9"));
  // The 8-bit byte in every position of a word and of the tail.
  for (size_t at = 0; at < 19; ++at) {
    std::string s(19, 'a');
    s[at] = '\x80';
    EXPECT_FALSE(IsAllAscii(s)) << at;
  }
  EXPECT_EQ(LongestLine(""), 0u);
  EXPECT_EQ(LongestLine("\n"), 0u);
  EXPECT_EQ(LongestLine("abc"), 3u);
  EXPECT_EQ(LongestLine("ab\nabcd\nx"), 4u);
  EXPECT_EQ(LongestLine("ab\nabcd\nxyzwv"), 5u);
  EXPECT_EQ(LongestLine("ab\r\n"), 3u);  // a CR is part of the line
}

TEST(TextScan, AgreesWithByteByByteScans) {
  std::mt19937 random(7);
  const std::string alphabet = std::string("ab\n\r\x7f\x80\xff", 7);
  for (int round = 0; round < 20000; ++round) {
    std::string s(random() % 40, 'x');
    for (char& c : s) c = alphabet[random() % alphabet.size()];
    if (random() % 2 == 0) {
      // Mostly ASCII inputs, so both answers of IsAllAscii are exercised.
      for (char& c : s) c &= 0x7f;
    }
    ASSERT_EQ(IsAllAscii(s), ReferenceIsAscii(s)) << s;
    ASSERT_EQ(LongestLine(s), ReferenceLongestLine(s)) << s;
  }
}

}  // namespace
}  // namespace deliverd::delivery
