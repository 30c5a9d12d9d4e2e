// Conformance: InsertMessages / InsertMessagesAndWait, GetMessage,
// MessageEvents, related events, idempotency and group commit.
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class MessagesTest : public StoreTest<F> {};
TYPED_TEST_SUITE(MessagesTest, StoreFactories, FactoryName);

std::string AllBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

// A message with every field set to something distinctive.
NewMessage FullMessage(int64_t tenant_id, const std::string& id) {
  NewMessage item;
  Message& m = item.message;
  m.id = id;
  m.tenant_id = tenant_id;
  m.status = MessageStatus::kWaiting;
  m.from_address = "Billing@Example.com";
  m.from_name = "Zoë Billing \"Team\"";
  m.subject = "Your invoice — №42, 100% paid";
  m.tags = {"invoice", "b2b", "eu-west"};
  m.metadata = AllBytes() + std::string("\0end\0", 5);
  m.stream = "transactional";
  m.create_time = T0() + absl::Microseconds(1);
  m.update_time = T0() + absl::Seconds(3) + absl::Microseconds(654321);
  m.next_attempt_time = T0() + absl::Minutes(5) + absl::Microseconds(7);
  m.attempt_count = 2;
  m.resend_of = "m_original";
  m.rfc822_message_id = "<20231114.abc@mail.example.com>";
  m.size_bytes = 123456789012;
  m.request_id = "req-full-1";
  m.content = std::string("\x00\x01content\xff\xfe", 11) + AllBytes();
  Recipient to{"alice@example.org", RecipientKind::kTo, MessageStatus::kQueued,
               "", {}};
  Recipient cc{"bob@example.org", RecipientKind::kCc, MessageStatus::kWaiting,
               "451 4.7.1 greylisted", {}};
  Recipient bcc{"carol@example.org", RecipientKind::kBcc,
                MessageStatus::kSuppressed, "on the suppression list", {}};
  // Deliberately not in alphabetical order: order must be kept.
  m.recipients = {cc, to, bcc};
  item.request_hash = std::string("\x00hash\xff", 6);

  Event queued;
  queued.tenant_id = tenant_id;
  queued.message_id = id;
  queued.type = EventType::kQueued;
  queued.time = m.create_time;
  queued.source = "api";
  queued.detail = "accepted";
  Event suppressed;
  suppressed.tenant_id = tenant_id;
  suppressed.message_id = id;
  suppressed.type = EventType::kSuppressed;
  suppressed.time = m.create_time + absl::Microseconds(999);
  suppressed.recipient = "carol@example.org";
  suppressed.source = "suppression-list";
  suppressed.detail = "complaint on 2023-10-01";
  suppressed.reply = Reply{550, "5.7.1", "rejected by policy", "mx.example.org"};
  item.events = {queued, suppressed};
  return item;
}

TYPED_TEST(MessagesTest, EveryFieldRoundTrips) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage item = FullMessage(tenant, "m_full");
  const Message want = item.message;
  EXPECT_EQ(this->InsertOne(item), "m_full");

  STORE_ASSERT_OK_AND_ASSIGN(
      Message got, this->store().GetMessage(tenant, "m_full", false));
  ExpectSameMessage(want, got, /*with_content=*/false);

  STORE_ASSERT_OK_AND_ASSIGN(
      Message with_content, this->store().GetMessage(tenant, "m_full", true));
  ExpectSameMessage(want, with_content, /*with_content=*/true);
  EXPECT_EQ(with_content.row_id, got.row_id);
}

