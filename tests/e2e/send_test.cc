// Send, idempotency and SendBatch against a real deliverd (outbox transport).
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

class SendTest : public SharedDeliverdTest<SendTest> {};

int StoredCount(Client& client) {
  absl::StatusOr<std::vector<v1::Message>> all =
      client.ListAllMessages(v1::ListMessagesRequest());
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? static_cast<int>(all->size()) : -1;
}

TEST_F(SendTest, SendIsStoredSentAndWrittenToTheOutbox) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendRequest request =
      MakeSend("sender@example.com", "rcpt@example.org",
               "E2E subject 7f3a", "Hello from the e2e test.\nSecond line 91c.");
  request.add_tags("welcome");

  ASSERT_OK_AND_ASSIGN(v1::Message accepted, client.Send(request));
  EXPECT_THAT(accepted.id(), MatchesRegex("m_[0-9a-z]{26}"));
  EXPECT_EQ(accepted.name(), "messages/" + accepted.id());
  EXPECT_EQ(accepted.status(), v1::MESSAGE_STATUS_QUEUED);
  EXPECT_EQ(accepted.subject(), "E2E subject 7f3a");
  EXPECT_THAT(accepted.tags(), ElementsAre("welcome"));
  EXPECT_EQ(accepted.rfc822_message_id(), accepted.id() + "@example.com");

  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.WaitForStatus(accepted.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_THAT(sent.recipients(), SizeIs(1));
  EXPECT_EQ(sent.recipients(0).address(), "rcpt@example.org");
  EXPECT_EQ(sent.recipients(0).status(), v1::MESSAGE_STATUS_SENT);
  EXPECT_EQ(sent.attempt_count(), 1);
  // History: queued, attempt, sent, in that order, and nothing else.
  EXPECT_THAT(TypesOf(sent), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                         v1::EVENT_TYPE_ATTEMPT,
                                         v1::EVENT_TYPE_SENT));
  for (const v1::Event& e : sent.events()) {
    EXPECT_EQ(e.message(), sent.name());
    EXPECT_FALSE(e.cursor().empty());
  }
  EXPECT_EQ(sent.events(2).recipient(), "rcpt@example.org");

  std::optional<std::string> eml = ReadFile(server().OutboxFile(sent.id()));
  ASSERT_TRUE(eml.has_value()) << "no " << server().OutboxFile(sent.id());
  EXPECT_THAT(*eml, HasSubstr("Subject: E2E subject 7f3a\r\n"));
  EXPECT_THAT(*eml, HasSubstr("Hello from the e2e test."));
  EXPECT_THAT(*eml, HasSubstr("Second line 91c."));
  EXPECT_THAT(*eml, HasSubstr(absl::StrCat("Message-ID: <",
                                           sent.rfc822_message_id(), ">\r\n")));
  EXPECT_THAT(*eml, HasSubstr(absl::StrCat("X-Deliverd-Id: ", sent.id(), "\r\n")));
  EXPECT_THAT(*eml, HasSubstr("From: sender@example.com\r\n"));
  EXPECT_THAT(*eml, HasSubstr("To: rcpt@example.org\r\n"));
}

TEST_F(SendTest, RepeatedRequestIdReturnsTheSameMessageAndStoresOne) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendRequest request =
      MakeSend("a@example.com", "b@example.org", "Idempotent", "Once only");
  request.set_request_id("order-1234");

  ASSERT_OK_AND_ASSIGN(v1::Message first, client.Send(request));
  ASSERT_OK_AND_ASSIGN(v1::Message second, client.Send(request));
  EXPECT_EQ(second.id(), first.id());
  EXPECT_EQ(second.request_id(), "order-1234");
  EXPECT_EQ(StoredCount(client), 1);
  ASSERT_OK(client.WaitForStatus(first.id(), v1::MESSAGE_STATUS_SENT));
  // A replay after delivery still answers with the same message, as it is now.
  ASSERT_OK_AND_ASSIGN(v1::Message third, client.Send(request));
  EXPECT_EQ(third.id(), first.id());
  EXPECT_EQ(third.status(), v1::MESSAGE_STATUS_SENT);
  EXPECT_EQ(StoredCount(client), 1);

  // The same key with a different request is refused.
  v1::SendRequest changed = request;
  changed.mutable_content()->set_text_body("Something else");
  absl::StatusOr<v1::Message> refused = client.Send(changed);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
      << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("request_id"));
  EXPECT_EQ(StoredCount(client), 1);
}

