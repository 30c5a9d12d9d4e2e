#include "server/api/send_validation.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::api {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

v1::SendRequest Valid() {
  v1::SendRequest r;
  auto* c = r.mutable_content();
  c->mutable_from()->set_address("sender@example.com");
  c->mutable_from()->set_display_name("Sender");
  c->add_to()->set_address("to@example.org");
  c->set_subject("Hello");
  c->set_text_body("Body");
  return r;
}

std::string ErrorOf(const v1::SendRequest& r, SendLimits limits = {},
                    absl::string_view prefix = "") {
  absl::StatusOr<ValidatedSend> v = ValidateSend(r, limits, prefix, kNow);
  if (v.ok()) return "OK";
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(v.status().message());
}

TEST(SendValidation, AcceptsAMinimalMessage) {
  absl::StatusOr<ValidatedSend> v = ValidateSend(Valid(), {}, "", kNow);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->message.from_address, "sender@example.com");
  ASSERT_EQ(v->message.recipients.size(), 1u);
  EXPECT_EQ(v->message.recipients[0].address, "to@example.org");
  EXPECT_FALSE(v->message.content.empty());
  EXPECT_TRUE(v->request_hash.empty());  // no request_id, no hash
  EXPECT_EQ(v->send_time, absl::InfinitePast());
}

TEST(SendValidation, RefusesLineBreaksAndNulInHeaderValues) {
  v1::SendRequest r = Valid();
  r.mutable_content()->set_subject("Hi\r\nBcc: victim@example.net");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.subject: "));

  r = Valid();
  r.mutable_content()->mutable_from()->set_display_name("A\nB");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.from.display_name: "));

  r = Valid();
  r.mutable_content()->mutable_to(0)->set_display_name(std::string("A\0B", 3));
  EXPECT_THAT(ErrorOf(r), StartsWith("content.to[0].display_name: "));

  r = Valid();
  auto* h = r.mutable_content()->add_headers();
  h->set_name("X-Campaign");
  h->set_value("a\rb");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.headers[0].value: "));

  r = Valid();
  auto* a = r.mutable_content()->add_attachments();
  a->set_filename("x\n.pdf");
  a->set_content("data");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.attachments[0].filename: "));
}

TEST(SendValidation, NamesTheBadAddressField) {
  v1::SendRequest r = Valid();
  r.mutable_content()->add_cc()->set_address("ok@example.org");
  r.mutable_content()->add_cc()->set_address("no-at-sign");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.cc[1].address: syntax."));

  r = Valid();
  r.mutable_content()->mutable_from()->set_address("a@b@c.com");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.from.address: syntax."));

  r = Valid();
  r.mutable_content()->mutable_to(0)->set_address("x@example.org\r\nRCPT TO:<y@z.com>");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.to[0].address: "));

  r = Valid();
  r.mutable_content()->add_bcc()->set_address("");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.bcc[0].address: required"));

  r = Valid();
  r.mutable_content()->add_reply_to()->set_address("ok@example.org");
  r.mutable_content()->add_reply_to()->set_address("bad");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.reply_to[1].address: "));

  r = Valid();
  r.mutable_content()->mutable_to(0)->set_display_name(std::string(5000, 'n'));
  EXPECT_THAT(ErrorOf(r), StartsWith("content.to[0].display_name: longer than"));

  r = Valid();
  r.mutable_content()->mutable_from()->set_display_name("Ann\r\n");
  r.mutable_content()->add_reply_to()->set_display_name("Bob\n");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.from.display_name: "));
}

TEST(SendValidation, RequiresFromRecipientsAndABody) {
  v1::SendRequest r = Valid();
  r.mutable_content()->clear_from();
  EXPECT_THAT(ErrorOf(r), StartsWith("content.from: required"));
  r = Valid();
  r.mutable_content()->clear_to();
  EXPECT_THAT(ErrorOf(r), StartsWith("content.to: "));
  r = Valid();
  r.mutable_content()->clear_text_body();
  EXPECT_THAT(ErrorOf(r), StartsWith("content.text_body: "));
  r = Valid();
  r.mutable_content()->clear_text_body();
  r.mutable_content()->set_html_body("<p>hi</p>");
  EXPECT_EQ(ErrorOf(r), "OK");
  EXPECT_THAT(ErrorOf(v1::SendRequest()), StartsWith("content: required"));
}

TEST(SendValidation, RefusesHeadersDeliverdSets) {
  for (const char* name : {"From", "subject", "Message-ID", "Content-Type",
                           "BCC", "X-Deliverd-Id"}) {
    v1::SendRequest r = Valid();
    auto* h = r.mutable_content()->add_headers();
    h->set_name(name);
    h->set_value("x");
    EXPECT_THAT(ErrorOf(r), StartsWith("content.headers[0].name: ")) << name;
  }
  v1::SendRequest r = Valid();
  auto* h = r.mutable_content()->add_headers();
  h->set_name("Bad Name");
  h->set_value("x");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.headers[0].name: "));
  h->set_name("List-Unsubscribe");
  EXPECT_EQ(ErrorOf(r), "OK");
}

TEST(SendValidation, EnforcesRecipientAndSizeLimits) {
  SendLimits limits;
  limits.max_recipients = 2;
  v1::SendRequest r = Valid();
  r.mutable_content()->add_cc()->set_address("b@example.org");
  EXPECT_EQ(ErrorOf(r, limits), "OK");
  r.mutable_content()->add_bcc()->set_address("c@example.org");
  EXPECT_THAT(ErrorOf(r, limits), HasSubstr("exceed the limit of 2"));

  limits = SendLimits();
  limits.max_message_bytes = 10000;
  r = Valid();
  r.mutable_content()->set_text_body(std::string(20000, 'a'));
  EXPECT_THAT(ErrorOf(r, limits), StartsWith("content: message of about"));
}

