// Conformance: the event stream — ReadEvents, LastEventId, SetEventListener.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class EventsTest : public StoreTest<F> {
 protected:
  void SetUp() override {
    StoreTest<F>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    a_ = this->MakeTenant("acme");
    b_ = this->MakeTenant("globex");

    // m1 {x}: QUEUED, ATTEMPT
    NewMessage m1 = this->MakeMessage(a_, T0());
    m1.message.tags = {"x"};
    m1.events.push_back(Ev(a_, m1.message.id, EventType::kAttempt, 1));
    m1_ = m1.message.id;
    this->InsertOne(m1);
    // Another tenant's events in between: tenant A's ids have a gap.
    NewMessage mb = this->MakeMessage(b_, T0());
    mb.message.tags = {"x", "y"};
    mb.events.push_back(Ev(b_, mb.message.id, EventType::kSent, 2));
    mb_ = mb.message.id;
    this->InsertOne(mb);
    // m2 {y}: QUEUED; m3 {x, y}: QUEUED, SENT — one batch.
    NewMessage m2 = this->MakeMessage(a_, T0() + absl::Seconds(1));
    m2.message.tags = {"y"};
    m2_ = m2.message.id;
    NewMessage m3 = this->MakeMessage(a_, T0() + absl::Seconds(2));
    m3.message.tags = {"x", "y"};
    m3.events.push_back(Ev(a_, m3.message.id, EventType::kSent, 3));
    m3_ = m3.message.id;
    this->InsertAll({m2, m3});

    STORE_ASSERT_OK_AND_ASSIGN(
        EventBatch all, this->store().ReadEvents(a_, 0, EventFilter{}, 1000));
    all_ = std::move(all.events);
  }

  static Event Ev(int64_t tenant, const std::string& message, EventType type,
                  int seconds) {
    Event e;
    e.tenant_id = tenant;
    e.message_id = message;
    e.type = type;
    e.time = T0() + absl::Seconds(seconds);
    e.source = "test";
    return e;
  }

  // The ids of tenant A's events that satisfy `keep`, from all_.
  template <typename Pred>
  std::vector<int64_t> IdsWhere(Pred keep) {
    std::vector<int64_t> ids;
    for (const Event& e : all_) {
      if (keep(e)) ids.push_back(e.id);
    }
    return ids;
  }

  // Follows scanned_through with `limit` until caught up with LastEventId;
  // every step must make progress.
  std::vector<int64_t> Drain(const EventFilter& filter, int limit) {
    std::vector<int64_t> ids;
    absl::StatusOr<int64_t> last = this->store().LastEventId(a_);
    EXPECT_TRUE(last.ok()) << last.status();
    int64_t cursor = 0;
    for (int steps = 0; cursor < last.value_or(0); ++steps) {
      if (steps > 100) {
        ADD_FAILURE() << "no progress";
        break;
      }
      absl::StatusOr<EventBatch> batch =
          this->store().ReadEvents(a_, cursor, filter, limit);
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (!batch.ok()) break;
      EXPECT_LE(batch->events.size(), static_cast<size_t>(limit));
      EXPECT_GT(batch->scanned_through, cursor) << "scanned_through stuck";
      if (batch->scanned_through <= cursor) break;
      for (const Event& e : batch->events) {
        EXPECT_GT(e.id, cursor);
        EXPECT_LE(e.id, batch->scanned_through);
        ids.push_back(e.id);
      }
      cursor = batch->scanned_through;
    }
    return ids;
  }

  int64_t a_ = 0, b_ = 0;
  std::string m1_, m2_, m3_, mb_;
  std::vector<Event> all_;  // tenant A's events, in id order
};
TYPED_TEST_SUITE(EventsTest, StoreFactories, FactoryName);

