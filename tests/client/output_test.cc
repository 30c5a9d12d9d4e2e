#include "client/output.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(JsonTest, CompactLowerCamelOneLine) {
  v1::Message message;
  message.set_id("m_1");
  message.set_status(v1::MESSAGE_STATUS_SENT);
  message.set_resend_of("messages/m_0");
  message.set_size_bytes(12);
  message.mutable_create_time()->set_seconds(1714564800);
  std::ostringstream out;
  PrintJsonLine(out, message);
  EXPECT_EQ(out.str(),
            "{\"id\":\"m_1\",\"status\":\"MESSAGE_STATUS_SENT\","
            "\"createTime\":\"2024-05-01T12:00:00Z\",\"resendOf\":"
            "\"messages/m_0\",\"sizeBytes\":\"12\"}\n");
}

TEST(JsonTest, JsonStringEscapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(RpcErrorLineTest, Format) {
  const grpc::Status status(grpc::StatusCode::INVALID_ARGUMENT,
                            "content.to[0].address: not an address");
  EXPECT_EQ(RpcErrorLine("send", status, true),
            "deliverctl: send: INVALID_ARGUMENT: content.to[0].address: not "
            "an address");
}

TEST(RpcErrorLineTest, AlwaysOneLine) {
  const grpc::Status status(grpc::StatusCode::INTERNAL, "two\nlines");
  EXPECT_THAT(RpcErrorLine("status", status, true), Not(HasSubstr("\n")));
}

TEST(RpcErrorLineTest, HintsAtMissingKeyOnlyWhenThereIsNone) {
  const grpc::Status status(grpc::StatusCode::UNAUTHENTICATED, "no key");
  EXPECT_THAT(RpcErrorLine("log", status, false), HasSubstr("--api-key"));
  EXPECT_EQ(RpcErrorLine("log", status, true),
            "deliverctl: log: UNAUTHENTICATED: no key");
}

TEST(TextFormsTest, ItemErrors) {
  v1::ItemError error;
  error.set_message("bad address");
  EXPECT_EQ(ItemErrorText(error), "bad address");
  error.set_field("content.to[0]");
  EXPECT_EQ(ItemErrorText(error), "content.to[0]: bad address");
}

TEST(TextFormsTest, MailboxesAndReplies) {
  v1::EmailAddress mailbox;
  mailbox.set_address("a@x");
  EXPECT_EQ(MailboxText(mailbox), "a@x");
  mailbox.set_display_name("Ann");
  EXPECT_EQ(MailboxText(mailbox), "Ann <a@x>");

  v1::SmtpReply reply;
  EXPECT_EQ(SmtpReplyText(reply), "");
  reply.set_code(550);
  reply.set_enhanced_code("5.1.1");
  reply.set_text("User unknown");
  reply.set_remote_host("mx.x");
  EXPECT_EQ(SmtpReplyText(reply), "550 5.1.1 User unknown (mx.x)");

  v1::Event event;
  EXPECT_EQ(EventDetailText(event), "");
  event.set_detail("rejected");
  *event.mutable_reply() = reply;
  EXPECT_EQ(EventDetailText(event), "rejected; 550 5.1.1 User unknown (mx.x)");
}

TEST(TextFormsTest, MessageNames) {
  EXPECT_EQ(BareMessageId("messages/m_1"), "m_1");
  EXPECT_EQ(BareMessageId("m_1"), "m_1");
  EXPECT_EQ(MessageResourceName("m_1"), "messages/m_1");
  EXPECT_EQ(MessageResourceName("messages/m_1"), "messages/m_1");
  v1::Message message;
  message.set_name("messages/m_7");
  EXPECT_EQ(MessageIdOf(message), "m_7");
  message.set_id("m_8");
  EXPECT_EQ(MessageIdOf(message), "m_8");
  EXPECT_EQ(OrDash(""), "-");
  EXPECT_THAT(OrDash("x"), EndsWith("x"));
}

}  // namespace
}  // namespace deliverd::client
