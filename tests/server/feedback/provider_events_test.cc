#include "server/feedback/provider_events.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hygiene/bounce/reason.h"

namespace deliverd::feedback {
namespace {

using ::deliverd::hygiene::bounce::BounceClass;
using ::deliverd::hygiene::bounce::Reason;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Fixtures are written for these tests in each provider's documented shape;
// the values (addresses, ids, hosts) are invented.

std::vector<FeedbackItem> ParseOk(absl::string_view provider,
                                  absl::string_view body) {
  auto items = ParseProviderEvent(provider, body);
  EXPECT_TRUE(items.ok()) << items.status();
  if (!items.ok()) return {};
  return *std::move(items);
}

absl::Status ParseError(absl::string_view provider, absl::string_view body) {
  auto items = ParseProviderEvent(provider, body);
  EXPECT_FALSE(items.ok());
  if (items.ok()) return absl::OkStatus();
  EXPECT_EQ(items.status().code(), absl::StatusCode::kInvalidArgument);
  return items.status();
}

// Wraps an SES notification in an SNS envelope.
std::string Sns(absl::string_view message) {
  std::string escaped = absl::StrReplaceAll(
      message, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
  return absl::StrCat(R"({
  "Type": "Notification",
  "MessageId": "6f2b1c9e-4d1a-5c3e-9b0a-2e7d8c1f4a55",
  "TopicArn": "arn:aws:sns:eu-west-1:210987654321:deliverd-feedback",
  "Message": ")",
                      escaped, R"(",
  "Timestamp": "2026-11-20T10:15:31.004Z",
  "SignatureVersion": "1",
  "Signature": "c2lnbmF0dXJlLW5vdC1jaGVja2VkLWhlcmU=",
  "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/cert.pem",
  "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
})");
}

constexpr absl::string_view kSesMail = R"(
  "mail": {
    "timestamp": "2026-11-20T10:15:20.000Z",
    "source": "b+m_7Hq2KxP9@bounces.shop.example",
    "sourceArn": "arn:aws:ses:eu-west-1:210987654321:identity/shop.example",
    "sendingAccountId": "210987654321",
    "messageId": "0102018c2f3e4a5b-aa11bb22-cc33-dd44-ee55-ff6677889900-000000",
    "destination": ["Ana.Perez@Mail.Example.ORG", "li.wei@corp.example.net"],
    "headersTruncated": false,
    "headers": [
      {"name": "From", "value": "Shop <orders@shop.example>"},
      {"name": "Message-ID", "value": "<20261120101520.4411@shop.example>"},
      {"name": "X-Deliverd-Id", "value": "m_7Hq2KxP9"}
    ],
    "commonHeaders": {
      "from": ["Shop <orders@shop.example>"],
      "messageId": "<fallback-id@shop.example>",
      "subject": "Your order 1182"
    }
  })";

std::string SesBounce(absl::string_view type, absl::string_view subtype,
                      absl::string_view recipients) {
  return absl::StrCat(R"({
  "notificationType": "Bounce",
  "bounce": {
    "bounceType": ")",
                      type, R"(",
    "bounceSubType": ")",
                      subtype, R"(",
    "bouncedRecipients": )",
                      recipients, R"(,
    "timestamp": "2026-11-20T10:15:29.512Z",
    "feedbackId": "0102018c2f3e5f00-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901-000000",
    "remoteMtaIp": "198.51.100.25",
    "reportingMTA": "dsn; b224-13.smtp-out.eu-west-1.amazonses.com"
  },)",
                      kSesMail, "\n}");
}

constexpr absl::string_view kSesTwoUnknown = R"([
      {"emailAddress": "Ana.Perez@Mail.Example.ORG", "action": "failed",
       "status": "5.1.1",
       "diagnosticCode": "smtp; 550 5.1.1 <Ana.Perez@mail.example.org>: Recipient address rejected: User unknown in virtual mailbox table"},
      {"emailAddress": "li.wei@corp.example.net", "action": "failed",
       "status": "5.1.1",
       "diagnosticCode": "smtp; 550 5.1.1 The email account that you tried to reach does not exist"}
    ])";

TEST(SesTest, HardBounceInSnsEnvelopeGivesOneItemPerRecipient) {
  auto items =
      ParseOk("ses", Sns(SesBounce("Permanent", "General", kSesTwoUnknown)));
  ASSERT_THAT(items, SizeIs(2));
  const FeedbackItem& a = items[0];
  EXPECT_EQ(a.kind, FeedbackKind::kBounce);
  EXPECT_EQ(a.recipient, "Ana.Perez@mail.example.org");
  EXPECT_EQ(a.reason, Reason::kUserUnknown);
  EXPECT_EQ(a.bounce_class, BounceClass::kHard);
  EXPECT_EQ(a.action, "failed");
  EXPECT_EQ(a.status, "5.1.1");
  EXPECT_EQ(a.reply_code, 550);
  EXPECT_THAT(a.diagnostic, HasSubstr("User unknown"));
  EXPECT_EQ(a.remote_host, "198.51.100.25");
  EXPECT_EQ(a.source, "ses");
  EXPECT_EQ(a.event_id,
            "0102018c2f3e5f00-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901-000000:"
            "Ana.Perez@mail.example.org");
  EXPECT_EQ(a.time, absl::FromUnixMillis(1795169729512));
  EXPECT_EQ(a.ref.deliverd_id, "m_7Hq2KxP9");
  EXPECT_EQ(a.ref.rfc822_message_id, "20261120101520.4411@shop.example");
  EXPECT_EQ(a.ref.verp_address, "b+m_7Hq2KxP9@bounces.shop.example");
  EXPECT_EQ(items[1].recipient, "li.wei@corp.example.net");
  EXPECT_EQ(items[1].bounce_class, BounceClass::kHard);
  EXPECT_NE(items[0].event_id, items[1].event_id);
}

