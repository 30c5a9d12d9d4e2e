// Send validation as a caller sees it: every refusal is INVALID_ARGUMENT,
// its message starts with the offending field's path, and nothing is stored.
// The server runs with small limits so the limit checks are cheap to reach.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr int kMaxRecipients = 3;
constexpr int kMaxMessageBytes = 8192;

class ValidationTest : public SharedDeliverdTest<ValidationTest> {
 public:
  static std::vector<std::string> Flags() {
    return {"--max-recipients", std::to_string(kMaxRecipients),
            "--max-message-bytes", std::to_string(kMaxMessageBytes)};
  }
};

struct Case {
  std::string name;
  std::function<void(v1::SendRequest&)> mutate;
  // The message must start with this (the field path and a colon).
  std::string prefix;
};

v1::SendRequest Valid() {
  return MakeSend("sender@example.com", "rcpt@example.org", "Subject", "Body");
}

void AddHeader(v1::SendRequest& r, const std::string& name,
               const std::string& value) {
  v1::Header* h = r.mutable_content()->add_headers();
  h->set_name(name);
  h->set_value(value);
}

std::vector<Case> Cases() {
  using R = v1::SendRequest;
  const std::string nul("\0", 1);
  std::vector<Case> cases = {
      {"CR in subject",
       [](R& r) { r.mutable_content()->set_subject("Hi\rthere"); },
       "content.subject:"},
      {"LF in subject",
       [](R& r) { r.mutable_content()->set_subject("Hi\nBcc: x@evil.test"); },
       "content.subject:"},
      {"CRLF in subject",
       [](R& r) { r.mutable_content()->set_subject("Hi\r\nBcc: x@evil.test"); },
       "content.subject:"},
      {"NUL in subject",
       [nul](R& r) { r.mutable_content()->set_subject("Hi" + nul + "x"); },
       "content.subject:"},
      {"CRLF in from display name",
       [](R& r) {
         r.mutable_content()->mutable_from()->set_display_name(
             "Boss\r\nBcc: x@evil.test");
       },
       "content.from.display_name:"},
      {"LF in to display name",
       [](R& r) {
         r.mutable_content()->mutable_to(0)->set_display_name("Line\nbreak");
       },
       "content.to[0].display_name:"},
      {"NUL in cc display name",
       [nul](R& r) {
         v1::EmailAddress* cc = r.mutable_content()->add_cc();
         cc->set_address("cc@example.org");
         cc->set_display_name("A" + nul + "B");
       },
       "content.cc[0].display_name:"},
      {"CRLF in extra header value",
       [](R& r) { AddHeader(r, "X-Campaign", "spring\r\nBcc: x@evil.test"); },
       "content.headers[0].value:"},
      {"LF in second extra header value",
       [](R& r) {
         AddHeader(r, "X-Ok", "fine");
         AddHeader(r, "X-Campaign", "spring\nX-Injected: 1");
       },
       "content.headers[1].value:"},
      {"NUL in extra header value",
       [nul](R& r) { AddHeader(r, "X-Campaign", "a" + nul + "b"); },
       "content.headers[0].value:"},
      {"NUL in text body",
       [nul](R& r) { r.mutable_content()->set_text_body("a" + nul + "b"); },
       "content.text_body:"},
      {"NUL in html body",
       [nul](R& r) {
         r.mutable_content()->set_html_body("<p>a" + nul + "b</p>");
       },
       "content.html_body:"},
      {"invalid to address",
       [](R& r) {
         r.mutable_content()->mutable_to(0)->set_address("not-an-address");
       },
       "content.to[0].address:"},
      {"invalid second to address",
       [](R& r) { r.mutable_content()->add_to()->set_address("two@@example.org"); },
       "content.to[1].address:"},
      {"address with CRLF",
       [](R& r) {
         r.mutable_content()->mutable_to(0)->set_address(
             "rcpt@example.org\r\nBcc: x@evil.test");
       },
       "content.to[0].address:"},
      {"invalid cc address",
       [](R& r) { r.mutable_content()->add_cc()->set_address("cc@"); },
       "content.cc[0].address:"},
      {"invalid bcc address",
       [](R& r) { r.mutable_content()->add_bcc()->set_address("@example.org"); },
       "content.bcc[0].address:"},
      {"invalid from address",
       [](R& r) {
         r.mutable_content()->mutable_from()->set_address("sender at example");
       },
       "content.from.address:"},
      {"invalid reply-to address",
       [](R& r) { r.mutable_content()->add_reply_to()->set_address("a b@c"); },
       "content.reply_to[0].address:"},
      {"missing content", [](R& r) { r.clear_content(); }, "content:"},
      {"missing from", [](R& r) { r.mutable_content()->clear_from(); },
       "content.from:"},
      {"empty from address",
       [](R& r) { r.mutable_content()->mutable_from()->set_address(""); },
       "content.from.address:"},
      {"missing to", [](R& r) { r.mutable_content()->clear_to(); },
       "content.to:"},
      {"missing body",
       [](R& r) {
         r.mutable_content()->clear_text_body();
         r.mutable_content()->clear_html_body();
       },
       "content.text_body:"},
      {"too many recipients",
       [](R& r) {
         r.mutable_content()->add_to()->set_address("two@example.org");
         r.mutable_content()->add_cc()->set_address("three@example.org");
         r.mutable_content()->add_bcc()->set_address("four@example.org");
       },
       "content.to:"},
      {"too large",
       [](R& r) {
         r.mutable_content()->set_text_body(std::string(kMaxMessageBytes, 'x'));
       },
       "content:"},
      {"too large by attachment",
       [](R& r) {
         v1::Attachment* a = r.mutable_content()->add_attachments();
         a->set_filename("big.bin");
         a->set_content(std::string(kMaxMessageBytes, 'x'));
       },
       "content:"},
      {"header name with colon",
       [](R& r) { AddHeader(r, "X-Bad:Name", "v"); },
       "content.headers[0].name:"},
      {"header name with space",
       [](R& r) { AddHeader(r, "X Bad", "v"); }, "content.headers[0].name:"},
      {"bad tag", [](R& r) { r.add_tags("has space"); }, "tags[0]:"},
      {"send_time more than 30 days ahead",
       [](R& r) {
         google::protobuf::Timestamp at = NowTimestamp();
         at.set_seconds(at.seconds() + 31 * 24 * 3600);
         *r.mutable_send_time() = at;
       },
       "send_time:"},
      {"request_id with space",
       [](R& r) { r.set_request_id("has space"); }, "request_id:"},
  };
  for (const char* reserved :
       {"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "subject",
        "message-id", "X-Deliverd-Id", "Reply-To", "Sender", "Return-Path"}) {
    cases.push_back({absl::StrCat("reserved header ", reserved),
                     [name = std::string(reserved)](R& r) {
                       AddHeader(r, name, "value");
                     },
                     "content.headers[0].name:"});
  }
  return cases;
}

