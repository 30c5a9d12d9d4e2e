#include "server/delivery/dispatcher.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "deliverd/v1/messages.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/forwarding_store.h"
#include "server/store/sqlite_store.h"

namespace deliverd::delivery {
namespace {

using ::testing::HasSubstr;
using store::MessageStatus;

// A transport whose answer the test chooses, recording what it was given.
class ScriptedTransport : public Transport {
 public:
  absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                       absl::string_view data) override {
    std::lock_guard<std::mutex> lock(mu_);
    envelopes.push_back(envelope);
    messages.emplace_back(data);
    if (!fail_all.ok()) return fail_all;
    TransportResult result;
    result.detail = "scripted";
    for (const std::string& rcpt : envelope.rcpt_to) {
      RecipientOutcome o;
      o.address = rcpt;
      auto it = per_recipient.find(rcpt);
      o.outcome = it == per_recipient.end() ? Outcome::kAccepted : it->second;
      o.reply.code = o.outcome == Outcome::kAccepted    ? 250
                     : o.outcome == Outcome::kTransient ? 451
                                                        : 550;
      o.reply.text = "reply for " + rcpt;
      auto scripted = replies.find(rcpt);
      if (scripted != replies.end()) o.reply = scripted->second;
      result.recipients.push_back(o);
    }
    return result;
  }
  std::string name() const override { return "scripted"; }

  std::mutex mu_;
  absl::Status fail_all;
  std::map<std::string, Outcome> per_recipient;
  std::map<std::string, store::Reply> replies;
  std::vector<Envelope> envelopes;
  std::vector<std::string> messages;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dispatcher-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = *store::SqliteStore::Open(dir_ + "/db");
    tenant_ = *store_->CreateTenant("t");
    DispatcherOptions options;
    options.owner = "test";
    dispatcher_ = std::make_unique<Dispatcher>(store_.get(), &transport_,
                                               options);
  }
  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Queues a message to `to` and claims it, as the worker loop would.
  store::Message QueueAndClaim(const std::vector<std::string>& to) {
    Queue(to);
    auto claimed = store_->ClaimDueMessages("test", absl::Now(),
                                            absl::Minutes(5), 10);
    EXPECT_TRUE(claimed.ok());
    EXPECT_EQ(claimed->size(), 1u);
    return claimed->front();
  }

  // Queues a message to `to`; returns its id.
  std::string Queue(const std::vector<std::string>& to) {
    static int n = 0;
    store::NewMessage item;
    store::Message& m = item.message;
    m.id = "m_test" + std::to_string(++n);
    m.tenant_id = tenant_;
    m.status = MessageStatus::kQueued;
    m.from_address = "from@example.com";
    m.subject = "subject";
    m.create_time = m.update_time = absl::Now();
    m.next_attempt_time = absl::Now() - absl::Seconds(1);
    m.rfc822_message_id = m.id + "@example.com";
    v1::MessageContent content;
    content.mutable_from()->set_address("from@example.com");
    for (const std::string& a : to) {
      content.add_to()->set_address(a);
      store::Recipient r;
      r.address = a;
      m.recipients.push_back(r);
    }
    content.set_subject("subject");
    content.set_text_body("body");
    content.SerializeToString(&m.content);
    EXPECT_TRUE(store_->InsertMessagesAndWait({item}).ok());
    return m.id;
  }

  store::Message Reload(const std::string& id) {
    return *store_->GetMessage(tenant_, id, false);
  }

  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
  int64_t tenant_ = 0;
  ScriptedTransport transport_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, AcceptedMessageIsSentWithEvents) {
  store::Message m = QueueAndClaim({"a@example.org"});
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  store::Message after = Reload(m.id);
  EXPECT_EQ(after.status, MessageStatus::kSent);
  EXPECT_EQ(after.attempt_count, 1);
  EXPECT_EQ(after.next_attempt_time, absl::InfiniteFuture());
  EXPECT_EQ(after.recipients[0].last_reply.code, 250);
  auto events = *store_->MessageEvents(tenant_, m.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, store::EventType::kAttempt);
  EXPECT_EQ(events[1].type, store::EventType::kSent);
  EXPECT_EQ(events[1].recipient, "a@example.org");
  ASSERT_EQ(transport_.messages.size(), 1u);
  EXPECT_THAT(transport_.messages[0], HasSubstr("X-Deliverd-Id: " + m.id));
}