TEST(SesTest, BareNotificationIsAccepted) {
  auto items =
      ParseOk("SES", SesBounce("Permanent", "General", kSesTwoUnknown));
  ASSERT_THAT(items, SizeIs(2));
  EXPECT_EQ(items[0].reason, Reason::kUserUnknown);
}

TEST(SesTest, NoEmailWithoutDiagnosticIsUserUnknownHard) {
  auto items = ParseOk(
      "ses", SesBounce("Permanent", "NoEmail",
                       R"([{"emailAddress": "gone@old.example.com"}])"));
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].reason, Reason::kUserUnknown);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kHard);
  EXPECT_EQ(items[0].diagnostic, "ses: Permanent/NoEmail");
}

TEST(SesTest, NoEmailButReceiverSaysReputationIsNeverHard) {
  auto items = ParseOk("ses", SesBounce("Permanent", "NoEmail", R"([{
      "emailAddress": "someone@big.example",
      "status": "5.7.1",
      "diagnosticCode": "smtp; 550 5.7.1 Service unavailable, client host [203.0.113.9] blocked using a DNS blocklist"}])"));
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_NE(items[0].bounce_class, BounceClass::kHard);
  EXPECT_EQ(items[0].kind, FeedbackKind::kBounce);
}

TEST(SesTest, TransientMailboxFullIsSoft) {
  auto items = ParseOk("ses", SesBounce("Transient", "MailboxFull", R"([{
      "emailAddress": "busy@inbox.example",
      "action": "failed",
      "status": "4.2.2",
      "diagnosticCode": "smtp; 452 4.2.2 The email account that you tried to reach is over quota"}])"));
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kBounce);
  EXPECT_EQ(items[0].reason, Reason::kMailboxFull);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(items[0].reply_code, 452);
}

TEST(SesTest, TransientNeverHardEvenWithUserUnknownText) {
  auto items = ParseOk("ses", SesBounce("Transient", "General", R"([{
      "emailAddress": "x@inbox.example",
      "diagnosticCode": "smtp; 550 5.1.1 user unknown"}])"));
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
}

TEST(SesTest, SuppressedIsProviderSuppressionSoft) {
  auto items = ParseOk("ses", SesBounce("Permanent", "Suppressed", R"([{
      "emailAddress": "listed@inbox.example",
      "action": "failed", "status": "5.1.1",
      "diagnosticCode": "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address."}])"));
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kBounce);
  EXPECT_EQ(items[0].reason, Reason::kPolicy);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(items[0].status, "5.1.1");
}

TEST(SesTest, Complaint) {
  std::string body = absl::StrCat(R"({
  "notificationType": "Complaint",
  "complaint": {
    "userAgent": "ExampleFBL/1.2",
    "complainedRecipients": [{"emailAddress": "Reader@Webmail.Example"}],
    "complaintFeedbackType": "abuse",
    "arrivalDate": "2026-11-21T08:00:02.000Z",
    "timestamp": "2026-11-21T08:00:05.000Z",
    "feedbackId": "0102018c3a11c0de-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9-000000"
  },)",
                                  kSesMail, "\n}");
  auto items = ParseOk("ses", Sns(body));
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kComplaint);
  EXPECT_EQ(items[0].recipient, "Reader@webmail.example");
  EXPECT_EQ(items[0].reason, Reason::kComplaint);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kNone);
  EXPECT_EQ(items[0].feedback_type, "abuse");
  EXPECT_THAT(items[0].event_id, HasSubstr(":Reader@webmail.example"));
}

TEST(SesTest, DeliveryWithTwoRecipients) {
  std::string body = absl::StrCat(R"({
  "eventType": "Delivery",
  "delivery": {
    "timestamp": "2026-11-20T10:15:25.300Z",
    "processingTimeMillis": 5300,
    "recipients": ["Ana.Perez@Mail.Example.ORG", "li.wei@corp.example.net"],
    "smtpResponse": "250 2.6.0 Message received",
    "remoteMtaIp": "192.0.2.44",
    "reportingMTA": "b224-13.smtp-out.eu-west-1.amazonses.com"
  },)",
                                  kSesMail, "\n}");
  auto items = ParseOk("ses", Sns(body));
  ASSERT_THAT(items, SizeIs(2));
  EXPECT_EQ(items[0].kind, FeedbackKind::kDelivered);
  EXPECT_EQ(items[0].reason, Reason::kDelivered);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kNone);
  EXPECT_EQ(items[0].reply_code, 250);
  EXPECT_EQ(items[0].status, "2.6.0");
  EXPECT_EQ(items[0].remote_host, "192.0.2.44");
  // No feedbackId: the SNS MessageId plus the recipient.
  EXPECT_EQ(items[1].event_id,
            "6f2b1c9e-4d1a-5c3e-9b0a-2e7d8c1f4a55:li.wei@corp.example.net");
}

