#include "server/api/convert.h"

#include "gtest/gtest.h"
#include "server/api/api_keys.h"
#include "server/api/service_context.h"
#include "server/api/message_ids.h"

namespace deliverd::api {
namespace {

TEST(MessageNames, AcceptBothFormsAndRejectJunk) {
  EXPECT_EQ(MessageIdFromName("messages/m_abc123"), "m_abc123");
  EXPECT_EQ(MessageIdFromName("m_abc123"), "m_abc123");
  EXPECT_EQ(MessageIdFromName("messages/x_abc"), "");
  EXPECT_EQ(MessageIdFromName("messages/m_a/b"), "");
  EXPECT_EQ(MessageIdFromName("m_a'; DROP TABLE"), "");
}

TEST(EventCursor, RoundTripsAndRejectsJunk) {
  EXPECT_EQ(ParseEventCursor(EventCursor(42)), 42);
  EXPECT_EQ(ParseEventCursor("abc"), -1);
  EXPECT_EQ(ParseEventCursor("-5"), -1);
}

TEST(Timestamps, RoundTripMicroseconds) {
  absl::Time t = absl::FromUnixMicros(1800000000123456);
  google::protobuf::Timestamp ts;
  ToTimestamp(t, &ts);
  EXPECT_EQ(ts.seconds(), 1800000000);
  EXPECT_EQ(ts.nanos(), 123456000);
  EXPECT_EQ(FromTimestamp(ts), t);
}

TEST(MessageIds, AreUniqueSortableAndWellFormed) {
  absl::Time t = absl::FromUnixMillis(1800000000000);
  std::string a = NewMessageId(t);
  std::string b = NewMessageId(t + absl::Milliseconds(1));
  EXPECT_EQ(a.size(), 28u);
  EXPECT_EQ(a.substr(0, 2), "m_");
  EXPECT_LT(a, b);
  EXPECT_NE(NewMessageId(t), NewMessageId(t));
  EXPECT_EQ(MessageIdFromName(a), a);
}

TEST(ApiKeys, HaveFullEntropyFormatAndStableHash) {
  std::string k1 = NewApiKey();
  std::string k2 = NewApiKey();
  EXPECT_NE(k1, k2);
  EXPECT_EQ(k1.substr(0, 3), "dk_");
  EXPECT_EQ(k1.size(), 3u + 52u);
  EXPECT_EQ(HashApiKey(k1), HashApiKey(k1));
  EXPECT_NE(HashApiKey(k1), HashApiKey(k2));
  EXPECT_EQ(HashApiKey(k1).size(), 32u);
  EXPECT_EQ(ApiKeyPrefix(k1), k1.substr(0, 10));
}

TEST(FieldOfError, SplitsFieldPaths) {
  EXPECT_EQ(FieldOfError("content.to[0].address: bad"), "content.to[0].address");
  EXPECT_EQ(FieldOfError("message not stored: disk full"), "");
  EXPECT_EQ(FieldOfError("no colon"), "");
}

}  // namespace
}  // namespace deliverd::api