TEST_F(DispatcherTest, PerRecipientOutcomesAreKeptApart) {
  transport_.per_recipient["bad@example.org"] = Outcome::kPermanent;
  transport_.replies["bad@example.org"] = {550, "5.1.1", "User unknown",
                                           "mx.example.org"};
  transport_.per_recipient["later@example.org"] = Outcome::kTransient;
  store::Message m = QueueAndClaim(
      {"good@example.org", "bad@example.org", "later@example.org"});
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  store::Message after = Reload(m.id);
  EXPECT_EQ(after.recipients[0].status, MessageStatus::kSent);
  EXPECT_EQ(after.recipients[1].status, MessageStatus::kBounced);
  EXPECT_EQ(after.recipients[1].last_reply.code, 550);
  EXPECT_THAT(after.recipients[1].detail, HasSubstr("user_unknown"));
  EXPECT_EQ(after.recipients[2].status, MessageStatus::kWaiting);
  EXPECT_EQ(after.status, MessageStatus::kWaiting);
  EXPECT_GT(after.next_attempt_time, absl::Now());

  // The retry goes only to the deferred recipient.
  transport_.per_recipient.clear();
  auto claimed = store_->ClaimDueMessages("test", after.next_attempt_time,
                                          absl::Minutes(5), 10);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_TRUE(dispatcher_->Deliver(claimed->front()).ok());
  ASSERT_EQ(transport_.envelopes.size(), 2u);
  EXPECT_EQ(transport_.envelopes[1].rcpt_to,
            std::vector<std::string>{"later@example.org"});
  after = Reload(m.id);
  EXPECT_EQ(after.status, MessageStatus::kSent);
  EXPECT_EQ(after.attempt_count, 2);
}

TEST_F(DispatcherTest, TransportOutageSchedulesARetry) {
  transport_.fail_all = absl::UnavailableError("disk full");
  store::Message m = QueueAndClaim({"a@example.org"});
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  store::Message after = Reload(m.id);
  EXPECT_EQ(after.status, MessageStatus::kWaiting);
  EXPECT_THAT(after.recipients[0].detail, HasSubstr("disk full"));
  EXPECT_GE(after.next_attempt_time - absl::Now(), absl::Seconds(50));
}

TEST_F(DispatcherTest, PermanentTransportErrorFails) {
  transport_.fail_all = absl::InvalidArgumentError("misconfigured");
  store::Message m = QueueAndClaim({"a@example.org"});
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  store::Message after = Reload(m.id);
  EXPECT_EQ(after.status, MessageStatus::kFailed);
  EXPECT_EQ(after.next_attempt_time, absl::InfiniteFuture());
}

TEST_F(DispatcherTest, SuppressionAddedAfterQueueingStillStopsTheSend) {
  store::Message m = QueueAndClaim({"a@example.org", "b@example.org"});
  store::Suppression s;
  s.tenant_id = tenant_;
  s.address = "B@example.org";
  s.reason = store::SuppressionReason::kComplaint;
  s.create_time = absl::Now();
  ASSERT_TRUE(store_->UpsertSuppression(s, "test").ok());
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  ASSERT_EQ(transport_.envelopes.size(), 1u);
  EXPECT_EQ(transport_.envelopes[0].rcpt_to,
            std::vector<std::string>{"a@example.org"});
  store::Message after = Reload(m.id);
  EXPECT_EQ(after.recipients[1].status, MessageStatus::kSuppressed);
  EXPECT_THAT(after.recipients[1].detail, HasSubstr("complaint"));
  EXPECT_EQ(after.status, MessageStatus::kSent);
}

TEST_F(DispatcherTest, LostLeaseIsReported) {
  store::Message m = QueueAndClaim({"a@example.org"});
  DispatcherOptions other;
  other.owner = "someone-else";
  Dispatcher intruder(store_.get(), &transport_, other);
  absl::Status status = intruder.Deliver(m);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reload(m.id).status, MessageStatus::kQueued);
}