TEST(SesTest, DeliveryDelay) {
  std::string body = absl::StrCat(R"({
  "eventType": "DeliveryDelay",
  "deliveryDelay": {
    "timestamp": "2026-11-20T11:00:00.000Z",
    "delayType": "MailboxFull",
    "expirationTime": "2026-11-21T10:15:20.000Z",
    "delayedRecipients": [{
      "emailAddress": "busy@inbox.example",
      "status": "4.2.2",
      "diagnosticCode": "smtp; 452 4.2.2 Mailbox full"}]
  },)",
                                  kSesMail, "\n}");
  auto items = ParseOk("ses", body);
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kDelayed);
  EXPECT_EQ(items[0].reason, Reason::kMailboxFull);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(items[0].action, "delayed");
}

TEST(SesTest, OpenAndClickUseFirstDestination) {
  std::string open = absl::StrCat(R"({
  "eventType": "Open",
  "open": {"ipAddress": "203.0.113.50", "timestamp": "2026-11-20T12:00:00.000Z",
           "userAgent": "Mozilla/5.0"},)",
                                  kSesMail, "\n}");
  auto items = ParseOk("ses", open);
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kOpen);
  EXPECT_EQ(items[0].recipient, "Ana.Perez@mail.example.org");
  EXPECT_EQ(items[0].bounce_class, BounceClass::kNone);
  EXPECT_EQ(items[0].reason, Reason::kUnknown);

  std::string click = absl::StrCat(R"({
  "eventType": "Click",
  "click": {"ipAddress": "203.0.113.50", "timestamp": "2026-11-20T12:01:00.000Z",
            "link": "https://shop.example/orders/1182", "linkTags": {}},)",
                                   kSesMail, "\n}");
  items = ParseOk("ses", click);
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kClick);
  EXPECT_EQ(items[0].url, "https://shop.example/orders/1182");
}

TEST(SesTest, SubscriptionUnsubscribeAll) {
  std::string body = absl::StrCat(R"({
  "eventType": "Subscription",
  "subscription": {
    "contactList": "Newsletters",
    "timestamp": "2026-11-22T09:30:00.000Z",
    "source": "UnsubscribeHeader",
    "newTopicPreferences": {"unsubscribeAll": true,
      "topicSubscriptionStatus": [{"topicName": "weekly", "subscriptionStatus": "OptOut"}]},
    "oldTopicPreferences": {"unsubscribeAll": false}
  },)",
                                  kSesMail, "\n}");
  auto items = ParseOk("ses", body);
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kUnsubscribe);
  EXPECT_EQ(items[0].list, "");
}

TEST(SesTest, SendIsSkipped) {
  std::string body =
      absl::StrCat(R"({"eventType": "Send", "send": {},)", kSesMail, "\n}");
  EXPECT_THAT(ParseOk("ses", Sns(body)), IsEmpty());
}

TEST(SesTest, SubscriptionConfirmationIsAnError) {
  absl::Status s = ParseError("ses", R"({
  "Type": "SubscriptionConfirmation",
  "MessageId": "0c9f3a1e-1111-4222-8333-944455556666",
  "Token": "2336412f37fb687f5d51e6e2425a8a58",
  "TopicArn": "arn:aws:sns:eu-west-1:210987654321:deliverd-feedback",
  "Message": "You have chosen to subscribe to the topic.",
  "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f",
  "Timestamp": "2026-11-19T09:00:00.000Z"
})");
  EXPECT_THAT(s.message(), HasSubstr("SubscriptionConfirmation"));
  EXPECT_THAT(s.message(), HasSubstr("SubscribeURL"));
  EXPECT_THAT(s.message(), HasSubstr("ConfirmSubscription"));
  EXPECT_THAT(s.message(), HasSubstr("ses"));
}

TEST(SesTest, MissingRecipientIsAnError) {
  absl::Status s = ParseError(
      "ses", SesBounce("Permanent", "General",
                       R"([{"action": "failed", "status": "5.1.1"}])"));
  EXPECT_THAT(s.message(), HasSubstr("emailAddress"));
}

TEST(SesTest, WrongTypeIsAnError) {
  absl::Status s = ParseError(
      "ses", SesBounce("Permanent", "General", R"([{"emailAddress": 42}])"));
  EXPECT_THAT(s.message(), HasSubstr("must be a string"));
  s = ParseError("ses", R"({"Type": "Notification", "Message": 7})");
  EXPECT_THAT(s.message(), HasSubstr("Message"));
}

TEST(SesTest, SnsMessageNotJsonIsAnError) {
  absl::Status s = ParseError(
      "ses", R"({"Type": "Notification", "Message": "not json at all"})");
  EXPECT_THAT(s.message(), HasSubstr("not valid JSON"));
}

TEST(SesTest, UnsupportedTypeIsAnError) {
  absl::Status s = ParseError(
      "ses", absl::StrCat(R"({"eventType": "Teleport",)", kSesMail, "}"));
  EXPECT_THAT(s.message(), HasSubstr("unsupported event type"));
}

// ---------------------------------------------------------------------------

