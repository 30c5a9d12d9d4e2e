#include "client/table.h"

#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

TEST(TableTest, AlignsColumnsWithoutTrailingSpaces) {
  Table table({"ID", "STATUS", "SUBJECT"});
  table.AddRow({"m_1", "sent", "Hello"});
  table.AddRow({"m_22222", "confirmed", ""});
  EXPECT_EQ(table.Render(),
            "ID       STATUS     SUBJECT\n"
            "m_1      sent       Hello\n"
            "m_22222  confirmed\n");
}

TEST(TableTest, AlignsByDisplayWidth) {
  Table table({"A", "B"});
  table.AddRow({"caf\xc3\xa9", "x"});
  table.AddRow({"\xe6\x97\xa5", "y"});  // One wide character: two columns.
  EXPECT_EQ(table.Render(),
            "A     B\n"
            "caf\xc3\xa9  x\n"
            "\xe6\x97\xa5    y\n");
}

TEST(TableTest, RightAlignment) {
  Table table({"NAME", "COUNT"});
  table.SetAlign(1, Table::Align::kRight);
  table.AddRow({"a", "5"});
  table.AddRow({"b", "1234"});
  EXPECT_EQ(table.Render(),
            "NAME  COUNT\n"
            "a         5\n"
            "b      1234\n");
}

TEST(TableTest, SanitizesCellsSoRowsStayOneLine) {
  Table table({"DETAIL", "X"});
  table.AddRow({"550 line one\r\n550 line two", "\x1b[2J"});
  EXPECT_EQ(table.Render(),
            "DETAIL                      X\n"
            "550 line one  550 line two  ?[2J\n");
}

TEST(TableTest, RaggedRowsAndNoHeaders) {
  Table table;
  table.AddRow({"id:", "m_1"});
  table.AddRow({"next attempt:"});
  table.AddRow({"a", "b", "c"});
  EXPECT_EQ(table.Render(),
            "id:            m_1\n"
            "next attempt:\n"
            "a              b    c\n");
  EXPECT_EQ(table.row_count(), 3u);
}

TEST(TableTest, EmptyTable) {
  EXPECT_EQ(Table().Render(), "");
  EXPECT_EQ(Table({"A", "B"}).Render(), "A  B\n");
}

}  // namespace
}  // namespace deliverd::client