TYPED_TEST(EventsTest, ReadsTheTenantsEventsInCommitOrder) {
  using P = std::pair<std::string, EventType>;
  std::vector<P> got;
  for (const Event& e : this->all_) got.emplace_back(e.message_id, e.type);
  EXPECT_EQ(got, (std::vector<P>{{this->m1_, EventType::kQueued},
                                 {this->m1_, EventType::kAttempt},
                                 {this->m2_, EventType::kQueued},
                                 {this->m3_, EventType::kQueued},
                                 {this->m3_, EventType::kSent}}));
  for (size_t i = 0; i < this->all_.size(); ++i) {
    EXPECT_EQ(this->all_[i].tenant_id, this->a_);
    if (i > 0) {
      EXPECT_LT(this->all_[i - 1].id, this->all_[i].id);
    }
  }
  ASSERT_EQ(this->all_.size(), 5u);
  EXPECT_EQ(this->all_[0].tags, std::vector<std::string>{"x"});
  EXPECT_EQ(this->all_[2].tags, std::vector<std::string>{"y"});
  EXPECT_EQ(this->all_[4].tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(this->all_[1].time, T0() + absl::Seconds(1));
  // The other tenant's event sits between m1's and m2's.
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch b,
                             this->store().ReadEvents(this->b_, 0, {}, 100));
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].message_id, this->mb_);
  EXPECT_GT(b.events[0].id, this->all_[1].id);
  EXPECT_LT(b.events[1].id, this->all_[2].id);

  STORE_ASSERT_OK_AND_ASSIGN(EventBatch everything,
                             this->store().ReadEvents(this->a_, 0, {}, 100));
  EXPECT_EQ(everything.scanned_through, this->all_.back().id);
}

TYPED_TEST(EventsTest, AfterIdIsAnExclusiveCursor) {
  ASSERT_EQ(this->all_.size(), 5u);
  STORE_ASSERT_OK_AND_ASSIGN(
      EventBatch batch,
      this->store().ReadEvents(this->a_, this->all_[1].id, {}, 100));
  EXPECT_EQ(EventIdsOf(batch.events),
            (std::vector<int64_t>{this->all_[2].id, this->all_[3].id,
                                  this->all_[4].id}));
  // Caught up: nothing, and the cursor stays where it was.
  STORE_ASSERT_OK_AND_ASSIGN(
      batch, this->store().ReadEvents(this->a_, this->all_[4].id, {}, 100));
  EXPECT_TRUE(batch.events.empty());
  EXPECT_EQ(batch.scanned_through, this->all_[4].id);
}

TYPED_TEST(EventsTest, LimitBoundsTheBatch) {
  ASSERT_EQ(this->all_.size(), 5u);
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch batch,
                             this->store().ReadEvents(this->a_, 0, {}, 2));
  EXPECT_EQ(EventIdsOf(batch.events),
            (std::vector<int64_t>{this->all_[0].id, this->all_[1].id}));
  EXPECT_EQ(batch.scanned_through, this->all_[1].id);
  STORE_ASSERT_OK_AND_ASSIGN(
      batch, this->store().ReadEvents(this->a_, batch.scanned_through, {}, 2));
  EXPECT_EQ(EventIdsOf(batch.events),
            (std::vector<int64_t>{this->all_[2].id, this->all_[3].id}));
  // Paging with limit 1 visits every event once.
  EXPECT_EQ(this->Drain({}, 1),
            this->IdsWhere([](const Event&) { return true; }));
}

TYPED_TEST(EventsTest, MessageFilter) {
  EventFilter f;
  f.message_id = this->m3_;
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch batch,
                             this->store().ReadEvents(this->a_, 0, f, 100));
  std::vector<int64_t> want =
      this->IdsWhere([&](const Event& e) { return e.message_id == this->m3_; });
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(EventIdsOf(batch.events), want);
  EXPECT_EQ(this->Drain(f, 1), want);
  // From after its first event.
  STORE_ASSERT_OK_AND_ASSIGN(batch,
                             this->store().ReadEvents(this->a_, want[0], f, 100));
  EXPECT_EQ(EventIdsOf(batch.events), std::vector<int64_t>{want[1]});
}

