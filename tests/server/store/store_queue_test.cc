// Conformance: the delivery queue — ClaimDueMessages, RecordDelivery,
// NextDueTime.
#include <cstdint>
#include <future>
#include <map>
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
class QueueTest : public StoreTest<F> {
 protected:
  // A message of `tenant` next due at `due`.
  std::string AddDue(int64_t tenant, absl::Time due,
                     std::vector<std::string> to = {"rcpt@example.org"}) {
    NewMessage item = this->MakeMessage(tenant, T0() - absl::Hours(1), to);
    item.message.next_attempt_time = due;
    inserted_[item.message.id] = item.message;
    return this->InsertOne(item);
  }

  std::vector<Message> Claim(const std::string& owner, absl::Time now,
                             absl::Duration lease, int limit) {
    absl::StatusOr<std::vector<Message>> claimed =
        this->store().ClaimDueMessages(owner, now, lease, limit);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    return claimed.ok() ? *std::move(claimed) : std::vector<Message>();
  }

  static std::set<std::string> IdSet(const std::vector<Message>& messages) {
    std::set<std::string> ids;
    for (const Message& m : messages) ids.insert(m.id);
    return ids;
  }

  absl::Time NextDue() {
    absl::StatusOr<absl::Time> next = this->store().NextDueTime();
    EXPECT_TRUE(next.ok()) << next.status();
    return next.value_or(absl::InfinitePast());
  }

  // A successful attempt that leaves the message final.
  DeliveryUpdate Final(const Message& m, const std::string& owner) {
    DeliveryUpdate u;
    u.tenant_id = m.tenant_id;
    u.message_id = m.id;
    u.lease_owner = owner;
    u.status = MessageStatus::kSent;
    u.recipients = m.recipients;
    for (Recipient& r : u.recipients) r.status = MessageStatus::kSent;
    u.next_attempt_time = absl::InfiniteFuture();
    u.attempt_count = m.attempt_count + 1;
    return u;
  }

  std::map<std::string, Message> inserted_;
};
TYPED_TEST_SUITE(QueueTest, StoreFactories, FactoryName);

TYPED_TEST(QueueTest, ClaimsOnlyDueMessagesWithContentAndRecipients) {
  int64_t acme = this->MakeTenant("acme");
  int64_t globex = this->MakeTenant("globex");
  std::string past = this->AddDue(acme, T0() - absl::Minutes(1),
                                  {"a@example.org", "b@example.org"});
  std::string exactly_now = this->AddDue(globex, T0());
  std::string later = this->AddDue(acme, T0() + absl::Microseconds(1));
  std::string never = this->AddDue(acme, absl::InfiniteFuture());

  std::vector<Message> claimed =
      this->Claim("worker-1", T0(), absl::Seconds(30), 100);
  EXPECT_EQ(this->IdSet(claimed), (std::set<std::string>{past, exactly_now}));
  for (const Message& m : claimed) {
    SCOPED_TRACE(m.id);
    const Message& want = this->inserted_[m.id];
    EXPECT_EQ(m.tenant_id, want.tenant_id);
    EXPECT_EQ(m.content, want.content);
    EXPECT_FALSE(m.content.empty());
    ExpectSameRecipients(want.recipients, m.recipients, false);
    EXPECT_EQ(m.next_attempt_time, want.next_attempt_time);
    EXPECT_EQ(m.from_address, want.from_address);
  }
  // Nothing else is due yet, for anyone.
  EXPECT_TRUE(this->Claim("worker-2", T0(), absl::Seconds(30), 100).empty());
  // `later` becomes due one microsecond on; `never` never does.
  std::vector<Message> next = this->Claim(
      "worker-2", T0() + absl::Microseconds(1), absl::Seconds(30), 100);
  EXPECT_EQ(this->IdSet(next), std::set<std::string>{later});
  // Far later every lease has expired: the three due ones come back, the
  // one with no next attempt never does.
  std::vector<Message> much_later = this->Claim(
      "worker-3", T0() + absl::Hours(24 * 365 * 100), absl::Seconds(30), 100);
  EXPECT_EQ(this->IdSet(much_later),
            (std::set<std::string>{past, exactly_now, later}))
      << never << " has no next attempt";
}