// Regression: the recipient INSERT once dropped Recipient::last_reply, so a
// message inserted with a reply read back with an empty one.
TYPED_TEST(MessagesTest, RecipientLastReplyRoundTripsOnInsert) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage item = this->MakeMessage(tenant, T0(), {"a@example.org",
                                                     "b@example.org"});
  item.message.recipients[0].last_reply =
      Reply{421, "4.4.2", "connection dropped", "mx1.example.org"};
  item.message.recipients[1].last_reply =
      Reply{250, "2.0.0", "ok: queued as 1234", "mx2.example.org"};
  const Message want = item.message;
  std::string id = this->InsertOne(item);
  Message got = this->Get(tenant, id);
  ASSERT_EQ(got.recipients.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(absl::StrCat(
        "STORE BUG: InsertMessages drops Recipient::last_reply; recipient #",
        i));
    ExpectSameReply(want.recipients[i].last_reply, got.recipients[i].last_reply);
  }
}

TYPED_TEST(MessagesTest, NeverDueAndEmptyFieldsRoundTrip) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage item = this->MakeMessage(tenant, T0());
  item.message.status = MessageStatus::kConfirmed;
  item.message.next_attempt_time = absl::InfiniteFuture();
  item.message.tags.clear();
  item.message.metadata.clear();
  item.message.content.clear();
  item.events.clear();
  const Message want = item.message;
  std::string id = this->InsertOne(item);

  Message got = this->Get(tenant, id, /*with_content=*/true);
  ExpectSameMessage(want, got, /*with_content=*/true);
  EXPECT_EQ(got.next_attempt_time, absl::InfiniteFuture());
  EXPECT_TRUE(got.tags.empty());
  EXPECT_TRUE(this->EventsOf(tenant, id).empty());
}

TYPED_TEST(MessagesTest, GetUnknownMessageIsNotFound) {
  int64_t tenant = this->MakeTenant("acme");
  absl::StatusOr<Message> m = this->store().GetMessage(tenant, "m_nope", true);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound) << m.status();
}

TYPED_TEST(MessagesTest, EventsComeBackInOrderWithTheMessagesTags) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage item = FullMessage(tenant, "m_full");
  // The store stamps the message's tags, whatever the event carried.
  item.events[0].tags = {"ignored"};
  const std::vector<Event> want = item.events;
  this->InsertOne(item);

  std::vector<Event> got = this->EventsOf(tenant, "m_full");
  ASSERT_EQ(got.size(), 2u);
  ExpectSameEvent(want[0], {"invoice", "b2b", "eu-west"}, got[0]);
  ExpectSameEvent(want[1], {"invoice", "b2b", "eu-west"}, got[1]);
  EXPECT_LT(got[0].id, got[1].id);
}

TYPED_TEST(MessagesTest, OutcomesAreInBatchOrder) {
  int64_t tenant = this->MakeTenant("acme");
  std::vector<NewMessage> batch;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(this->MakeMessage(tenant, T0() + absl::Seconds(i)));
    ids.push_back(batch.back().message.id);
  }
  std::vector<InsertOutcome> outcomes = this->InsertAll(batch);
  ASSERT_EQ(outcomes.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(outcomes[i].message_id, ids[i]);
    EXPECT_FALSE(outcomes[i].replayed);
    EXPECT_EQ(this->Get(tenant, ids[i]).subject, batch[i].message.subject);
  }
}

TYPED_TEST(MessagesTest, EmptyBatchSucceedsWithNoOutcomes) {
  STORE_ASSERT_OK_AND_ASSIGN(std::vector<InsertOutcome> outcomes,
                             this->store().InsertMessagesAndWait({}));
  EXPECT_TRUE(outcomes.empty());
}

TYPED_TEST(MessagesTest, AsyncInsertCallsBackWithOutcomes) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage item = this->MakeMessage(tenant, T0());
  std::string id = item.message.id;
  std::promise<absl::StatusOr<std::vector<InsertOutcome>>> promise;
  std::vector<NewMessage> batch;
  batch.push_back(item);
  this->store().InsertMessages(
      std::move(batch),
      [&promise](absl::StatusOr<std::vector<InsertOutcome>> result) {
        promise.set_value(std::move(result));
      });
  auto future = promise.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  absl::StatusOr<std::vector<InsertOutcome>> result = future.get();
  STORE_ASSERT_OK(result);
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ((*result)[0].message_id, id);
  // Durable when reported: readable right away.
  EXPECT_EQ(this->Get(tenant, id).id, id);
}