TEST_F(SendTest, RequestIdsAreScopedToTheTenant) {
  ASSERT_OK_AND_ASSIGN(Client a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Client b, NewTenant());
  v1::SendRequest request =
      MakeSend("a@example.com", "b@example.org", "Scoped", "Same key");
  request.set_request_id("shared-key-1");
  ASSERT_OK_AND_ASSIGN(v1::Message from_a, a.Send(request));
  request.mutable_content()->set_text_body("Other tenant, other body");
  ASSERT_OK_AND_ASSIGN(v1::Message from_b, b.Send(request));
  EXPECT_NE(from_a.id(), from_b.id());
}

TEST_F(SendTest, ReplayedBatchRequestIdReturnsTheSameIds) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendBatchRequest batch;
  batch.set_request_id("batch-2024-01");
  for (int i = 0; i < 3; ++i) {
    *batch.add_messages() = MakeSend("a@example.com",
                                     absl::StrCat("r", i, "@example.org"),
                                     absl::StrCat("Batch ", i), "Body");
  }
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse first, client.SendBatch(batch));
  ASSERT_THAT(first.results(), SizeIs(3));
  EXPECT_EQ(first.accepted_count(), 3);
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse again, client.SendBatch(batch));
  ASSERT_THAT(again.results(), SizeIs(3));
  EXPECT_EQ(again.accepted_count(), 3);
  EXPECT_EQ(again.rejected_count(), 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(first.results(i).has_message()) << first.results(i).DebugString();
    ASSERT_TRUE(again.results(i).has_message()) << again.results(i).DebugString();
    EXPECT_EQ(again.results(i).message().id(), first.results(i).message().id());
  }
  EXPECT_EQ(StoredCount(client), 3);

  // The same batch key with different items is refused item by item.
  batch.mutable_messages(1)->mutable_content()->set_subject("Changed");
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse changed, client.SendBatch(batch));
  ASSERT_THAT(changed.results(), SizeIs(3));
  EXPECT_TRUE(changed.results(0).has_message());
  ASSERT_TRUE(changed.results(1).has_error());
  EXPECT_EQ(changed.results(1).error().code(), 3);
  EXPECT_THAT(changed.results(1).error().message(), HasSubstr("request_id"));
  EXPECT_EQ(StoredCount(client), 3);
}

// A batch request_id is accepted up to 128 characters (ValidateRequestId);
// the items' derived keys must not then push every item over the limit.
// Regression: a 128-character batch request_id was accepted and then every
// item refused, because the derived item keys ("<id>#<index>") were too long.
// A batch key now leaves room for the suffix, and a longer one is refused as
// a whole with a clear error.
TEST_F(SendTest, BatchRequestIdLeavesRoomForItemKeys) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendBatchRequest batch;
  *batch.add_messages() =
      MakeSend("a@example.com", "b@example.org", "Long key", "Body");
  batch.set_request_id(std::string(128, 'k'));
  absl::StatusOr<v1::SendBatchResponse> refused = client.SendBatch(batch);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::StartsWith("request_id: "));

  batch.set_request_id(std::string(124, 'k'));
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse response, client.SendBatch(batch));
  ASSERT_THAT(response.results(), SizeIs(1));
  EXPECT_TRUE(response.results(0).has_message())
      << response.results(0).DebugString();
  EXPECT_EQ(response.accepted_count(), 1);
}

TEST_F(SendTest, BatchReportsEachItemInOrderAndSendsTheValidOnes) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendBatchRequest batch;
  *batch.add_messages() =
      MakeSend("a@example.com", "one@example.org", "Item 0", "ok");
  v1::SendRequest bad_subject =
      MakeSend("a@example.com", "two@example.org", "Item 1\r\nBcc: x@evil.test", "bad");
  *batch.add_messages() = bad_subject;
  *batch.add_messages() =
      MakeSend("a@example.com", "three@example.org", "Item 2", "ok");
  *batch.add_messages() =
      MakeSend("a@example.com", "not an address", "Item 3", "bad");
  *batch.add_messages() =
      MakeSend("a@example.com", "five@example.org", "Item 4", "ok");

  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse response, client.SendBatch(batch));
  ASSERT_THAT(response.results(), SizeIs(5));
  EXPECT_EQ(response.accepted_count(), 3);
  EXPECT_EQ(response.rejected_count(), 2);

  ASSERT_TRUE(response.results(1).has_error());
  EXPECT_EQ(response.results(1).error().code(), 3);  // INVALID_ARGUMENT
  EXPECT_EQ(response.results(1).error().field(), "messages[1].content.subject");
  EXPECT_THAT(response.results(1).error().message(),
              StartsWith("messages[1].content.subject:"));
  ASSERT_TRUE(response.results(3).has_error());
  EXPECT_EQ(response.results(3).error().code(), 3);
  EXPECT_EQ(response.results(3).error().field(),
            "messages[3].content.to[0].address");
  EXPECT_THAT(response.results(3).error().message(),
              StartsWith("messages[3].content.to[0].address:"));

  const std::vector<std::pair<int, std::string>> valid = {
      {0, "Item 0"}, {2, "Item 2"}, {4, "Item 4"}};
  std::set<std::string> ids;
  for (const auto& [index, subject] : valid) {
    ASSERT_TRUE(response.results(index).has_message())
        << index << ": " << response.results(index).DebugString();
    // Items carry a summary (SendBatchResult); GetMessage has the rest.
    const v1::Message& m = response.results(index).message();
    EXPECT_EQ(m.status(), v1::MESSAGE_STATUS_QUEUED);
    ids.insert(m.id());
    ASSERT_OK_AND_ASSIGN(v1::Message sent,
                         client.WaitForStatus(m.id(), v1::MESSAGE_STATUS_SENT));
    EXPECT_EQ(sent.subject(), subject);
    EXPECT_TRUE(ReadFile(server().OutboxFile(m.id())).has_value()) << m.id();
  }
  EXPECT_THAT(ids, SizeIs(3));
  EXPECT_EQ(StoredCount(client), 3);
}

