#include "client/message_requests.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/times.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

ParsedCommandLine MustParse(std::vector<std::string> args) {
  auto parsed = ParseCommandLine(args, CommandSpecs());
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : ParsedCommandLine();
}

FileReader FakeFiles(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> absl::StatusOr<std::string> {
    auto it = files.find(path);
    if (it == files.end()) {
      return absl::NotFoundError(absl::StrCat(path, ": No such file"));
    }
    return it->second;
  };
}

std::vector<std::string> SendArgs(std::vector<std::string> extra) {
  std::vector<std::string> args = {"send", "--from", "a@example.com",
                                   "--subject", "Hi"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(BuildSendRequestTest, FullRequest) {
  const ParsedCommandLine args =
      MustParse(SendArgs({"--from-name",  "Alice",
                          "--to",         "b@example.com,c@example.com",
                          "--cc",         "d@example.com",
                          "--bcc",        "e@example.com",
                          "--reply-to",   "r@example.com",
                          "--text",       "Hello",
                          "--html-file",  "body.html",
                          "--attach",     "docs/report.PDF",
                          "--header",     "X-Campaign:  spring",
                          "--tag",        "t1",
                          "--tag",        "t2",
                          "--meta",       "k=v=w",
                          "--stream",     "news",
                          "--request-id", "req-1",
                          "--send-at",    "2030-01-01T00:00:00Z"}));
  auto request = BuildSendRequest(
      args, FakeFiles({{"body.html", "<p>Hello</p>"},
                       {"docs/report.PDF", std::string("%PDF\0x", 6)}}));
  ASSERT_TRUE(request.ok()) << request.status();
  const v1::MessageContent& c = request->content();
  EXPECT_EQ(c.from().address(), "a@example.com");
  EXPECT_EQ(c.from().display_name(), "Alice");
  ASSERT_EQ(c.to_size(), 2);
  EXPECT_EQ(c.to(1).address(), "c@example.com");
  EXPECT_EQ(c.cc(0).address(), "d@example.com");
  EXPECT_EQ(c.bcc(0).address(), "e@example.com");
  EXPECT_EQ(c.reply_to(0).address(), "r@example.com");
  EXPECT_EQ(c.subject(), "Hi");
  EXPECT_EQ(c.text_body(), "Hello");
  EXPECT_EQ(c.html_body(), "<p>Hello</p>");
  ASSERT_EQ(c.attachments_size(), 1);
  EXPECT_EQ(c.attachments(0).filename(), "report.PDF");
  EXPECT_EQ(c.attachments(0).content_type(), "application/pdf");
  EXPECT_EQ(c.attachments(0).content(), std::string("%PDF\0x", 6));
  ASSERT_EQ(c.headers_size(), 1);
  EXPECT_EQ(c.headers(0).name(), "X-Campaign");
  EXPECT_EQ(c.headers(0).value(), "spring");
  EXPECT_THAT(request->tags(), ElementsAre("t1", "t2"));
  EXPECT_THAT(request->metadata(), UnorderedElementsAre(Pair("k", "v=w")));
  EXPECT_EQ(request->stream(), "news");
  EXPECT_EQ(request->request_id(), "req-1");
  EXPECT_EQ(FromTimestamp(request->send_time()),
            absl::FromUnixSeconds(1893456000));
}

TEST(BuildSendRequestTest, TextFromFile) {
  auto request =
      BuildSendRequest(MustParse(SendArgs({"--to", "b@x", "--text-file", "t"})),
                       FakeFiles({{"t", "body\n"}}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->content().text_body(), "body\n");
  EXPECT_FALSE(request->has_send_time());
}

TEST(BuildSendRequestTest, AddressesAreLeftToTheServer) {
  auto request = BuildSendRequest(
      MustParse(SendArgs({"--to", "not an address", "--text", "x"})),
      FakeFiles({}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->content().to(0).address(), "not an address");
}

struct BadSend {
  std::vector<std::string> extra;
  std::string error;
};

class BuildSendRequestErrorTest : public ::testing::TestWithParam<BadSend> {};

TEST_P(BuildSendRequestErrorTest, IsAUsageError) {
  auto request = BuildSendRequest(
      MustParse(SendArgs(GetParam().extra)),
      FakeFiles({{"latin1.txt", "caf\xe9"}, {"ok.txt", "fine"}}));
  ASSERT_FALSE(request.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(request.status()));
  EXPECT_THAT(request.status().message(), HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BuildSendRequestErrorTest,
    ::testing::Values(
        BadSend{{"--text", "x"}, "at least one recipient"},
        BadSend{{"--to", "b@x"}, "give a body"},
        BadSend{{"--to", "b@x", "--text", "x", "--text-file", "ok.txt"},
                "not both"},
        BadSend{{"--to", "b@x", "--text-file", "missing.txt"},
                "cannot read --text-file missing.txt"},
        BadSend{{"--to", "b@x", "--text-file", "latin1.txt"},
                "not valid UTF-8"},
        BadSend{{"--to", "b@x", "--text", "x", "--attach", "nope.bin"},
                "cannot read --attach nope.bin"},
        BadSend{{"--to", "b@x", "--text", "x", "--attach", "-"},
                "--attach needs a file name"},
        BadSend{{"--to", "b@x", "--text-file", "-", "--html-file", "-"},
                "only one of"},
        BadSend{{"--to", "b@x", "--text", "x", "--meta", "novalue"},
                "--meta needs KEY=VALUE"},
        BadSend{{"--to", "b@x", "--text", "x", "--meta", "=v"},
                "--meta needs KEY=VALUE"},
        BadSend{
            {"--to", "b@x", "--text", "x", "--meta", "k=1", "--meta", "k=2"},
            "given more than once"},
        BadSend{{"--to", "b@x", "--text", "x", "--header", "NoColon"},
                "--header needs \"Name: value\""},
        BadSend{{"--to", "b@x", "--text", "x", "--header", "Bad Name: v"},
                "--header needs"},
        BadSend{{"--to", "b@x", "--text", "x", "--send-at", "tomorrow"},
                "--send-at"}));

TEST(ContentTypeTest, KnownAndUnknownExtensions) {
  EXPECT_EQ(ContentTypeForFilename("a.png"), "image/png");
  EXPECT_EQ(ContentTypeForFilename("A.JPEG"), "image/jpeg");
  EXPECT_EQ(ContentTypeForFilename("invite.ics"), "text/calendar");
  EXPECT_EQ(ContentTypeForFilename("data.bin"), "");
  EXPECT_EQ(ContentTypeForFilename("Makefile"), "");
}

TEST(ParseSendBatchTest, JsonLines) {
  auto requests = ParseSendBatch(
      "{\"content\":{\"from\":{\"address\":\"a@x\"},\"subject\":\"one\"}}\n"
      "\n"
      "  {\"request_id\":\"r2\",\"tags\":[\"t\"]}\r\n");
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 2u);
  EXPECT_EQ((*requests)[0].content().subject(), "one");
  EXPECT_EQ((*requests)[1].request_id(), "r2");
  EXPECT_TRUE(ParseSendBatch("").ok());
}

TEST(ParseSendBatchTest, ErrorsNameTheLine) {
  auto bad_json = ParseSendBatch("{}\n{\"content\":\n");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_THAT(bad_json.status().message(), HasSubstr("line 2"));
  auto unknown_field = ParseSendBatch("\n\n{\"subjcet\":\"typo\"}");
  ASSERT_FALSE(unknown_field.ok());
  EXPECT_THAT(unknown_field.status().message(), HasSubstr("line 3"));
}

TEST(BuildListMessagesRequestTest, Filters) {
  const absl::Time now = absl::FromUnixSeconds(1714564800);
  auto request = BuildListMessagesRequest(
      MustParse({"log", "--status", "bounced,blocked", "--status", "FAILED",
                 "--recipient", "b@x", "--sender", "a@x", "--tag", "t",
                 "--since", "7d", "--until", "1h", "--limit", "10",
                 "--page-token", "p2"}),
      now);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(request->statuses(), ElementsAre(v1::MESSAGE_STATUS_BOUNCED,
                                               v1::MESSAGE_STATUS_BLOCKED,
                                               v1::MESSAGE_STATUS_FAILED));
  EXPECT_EQ(request->recipient(), "b@x");
  EXPECT_EQ(request->sender(), "a@x");
  EXPECT_EQ(request->tag(), "t");
  EXPECT_EQ(FromTimestamp(request->start_time()), now - absl::Hours(7 * 24));
  EXPECT_EQ(FromTimestamp(request->end_time()), now - absl::Hours(1));
  EXPECT_EQ(request->page_size(), 10);
  EXPECT_EQ(request->page_token(), "p2");
}

TEST(BuildListMessagesRequestTest, Errors) {
  const absl::Time now = absl::FromUnixSeconds(1714564800);
  EXPECT_FALSE(
      BuildListMessagesRequest(MustParse({"log", "--status", "x"}), now).ok());
  EXPECT_FALSE(
      BuildListMessagesRequest(MustParse({"log", "--limit", "0"}), now).ok());
  EXPECT_FALSE(
      BuildListMessagesRequest(MustParse({"log", "--limit", "1001"}), now)
          .ok());
  EXPECT_FALSE(
      BuildListMessagesRequest(MustParse({"log", "--limit", "ten"}), now).ok());
  EXPECT_FALSE(BuildListMessagesRequest(
                   MustParse({"log", "--since", "1h", "--until", "2h"}), now)
                   .ok());
}

TEST(BuildResendRequestTest, NamesAndOverride) {
  auto request = BuildResendRequest(
      MustParse({"resend", "m_1", "messages/m_2", "--override-suppression",
                 "--reason", "customer asked"}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(request->names(), ElementsAre("messages/m_1", "messages/m_2"));
  EXPECT_TRUE(request->override_suppression());
  EXPECT_EQ(request->override_reason(), "customer asked");
}

TEST(BuildResendRequestTest, OverrideNeedsAReasonAndViceVersa) {
  EXPECT_FALSE(
      BuildResendRequest(MustParse({"resend", "m_1", "--override-suppression"}))
          .ok());
  EXPECT_FALSE(
      BuildResendRequest(MustParse({"resend", "m_1", "--override-suppression",
                                    "--reason", "  "}))
          .ok());
  EXPECT_FALSE(
      BuildResendRequest(MustParse({"resend", "m_1", "--reason", "x"})).ok());
}

TEST(BuildWatchRequestTest, Filters) {
  auto request = BuildWatchRequest(
      MustParse({"watch", "--after", "c9", "--message", "m_1", "--tag", "t",
                 "--type", "bounced,complained", "--count", "3"}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->after_cursor(), "c9");
  EXPECT_EQ(request->message(), "messages/m_1");
  EXPECT_EQ(request->tag(), "t");
  EXPECT_THAT(request->types(),
              ElementsAre(v1::EVENT_TYPE_BOUNCED, v1::EVENT_TYPE_COMPLAINED));
}

TEST(BuildWatchRequestTest, Errors) {
  EXPECT_FALSE(BuildWatchRequest(
                   MustParse({"watch", "--after", "c", "--from-beginning"}))
                   .ok());
  EXPECT_FALSE(
      BuildWatchRequest(MustParse({"watch", "--type", "sent,nope"})).ok());
  EXPECT_FALSE(BuildWatchRequest(MustParse({"watch", "--count", "0"})).ok());
}

}  // namespace
}  // namespace deliverd::client