TYPED_TEST(MessagesTest, RelatedEventsLandOnTheOtherMessageWithItsTags) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage original = this->MakeMessage(tenant, T0());
  original.message.tags = {"welcome", "signup"};
  std::string original_id = this->InsertOne(original);

  NewMessage resend = this->MakeMessage(tenant, T0() + absl::Hours(1));
  resend.message.tags = {"retry"};
  resend.message.resend_of = original_id;
  Event resent;
  resent.tenant_id = tenant;
  resent.message_id = original_id;
  resent.type = EventType::kResent;
  resent.time = T0() + absl::Hours(1);
  resent.source = "api";
  resent.detail = resend.message.id;
  resend.related_events.push_back(resent);
  std::string resend_id = this->InsertOne(resend);

  std::vector<Event> on_original = this->EventsOf(tenant, original_id);
  ASSERT_EQ(on_original.size(), 2u);
  EXPECT_EQ(on_original[0].type, EventType::kQueued);
  ExpectSameEvent(resent, {"welcome", "signup"}, on_original[1]);

  std::vector<Event> on_resend = this->EventsOf(tenant, resend_id);
  ASSERT_EQ(on_resend.size(), 1u);
  EXPECT_EQ(on_resend[0].type, EventType::kQueued);
  EXPECT_EQ(on_resend[0].tags, std::vector<std::string>{"retry"});
  EXPECT_EQ(this->Get(tenant, resend_id).resend_of, original_id);
}

TYPED_TEST(MessagesTest, BatchErrorCommitsNothing) {
  // Contract: `done` gets one outcome per item, or an error when nothing
  // was committed. A duplicate message id cannot be stored; whichever way
  // the store reports it, the report must match what was committed.
  int64_t tenant = this->MakeTenant("acme");
  NewMessage first = this->MakeMessage(tenant, T0());
  this->InsertOne(first);

  NewMessage fresh = this->MakeMessage(tenant, T0() + absl::Seconds(1));
  NewMessage duplicate = this->MakeMessage(tenant, T0() + absl::Seconds(2));
  duplicate.message.id = first.message.id;
  duplicate.message.subject = "not the first";
  absl::StatusOr<std::vector<InsertOutcome>> result =
      this->store().InsertMessagesAndWait({fresh, duplicate});
  absl::StatusOr<Message> fresh_got =
      this->store().GetMessage(tenant, fresh.message.id, false);
  if (!result.ok()) {
    EXPECT_EQ(fresh_got.status().code(), absl::StatusCode::kNotFound)
        << "batch reported " << result.status() << " but an item was stored";
    EXPECT_EQ(this->CountMessages(tenant), 1);
  } else {
    ASSERT_EQ(result->size(), 2u);
    EXPECT_TRUE((*result)[0].status.ok());
    EXPECT_FALSE((*result)[1].status.ok());
    EXPECT_TRUE(fresh_got.ok()) << fresh_got.status();
    EXPECT_EQ(this->CountMessages(tenant), 2);
  }
  // Either way the first message is untouched.
  EXPECT_EQ(this->Get(tenant, first.message.id).subject,
            first.message.subject);
  EXPECT_EQ(this->EventsOf(tenant, first.message.id).size(), 1u);
}