TYPED_TEST(EventsTest, TypeFilter) {
  EventFilter f;
  f.types = {EventType::kQueued};
  std::vector<int64_t> want = this->IdsWhere(
      [](const Event& e) { return e.type == EventType::kQueued; });
  ASSERT_EQ(want.size(), 3u);
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch batch,
                             this->store().ReadEvents(this->a_, 0, f, 100));
  EXPECT_EQ(EventIdsOf(batch.events), want);
  EXPECT_EQ(this->Drain(f, 2), want);

  f.types = {EventType::kAttempt, EventType::kSent};
  want = this->IdsWhere([](const Event& e) {
    return e.type == EventType::kAttempt || e.type == EventType::kSent;
  });
  ASSERT_EQ(want.size(), 2u);
  STORE_ASSERT_OK_AND_ASSIGN(batch,
                             this->store().ReadEvents(this->a_, 0, f, 100));
  EXPECT_EQ(EventIdsOf(batch.events), want);
  EXPECT_EQ(this->Drain(f, 1), want);
}

TYPED_TEST(EventsTest, TagFilter) {
  auto tagged = [this](const std::string& tag) {
    return this->IdsWhere([&](const Event& e) {
      return std::find(e.tags.begin(), e.tags.end(), tag) != e.tags.end();
    });
  };
  EventFilter f;
  f.tag = "y";
  std::vector<int64_t> want = tagged("y");
  ASSERT_EQ(want.size(), 3u);  // m2 QUEUED, m3 QUEUED, m3 SENT
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch batch,
                             this->store().ReadEvents(this->a_, 0, f, 100));
  EXPECT_EQ(EventIdsOf(batch.events), want);
  EXPECT_EQ(this->Drain(f, 2), want);

  f.tag = "x";
  want = tagged("x");
  ASSERT_EQ(want.size(), 4u);
  EXPECT_EQ(this->Drain(f, 1), want);

  // Combined with a type and a message.
  f.tag = "x";
  f.types = {EventType::kSent};
  f.message_id = this->m3_;
  STORE_ASSERT_OK_AND_ASSIGN(batch,
                             this->store().ReadEvents(this->a_, 0, f, 100));
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].id, this->all_[4].id);
}

TYPED_TEST(EventsTest, ScannedThroughAdvancesWhenNothingMatches) {
  EventFilter f;
  f.types = {EventType::kClicked};
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch batch,
                             this->store().ReadEvents(this->a_, 0, f, 100));
  EXPECT_TRUE(batch.events.empty());
  STORE_ASSERT_OK_AND_ASSIGN(int64_t last, this->store().LastEventId(this->a_));
  EXPECT_EQ(batch.scanned_through, last);

  // With a small limit it still moves forward, and following it ends.
  STORE_ASSERT_OK_AND_ASSIGN(batch, this->store().ReadEvents(this->a_, 0, f, 2));
  EXPECT_TRUE(batch.events.empty());
  EXPECT_GT(batch.scanned_through, 0);
  EXPECT_LE(batch.scanned_through, last);
  EXPECT_TRUE(this->Drain(f, 2).empty());

  EventFilter tag;
  tag.tag = "nope";
  STORE_ASSERT_OK_AND_ASSIGN(batch,
                             this->store().ReadEvents(this->a_, 0, tag, 100));
  EXPECT_TRUE(batch.events.empty());
  EXPECT_EQ(batch.scanned_through, last);
}

TYPED_TEST(EventsTest, LastEventIdPerTenant) {
  STORE_ASSERT_OK_AND_ASSIGN(int64_t last_a,
                             this->store().LastEventId(this->a_));
  EXPECT_EQ(last_a, this->all_.back().id);
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch b,
                             this->store().ReadEvents(this->b_, 0, {}, 100));
  STORE_ASSERT_OK_AND_ASSIGN(int64_t last_b,
                             this->store().LastEventId(this->b_));
  ASSERT_FALSE(b.events.empty());
  EXPECT_EQ(last_b, b.events.back().id);
  int64_t empty = this->MakeTenant("initech");
  STORE_ASSERT_OK_AND_ASSIGN(int64_t last_empty,
                             this->store().LastEventId(empty));
  EXPECT_EQ(last_empty, 0);

  // A new event moves it.
  this->InsertOne(this->MakeMessage(this->a_, T0() + absl::Hours(1)));
  STORE_ASSERT_OK_AND_ASSIGN(int64_t after, this->store().LastEventId(this->a_));
  EXPECT_GT(after, last_a);
  EXPECT_GT(after, last_b);
}

