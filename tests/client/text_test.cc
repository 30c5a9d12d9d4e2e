#include "client/text.h"

#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

TEST(SanitizeTest, OneLineWithoutControls) {
  EXPECT_EQ(SanitizeForTerminal("a\tb\nc\r\n"), "a b c  ");
  EXPECT_EQ(SanitizeForTerminal("x\x1b[31mred"), "x?[31mred");
  EXPECT_EQ(SanitizeForTerminal("del\x7f"), "del?");
  EXPECT_EQ(SanitizeForTerminal("c1\xc2\x9b"), "c1?");  // U+009B (CSI).
}

TEST(SanitizeTest, KeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(SanitizeForTerminal("caf\xc3\xa9 \xe2\x9c\x93"),
            "caf\xc3\xa9 \xe2\x9c\x93");
  EXPECT_EQ(SanitizeForTerminal("a\xffz"), "a\xef\xbf\xbdz");
  EXPECT_EQ(SanitizeForTerminal("\xc3"), "\xef\xbf\xbd");  // Truncated.
  EXPECT_EQ(SanitizeForTerminal("\xc0\xaf"),               // Overlong '/'.
            "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(Utf8Test, Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbd"));  // A literal U+FFFD is fine.
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("latin1 \xe9t\xe9"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // A surrogate.
}

TEST(DisplayWidthTest, CountsColumnsNotBytes) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("caf\xc3\xa9"), 4u);               // é is one column.
  EXPECT_EQ(DisplayWidth("\xe6\x97\xa5\xe6\x9c\xac"), 4u);  // 日本: wide.
  EXPECT_EQ(DisplayWidth("e\xcc\x81"), 1u);  // e + combining acute.
}

TEST(TruncateTest, CutsWithEllipsis) {
  EXPECT_EQ(TruncateToWidth("hello", 5), "hello");
  EXPECT_EQ(TruncateToWidth("hello world", 5), "hell\u2026");
  EXPECT_EQ(DisplayWidth(TruncateToWidth("hello world", 5)), 5u);
  EXPECT_EQ(TruncateToWidth("hello", 0), "");
}

TEST(TruncateTest, NeverSplitsCharacters) {
  // Three wide characters (6 columns) into 4 columns: one fits beside "…".
  const std::string cut =
      TruncateToWidth("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4);
  EXPECT_EQ(cut, "\xe6\x97\xa5\u2026");
  EXPECT_TRUE(IsValidUtf8(cut));
  EXPECT_EQ(TruncateToWidth("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\u2026");
}

}  // namespace
}  // namespace deliverd::client