TYPED_TEST(MessagesTest, AFailingBatchUndoesOnlyItselfAmongConcurrentWrites) {
  // The writer commits whatever is queued at that moment together. Four
  // batches queued back to back usually share one commit (a large one
  // first, so the writer is still busy when the others arrive); the third
  // fails after its first item is written (a duplicate id), which must undo
  // that item and nothing of its neighbours. Whether or not they share a
  // commit, the outcome must be the same.
  int64_t tenant = this->MakeTenant("acme");
  NewMessage first = this->MakeMessage(tenant, T0());
  this->InsertOne(first);

  std::vector<NewMessage> large;
  for (int i = 0; i < 2000; ++i) {
    large.push_back(
        this->MakeMessage(tenant, T0() + absl::Milliseconds(10 + i)));
  }
  NewMessage before = this->MakeMessage(tenant, T0() + absl::Seconds(10));
  NewMessage fresh = this->MakeMessage(tenant, T0() + absl::Seconds(11));
  NewMessage duplicate = this->MakeMessage(tenant, T0() + absl::Seconds(12));
  duplicate.message.id = first.message.id;
  duplicate.message.subject = "not the first";
  NewMessage after = this->MakeMessage(tenant, T0() + absl::Seconds(13));

  // Shared with the callbacks, which may outlive a failed wait below.
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<absl::StatusOr<std::vector<InsertOutcome>>>>
        results{4};
  };
  auto shared = std::make_shared<Shared>();
  auto submit = [&](int slot, std::vector<NewMessage> batch) {
    this->store().InsertMessages(
        std::move(batch),
        [shared, slot](absl::StatusOr<std::vector<InsertOutcome>> result) {
          std::lock_guard<std::mutex> lock(shared->mu);
          shared->results[slot] = std::move(result);
          shared->cv.notify_all();
        });
  };
  submit(0, large);
  submit(1, {before});
  submit(2, {fresh, duplicate});
  submit(3, {after});
  std::vector<std::optional<absl::StatusOr<std::vector<InsertOutcome>>>>
      results;
  {
    std::unique_lock<std::mutex> lock(shared->mu);
    ASSERT_TRUE(shared->cv.wait_for(lock, std::chrono::seconds(60), [&] {
      for (const auto& r : shared->results) {
        if (!r.has_value()) return false;
      }
      return true;
    }));
    results = shared->results;
  }
  for (int slot : {0, 1, 3}) {
    STORE_ASSERT_OK(*results[slot]);
    for (const InsertOutcome& o : **results[slot]) {
      EXPECT_TRUE(o.status.ok()) << "batch " << slot << ": " << o.status;
    }
  }
  EXPECT_EQ(this->Get(tenant, before.message.id).id, before.message.id);
  EXPECT_EQ(this->Get(tenant, after.message.id).id, after.message.id);
  EXPECT_EQ(this->Get(tenant, large.back().message.id).id,
            large.back().message.id);

  const absl::StatusOr<std::vector<InsertOutcome>>& failed = *results[2];
  absl::StatusOr<Message> fresh_got =
      this->store().GetMessage(tenant, fresh.message.id, false);
  int stored_of_failed = 0;
  if (!failed.ok()) {
    EXPECT_EQ(fresh_got.status().code(), absl::StatusCode::kNotFound)
        << "batch reported " << failed.status() << " but an item was stored";
  } else {
    ASSERT_EQ(failed->size(), 2u);
    EXPECT_TRUE((*failed)[0].status.ok());
    EXPECT_FALSE((*failed)[1].status.ok());
    EXPECT_TRUE(fresh_got.ok()) << fresh_got.status();
    stored_of_failed = 1;
  }
  EXPECT_EQ(this->CountMessages(tenant), 1 + 2000 + 2 + stored_of_failed);
  EXPECT_EQ(this->Get(tenant, first.message.id).subject,
            first.message.subject);
  EXPECT_EQ(this->EventsOf(tenant, first.message.id).size(), 1u);
}

// ---------------------------------------------------------------------------
// Idempotency.

