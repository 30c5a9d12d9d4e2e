#include "client/mbox.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

TEST(MboxTest, AMessageThatIsNotAnMboxIsOneMessage) {
  std::string eml = "From: a@example.com\r\nSubject: x\r\n\r\nFrom here on\r\n";
  EXPECT_FALSE(LooksLikeMbox(eml));
  EXPECT_EQ(SplitMailbox(eml), std::vector<std::string>{eml});
  EXPECT_TRUE(SplitMailbox("").empty());
}

TEST(MboxTest, SplitsAtSeparatorsAndDropsThem) {
  std::string mbox =
      "From MAILER-DAEMON Thu Nov 26 10:00:00 2026\n"
      "Subject: one\n\nbody one\n\n"
      "From someone@example.com Thu Nov 26 10:00:01 2026\n"
      "Subject: two\n\nbody two\n";
  ASSERT_TRUE(LooksLikeMbox(mbox));
  std::vector<std::string> messages = SplitMailbox(mbox);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], "Subject: one\n\nbody one\n");
  EXPECT_EQ(messages[1], "Subject: two\n\nbody two\n");
}

TEST(MboxTest, UndoesFromQuotingAndKeepsCrLf) {
  std::string mbox =
      "From x Thu Nov 26 10:00:00 2026\r\n"
      "Subject: q\r\n\r\n>From the start\r\n>>From deeper\r\n> From not quoted\r\n";
  std::vector<std::string> messages = SplitMailbox(mbox);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0],
            "Subject: q\r\n\r\nFrom the start\r\n>From deeper\r\n"
            "> From not quoted\r\n");
}

TEST(MboxTest, EmptyMessagesAreSkippedAndNoFinalNewlineIsKept) {
  std::string mbox =
      "From a Thu Nov 26 10:00:00 2026\n"
      "From b Thu Nov 26 10:00:01 2026\n"
      "Subject: last";
  std::vector<std::string> messages = SplitMailbox(mbox);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "Subject: last");
}

}  // namespace
}  // namespace deliverd::client