TYPED_TEST(QueueTest, LeaseBlocksOthersUntilItExpiresThenIsTakenOver) {
  int64_t acme = this->MakeTenant("acme");
  std::string a = this->AddDue(acme, T0());
  std::string b = this->AddDue(acme, T0());
  const absl::Duration lease = absl::Seconds(30);

  EXPECT_EQ(this->IdSet(this->Claim("w1", T0(), lease, 10)),
            (std::set<std::string>{a, b}));
  // Still leased: not for another owner, nor for the same one.
  EXPECT_TRUE(this->Claim("w2", T0(), lease, 10).empty());
  EXPECT_TRUE(this->Claim("w2", T0() + lease - absl::Seconds(1), lease, 10)
                  .empty());
  EXPECT_TRUE(this->Claim("w1", T0() + absl::Seconds(10), lease, 10).empty());

  // Expired: another owner takes both over, with a fresh lease.
  absl::Time later = T0() + lease + absl::Seconds(1);
  std::vector<Message> taken = this->Claim("w2", later, lease, 10);
  EXPECT_EQ(this->IdSet(taken), (std::set<std::string>{a, b}));
  EXPECT_TRUE(this->Claim("w1", later, lease, 10).empty());
  EXPECT_TRUE(this->Claim("w3", later + lease - absl::Seconds(1), lease, 10)
                  .empty());

  // The first owner lost its lease: its report is refused.
  Message m = this->Get(acme, a);
  absl::Status lost = this->store().RecordDelivery(this->Final(m, "w1"));
  EXPECT_EQ(lost.code(), absl::StatusCode::kFailedPrecondition) << lost;
  Message after = this->Get(acme, a);
  EXPECT_EQ(after.status, MessageStatus::kQueued);
  EXPECT_EQ(after.attempt_count, 0);
  // The new owner's report is applied.
  STORE_ASSERT_OK(this->store().RecordDelivery(this->Final(m, "w2")));
  EXPECT_EQ(this->Get(acme, a).status, MessageStatus::kSent);
}

TYPED_TEST(QueueTest, ClaimRespectsTheLimit) {
  int64_t acme = this->MakeTenant("acme");
  std::set<std::string> all;
  for (int i = 0; i < 5; ++i) {
    all.insert(this->AddDue(acme, T0() - absl::Seconds(i)));
  }
  std::set<std::string> claimed;
  for (size_t want : {2u, 2u, 1u, 0u}) {
    std::vector<Message> got =
        this->Claim("w", T0(), absl::Minutes(5), 2);
    EXPECT_EQ(got.size(), want);
    for (const Message& m : got) {
      EXPECT_TRUE(claimed.insert(m.id).second) << "claimed twice: " << m.id;
    }
  }
  EXPECT_EQ(claimed, all);
}

TYPED_TEST(QueueTest, ConcurrentClaimersNeverShareAMessage) {
  int64_t acme = this->MakeTenant("acme");
  constexpr int kMessages = 200;
  constexpr int kThreads = 8;
  std::set<std::string> all;
  std::vector<NewMessage> batch;
  for (int i = 0; i < kMessages; ++i) {
    batch.push_back(this->MakeMessage(acme, T0() - absl::Seconds(i % 13)));
    all.insert(batch.back().message.id);
  }
  this->InsertAll(std::move(batch));

  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.wait();
      std::string owner = absl::StrCat("worker-", t);
      for (int round = 0; round < kMessages + 1; ++round) {
        absl::StatusOr<std::vector<Message>> claimed =
            this->store().ClaimDueMessages(owner, T0(), absl::Hours(1), 7);
        if (!claimed.ok()) {
          errors[t] = claimed.status().ToString();
          return;
        }
        if (claimed->empty()) return;  // every due message is leased
        for (const Message& m : *claimed) got[t].push_back(m.id);
      }
    });
  }
  go.set_value();
  for (std::thread& t : threads) t.join();

  std::map<std::string, int> times;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    for (const std::string& id : got[t]) ++times[id];
  }
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << id << " claimed " << n;
  EXPECT_EQ(times.size(), all.size());
  for (const std::string& id : all) EXPECT_EQ(times.count(id), 1u) << id;
}