// A listener that records, for each call, the tenant's last event id as
// seen from inside the call, and lets the test wait until a call has seen a
// given event. (A call may also arrive for a commit made before the
// listener was set; waiting for a call that saw event `id` is what proves
// the listener runs after the commit that appended it.)
class Recorder {
 public:
  Recorder(Store* store, int64_t tenant) : store_(store), tenant_(tenant) {}
  std::function<void()> Listener() {
    return [this] {
      absl::StatusOr<int64_t> last = store_->LastEventId(tenant_);
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(last.value_or(-1));
      cv_.notify_all();
    };
  }
  // Waits (bounded only to avoid a hang) for a call that saw event `id`.
  bool WaitForSeen(int64_t id) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      return !seen_.empty() && seen_.back() >= id;
    });
  }
  size_t calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.size();
  }

 private:
  Store* store_;
  int64_t tenant_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> seen_;
};

TYPED_TEST(EventsTest, ListenerRunsAfterACommitThatAppendedEvents) {
  Recorder recorder(&this->store(), this->a_);
  this->store().SetEventListener(recorder.Listener());
  std::string id =
      this->InsertOne(this->MakeMessage(this->a_, T0() + absl::Hours(1)));
  std::vector<Event> events = this->EventsOf(this->a_, id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(recorder.WaitForSeen(events[0].id))
      << "no listener call after the insert's commit";

  // A RecordDelivery that appends events notifies too.
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Message> claimed,
      this->store().ClaimDueMessages("w", T0() + absl::Hours(2),
                                     absl::Minutes(1), 100));
  const Message* mine = nullptr;
  for (const Message& m : claimed) {
    if (m.id == id) mine = &m;
  }
  ASSERT_NE(mine, nullptr);
  DeliveryUpdate update;
  update.tenant_id = this->a_;
  update.message_id = id;
  update.lease_owner = "w";
  update.status = MessageStatus::kSent;
  update.recipients = mine->recipients;
  update.attempt_count = 1;
  update.events.push_back(this->Ev(this->a_, id, EventType::kSent, 7200));
  STORE_ASSERT_OK(this->store().RecordDelivery(update));
  events = this->EventsOf(this->a_, id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(recorder.WaitForSeen(events[1].id))
      << "no listener call after RecordDelivery's commit";
  this->store().SetEventListener(nullptr);
}

TYPED_TEST(EventsTest, SetEventListenerReplacesTheEarlierOne) {
  Recorder first(&this->store(), this->a_);
  Recorder second(&this->store(), this->a_);
  this->store().SetEventListener(first.Listener());
  std::string id1 =
      this->InsertOne(this->MakeMessage(this->a_, T0() + absl::Hours(1)));
  std::vector<Event> events1 = this->EventsOf(this->a_, id1);
  ASSERT_EQ(events1.size(), 1u);
  ASSERT_TRUE(first.WaitForSeen(events1[0].id));

  // Counted once SetEventListener has returned: until then the store may
  // still call the first listener (the MySQL store's poller also reports
  // an event it finds, after the commit already did).
  this->store().SetEventListener(second.Listener());
  const size_t first_calls = first.calls();
  std::string id2 =
      this->InsertOne(this->MakeMessage(this->a_, T0() + absl::Hours(2)));
  std::vector<Event> events2 = this->EventsOf(this->a_, id2);
  ASSERT_EQ(events2.size(), 1u);
  ASSERT_TRUE(second.WaitForSeen(events2[0].id));
  EXPECT_EQ(first.calls(), first_calls)
      << "the replaced listener was still called";
  // Clear it before the recorders go out of scope.
  this->store().SetEventListener(nullptr);
}

}  // namespace
}  // namespace deliverd::store::conformance