constexpr absl::string_view kMailgunPermanent = R"({
  "signature": {
    "token": "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f40312",
    "timestamp": "1795170000",
    "signature": "0d4e6f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6"
  },
  "event-data": {
    "event": "failed",
    "id": "Qm9vdW5jZUV2ZW50SWQx",
    "timestamp": 1795170000.123456,
    "log-level": "error",
    "severity": "permanent",
    "reason": "bounce",
    "recipient": "nobody@Mail.Example.NET",
    "recipient-domain": "mail.example.net",
    "envelope": {"sender": "b+m_Zx81Qa@bounces.shop.example",
                 "transport": "smtp", "targets": "nobody@mail.example.net"},
    "delivery-status": {
      "attempt-no": 1,
      "code": 550,
      "enhanced-code": "5.1.1",
      "message": "5.1.1 The email account that you tried to reach does not exist.",
      "description": "",
      "mx-host": "mx1.mail.example.net",
      "session-seconds": 0.42
    },
    "message": {"headers": {"to": "nobody@mail.example.net",
                            "message-id": "20261120.771@shop.example",
                            "from": "orders@shop.example",
                            "subject": "Receipt"},
                "size": 5120},
    "user-variables": {"deliverd_id": "m_Zx81Qa"},
    "tags": ["receipts"]
  }
})";

TEST(MailgunTest, PermanentFailureIsHardBounce) {
  auto items = ParseOk("mailgun", kMailgunPermanent);
  ASSERT_THAT(items, SizeIs(1));
  const FeedbackItem& it = items[0];
  EXPECT_EQ(it.kind, FeedbackKind::kBounce);
  EXPECT_EQ(it.recipient, "nobody@mail.example.net");
  EXPECT_EQ(it.reason, Reason::kUserUnknown);
  EXPECT_EQ(it.bounce_class, BounceClass::kHard);
  EXPECT_EQ(it.reply_code, 550);
  EXPECT_EQ(it.status, "5.1.1");
  EXPECT_EQ(it.remote_host, "mx1.mail.example.net");
  EXPECT_EQ(it.event_id, "Qm9vdW5jZUV2ZW50SWQx");
  EXPECT_EQ(it.source, "mailgun");
  EXPECT_EQ(it.time, absl::FromUnixMicros(1795170000123456));
  EXPECT_EQ(it.ref.deliverd_id, "m_Zx81Qa");
  EXPECT_EQ(it.ref.rfc822_message_id, "20261120.771@shop.example");
  EXPECT_EQ(it.ref.verp_address, "b+m_Zx81Qa@bounces.shop.example");
}

TEST(MailgunTest, TemporaryFailureIsDelay) {
  std::string body = absl::StrReplaceAll(
      kMailgunPermanent,
      {{R"("severity": "permanent")", R"("severity": "temporary")"},
       {R"("code": 550)", R"("code": 452)"},
       {R"("enhanced-code": "5.1.1")", R"("enhanced-code": "4.2.2")"},
       {"5.1.1 The email account that you tried to reach does not exist.",
        "4.2.2 The email account that you tried to reach is over quota."}});
  auto items = ParseOk("mailgun", body);
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kDelayed);
  EXPECT_EQ(items[0].reason, Reason::kMailboxFull);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
}

TEST(MailgunTest, SuppressBounceIsProviderSuppression) {
  auto items = ParseOk("mailgun", R"({"event-data": {
    "event": "failed", "severity": "permanent", "reason": "suppress-bounce",
    "id": "c3VwcHJlc3NlZA", "timestamp": 1795170100.5,
    "recipient": "old@mail.example.net",
    "delivery-status": {"code": 605, "message": "",
      "description": "Not delivering to previously bounced address"}}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kBounce);
  EXPECT_EQ(items[0].reason, Reason::kPolicy);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(items[0].reply_code, 0);  // 605 is not an SMTP code
}

TEST(MailgunTest, BareEventDataDeliveredComplaintUnsubscribeOpenClick) {
  auto items = ParseOk("mailgun", R"({
    "event": "delivered", "id": "ZGVsaXZlcmVk", "timestamp": 1795170001,
    "recipient": "ok@mail.example.net",
    "delivery-status": {"code": 250, "message": "OK", "mx-host": "mx2.mail.example.net"}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kDelivered);
  EXPECT_EQ(items[0].reply_code, 250);
  EXPECT_EQ(items[0].reason, Reason::kDelivered);

  items = ParseOk("mailgun", R"({"event-data": {
    "event": "complained", "id": "Y29tcGxhaW5lZA", "timestamp": 1795170002,
    "recipient": "angry@mail.example.net"}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kComplaint);
  EXPECT_EQ(items[0].feedback_type, "abuse");
  EXPECT_EQ(items[0].bounce_class, BounceClass::kNone);

  items = ParseOk("mailgun", R"({"event-data": {
    "event": "unsubscribed", "id": "dW5zdWI", "timestamp": 1795170003,
    "recipient": "done@mail.example.net",
    "mailing-list": {"address": "news@lists.shop.example", "list-id": "news"}}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kUnsubscribe);
  EXPECT_EQ(items[0].list, "news@lists.shop.example");

  items = ParseOk("mailgun", R"({"event-data": {
    "event": "opened", "id": "b3BlbmVk", "timestamp": 1795170004,
    "recipient": "reader@mail.example.net"}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kOpen);

  items = ParseOk("mailgun", R"({"event-data": {
    "event": "clicked", "id": "Y2xpY2tlZA", "timestamp": 1795170005,
    "recipient": "reader@mail.example.net", "url": "https://shop.example/sale"}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kClick);
  EXPECT_EQ(items[0].url, "https://shop.example/sale");
}

