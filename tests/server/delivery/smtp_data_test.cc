// DATA encoding helpers of the SMTP session: dot-stuffing and xtext.
#include "gtest/gtest.h"
#include "server/delivery/smtp_session.h"

namespace deliverd::delivery {
namespace {

TEST(DotStuffTest, DoublesLeadingDotsAndTerminates) {
  EXPECT_EQ(DotStuff("a\r\n.\r\n..b\r\nc.\r\n"),
            "a\r\n..\r\n...b\r\nc.\r\n.\r\n");
}

TEST(DotStuffTest, NormalisesLineEndsAndAddsAFinalOne) {
  EXPECT_EQ(DotStuff("a\nb\r\n.c"), "a\r\nb\r\n..c\r\n.\r\n");
  EXPECT_EQ(DotStuff(""), ".\r\n");
  EXPECT_EQ(DotStuff("\r\n"), "\r\n.\r\n");
}

TEST(DotStuffTest, ALoneDotLineInTheBodyCannotEndTheMessage) {
  std::string stuffed = DotStuff("x\r\n.\r\nafter\r\n");
  // The only "\r\n.\r\n" is the terminator at the very end.
  EXPECT_EQ(stuffed.find("\r\n.\r\n"), stuffed.size() - 5);
}

TEST(XTextTest, EncodesPlusEqualsControlsAndNonAscii) {
  EXPECT_EQ(XText("m_abc"), "m_abc");
  EXPECT_EQ(XText("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(XText("\xc3\xa9"), "+C3+A9");
}

}  // namespace
}  // namespace deliverd::delivery