TEST_F(DispatcherTest, HardBounceSuppressesButAReputationBlockDoesNot) {
  transport_.per_recipient["gone@example.org"] = Outcome::kPermanent;
  transport_.replies["gone@example.org"] = {550, "5.1.1",
                                            "The email account does not exist",
                                            "mx.example.org"};
  transport_.per_recipient["fine@example.org"] = Outcome::kPermanent;
  transport_.replies["fine@example.org"] = {
      550, "5.7.1", "Message rejected: sending IP is on a blocklist",
      "mx.example.org"};
  store::Message m = QueueAndClaim({"gone@example.org", "fine@example.org"});
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  store::Message after = Reload(m.id);
  EXPECT_EQ(after.recipients[0].status, MessageStatus::kBounced);
  EXPECT_EQ(after.recipients[1].status, MessageStatus::kBlocked);
  EXPECT_EQ(after.status, MessageStatus::kBounced);

  auto found = *store_->FindSuppressions(
      tenant_, {"gone@example.org", "fine@example.org"}, "", absl::Now());
  ASSERT_TRUE(found[0].has_value());
  EXPECT_EQ(found[0]->reason, store::SuppressionReason::kHardBounce);
  EXPECT_EQ(found[0]->source_message, "messages/" + m.id);
  EXPECT_THAT(found[0]->evidence, HasSubstr("5.1.1"));
  EXPECT_FALSE(found[1].has_value()) << "a reputation block suppressed";

  auto events = *store_->MessageEvents(tenant_, m.id);
  bool saw_blocked = false;
  for (const auto& e : events) {
    if (e.type == store::EventType::kBlocked) saw_blocked = true;
  }
  EXPECT_TRUE(saw_blocked);
}

TEST_F(DispatcherTest, RetriesFollowThePolicyAndGiveUp) {
  transport_.fail_all = absl::UnavailableError("relay unreachable");
  store::Message m = QueueAndClaim({"a@example.org"});
  absl::Time before = absl::Now();
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  store::Message after = Reload(m.id);
  EXPECT_EQ(after.status, MessageStatus::kWaiting);
  // The policy's first delay is 5 minutes, shortened by at most 20% jitter.
  EXPECT_GE(after.next_attempt_time - before, absl::Minutes(4));
  EXPECT_LE(after.next_attempt_time - before, absl::Minutes(5) + absl::Seconds(5));

  // A message queued longer ago than the schedule allows is given up.
  DispatcherOptions short_lived;
  short_lived.owner = "test";
  short_lived.retry.give_up_after = std::chrono::seconds(1);
  Dispatcher impatient(store_.get(), &transport_, short_lived);
  store::Message old = QueueAndClaim({"b@example.org"});
  old.create_time = absl::Now() - absl::Hours(1);
  ASSERT_TRUE(impatient.Deliver(old).ok());
  after = Reload(old.id);
  EXPECT_EQ(after.status, MessageStatus::kFailed);
  EXPECT_THAT(after.recipients[0].detail, HasSubstr("retries exhausted"));
  EXPECT_EQ(after.next_attempt_time, absl::InfiniteFuture());
}

}  // namespace
}  // namespace deliverd::delivery