TEST(MailgunTest, AcceptedIsSkipped) {
  EXPECT_THAT(ParseOk("mailgun", R"({"event-data": {"event": "accepted",
      "recipient": "a@b.example", "timestamp": 1795170000}})"),
              IsEmpty());
}

TEST(MailgunTest, Errors) {
  EXPECT_THAT(ParseError("mailgun", R"({"event-data": {"event": "failed",
      "severity": "permanent", "timestamp": 1795170000}})")
                  .message(),
              HasSubstr("recipient"));
  EXPECT_THAT(ParseError("mailgun", R"({"event-data": {"event": "delivered",
      "recipient": "a@b.example", "timestamp": "yesterday"}})")
                  .message(),
              HasSubstr("timestamp must be a number"));
  EXPECT_THAT(ParseError("mailgun", R"({"event-data": {"event": "teleported",
      "recipient": "a@b.example"}})")
                  .message(),
              HasSubstr("unsupported event type"));
  EXPECT_THAT(ParseError("mailgun", R"({"signature": {}})").message(),
              HasSubstr("event"));
  EXPECT_THAT(ParseError("mailgun", R"({"event-data": {"event": "delivered",
      "recipient": "not-an-address"}})")
                  .message(),
              HasSubstr("not an address"));
}

// ---------------------------------------------------------------------------

constexpr absl::string_view kPostmarkHard = R"({
  "RecordType": "Bounce",
  "MessageStream": "outbound",
  "ID": 4323372036854775807,
  "Type": "HardBounce",
  "TypeCode": 1,
  "Name": "Hard bounce",
  "Tag": "receipts",
  "MessageID": "7f3c2a10-5b6d-4e8f-9a01-23456789abcd",
  "Metadata": {"deliverd_id": "m_Pk4W0r"},
  "ServerID": 48213,
  "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
  "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
  "Email": "Missing@Example.COM",
  "From": "orders@shop.example",
  "BouncedAt": "2026-11-20T10:20:00.1234567Z",
  "DumpAvailable": true,
  "Inactive": true,
  "CanActivate": true,
  "Subject": "Receipt"
})";

TEST(PostmarkTest, HardBounceKeepsEvery64BitIdDigit) {
  auto items = ParseOk("postmark", kPostmarkHard);
  ASSERT_THAT(items, SizeIs(1));
  const FeedbackItem& it = items[0];
  EXPECT_EQ(it.kind, FeedbackKind::kBounce);
  EXPECT_EQ(it.recipient, "Missing@example.com");
  EXPECT_EQ(it.reason, Reason::kUserUnknown);
  EXPECT_EQ(it.bounce_class, BounceClass::kHard);
  EXPECT_EQ(it.reply_code, 550);
  EXPECT_EQ(it.status, "5.1.1");
  EXPECT_EQ(it.event_id, "4323372036854775807");
  EXPECT_EQ(it.source, "postmark");
  EXPECT_EQ(it.ref.deliverd_id, "m_Pk4W0r");
  EXPECT_TRUE(it.ref.rfc822_message_id.empty());
  EXPECT_EQ(it.time,
            absl::FromUnixMicros(1795170000123456) + absl::Nanoseconds(700));
}

TEST(PostmarkTest, HardBounceWithoutDetailsUsesHint) {
  auto items =
      ParseOk("postmark",
              R"({"RecordType": "Bounce", "ID": 12, "Type": "HardBounce",
          "Email": "x@example.com", "Details": "", "BouncedAt": "2026-11-20T10:20:00Z"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].reason, Reason::kUserUnknown);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kHard);
  EXPECT_EQ(items[0].event_id, "12");
}

TEST(PostmarkTest, SoftBounceAndBlocked) {
  auto items = ParseOk("postmark", R"({"RecordType": "Bounce", "ID": 13,
      "Type": "SoftBounce", "TypeCode": 4096, "Email": "full@example.com",
      "Details": "smtp;552 5.2.2 Mailbox full", "BouncedAt": "2026-11-20T10:21:00Z"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kBounce);
  EXPECT_EQ(items[0].reason, Reason::kMailboxFull);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);

  items = ParseOk("postmark", R"({"RecordType": "Bounce", "ID": 14,
      "Type": "Blocked", "TypeCode": 100006, "Email": "user@bigmail.example",
      "Details": "smtp;550 5.1.1 user unknown, really a block",
      "BouncedAt": "2026-11-20T10:22:00Z"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].reason, Reason::kBlocked);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
}

TEST(PostmarkTest, TransientIsDelay) {
  auto items = ParseOk("postmark", R"({"RecordType": "Bounce", "ID": 15,
      "Type": "Transient", "TypeCode": 2, "Email": "slow@example.com",
      "Details": "smtp;421 4.4.2 Connection timed out",
      "BouncedAt": "2026-11-20T10:23:00Z"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kDelayed);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);
}