TYPED_TEST(QueueTest, RecordDeliveryAppliesTheAttempt) {
  int64_t acme = this->MakeTenant("acme");
  NewMessage item = this->MakeMessage(
      acme, T0(), {"ok@example.org", "soft@example.org", "hard@example.org"});
  item.message.tags = {"receipts"};
  item.message.stream = "transactional";
  const Message original = item.message;
  std::string id = this->InsertOne(item);

  std::vector<Message> claimed =
      this->Claim("w1", T0(), absl::Hours(1), 10);
  ASSERT_EQ(claimed.size(), 1u);

  DeliveryUpdate u;
  u.tenant_id = acme;
  u.message_id = id;
  u.lease_owner = "w1";
  u.status = MessageStatus::kWaiting;
  u.recipients = claimed[0].recipients;
  u.recipients[0].status = MessageStatus::kSent;
  u.recipients[0].detail = "accepted";
  u.recipients[0].last_reply = {250, "2.0.0", "queued as ABC", "mx1.example.org"};
  u.recipients[1].status = MessageStatus::kWaiting;
  u.recipients[1].detail = "greylisted";
  u.recipients[1].last_reply = {451, "4.7.1", "try later", "mx2.example.org"};
  u.recipients[2].status = MessageStatus::kBounced;
  u.recipients[2].detail = "no such user";
  u.recipients[2].last_reply = {550, "5.1.1", "user unknown", "mx3.example.org"};
  u.next_attempt_time = T0() + absl::Minutes(10) + absl::Microseconds(5);
  u.attempt_count = 1;
  Event attempt;
  attempt.tenant_id = acme;
  attempt.message_id = id;
  attempt.type = EventType::kAttempt;
  attempt.time = T0() + absl::Microseconds(10);
  attempt.source = "smtp";
  Event bounced = attempt;
  bounced.type = EventType::kBounced;
  bounced.time = T0() + absl::Microseconds(20);
  bounced.recipient = "hard@example.org";
  bounced.detail = "hard bounce";
  bounced.reply = u.recipients[2].last_reply;
  u.events = {attempt, bounced};
  Suppression s;
  s.tenant_id = acme;
  s.address = "hard@example.org";
  s.reason = SuppressionReason::kHardBounce;
  s.create_time = T0() + absl::Microseconds(20);
  s.source_message = id;
  s.evidence = "550 5.1.1 user unknown";
  u.new_suppressions = {s};
  STORE_ASSERT_OK(this->store().RecordDelivery(u));

  Message got = this->Get(acme, id, /*with_content=*/true);
  EXPECT_EQ(got.status, MessageStatus::kWaiting);
  EXPECT_EQ(got.next_attempt_time, u.next_attempt_time);
  EXPECT_EQ(got.attempt_count, 1);
  ExpectSameRecipients(u.recipients, got.recipients, /*compare_replies=*/true);
  // Untouched fields stay.
  EXPECT_EQ(got.content, original.content);
  EXPECT_EQ(got.tags, original.tags);
  EXPECT_EQ(got.create_time, original.create_time);
  EXPECT_EQ(got.subject, original.subject);

  std::vector<Event> events = this->EventsOf(acme, id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, EventType::kQueued);
  ExpectSameEvent(attempt, {"receipts"}, events[1]);
  ExpectSameEvent(bounced, {"receipts"}, events[2]);

  STORE_ASSERT_OK_AND_ASSIGN(
      auto found, this->store().FindSuppressions(acme, {"hard@example.org"},
                                                 "transactional", T0()));
  ASSERT_EQ(found.size(), 1u);
  ASSERT_TRUE(found[0].has_value());
  EXPECT_EQ(found[0]->reason, SuppressionReason::kHardBounce);
  EXPECT_EQ(found[0]->source_message, id);
  EXPECT_EQ(found[0]->evidence, "550 5.1.1 user unknown");

  // The lease is gone: due again at next_attempt_time (well inside the old
  // one-hour lease), for any owner; not before.
  EXPECT_TRUE(
      this->Claim("w2", T0() + absl::Minutes(9), absl::Hours(1), 10).empty());
  std::vector<Message> again =
      this->Claim("w2", u.next_attempt_time, absl::Hours(1), 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, id);
  EXPECT_EQ(again[0].attempt_count, 1);
  ExpectSameRecipients(u.recipients, again[0].recipients, true);
}