namespace deliverd::delivery {
namespace {

TEST_F(DispatcherTest, EnvelopeSenderIsAVerpAddressNamingTheMessage) {
  store::Message m = QueueAndClaim({"a@example.org"});
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  ASSERT_EQ(transport_.envelopes.size(), 1u);
  EXPECT_EQ(transport_.envelopes[0].mail_from,
            "bounce+" + m.id + "@example.com");
  EXPECT_EQ(transport_.envelopes[0].message_id, m.id);
}

TEST_F(DispatcherTest, RateLimitReplyBacksOffThatDomainOnly) {
  transport_.per_recipient["a@slow.example"] = Outcome::kTransient;
  transport_.replies["a@slow.example"] = {421, "4.7.0",
                                          "Try again later, too many messages",
                                          "mx.slow.example"};
  store::Message first = QueueAndClaim({"a@slow.example"});
  absl::Time before = absl::Now();
  ASSERT_TRUE(dispatcher_->Deliver(first).ok());
  absl::Time backoff = dispatcher_->throttle().BackoffUntil("slow.example");
  EXPECT_GE(backoff, before + absl::Seconds(59));
  store::Message after = Reload(first.id);
  EXPECT_EQ(after.status, MessageStatus::kWaiting);
  EXPECT_GE(after.next_attempt_time, backoff);
  EXPECT_THAT(after.recipients[0].detail, HasSubstr("slow.example throttled"));

  // While it backs off, a message for the slow domain goes back to the queue
  // untried and one for another domain goes out.
  store::Message slow = QueueAndClaim({"b@slow.example"});
  store::Message fast = QueueAndClaim({"c@fast.example"});
  dispatcher_->DeliverBatch({slow, fast});
  ASSERT_EQ(transport_.envelopes.size(), 2u);
  EXPECT_EQ(transport_.envelopes[1].rcpt_to,
            std::vector<std::string>{"c@fast.example"});
  store::Message slow_after = Reload(slow.id);
  EXPECT_EQ(slow_after.status, MessageStatus::kQueued);
  EXPECT_EQ(slow_after.attempt_count, 0);
  // The store keeps microseconds.
  EXPECT_EQ(absl::ToUnixMicros(slow_after.next_attempt_time),
            absl::ToUnixMicros(backoff));
  EXPECT_EQ(Reload(fast.id).status, MessageStatus::kSent);
  // The postponed message is not leased any more: it can be claimed when due.
  auto due = store_->ClaimDueMessages("other", backoff, absl::Minutes(5), 10);
  ASSERT_TRUE(due.ok());
  bool found = false;
  for (const store::Message& m : *due) found |= m.id == slow.id;
  EXPECT_TRUE(found);
}

TEST_F(DispatcherTest, OrdinaryTransientReplyDoesNotThrottleTheDomain) {
  transport_.per_recipient["a@busy.example"] = Outcome::kTransient;
  transport_.replies["a@busy.example"] = {450, "4.2.1", "Mailbox busy",
                                          "mx.busy.example"};
  store::Message m = QueueAndClaim({"a@busy.example"});
  ASSERT_TRUE(dispatcher_->Deliver(m).ok());
  EXPECT_EQ(dispatcher_->throttle().BackoffUntil("busy.example"),
            absl::InfinitePast());
}

}  // namespace
}  // namespace deliverd::delivery

namespace deliverd::delivery {
namespace {

// Blocks every Send until the test opens the gate.
class GatedTransport : public Transport {
 public:
  absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                       absl::string_view) override {
    std::unique_lock<std::mutex> lock(mu);
    ++calls;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    TransportResult result;
    for (const std::string& rcpt : envelope.rcpt_to) {
      RecipientOutcome o;
      o.address = rcpt;
      o.reply = {250, "2.0.0", "ok", "gate"};
      result.recipients.push_back(o);
    }
    return result;
  }
  std::string name() const override { return "gated"; }

  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  bool open = false;
};

TEST_F(DispatcherTest, StopFinishesTheAttemptUnderWayAndGivesBackTheRest) {
  GatedTransport gated;
  DispatcherOptions options;
  options.owner = "worker";
  options.workers = 1;
  Dispatcher dispatcher(store_.get(), &gated, options);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Queue({"a@example.org"}));
  dispatcher.Start();
  {
    std::unique_lock<std::mutex> lock(gated.mu);
    ASSERT_TRUE(gated.cv.wait_for(lock, std::chrono::seconds(10),
                                  [&] { return gated.calls == 1; }));
  }
  std::thread stopper([&] { dispatcher.Stop(); });
  // Once Stop() has begun, it waits for the attempt under way; let that
  // finish.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!dispatcher.Stopping() && absl::Now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(dispatcher.Stopping());
  {
    std::lock_guard<std::mutex> lock(gated.mu);
    gated.open = true;
  }
  gated.cv.notify_all();
  stopper.join();
  EXPECT_EQ(gated.calls, 1);
  int sent = 0, queued = 0;
  for (const std::string& id : ids) {
    store::Message m = Reload(id);
    if (m.status == MessageStatus::kSent) ++sent;
    if (m.status == MessageStatus::kQueued) {
      ++queued;
      EXPECT_EQ(m.attempt_count, 0);
    }
  }
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(queued, 2);
  // The two given back are claimable at once by another process.
  auto claimed = store_->ClaimDueMessages("other", absl::Now(),
                                          absl::Minutes(5), 10);
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->size(), 2u);
}

}  // namespace
}  // namespace deliverd::delivery