TEST(PostmarkTest, DeliverySpamComplaintOpenClick) {
  auto items = ParseOk("postmark", R"({"RecordType": "Delivery",
      "ServerID": 48213, "MessageStream": "outbound",
      "MessageID": "7f3c2a10-5b6d-4e8f-9a01-23456789abce",
      "Recipient": "Happy@Example.com", "Tag": "receipts",
      "DeliveredAt": "2026-11-20T10:16:00Z",
      "Details": "Test delivery webhook details",
      "Metadata": {"deliverd_id": "m_Abc123"}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kDelivered);
  EXPECT_EQ(items[0].recipient, "Happy@example.com");
  EXPECT_EQ(items[0].ref.deliverd_id, "m_Abc123");
  EXPECT_EQ(items[0].time, absl::FromUnixSeconds(1795169760));

  items = ParseOk("postmark", R"({"RecordType": "SpamComplaint", "ID": 99,
      "Type": "SpamComplaint", "TypeCode": 512, "Email": "annoyed@example.com",
      "BouncedAt": "2026-11-21T08:00:00Z", "Details": "Complaint via FBL"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kComplaint);
  EXPECT_EQ(items[0].reason, Reason::kComplaint);
  EXPECT_EQ(items[0].event_id, "99");

  items = ParseOk("postmark", R"({"RecordType": "Open", "FirstOpen": true,
      "Recipient": "reader@example.com", "ReceivedAt": "2026-11-20T12:00:00Z",
      "MessageID": "aa", "Platform": "Desktop"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kOpen);

  items = ParseOk("postmark", R"({"RecordType": "Click",
      "Recipient": "reader@example.com", "ReceivedAt": "2026-11-20T12:01:00Z",
      "OriginalLink": "https://shop.example/track", "ClickLocation": "HTML"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kClick);
  EXPECT_EQ(items[0].url, "https://shop.example/track");
}

TEST(PostmarkTest, SubscriptionChange) {
  auto items = ParseOk("postmark", R"({"RecordType": "SubscriptionChange",
      "MessageID": "bb", "ServerID": 48213, "MessageStream": "broadcast",
      "ChangedAt": "2026-11-22T09:00:00Z", "Recipient": "bye@example.com",
      "Origin": "Recipient", "SuppressSending": true,
      "SuppressionReason": "ManualSuppression", "Tag": "news",
      "Metadata": {"deliverd_id": "m_Unsub1"}})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kUnsubscribe);
  EXPECT_EQ(items[0].list, "");

  items = ParseOk("postmark", R"({"RecordType": "SubscriptionChange",
      "Recipient": "bad@example.com", "SuppressSending": true,
      "SuppressionReason": "HardBounce", "ChangedAt": "2026-11-22T09:00:00Z"})");
  ASSERT_THAT(items, SizeIs(1));
  EXPECT_EQ(items[0].kind, FeedbackKind::kBounce);
  EXPECT_EQ(items[0].reason, Reason::kPolicy);
  EXPECT_EQ(items[0].bounce_class, BounceClass::kSoft);

  items = ParseOk("postmark", R"({"RecordType": "SubscriptionChange",
      "Recipient": "back@example.com", "SuppressSending": false,
      "SuppressionReason": null, "ChangedAt": "2026-11-22T09:00:00Z"})");
  EXPECT_THAT(items, IsEmpty());
}

TEST(PostmarkTest, Errors) {
  EXPECT_THAT(ParseError("postmark", R"({"RecordType": "Bounce", "ID": 1,
      "Type": "HardBounce", "BouncedAt": "2026-11-20T10:20:00Z"})")
                  .message(),
              HasSubstr("recipient"));
  EXPECT_THAT(ParseError("postmark", R"({"RecordType": "Bounce", "ID": 1,
      "Type": "HardBounce", "Email": ["a@b.example"]})")
                  .message(),
              HasSubstr("Email must be a string"));
  EXPECT_THAT(ParseError("postmark", R"({"RecordType": "Inbound",
      "Email": "a@b.example"})")
                  .message(),
              HasSubstr("unsupported event type"));
  EXPECT_THAT(ParseError("postmark", R"({"Email": "a@b.example"})").message(),
              HasSubstr("RecordType"));
}

// ---------------------------------------------------------------------------