TEST(SendValidation, DeduplicatesRecipientsCaseInsensitively) {
  v1::SendRequest r = Valid();
  r.mutable_content()->add_cc()->set_address("TO@example.org");
  r.mutable_content()->add_bcc()->set_address("other@example.org");
  absl::StatusOr<ValidatedSend> v = ValidateSend(r, {}, "", kNow);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->message.recipients.size(), 2u);
  EXPECT_EQ(v->message.recipients[1].address, "other@example.org");
  EXPECT_EQ(v->message.recipients[1].kind, store::RecipientKind::kBcc);
}

TEST(SendValidation, ChecksTagsMetadataStreamAndRequestId) {
  v1::SendRequest r = Valid();
  r.add_tags("good-tag");
  r.add_tags("bad tag");
  EXPECT_THAT(ErrorOf(r), StartsWith("tags[1]: "));
  r = Valid();
  (*r.mutable_metadata())["k"] = std::string(2000, 'v');
  EXPECT_THAT(ErrorOf(r), StartsWith("metadata[k]: "));
  r = Valid();
  r.set_stream("news letter");
  EXPECT_THAT(ErrorOf(r), StartsWith("stream: "));
  r = Valid();
  r.set_request_id("has space");
  EXPECT_THAT(ErrorOf(r), StartsWith("request_id: "));
  r = Valid();
  r.set_request_id(std::string(129, 'x'));
  EXPECT_THAT(ErrorOf(r), StartsWith("request_id: "));
}

TEST(SendValidation, PrefixesFieldsForBatchItems) {
  v1::SendRequest r = Valid();
  r.mutable_content()->set_subject("a\nb");
  EXPECT_THAT(ErrorOf(r, {}, "messages[7]."),
              StartsWith("messages[7].content.subject: "));
}

TEST(SendValidation, RefusesMultipartAttachmentTypes) {
  v1::SendRequest r = Valid();
  auto* a = r.mutable_content()->add_attachments();
  a->set_filename("x.eml");
  a->set_content_type("message/rfc822");
  EXPECT_THAT(ErrorOf(r), StartsWith("content.attachments[0].content_type: "));
  a->set_content_type("application/pdf");
  EXPECT_EQ(ErrorOf(r), "OK");
}

TEST(SendValidation, SchedulesWithinThirtyDays) {
  v1::SendRequest r = Valid();
  r.mutable_send_time()->set_seconds(absl::ToUnixSeconds(kNow) + 3600);
  absl::StatusOr<ValidatedSend> v = ValidateSend(r, {}, "", kNow);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->send_time, kNow + absl::Hours(1));
  r.mutable_send_time()->set_seconds(absl::ToUnixSeconds(kNow) + 31 * 86400);
  EXPECT_THAT(ErrorOf(r), StartsWith("send_time: "));
}

TEST(SendValidation, RequestHashIgnoresTheIdButNotTheBody) {
  v1::SendRequest a = Valid();
  a.set_request_id("one");
  v1::SendRequest b = a;
  b.set_request_id("two");
  v1::SendRequest c = a;
  c.mutable_content()->set_subject("Different");
  auto ha = ValidateSend(a, {}, "", kNow)->request_hash;
  auto hb = ValidateSend(b, {}, "", kNow)->request_hash;
  auto hc = ValidateSend(c, {}, "", kNow)->request_hash;
  EXPECT_EQ(ha.size(), 32u);
  EXPECT_EQ(ha, hb);
  EXPECT_NE(ha, hc);
}

TEST(SendValidation, ListMessagesGoToOneSubscriberWithTheirOwnHeaders) {
  v1::SendRequest list = Valid();
  list.set_list("news");
  absl::StatusOr<ValidatedSend> v = ValidateSend(list, {}, "", kNow);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->list, "news");
  EXPECT_EQ(v->message.stream, "news");
  list.set_stream("news");
  EXPECT_EQ(ErrorOf(list), "OK");
  list.set_stream("other");
  EXPECT_THAT(ErrorOf(list), StartsWith("stream:"));
  list.clear_stream();

  v1::SendRequest two = list;
  two.mutable_content()->add_to()->set_address("second@example.org");
  EXPECT_THAT(ErrorOf(two), StartsWith("content.to:"));
  v1::SendRequest cc = list;
  cc.mutable_content()->add_cc()->set_address("cc@example.org");
  EXPECT_THAT(ErrorOf(cc), StartsWith("content.to:"));

  v1::SendRequest own = list;
  v1::Header* h = own.mutable_content()->add_headers();
  h->set_name("list-unsubscribe");
  h->set_value("<mailto:mine@example.com>");
  EXPECT_THAT(ErrorOf(own), StartsWith("content.headers[0].name:"));
  // A transactional message may carry its own.
  own.clear_list();
  EXPECT_EQ(ErrorOf(own), "OK");

  v1::SendRequest bad = Valid();
  bad.set_list("no spaces");
  EXPECT_THAT(ErrorOf(bad), StartsWith("list:"));
  EXPECT_THAT(ErrorOf(bad, {}, "messages[2]."), StartsWith("messages[2].list:"));
}

}  // namespace
}  // namespace deliverd::api