TEST_F(SendTest, BatchSizeMustBeOneToOneThousand) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendBatchRequest batch;
  for (int i = 0; i < 1001; ++i) {
    *batch.add_messages() =
        MakeSend("a@example.com", "b@example.org", "Too many", "Body");
  }
  absl::StatusOr<v1::SendBatchResponse> too_many = client.SendBatch(batch);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument)
      << too_many.status();
  EXPECT_THAT(std::string(too_many.status().message()), StartsWith("messages:"));

  absl::StatusOr<v1::SendBatchResponse> empty =
      client.SendBatch(v1::SendBatchRequest());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument)
      << empty.status();
  EXPECT_EQ(StoredCount(client), 0);
}

TEST_F(SendTest, ScheduledSendWaitsForItsTime) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendRequest request =
      MakeSend("a@example.com", "later@example.org", "Later", "Body");
  google::protobuf::Timestamp at = NowTimestamp();
  at.set_seconds(at.seconds() + 2);
  *request.mutable_send_time() = at;
  ASSERT_OK_AND_ASSIGN(v1::Message accepted, client.Send(request));
  EXPECT_EQ(accepted.status(), v1::MESSAGE_STATUS_QUEUED);
  EXPECT_EQ(accepted.next_attempt_time().seconds(), at.seconds());

  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.WaitForStatus(accepted.id(), v1::MESSAGE_STATUS_SENT, Seconds(15)));
  ASSERT_THAT(TypesOf(sent), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                         v1::EVENT_TYPE_ATTEMPT,
                                         v1::EVENT_TYPE_SENT));
  EXPECT_THAT(sent.events(0).detail(), HasSubstr("scheduled for"));
  const google::protobuf::Timestamp& attempted = sent.events(1).time();
  EXPECT_TRUE(attempted.seconds() > at.seconds() ||
              (attempted.seconds() == at.seconds() &&
               attempted.nanos() >= at.nanos()))
      << "attempted at " << attempted.DebugString() << " before "
      << at.DebugString();
}

TEST_F(SendTest, MultipleRecipientsAreDeliveredAndDuplicatesCollapsed) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendRequest request =
      MakeSend("a@example.com", "one@example.org", "Three", "Body");
  request.mutable_content()->add_to()->set_address("ONE@example.org");
  request.mutable_content()->add_cc()->set_address("two@example.org");
  request.mutable_content()->add_bcc()->set_address("hidden@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Message accepted, client.Send(request));
  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.WaitForStatus(accepted.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_THAT(sent.recipients(), SizeIs(3));
  EXPECT_EQ(sent.recipients(0).kind(), v1::RECIPIENT_KIND_TO);
  EXPECT_EQ(sent.recipients(1).kind(), v1::RECIPIENT_KIND_CC);
  EXPECT_EQ(sent.recipients(2).kind(), v1::RECIPIENT_KIND_BCC);
  std::optional<std::string> eml = ReadFile(server().OutboxFile(sent.id()));
  ASSERT_TRUE(eml.has_value());
  EXPECT_THAT(*eml, HasSubstr("hidden@example.org"));  // envelope only
  // Bcc recipients are in the envelope, never in a header.
  EXPECT_THAT(eml->substr(eml->find("\r\n") + 2), Not(HasSubstr("Bcc:")));
}

}  // namespace
}  // namespace deliverd::e2e