TEST_F(ValidationTest, InvalidRequestsNameTheFieldAndStoreNothing) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    v1::SendRequest request = Valid();
    c.mutate(request);
    absl::StatusOr<v1::Message> result = client.Send(request);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << result.status();
    EXPECT_THAT(std::string(result.status().message()), StartsWith(c.prefix))
        << result.status();
  }
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse list,
                       client.ListMessages(v1::ListMessagesRequest()));
  EXPECT_THAT(list.messages(), IsEmpty());
}

// The same checks through SendBatch: per-item errors with the item prefix,
// and still nothing stored.
TEST_F(ValidationTest, InvalidBatchItemsNameTheFieldAndStoreNothing) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  std::vector<Case> cases = Cases();
  v1::SendBatchRequest batch;
  for (const Case& c : cases) {
    v1::SendRequest request = Valid();
    c.mutate(request);
    *batch.add_messages() = request;
  }
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse response, client.SendBatch(batch));
  ASSERT_THAT(response.results(), SizeIs(cases.size()));
  EXPECT_EQ(response.accepted_count(), 0);
  EXPECT_EQ(response.rejected_count(), static_cast<int>(cases.size()));
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const v1::SendBatchResult& r = response.results(i);
    ASSERT_TRUE(r.has_error()) << r.DebugString();
    EXPECT_EQ(r.error().code(), 3);
    std::string prefix = absl::StrCat("messages[", i, "].", cases[i].prefix);
    EXPECT_THAT(r.error().message(), StartsWith(prefix));
    EXPECT_EQ(r.error().field(), prefix.substr(0, prefix.size() - 1));
  }
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse list,
                       client.ListMessages(v1::ListMessagesRequest()));
  EXPECT_THAT(list.messages(), IsEmpty());
}

// The limits are limits, not off by one: exactly max_recipients and a
// message just under the size limit are accepted.
TEST_F(ValidationTest, RequestsAtTheLimitsAreAccepted) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendRequest request = Valid();
  request.mutable_content()->add_cc()->set_address("two@example.org");
  request.mutable_content()->add_bcc()->set_address("three@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Message three, client.Send(request));
  EXPECT_THAT(three.recipients(), SizeIs(kMaxRecipients));

  v1::SendRequest big = Valid();
  big.mutable_content()->set_text_body(std::string(kMaxMessageBytes / 2, 'x'));
  ASSERT_OK(client.Send(big));

  // Non-ASCII display names and subjects are fine (encoded, not refused).
  v1::SendRequest utf8 = Valid();
  utf8.mutable_content()->set_subject("Grüße, 世界");
  utf8.mutable_content()->mutable_to(0)->set_display_name("Zoë Ñandú");
  ASSERT_OK_AND_ASSIGN(v1::Message sent, client.Send(utf8));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));
}

}  // namespace
}  // namespace deliverd::e2e
