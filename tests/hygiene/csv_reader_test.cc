#include "hygiene/csv_reader.h"

#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::hygiene {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Records = std::vector<std::vector<std::string>>;

// Every record of `text`, or the first error.
absl::StatusOr<Records> ReadAll(const std::string& text,
                                CsvLimits limits = {}) {
  std::istringstream in(text);
  CsvReader reader(in, limits);
  Records records;
  std::vector<std::string> fields;
  for (;;) {
    absl::StatusOr<bool> got = reader.Next(&fields);
    if (!got.ok()) return got.status();
    if (!*got) return records;
    records.push_back(fields);
  }
}

TEST(CsvReaderTest, PlainFieldsAndLineEnds) {
  absl::StatusOr<Records> r = ReadAll("a,b,c\r\n1,2,3\nx,,z");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(
      *r, ElementsAre(ElementsAre("a", "b", "c"), ElementsAre("1", "2", "3"),
                      ElementsAre("x", "", "z")));
}

TEST(CsvReaderTest, QuotedFields) {
  absl::StatusOr<Records> r = ReadAll(
      "\"a,b\",\"say \"\"hi\"\"\",\"\"\r\n\"two\r\nlines\",\"x\ny\",end\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(ElementsAre("a,b", "say \"hi\"", ""),
                              ElementsAre("two\r\nlines", "x\ny", "end")));
}

TEST(CsvReaderTest, ByteOrderMarkAndBlankLines) {
  absl::StatusOr<Records> r = ReadAll(
      "\xEF\xBB\xBF"
      "email\n\n\r\na@b.example\n\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r,
              ElementsAre(ElementsAre("email"), ElementsAre("a@b.example")));
}

TEST(CsvReaderTest, TrailingCommaIsAnEmptyField) {
  absl::StatusOr<Records> r = ReadAll("a,\n,\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(ElementsAre("a", ""), ElementsAre("", "")));
}

TEST(CsvReaderTest, LineNumbersCountEmbeddedNewlines) {
  std::istringstream in("h\n\"a\nb\"\nnext\n");
  CsvReader reader(in);
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.line(), 1);
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.line(), 2);
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.line(), 4);
  EXPECT_EQ(reader.bytes_read(), 13u);
}

TEST(CsvReaderTest, MalformedLinesNameTheLine) {
  absl::StatusOr<Records> r = ReadAll("a,b\nok,\"x\"y\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("line 2: text after a closing"));

  r = ReadAll("a\nb\nc\"d\n");
  EXPECT_THAT(r.status().message(), HasSubstr("line 3: a '\"' inside"));

  r = ReadAll("a\n\"never closed,\nmore\n");
  EXPECT_THAT(r.status().message(),
              HasSubstr("line 2: a quoted field is not closed"));

  r = ReadAll(
      "\xEF\xBB"
      "x\n");
  EXPECT_THAT(r.status().message(), HasSubstr("line 1:"));
}

TEST(CsvReaderTest, HostileSizesAreBounded) {
  CsvLimits limits;
  limits.max_field_bytes = 10;
  limits.max_record_bytes = 25;
  limits.max_fields = 4;
  absl::StatusOr<Records> r =
      ReadAll("ok\n" + std::string(11, 'x') + "\n", limits);
  EXPECT_THAT(r.status().message(),
              HasSubstr("line 2: a field is longer than 10"));
  r = ReadAll("\"" + std::string(100, 'x') + "\"\n", limits);
  EXPECT_THAT(r.status().message(), HasSubstr("longer than 10 bytes"));
  r = ReadAll("aaaaaaaaa,bbbbbbbbb,ccccccccc\n", limits);
  EXPECT_THAT(r.status().message(), HasSubstr("a record is longer than 25"));
  r = ReadAll("a,b,c,d,e\n", limits);
  EXPECT_THAT(r.status().message(), HasSubstr("more than 4 fields"));
  // Embedded NULs and odd bytes are data, not errors.
  r = ReadAll(std::string("a\0b,\xFF\n", 6), limits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0][0], std::string("a\0b", 3));
}

TEST(CsvReaderTest, HeaderDetection) {
  EXPECT_TRUE(LooksLikeHeader({"name", "email"}));
  EXPECT_FALSE(LooksLikeHeader({"Ann", "ann@example.com"}));
}

TEST(CsvReaderTest, ColumnByNameIndexOrGuess) {
  const std::vector<std::string> header = {"id", " E-Mail ", "name"};
  const std::vector<std::string> data = {"1", "a@example.com", "Ann"};
  EXPECT_EQ(*ChooseAddressColumn("", header, data), 1u);
  EXPECT_EQ(*ChooseAddressColumn("NAME", header, data), 2u);
  EXPECT_EQ(*ChooseAddressColumn("3", header, data), 2u);
  EXPECT_EQ(*ChooseAddressColumn("1", {}, data), 0u);
  // No telling header: the first column with an '@' in the first data row.
  EXPECT_EQ(*ChooseAddressColumn("", {"a", "b"}, {"x", "y@z.example"}), 1u);
  EXPECT_EQ(*ChooseAddressColumn("", {}, {"x", "y@z.example"}), 1u);
  EXPECT_EQ(*ChooseAddressColumn("", {"Address", "email"}, {"x", "y"}), 1u);

  absl::StatusOr<size_t> bad = ChooseAddressColumn("mail2", header, data);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("--column mail2: no such column; the header has: id"));
  bad = ChooseAddressColumn("4", header, data);
  EXPECT_THAT(bad.status().message(), HasSubstr("the file has 3 columns"));
  bad = ChooseAddressColumn("0", header, data);
  EXPECT_FALSE(bad.ok());
  bad = ChooseAddressColumn("email", {}, data);
  EXPECT_THAT(bad.status().message(), HasSubstr("no header line"));
  bad = ChooseAddressColumn("", {"a"}, {"b"});
  EXPECT_THAT(bad.status().message(), HasSubstr("no address column found"));
}

}  // namespace
}  // namespace deliverd::hygiene