TYPED_TEST(MessagesTest, SameRequestIdAndHashReplaysTheFirstMessage) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage first = this->MakeMessage(tenant, T0());
  first.message.request_id = "req-1";
  first.request_hash = "hash-1";
  std::string first_id = this->InsertOne(first);

  NewMessage again = this->MakeMessage(tenant, T0() + absl::Minutes(10));
  again.message.request_id = "req-1";
  again.request_hash = "hash-1";
  std::vector<InsertOutcome> outcomes = this->InsertAll({again});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].replayed);
  EXPECT_EQ(outcomes[0].message_id, first_id);

  EXPECT_EQ(this->CountMessages(tenant), 1);
  absl::StatusOr<Message> second =
      this->store().GetMessage(tenant, again.message.id, false);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kNotFound);
  // The replay appended no events.
  EXPECT_EQ(this->EventsOf(tenant, first_id).size(), 1u);
  EXPECT_TRUE(this->EventsOf(tenant, again.message.id).empty());
}

TYPED_TEST(MessagesTest, SameRequestIdOtherHashFailsOnlyThatItem) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage first = this->MakeMessage(tenant, T0());
  first.message.request_id = "req-1";
  first.request_hash = "hash-1";
  std::string first_id = this->InsertOne(first);

  NewMessage before = this->MakeMessage(tenant, T0() + absl::Seconds(1));
  NewMessage conflicting = this->MakeMessage(tenant, T0() + absl::Seconds(2));
  conflicting.message.request_id = "req-1";
  conflicting.request_hash = "hash-2";
  NewMessage after = this->MakeMessage(tenant, T0() + absl::Seconds(3));
  after.message.request_id = "req-2";
  after.request_hash = "hash-3";

  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<InsertOutcome> outcomes,
      this->store().InsertMessagesAndWait({before, conflicting, after}));
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].status.ok()) << outcomes[0].status;
  EXPECT_EQ(outcomes[0].message_id, before.message.id);
  EXPECT_EQ(outcomes[1].status.code(), absl::StatusCode::kInvalidArgument)
      << outcomes[1].status;
  EXPECT_FALSE(outcomes[1].replayed);
  EXPECT_TRUE(outcomes[2].status.ok()) << outcomes[2].status;
  EXPECT_EQ(outcomes[2].message_id, after.message.id);

  EXPECT_EQ(this->Get(tenant, before.message.id).id, before.message.id);
  EXPECT_EQ(this->Get(tenant, after.message.id).id, after.message.id);
  absl::StatusOr<Message> refused =
      this->store().GetMessage(tenant, conflicting.message.id, false);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->CountMessages(tenant), 3);
  // The refused item left the original's record alone: it still replays.
  NewMessage replay = this->MakeMessage(tenant, T0() + absl::Seconds(4));
  replay.message.request_id = "req-1";
  replay.request_hash = "hash-1";
  std::vector<InsertOutcome> replayed = this->InsertAll({replay});
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_TRUE(replayed[0].replayed);
  EXPECT_EQ(replayed[0].message_id, first_id);
}

TYPED_TEST(MessagesTest, RequestIdsAreScopedToTheTenant) {
  int64_t acme = this->MakeTenant("acme");
  int64_t globex = this->MakeTenant("globex");
  NewMessage a = this->MakeMessage(acme, T0());
  a.message.request_id = "req-1";
  a.request_hash = "hash-1";
  NewMessage b = this->MakeMessage(globex, T0() + absl::Seconds(1));
  b.message.request_id = "req-1";
  b.request_hash = "hash-other";  // would be refused within one tenant
  std::string a_id = this->InsertOne(a);
  std::string b_id = this->InsertOne(b);
  EXPECT_EQ(a_id, a.message.id);
  EXPECT_EQ(b_id, b.message.id);
  EXPECT_EQ(this->CountMessages(acme), 1);
  EXPECT_EQ(this->CountMessages(globex), 1);

  // A's request (same id, same hash) sent by globex is not a replay of A's
  // message either.
  NewMessage c = this->MakeMessage(globex, T0() + absl::Seconds(2));
  c.message.request_id = "req-1";
  c.request_hash = "hash-1";
  STORE_ASSERT_OK_AND_ASSIGN(std::vector<InsertOutcome> outcomes,
                             this->store().InsertMessagesAndWait({c}));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].replayed) << "replayed another tenant's message";
  EXPECT_NE(outcomes[0].message_id, a_id);
  // Within globex, req-1 was used by b with another hash: refused there.
  EXPECT_EQ(outcomes[0].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->CountMessages(acme), 1);
}