TYPED_TEST(QueueTest, FinalDeliveryIsNeverClaimedAgain) {
  int64_t acme = this->MakeTenant("acme");
  std::string id = this->AddDue(acme, T0());
  std::vector<Message> claimed = this->Claim("w1", T0(), absl::Minutes(1), 10);
  ASSERT_EQ(claimed.size(), 1u);
  STORE_ASSERT_OK(this->store().RecordDelivery(this->Final(claimed[0], "w1")));
  Message got = this->Get(acme, id);
  EXPECT_EQ(got.status, MessageStatus::kSent);
  EXPECT_EQ(got.next_attempt_time, absl::InfiniteFuture());
  EXPECT_EQ(got.attempt_count, 1);
  EXPECT_TRUE(this->Claim("w2", T0() + absl::Hours(24 * 365), absl::Minutes(1),
                          10)
                  .empty());
  EXPECT_EQ(this->NextDue(), absl::InfiniteFuture());
}

TYPED_TEST(QueueTest, RecordDeliveryWithoutTheLeaseChangesNothing) {
  int64_t acme = this->MakeTenant("acme");
  int64_t globex = this->MakeTenant("globex");
  std::string unclaimed = this->AddDue(acme, T0() + absl::Hours(1));
  std::string leased = this->AddDue(acme, T0());
  std::vector<Message> claimed = this->Claim("w1", T0(), absl::Hours(1), 10);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_EQ(claimed[0].id, leased);
  size_t events_before = this->EventsOf(acme, leased).size();

  auto refused = [&](DeliveryUpdate u, const std::string& why) {
    SCOPED_TRACE(why);
    u.status = MessageStatus::kBounced;
    u.attempt_count = 9;
    u.next_attempt_time = absl::InfiniteFuture();
    for (Recipient& r : u.recipients) {
      r.status = MessageStatus::kBounced;
      r.detail = "should not be stored";
    }
    Event e;
    e.tenant_id = acme;
    e.message_id = u.message_id;
    e.type = EventType::kBounced;
    e.time = T0();
    u.events = {e};
    Suppression s;
    s.tenant_id = acme;
    s.address = "rcpt@example.org";
    s.reason = SuppressionReason::kHardBounce;
    u.new_suppressions = {s};
    absl::Status status = this->store().RecordDelivery(u);
    EXPECT_FALSE(status.ok());
    if (u.tenant_id == acme) {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition)
          << status;
    }
  };
  DeliveryUpdate u = this->Final(claimed[0], "w2");
  refused(u, "another owner");
  u.lease_owner = "";
  refused(u, "no owner");
  u.lease_owner = "w1";
  u.tenant_id = globex;
  refused(u, "the owner, but naming another tenant");
  Message never = this->Get(acme, unclaimed);
  refused(this->Final(never, "w1"), "a message nobody claimed");

  for (const std::string& id : {leased, unclaimed}) {
    SCOPED_TRACE(id);
    Message m = this->Get(acme, id);
    EXPECT_EQ(m.status, MessageStatus::kQueued);
    EXPECT_EQ(m.attempt_count, 0);
    EXPECT_NE(m.next_attempt_time, absl::InfiniteFuture());
    for (const Recipient& r : m.recipients) {
      EXPECT_EQ(r.status, MessageStatus::kQueued);
      EXPECT_EQ(r.detail, "");
    }
  }
  EXPECT_EQ(this->EventsOf(acme, leased).size(), events_before);
  EXPECT_EQ(this->EventsOf(acme, unclaimed).size(), 1u);
  STORE_ASSERT_OK_AND_ASSIGN(
      auto found,
      this->store().FindSuppressions(acme, {"rcpt@example.org"}, "", T0()));
  EXPECT_FALSE(found.at(0).has_value()) << "a refused update's suppression";

  // The owner still holds its lease and can report.
  STORE_ASSERT_OK(this->store().RecordDelivery(this->Final(claimed[0], "w1")));
  // Once reported, the lease is released: a second report is refused.
  absl::Status twice =
      this->store().RecordDelivery(this->Final(claimed[0], "w1"));
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition) << twice;
  EXPECT_EQ(this->Get(acme, leased).attempt_count, 1);
}