namespace deliverd::delivery {
namespace {

// A transport that takes `delay` over its first message (a slow relay).
class SlowFirstTransport : public ScriptedTransport {
 public:
  explicit SlowFirstTransport(absl::Duration delay) : delay_(delay) {}
  absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                       absl::string_view data) override {
    if (!slowed_) {
      slowed_ = true;
      absl::SleepFor(delay_);
    }
    return ScriptedTransport::Send(envelope, data);
  }

 private:
  const absl::Duration delay_;
  bool slowed_ = false;
};

// Once half a batch's lease has gone, the messages not yet tried go back to
// the queue instead: a lease that ran out mid-attempt would let another
// worker (of this process, with the same lease owner) claim and send the
// same message again.
TEST_F(DispatcherTest, MessagesLeftWhenHalfTheLeaseIsGoneAreGivenBack) {
  const absl::Duration lease = absl::Seconds(2);
  Queue({"a@example.org"});
  Queue({"b@example.org"});
  auto claimed = store_->ClaimDueMessages("test", absl::Now(), lease, 10);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  const std::string first = (*claimed)[0].id;
  const std::string second = (*claimed)[1].id;
  SlowFirstTransport slow(lease / 2 + absl::Milliseconds(50));
  DispatcherOptions options;
  options.owner = "test";
  options.lease = lease;
  Dispatcher dispatcher(store_.get(), &slow, options);
  dispatcher.DeliverBatch(std::move(*claimed));

  ASSERT_EQ(slow.envelopes.size(), 1u) << "the second message was tried";
  EXPECT_EQ(Reload(first).status, MessageStatus::kSent);
  store::Message given_back = Reload(second);
  EXPECT_EQ(given_back.status, MessageStatus::kQueued);
  EXPECT_EQ(given_back.attempt_count, 0);
  // Not leased any more: claimable at once.
  auto again = store_->ClaimDueMessages("other", absl::Now(), lease, 10);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].id, second);
}

// A transport whose first message waits until the test opens the gate (a
// relay that hangs mid-transaction).
class GatedFirstTransport : public ScriptedTransport {
 public:
  absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                       absl::string_view data) override {
    {
      std::unique_lock<std::mutex> lock(gate_mu_);
      ++calls_;
      gate_cv_.notify_all();
      if (calls_ == 1) gate_cv_.wait(lock, [this] { return open_; });
    }
    return ScriptedTransport::Send(envelope, data);
  }
  void WaitForCalls(int n) {
    std::unique_lock<std::mutex> lock(gate_mu_);
    ASSERT_TRUE(gate_cv_.wait_for(lock, std::chrono::seconds(30),
                                  [&] { return calls_ >= n; }));
  }
  void Open() {
    std::lock_guard<std::mutex> lock(gate_mu_);
    open_ = true;
    gate_cv_.notify_all();
  }
  int calls() {
    std::lock_guard<std::mutex> lock(gate_mu_);
    return calls_;
  }

 private:
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  int calls_ = 0;
  bool open_ = false;
};

