#include "client/enum_names.h"

#include "deliverd/v1/messages.pb.h"
#include "deliverd/v1/subscriptions.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::HasSubstr;

TEST(EnumNamesTest, LowerCaseSuffixes) {
  EXPECT_EQ(MessageStatusName(v1::MESSAGE_STATUS_QUEUED), "queued");
  EXPECT_EQ(MessageStatusName(v1::MESSAGE_STATUS_SUPPRESSED), "suppressed");
  EXPECT_EQ(EventTypeName(v1::EVENT_TYPE_UNSUBSCRIBED), "unsubscribed");
  EXPECT_EQ(RecipientKindName(v1::RECIPIENT_KIND_BCC), "bcc");
  EXPECT_EQ(SuppressionReasonName(v1::SUPPRESSION_REASON_HARD_BOUNCE),
            "hard_bounce");
  EXPECT_EQ(SuppressionReasonName(v1::SUPPRESSION_REASON_SOFT_BOUNCE),
            "soft_bounce");
}

TEST(EnumNamesTest, UnknownNumbersPrintAsNumbers) {
  EXPECT_EQ(MessageStatusName(99), "99");
  EXPECT_EQ(MessageStatusName(0), "unspecified");
}

TEST(EnumNamesTest, ParsesEveryNamedValueBack) {
  for (const google::protobuf::EnumDescriptor* type :
       {v1::MessageStatus_descriptor(), v1::EventType_descriptor(),
        v1::SuppressionReason_descriptor()}) {
    for (int i = 0; i < type->value_count(); ++i) {
      const int number = type->value(i)->number();
      if (number == 0) continue;
      auto parsed = ParseEnumCliName(type, EnumCliName(type, number), "x");
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      EXPECT_EQ(*parsed, number);
    }
  }
}

TEST(EnumNamesTest, ParsingIsLenientAboutCaseAndDashes) {
  const auto* reasons = v1::SuppressionReason_descriptor();
  EXPECT_EQ(*ParseEnumCliName(reasons, "hard-bounce", "reason"),
            v1::SUPPRESSION_REASON_HARD_BOUNCE);
  EXPECT_EQ(*ParseEnumCliName(reasons, "Complaint", "reason"),
            v1::SUPPRESSION_REASON_COMPLAINT);
}

TEST(EnumNamesTest, RejectsUnknownAndUnspecified) {
  const auto* statuses = v1::MessageStatus_descriptor();
  auto bad = ParseEnumCliName(statuses, "delivered", "status");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("unknown status \"delivered\""));
  EXPECT_THAT(bad.status().message(), HasSubstr("queued, sent, waiting"));
  EXPECT_FALSE(ParseEnumCliName(statuses, "unspecified", "status").ok());
  EXPECT_FALSE(ParseEnumCliName(statuses, "MESSAGE_STATUS_SENT", "s").ok());
}

TEST(EnumNamesTest, NameListOmitsUnspecified) {
  EXPECT_EQ(EnumCliNames(v1::SuppressionReason_descriptor()),
            "hard_bounce, unsubscribed, complaint, manual, invalid, "
            "soft_bounce");
}

TEST(StatusCodeNameTest, CanonicalNames) {
  EXPECT_EQ(StatusCodeName(0), "OK");
  EXPECT_EQ(StatusCodeName(3), "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(5), "NOT_FOUND");
  EXPECT_EQ(StatusCodeName(14), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(17), "CODE_17");
  EXPECT_EQ(StatusCodeName(-1), "CODE_-1");
}

}  // namespace
}  // namespace deliverd::client