TYPED_TEST(QueueTest, NextDueTimeFollowsDueAndLeasedMessages) {
  EXPECT_EQ(this->NextDue(), absl::InfiniteFuture());
  int64_t acme = this->MakeTenant("acme");
  int64_t globex = this->MakeTenant("globex");
  this->AddDue(acme, absl::InfiniteFuture());
  EXPECT_EQ(this->NextDue(), absl::InfiniteFuture());

  std::string ten = this->AddDue(acme, T0() + absl::Minutes(10));
  EXPECT_EQ(this->NextDue(), T0() + absl::Minutes(10));
  std::string five = this->AddDue(globex, T0() + absl::Minutes(5));
  EXPECT_EQ(this->NextDue(), T0() + absl::Minutes(5)) << "across tenants";

  // Leasing the earliest: it is not due again before its lease ends.
  std::vector<Message> claimed =
      this->Claim("w", T0() + absl::Minutes(5), absl::Hours(1), 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, five);
  EXPECT_EQ(this->NextDue(), T0() + absl::Minutes(10));
  std::vector<Message> claimed2 =
      this->Claim("w", T0() + absl::Minutes(10), absl::Hours(1), 10);
  ASSERT_EQ(claimed2.size(), 1u);
  // Both leased: the earliest lease end.
  EXPECT_EQ(this->NextDue(), T0() + absl::Minutes(65));

  // A retry scheduled earlier than any lease end.
  DeliveryUpdate retry = this->Final(claimed[0], "w");
  retry.status = MessageStatus::kWaiting;
  retry.next_attempt_time = T0() + absl::Minutes(20);
  STORE_ASSERT_OK(this->store().RecordDelivery(retry));
  EXPECT_EQ(this->NextDue(), T0() + absl::Minutes(20));

  STORE_ASSERT_OK(this->store().RecordDelivery(this->Final(claimed2[0], "w")));
  EXPECT_EQ(this->NextDue(), T0() + absl::Minutes(20));
  claimed = this->Claim("w", T0() + absl::Minutes(20), absl::Hours(1), 10);
  ASSERT_EQ(claimed.size(), 1u);
  STORE_ASSERT_OK(this->store().RecordDelivery(this->Final(claimed[0], "w")));
  EXPECT_EQ(this->NextDue(), absl::InfiniteFuture());
}

TYPED_TEST(QueueTest, ReleaseAllLeasesMakesClaimedMessagesDueAgain) {
  int64_t acme = this->MakeTenant("acme");
  std::string id = this->AddDue(acme, T0() - absl::Minutes(1));
  ASSERT_EQ(this->Claim("dead-process", T0(), absl::Minutes(5), 10).size(), 1u);
  EXPECT_TRUE(this->Claim("successor", T0(), absl::Minutes(5), 10).empty());
  ASSERT_TRUE(this->store().ReleaseAllLeases().ok());
  std::vector<Message> claimed =
      this->Claim("successor", T0(), absl::Minutes(5), 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
  // The dead owner's report is refused: the lease is no longer its.
  EXPECT_EQ(this->store().RecordDelivery(this->Final(claimed[0], "dead-process"))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST(QueueTest, SuppressionOverrideRoundTrips) {
  int64_t acme = this->MakeTenant("acme");
  NewMessage item = this->MakeMessage(acme, T0(), {"a@example.org",
                                                   "b@example.org"});
  item.message.recipients[1].suppression_override = true;
  item.message.next_attempt_time = T0();
  this->InsertOne(item);
  std::vector<Message> claimed = this->Claim("w", T0(), absl::Minutes(1), 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_FALSE(claimed[0].recipients[0].suppression_override);
  EXPECT_TRUE(claimed[0].recipients[1].suppression_override);
}

}  // namespace
}  // namespace deliverd::store::conformance