TYPED_TEST(MessagesTest, ExpiredIdempotencyRecordDoesNotReplay) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage old = this->MakeMessage(
      tenant, T0() - kIdempotencyWindow - absl::Hours(1));
  old.message.request_id = "req-1";
  old.request_hash = "hash-1";
  std::string old_id = this->InsertOne(old);

  NewMessage now = this->MakeMessage(tenant, T0());
  now.message.request_id = "req-1";
  now.request_hash = "hash-1";
  std::vector<InsertOutcome> outcomes = this->InsertAll({now});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].replayed);
  EXPECT_EQ(outcomes[0].message_id, now.message.id);
  EXPECT_EQ(this->CountMessages(tenant), 2);

  // Outside the window even a different body is accepted...
  NewMessage other_body = this->MakeMessage(tenant, T0() + 2 * kIdempotencyWindow);
  other_body.message.request_id = "req-1";
  other_body.request_hash = "hash-2";
  outcomes = this->InsertAll({other_body});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].status.ok()) << outcomes[0].status;
  EXPECT_FALSE(outcomes[0].replayed);
  EXPECT_EQ(this->CountMessages(tenant), 3);

  // ...and the newest message is what the request id now replays.
  NewMessage replay =
      this->MakeMessage(tenant, T0() + 2 * kIdempotencyWindow + absl::Hours(1));
  replay.message.request_id = "req-1";
  replay.request_hash = "hash-2";
  outcomes = this->InsertAll({replay});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].replayed);
  EXPECT_EQ(outcomes[0].message_id, other_body.message.id);
}

TYPED_TEST(MessagesTest, IdempotencyRecordInsideTheWindowReplays) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage old = this->MakeMessage(
      tenant, T0() - kIdempotencyWindow + absl::Minutes(1));
  old.message.request_id = "req-1";
  old.request_hash = "hash-1";
  std::string old_id = this->InsertOne(old);

  NewMessage now = this->MakeMessage(tenant, T0());
  now.message.request_id = "req-1";
  now.request_hash = "hash-1";
  std::vector<InsertOutcome> outcomes = this->InsertAll({now});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].replayed);
  EXPECT_EQ(outcomes[0].message_id, old_id);
  EXPECT_EQ(this->CountMessages(tenant), 1);
}

TYPED_TEST(MessagesTest, SameRequestIdTwiceInOneBatchReplaysTheFirst) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage a = this->MakeMessage(tenant, T0());
  a.message.request_id = "req-1";
  a.request_hash = "hash-1";
  NewMessage b = this->MakeMessage(tenant, T0());
  b.message.request_id = "req-1";
  b.request_hash = "hash-1";
  NewMessage c = this->MakeMessage(tenant, T0());
  c.message.request_id = "req-1";
  c.request_hash = "hash-2";
  STORE_ASSERT_OK_AND_ASSIGN(std::vector<InsertOutcome> outcomes,
                             this->store().InsertMessagesAndWait({a, b, c}));
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].status.ok());
  EXPECT_FALSE(outcomes[0].replayed);
  EXPECT_EQ(outcomes[0].message_id, a.message.id);
  EXPECT_TRUE(outcomes[1].status.ok());
  EXPECT_TRUE(outcomes[1].replayed);
  EXPECT_EQ(outcomes[1].message_id, a.message.id);
  EXPECT_EQ(outcomes[2].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->CountMessages(tenant), 1);
}