constexpr absl::string_view kSendGridBatch = R"([
  {"email": "first@Example.org", "timestamp": 1795171000, "event": "processed",
   "smtp-id": "<20261120.a1@shop.example>", "sg_event_id": "cHJvY2Vzc2VkLTE",
   "sg_message_id": "Xk2pQ7.filterdrecv-1.0", "deliverd_id": "m_SgA1"},
  {"email": "first@Example.org", "timestamp": 1795171005, "event": "delivered",
   "smtp-id": "<20261120.a1@shop.example>", "sg_event_id": "ZGVsaXZlcmVkLTE",
   "sg_message_id": "Xk2pQ7.filterdrecv-1.0", "response": "250 2.0.0 OK queued as 4Fz9",
   "ip": "192.0.2.7", "tls": 1, "deliverd_id": "m_SgA1"},
  {"email": "gone@example.org", "timestamp": 1795171010, "event": "bounce",
   "type": "bounce", "bounce_classification": "Invalid Address",
   "status": "5.1.1", "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
   "sg_event_id": "Ym91bmNlLTE", "smtp-id": "<20261120.a2@shop.example>",
   "deliverd_id": "m_SgA2"},
  {"email": "user@bigmail.example", "timestamp": 1795171011, "event": "bounce",
   "type": "blocked", "bounce_classification": "Reputation",
   "status": "5.7.1", "reason": "550 5.7.1 Message rejected due to sender reputation",
   "sg_event_id": "YmxvY2tlZC0x"},
  {"email": "blocked2@bigmail.example", "timestamp": 1795171012, "event": "bounce",
   "type": "blocked", "status": "5.1.1", "reason": "550 5.1.1 user unknown",
   "sg_event_id": "YmxvY2tlZC0y"},
  {"email": "slow@example.org", "timestamp": 1795171020, "event": "deferred",
   "response": "451 4.7.1 Try again later, closing connection.", "attempt": "3",
   "sg_event_id": "ZGVmZXJyZWQtMQ"},
  {"email": "listed@example.org", "timestamp": 1795171030, "event": "dropped",
   "reason": "Bounced Address", "status": "5.0.0", "sg_event_id": "ZHJvcHBlZC0x"},
  {"email": "angry@example.org", "timestamp": 1795171040, "event": "spamreport",
   "sg_event_id": "c3BhbS0x"},
  {"email": "bye@example.org", "timestamp": 1795171050, "event": "unsubscribe",
   "sg_event_id": "dW5zdWItMQ"},
  {"email": "bye2@example.org", "timestamp": 1795171060, "event": "group_unsubscribe",
   "asm_group_id": 4217, "sg_event_id": "Z3JvdXAtMQ", "useragent": "Mozilla/5.0"},
  {"email": "reader@example.org", "timestamp": 1795171070, "event": "open",
   "sg_event_id": "b3Blbi0x", "useragent": "Mozilla/5.0", "ip": "203.0.113.80"},
  {"email": "reader@example.org", "timestamp": 1795171080, "event": "click",
   "url": "https://shop.example/deal?id=9", "sg_event_id": "Y2xpY2stMQ"}
])";

TEST(SendGridTest, BatchMapsEveryEventAndSkipsProcessed) {
  auto items = ParseOk("sendgrid", kSendGridBatch);
  ASSERT_THAT(items, SizeIs(11));

  EXPECT_EQ(items[0].kind, FeedbackKind::kDelivered);
  EXPECT_EQ(items[0].recipient, "first@example.org");
  EXPECT_EQ(items[0].reply_code, 250);
  EXPECT_EQ(items[0].ref.rfc822_message_id, "20261120.a1@shop.example");
  EXPECT_EQ(items[0].ref.deliverd_id, "m_SgA1");
  EXPECT_EQ(items[0].event_id, "ZGVsaXZlcmVkLTE");
  EXPECT_EQ(items[0].time, absl::FromUnixSeconds(1795171005));
  EXPECT_EQ(items[0].source, "sendgrid");

  EXPECT_EQ(items[1].kind, FeedbackKind::kBounce);
  EXPECT_EQ(items[1].reason, Reason::kUserUnknown);
  EXPECT_EQ(items[1].bounce_class, BounceClass::kHard);
  EXPECT_EQ(items[1].status, "5.1.1");
  EXPECT_EQ(items[1].reply_code, 550);

  EXPECT_EQ(items[2].kind, FeedbackKind::kBounce);
  EXPECT_NE(items[2].bounce_class, BounceClass::kHard);
  // "blocked" is never hard, even when the text says user unknown.
  EXPECT_EQ(items[3].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(items[3].reason, Reason::kBlocked);

  EXPECT_EQ(items[4].kind, FeedbackKind::kDelayed);
  EXPECT_EQ(items[4].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(items[4].reply_code, 451);

  EXPECT_EQ(items[5].kind, FeedbackKind::kBounce);
  EXPECT_EQ(items[5].reason, Reason::kPolicy);
  EXPECT_EQ(items[5].bounce_class, BounceClass::kSoft);

  EXPECT_EQ(items[6].kind, FeedbackKind::kComplaint);
  EXPECT_EQ(items[6].feedback_type, "abuse");
  EXPECT_EQ(items[7].kind, FeedbackKind::kUnsubscribe);
  EXPECT_EQ(items[7].list, "");
  EXPECT_EQ(items[8].kind, FeedbackKind::kUnsubscribe);
  EXPECT_EQ(items[8].list, "4217");
  EXPECT_EQ(items[9].kind, FeedbackKind::kOpen);
  EXPECT_EQ(items[9].bounce_class, BounceClass::kNone);
  EXPECT_EQ(items[10].kind, FeedbackKind::kClick);
  EXPECT_EQ(items[10].url, "https://shop.example/deal?id=9");
}

TEST(SendGridTest, AllSkippedGivesEmpty) {
  EXPECT_THAT(ParseOk("sendgrid", R"([
    {"email": "a@example.org", "timestamp": 1795171000, "event": "processed"},
    {"email": "a@example.org", "timestamp": 1795171001, "event": "group_resubscribe"}])"),
              IsEmpty());
  EXPECT_THAT(ParseOk("sendgrid", "[]"), IsEmpty());
}

TEST(SendGridTest, Errors) {
  EXPECT_THAT(ParseError("sendgrid", R"([{"timestamp": 1, "event": "bounce"}])")
                  .message(),
              HasSubstr("[0].email"));
  EXPECT_THAT(ParseError("sendgrid", R"([{"email": "a@b.example",
      "event": "open"}, {"email": 5, "event": "open"}])")
                  .message(),
              HasSubstr("[1].email must be a string"));
  EXPECT_THAT(ParseError("sendgrid", R"([{"email": "a@b.example",
      "event": "teleport"}])")
                  .message(),
              HasSubstr("unsupported event type"));
  EXPECT_THAT(ParseError("sendgrid", R"("just a string")").message(),
              HasSubstr("array"));
  EXPECT_THAT(ParseError("sendgrid", R"([1, 2])").message(),
              HasSubstr("must be an object"));
}

