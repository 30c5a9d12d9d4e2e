#include "hygiene/csv.h"

#include "gtest/gtest.h"

namespace deliverd::hygiene {
namespace {

TEST(CsvTest, PlainFieldsAreNotQuoted) {
  EXPECT_EQ(CsvField("a@example.com"), "a@example.com");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("2024-05-01T12:00:00Z"), "2024-05-01T12:00:00Z");
}

TEST(CsvTest, QuotesSpecialCharacters) {
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("line1\nline2"), "\"line1\nline2\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvField("\""), "\"\"\"\"");
}

TEST(CsvTest, QuotesSurroundingSpaces) {
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField("padded "), "\"padded \"");
  EXPECT_EQ(CsvField("in side"), "in side");
}

TEST(CsvTest, Rows) {
  EXPECT_EQ(CsvRow({"a@x", "hard_bounce", "", "550 5.1.1 \"no\", sorry"}),
            "a@x,hard_bounce,,\"550 5.1.1 \"\"no\"\", sorry\"\n");
  EXPECT_EQ(CsvRow({}), "\n");
}

}  // namespace
}  // namespace deliverd::hygiene
