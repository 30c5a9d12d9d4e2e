#include "server/store/intake_codec.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace deliverd::store {
namespace {

Event FullEvent(const std::string& message_id, EventType type) {
  Event e;
  e.id = 77;
  e.tenant_id = 3;
  e.message_id = message_id;
  e.type = type;
  e.time = absl::FromUnixMicros(1700000000123456);
  e.recipient = "rcpt@example.org";
  e.source = "api";
  e.detail = std::string("detail with\nnewline and \0 byte", 30);
  e.reply = Reply{451, "4.7.1", "try later", "mx.example.org"};
  e.tags = {"a", "", "c,d"};
  return e;
}

// Every field set to something other than its default.
NewMessage FullMessage() {
  NewMessage item;
  Message& m = item.message;
  m.row_id = 0;  // never stored: the database assigns it
  m.id = "m_01hzzzzzzzzzzzzzzzzzzzzzzz";
  m.tenant_id = 3;
  m.status = MessageStatus::kWaiting;
  m.from_address = "from@example.com";
  m.from_name = "Fr\xc3\xb6m";
  m.subject = "Subject";
  m.tags = {"t1", "t2"};
  m.metadata = std::string("\x00\x01\xff", 3);
  m.stream = "broadcast";
  m.create_time = absl::FromUnixMicros(1700000000000001);
  m.update_time = absl::InfinitePast();
  m.next_attempt_time = absl::InfiniteFuture();
  m.attempt_count = 4;
  m.resend_of = "m_original";
  m.rfc822_message_id = "<x@y>";
  m.size_bytes = 123456789012;
  m.request_id = "req-1";
  m.content = std::string(5000, 'c');
  Recipient to;
  to.address = "to@example.org";
  to.kind = RecipientKind::kTo;
  to.status = MessageStatus::kSent;
  to.detail = "d";
  to.last_reply = Reply{250, "2.0.0", "ok", "mx"};
  to.suppression_override = true;
  Recipient bcc;
  bcc.address = "bcc@example.org";
  bcc.kind = RecipientKind::kBcc;
  m.recipients = {to, bcc};
  item.request_hash = std::string(32, '\x7f');
  item.events = {FullEvent(m.id, EventType::kQueued),
                 FullEvent(m.id, EventType::kSuppressed)};
  item.related_events = {FullEvent("m_original", EventType::kResent)};
  return item;
}

std::string Encode(const NewMessage& item) {
  std::string out;
  EncodeIntakeMessage(item, &out);
  return out;
}

TEST(IntakeCodec, RoundTripsEveryField) {
  NewMessage item = FullMessage();
  std::string bytes = Encode(item);
  absl::StatusOr<NewMessage> decoded = DecodeIntakeMessage(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  // Encoding what was decoded gives the same bytes: no field is dropped.
  EXPECT_EQ(Encode(*decoded), bytes);
  const Message& m = decoded->message;
  EXPECT_EQ(m.id, item.message.id);
  EXPECT_EQ(m.status, MessageStatus::kWaiting);
  EXPECT_EQ(m.from_name, "Fr\xc3\xb6m");
  EXPECT_EQ(m.tags, item.message.tags);
  EXPECT_EQ(m.metadata, item.message.metadata);
  EXPECT_EQ(m.create_time, item.message.create_time);
  EXPECT_EQ(m.update_time, absl::InfinitePast());
  EXPECT_EQ(m.next_attempt_time, absl::InfiniteFuture());
  EXPECT_EQ(m.size_bytes, 123456789012);
  EXPECT_EQ(m.content, item.message.content);
  ASSERT_EQ(m.recipients.size(), 2u);
  EXPECT_EQ(m.recipients[0].last_reply.enhanced_code, "2.0.0");
  EXPECT_TRUE(m.recipients[0].suppression_override);
  EXPECT_EQ(m.recipients[1].kind, RecipientKind::kBcc);
  EXPECT_FALSE(m.recipients[1].suppression_override);
  EXPECT_EQ(decoded->request_hash, item.request_hash);
  ASSERT_EQ(decoded->events.size(), 2u);
  EXPECT_EQ(decoded->events[1].type, EventType::kSuppressed);
  EXPECT_EQ(decoded->events[0].detail, item.events[0].detail);
  EXPECT_EQ(decoded->events[0].reply.code, 451);
  EXPECT_EQ(decoded->events[0].tags, item.events[0].tags);
  ASSERT_EQ(decoded->related_events.size(), 1u);
  EXPECT_EQ(decoded->related_events[0].message_id, "m_original");
}

TEST(IntakeCodec, EmptyMessageRoundTrips) {
  NewMessage empty;
  std::string bytes = Encode(empty);
  absl::StatusOr<NewMessage> decoded = DecodeIntakeMessage(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(Encode(*decoded), bytes);
}

// Every proper prefix is refused (a record cut short), as is anything
// with bytes left over, without crashing or allocating what a corrupt
// count would ask for.
TEST(IntakeCodec, TruncatedOrPaddedRecordsAreDataLoss) {
  std::string bytes = Encode(FullMessage());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<NewMessage> decoded =
        DecodeIntakeMessage(absl::string_view(bytes).substr(0, n));
    ASSERT_FALSE(decoded.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(DecodeIntakeMessage(bytes + "x").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(IntakeCodec, CorruptLengthsAndVersionsAreDataLoss) {
  std::string bytes = Encode(FullMessage());
  std::string version = bytes;
  version[0] = 9;
  EXPECT_EQ(DecodeIntakeMessage(version).status().code(),
            absl::StatusCode::kDataLoss);
  // The id's length (right after the version byte) made enormous, and
  // negative.
  for (unsigned char top : {0x7f, 0xff}) {
    std::string corrupt = bytes;
    corrupt[8] = static_cast<char>(top);
    EXPECT_EQ(DecodeIntakeMessage(corrupt).status().code(),
              absl::StatusCode::kDataLoss);
  }
  // Flipping any single byte never crashes; it decodes to something or
  // fails with DATA_LOSS.
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x80);
    absl::StatusOr<NewMessage> decoded = DecodeIntakeMessage(flipped);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << i;
    }
  }
}

}  // namespace
}  // namespace deliverd::store