// ---------------------------------------------------------------------------

TEST(ProviderEventsTest, UnknownProvider) {
  absl::Status s = ParseError("sparkpost", "{}");
  EXPECT_THAT(s.message(), HasSubstr("unknown provider"));
  EXPECT_THAT(s.message(), HasSubstr("sparkpost"));
  (void)ParseError("", "{}");
}

TEST(ProviderEventsTest, MalformedJson) {
  for (absl::string_view provider :
       {"ses", "mailgun", "postmark", "sendgrid"}) {
    for (absl::string_view body : {"", "   ", "{", "{\"a\":}", "[1,", "nul",
                                   "{\"a\":1}}", "\xff\xfe", "{'a': 1}"}) {
      absl::Status s = ParseError(provider, body);
      EXPECT_THAT(s.message(), HasSubstr(provider)) << body;
    }
  }
}

TEST(ProviderEventsTest, OversizedBody) {
  std::string body(kMaxProviderBodyBytes + 1, ' ');
  EXPECT_THAT(ParseError("sendgrid", body).message(), HasSubstr("larger"));
}

TEST(ProviderEventsTest, DeepNestingDoesNotCrash) {
  std::string deep(200000, '[');
  for (absl::string_view provider :
       {"ses", "mailgun", "postmark", "sendgrid"}) {
    (void)ParseError(provider, deep);
  }
  // Closed, valid nesting: refused before protobuf's parser (which is
  // quadratic in array depth) sees it.
  std::string closed = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(ParseError("sendgrid", closed).message(),
              HasSubstr("nests deeper"));
  // Brackets hidden after a quote inside a single-quoted string still count.
  std::string hidden = absl::StrCat("['\"', ", std::string(1000, '['),
                                    std::string(1000, ']'), "]");
  EXPECT_THAT(ParseError("sendgrid", hidden).message(),
              HasSubstr("nests deeper"));
  // In an SNS Message string too.
  std::string inner =
      absl::StrCat(std::string(1000, '['), std::string(1000, ']'));
  EXPECT_THAT(
      ParseError("ses", absl::StrCat(R"({"Type": "Notification", "Message": ")",
                                     inner, R"("})"))
          .message(),
      HasSubstr("nests deeper"));
  std::string deep_obj;
  for (int i = 0; i < 50000; ++i) deep_obj += "{\"a\":";
  (void)ParseError("mailgun", deep_obj);
}

TEST(ProviderEventsTest, TooManyEvents) {
  std::string body = "[";
  for (size_t i = 0; i <= kMaxProviderItems; ++i) {
    if (i > 0) body += ",";
    body += R"({"event":"processed"})";
  }
  body += "]";
  EXPECT_THAT(ParseError("sendgrid", body).message(), HasSubstr("more than"));
}

TEST(ProviderEventsTest, HostileValuesDoNotCrash) {
  // Wrong types everywhere and odd values: each gives a result or an error.
  const char* bodies[] = {
      R"({"event-data": {"event": "failed", "recipient": "a@b", "delivery-status": {"code": 1e308, "enhanced-code": "9.9.9"}, "timestamp": -1}})",
      R"({"event-data": {"event": "failed", "recipient": "a@b", "delivery-status": "x"}})",
      R"({"event-data": {"event": "failed", "recipient": "a@b", "timestamp": 1e300}})",
      R"({"event-data": {"event": ["failed"]}})",
      R"({"event-data": []})",
      R"({"RecordType": "Bounce", "Email": "a@b", "ID": -1.5e400})",
      R"({"RecordType": "Bounce", "Email": "a@b", "ID": "17", "BouncedAt": "not a time"})",
      R"({"RecordType": 7})",
      R"({"Type": "Notification", "Message": "{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":[\"x\"]}}"})",
      R"({"Type": "Notification", "Message": "[]"})",
      R"({"notificationType": "Bounce", "bounce": {"bouncedRecipients": []}})",
      R"({"notificationType": "Delivery", "delivery": {"recipients": [1]}})",
      R"({"notificationType": "Open", "open": {}, "mail": {"destination": []}})",
      R"({"notificationType": "Bounce", "mail": {"headers": [1]}})",
      R"([{"email": "a@b", "event": "bounce", "reason": "\u0000\u0001 550", "status": "5.1"}])",
      R"([{"email": "a\u0000@b", "event": "open"}])",
      R"([{"email": "a@b", "event": "group_unsubscribe", "asm_group_id": {"x": 1}}])",
  };
  for (const char* body : bodies) {
    for (absl::string_view provider :
         {"ses", "mailgun", "postmark", "sendgrid"}) {
      auto result = ParseProviderEvent(provider, body);
      if (!result.ok()) {
        EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
            << provider << " " << body;
      }
    }
  }
}

}  // namespace
}  // namespace deliverd::feedback