TYPED_TEST(MessagesTest, ConcurrentSameRequestIdStoresOneMessage) {
  int64_t tenant = this->MakeTenant("acme");
  constexpr int kThreads = 8;
  std::vector<NewMessage> items;
  for (int i = 0; i < kThreads; ++i) {
    items.push_back(this->MakeMessage(tenant, T0()));
    items.back().message.request_id = "req-race";
    items.back().request_hash = "hash-race";
  }
  std::vector<absl::StatusOr<std::vector<InsertOutcome>>> results(
      kThreads, absl::UnknownError("not run"));
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.wait();
      results[i] = this->store().InsertMessagesAndWait({items[i]});
    });
  }
  go.set_value();
  for (std::thread& t : threads) t.join();

  std::set<std::string> ids;
  int fresh = 0;
  for (int i = 0; i < kThreads; ++i) {
    STORE_ASSERT_OK(results[i]);
    ASSERT_EQ(results[i]->size(), 1u);
    const InsertOutcome& o = (*results[i])[0];
    EXPECT_TRUE(o.status.ok()) << o.status;
    ids.insert(o.message_id);
    if (!o.replayed) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(this->CountMessages(tenant), 1);
}

// ---------------------------------------------------------------------------
// Group commit under concurrency.

TYPED_TEST(MessagesTest, ConcurrentInsertsAreAllStoredExactlyOnce) {
  int64_t tenant = this->MakeTenant("acme");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;

  // Build every item up front (MakeMessage is not thread-safe).
  std::vector<std::vector<NewMessage>> work(kThreads);
  std::set<std::string> want_ids;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      work[t].push_back(this->MakeMessage(
          tenant, T0() + absl::Milliseconds(t * kPerThread + i)));
      want_ids.insert(work[t].back().message.id);
    }
  }

  std::mutex mu;
  std::condition_variable cv;
  int callbacks = 0;
  std::map<std::string, int> acknowledged;  // id -> times acknowledged
  std::vector<std::string> errors;

  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.wait();
      for (NewMessage& item : work[t]) {
        std::string id = item.message.id;
        std::vector<NewMessage> batch;
        batch.push_back(std::move(item));
        this->store().InsertMessages(
            std::move(batch),
            [&, id](absl::StatusOr<std::vector<InsertOutcome>> result) {
              std::lock_guard<std::mutex> lock(mu);
              if (!result.ok()) {
                errors.push_back(absl::StrCat(id, ": ",
                                              result.status().ToString()));
              } else if (result->size() != 1 || (*result)[0].message_id != id ||
                         !(*result)[0].status.ok() || (*result)[0].replayed) {
                errors.push_back(absl::StrCat(id, ": wrong outcome"));
              } else {
                ++acknowledged[id];
              }
              ++callbacks;
              cv.notify_all();
            });
      }
    });
  }
  go.set_value();
  for (std::thread& t : threads) t.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] {
      return callbacks == kThreads * kPerThread;
    })) << "only " << callbacks << " callbacks";
  }
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: "
                              << errors.front();
  EXPECT_EQ(acknowledged.size(), want_ids.size());
  for (const auto& [id, times] : acknowledged) EXPECT_EQ(times, 1) << id;

  std::vector<Message> stored = this->ListAll(tenant, {}, 500);
  std::vector<std::string> stored_ids = IdsOf(stored);
  std::set<std::string> stored_set(stored_ids.begin(), stored_ids.end());
  EXPECT_EQ(stored_ids.size(), want_ids.size()) << "duplicates or losses";
  EXPECT_EQ(stored_set, want_ids);
  // Every message's own event was stored once too.
  STORE_ASSERT_OK_AND_ASSIGN(
      EventBatch events,
      this->store().ReadEvents(tenant, 0, {}, kThreads * kPerThread + 10));
  EXPECT_EQ(events.events.size(), want_ids.size());
}

}  // namespace
}  // namespace deliverd::store::conformance