// An attempt that outlasts its lease: the message is claimed again (all of
// a process's workers share one lease owner), and the second claim must not
// send it while the first attempt is still under way.
TEST_F(DispatcherTest, AMessageClaimedAgainMidAttemptIsNotSentTwice) {
  const absl::Duration lease = absl::Milliseconds(300);
  const std::string id = Queue({"a@example.org"});
  auto first = store_->ClaimDueMessages("test", absl::Now(), lease, 10);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  GatedFirstTransport gated;
  DispatcherOptions options;
  options.owner = "test";
  options.lease = lease;
  Dispatcher dispatcher(store_.get(), &gated, options);
  std::thread hung([&] { dispatcher.DeliverBatch(std::move(*first)); });
  gated.WaitForCalls(1);

  // The lease runs out while the relay hangs; the message is due again.
  std::vector<store::Message> second;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (second.empty() && absl::Now() < deadline) {
    auto claimed = store_->ClaimDueMessages("test", absl::Now(), lease, 10);
    ASSERT_TRUE(claimed.ok());
    second = std::move(*claimed);
    if (second.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(second[0].id, id);
  dispatcher.DeliverBatch(std::move(second));
  EXPECT_EQ(gated.calls(), 1) << "the message was sent a second time";

  gated.Open();
  hung.join();
  EXPECT_EQ(gated.calls(), 1);
  EXPECT_EQ(Reload(id).status, MessageStatus::kSent);
}

// A store whose RecordDelivery and FindSuppressions answer UNAVAILABLE a
// given number of times first (a database restart).
class FlakyStore : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::atomic<int> record_failures{0};
  int find_failures = 0;
  std::atomic<int> record_calls{0};

  void RecordDeliveryAsync(std::shared_ptr<const store::DeliveryUpdate> update,
                           RecordCallback done) override {
    ++record_calls;
    if (record_failures.fetch_sub(1) > 0) {
      done(absl::UnavailableError("database away"));
      return;
    }
    ForwardingStore::RecordDeliveryAsync(std::move(update), std::move(done));
  }
  absl::StatusOr<std::vector<std::optional<store::Suppression>>>
  FindSuppressions(int64_t tenant_id, const std::vector<std::string>& addresses,
                   absl::string_view stream, absl::Time now) override {
    if (find_failures > 0) {
      --find_failures;
      return absl::UnavailableError("database away");
    }
    return ForwardingStore::FindSuppressions(tenant_id, addresses, stream,
                                             now);
  }
};

TEST_F(DispatcherTest, OutcomeIsRecordedOnceTheStoreIsBack) {
  store::Message m = QueueAndClaim({"a@example.org"});
  FlakyStore flaky(store_.get());
  flaky.record_failures = 2;
  DispatcherOptions options;
  options.owner = "test";
  Dispatcher dispatcher(&flaky, &transport_, options);
  EXPECT_TRUE(dispatcher.Deliver(m).ok());
  EXPECT_EQ(flaky.record_calls, 3);
  EXPECT_EQ(Reload(m.id).status, MessageStatus::kSent);
}

// A batch's outcomes go to the store without waiting for each commit. Once
// the store refuses one (it is away), the worker sends nothing more from the
// batch: the refused outcome is recorded again (with retries) and the
// messages not yet tried go back to the queue, unsent.
TEST_F(DispatcherTest, ARefusedOutcomeStopsTheBatchAndIsRecordedAgain) {
  Queue({"a@example.org"});
  Queue({"b@example.org"});
  Queue({"c@example.org"});
  auto claimed =
      store_->ClaimDueMessages("test", absl::Now(), absl::Minutes(5), 10);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  FlakyStore flaky(store_.get());
  flaky.record_failures = 2;
  DispatcherOptions options;
  options.owner = "test";
  Dispatcher dispatcher(&flaky, &transport_, options);
  std::vector<std::string> ids;
  for (const store::Message& m : *claimed) ids.push_back(m.id);
  dispatcher.DeliverBatch(std::move(*claimed));

  ASSERT_EQ(transport_.messages.size(), 1u)
      << "sent on while the store refused outcomes";
  // The first outcome: refused, refused again, then recorded, once.
  store::Message sent = Reload(ids[0]);
  EXPECT_EQ(sent.status, MessageStatus::kSent);
  EXPECT_EQ(sent.attempt_count, 1);
  EXPECT_EQ(store_->MessageEvents(tenant_, ids[0])->size(), 2u);
  // The other two: back in the queue, untried, claimable at once.
  for (size_t i = 1; i < ids.size(); ++i) {
    store::Message back = Reload(ids[i]);
    EXPECT_EQ(back.status, MessageStatus::kQueued) << ids[i];
    EXPECT_EQ(back.attempt_count, 0) << ids[i];
  }
  auto again =
      store_->ClaimDueMessages("other", absl::Now(), absl::Minutes(5), 10);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 2u);
  // One submission, two tries of its retry, two give-backs.
  EXPECT_EQ(flaky.record_calls, 5);
}

// A store that holds every outcome until the test lets it through, and
// notes how many were waiting at most.
class GatedRecordStore : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  void RecordDeliveryAsync(std::shared_ptr<const store::DeliveryUpdate> update,
                           RecordCallback done) override {
    std::lock_guard<std::mutex> lock(mu_);
    held_.emplace_back(std::move(update), std::move(done));
    most_held_ = std::max(most_held_, held_.size());
    cv_.notify_all();
  }

  // Waits until `ready(held)` holds for the number of outcomes held (bounded
  // by `within`), then lets the oldest through. False if it never did.
  bool ReleaseOneWhen(const std::function<bool(size_t)>& ready,
                      absl::Duration within) {
    std::pair<std::shared_ptr<const store::DeliveryUpdate>, RecordCallback>
        next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // `ready` may look at more than this store (what the transport saw),
      // so it is checked again every few milliseconds, not only when an
      // outcome arrives.
      const absl::Time deadline = absl::Now() + within;
      while (held_.empty() || !ready(held_.size())) {
        if (absl::Now() >= deadline) return false;
        cv_.wait_for(lock, std::chrono::milliseconds(5));
      }
      next = std::move(held_.front());
      held_.erase(held_.begin());
    }
    ForwardingStore::RecordDeliveryAsync(std::move(next.first),
                                         std::move(next.second));
    return true;
  }

  size_t most_held() {
    std::lock_guard<std::mutex> lock(mu_);
    return most_held_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<
      std::pair<std::shared_ptr<const store::DeliveryUpdate>, RecordCallback>>
      held_;
  size_t most_held_ = 0;
};

// A worker never has more than `uncommitted_outcomes` outcomes waiting for
// their commit: each is a message a crash would send again.
TEST_F(DispatcherTest, NoMoreOutcomesWaitForTheirCommitThanTheLimit) {
  constexpr int kMessages = 12;
  for (int i = 0; i < kMessages; ++i) {
    Queue({"r" + std::to_string(i) + "@example.org"});
  }
  auto claimed =
      store_->ClaimDueMessages("test", absl::Now(), absl::Minutes(5), 32);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), static_cast<size_t>(kMessages));
  GatedRecordStore gated(store_.get());
  DispatcherOptions options;
  options.owner = "test";
  options.uncommitted_outcomes = 2;
  Dispatcher dispatcher(&gated, &transport_, options);
  std::thread worker([&] { dispatcher.DeliverBatch(std::move(*claimed)); });
  // Lets one outcome through only once the worker has sent the message
  // after a full window (it must then wait, not send or submit more), and
  // the last ones once every message's outcome has arrived.
  auto sent_count = [&] {
    std::lock_guard<std::mutex> lock(transport_.mu_);
    return static_cast<int>(transport_.messages.size());
  };
  int released = 0;
  bool stuck = false;
  while (released < kMessages && !stuck) {
    const int left = kMessages - released;
    stuck = !gated.ReleaseOneWhen(
        [&](size_t held) {
          if (static_cast<int>(held) == left) return true;
          return held >= 2 && sent_count() >= std::min(kMessages, released + 3);
        },
        absl::Seconds(30));
    if (!stuck) ++released;
  }
  // On failure, let everything through so the worker can finish.
  while (stuck && gated.ReleaseOneWhen([](size_t) { return true; },
                                       absl::Seconds(1))) {
  }
  worker.join();
  ASSERT_FALSE(stuck) << "stuck after " << released << " outcomes";
  EXPECT_LE(gated.most_held(), 2u);
  EXPECT_EQ(transport_.messages.size(), static_cast<size_t>(kMessages));
  auto sent = store_->ListMessages(tenant_, {}, 100, std::nullopt);
  ASSERT_TRUE(sent.ok());
  for (const store::Message& m : sent->messages) {
    EXPECT_EQ(m.status, MessageStatus::kSent) << m.id;
  }
}

TEST_F(DispatcherTest, FailedSuppressionCheckGivesTheMessageBack) {
  store::Message m = QueueAndClaim({"a@example.org"});
  FlakyStore flaky(store_.get());
  flaky.find_failures = 1;
  DispatcherOptions options;
  options.owner = "test";
  Dispatcher dispatcher(&flaky, &transport_, options);
  EXPECT_TRUE(dispatcher.Deliver(m).ok());
  // Not sent, not left leased: due again at once for any claimant.
  EXPECT_EQ(Reload(m.id).status, MessageStatus::kQueued);
  auto claimed =
      store_->ClaimDueMessages("other", absl::Now(), absl::Minutes(5), 10);
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->size(), 1u);
}

}  // namespace
}  // namespace deliverd::delivery
