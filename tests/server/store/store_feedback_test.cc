// Conformance: feedback — ApplyFeedback (idempotency, guard, recipient and
// status changes, events, suppressions, subscriptions, scores),
// GetSoftBounceScore, GetSubscriptions.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class FeedbackTest : public StoreTest<F> {
 protected:
  void SetUp() override {
    StoreTest<F>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    tenant_ = this->MakeTenant("acme");
    other_ = this->MakeTenant("other");
    NewMessage item = this->MakeMessage(
        tenant_, T0(), {"alice@example.org", "Bob@Example.org"});
    item.message.status = MessageStatus::kSent;
    for (Recipient& r : item.message.recipients) r.status = MessageStatus::kSent;
    message_id_ = this->InsertOne(std::move(item));
  }

  FeedbackUpdate Bounce(const std::string& fingerprint) {
    FeedbackUpdate u;
    u.tenant_id = tenant_;
    u.fingerprint = fingerprint;
    u.message_id = message_id_;
    u.message_status = MessageStatus::kBounced;
    RecipientFeedback r;
    r.address = "bob@example.org";  // stored as Bob@Example.org
    r.status = MessageStatus::kBounced;
    r.detail = "user_unknown";
    r.reply = Reply{550, "5.1.1", "no such user", "mx.example.org"};
    u.recipients.push_back(r);
    Event e;
    e.tenant_id = tenant_;
    e.message_id = message_id_;
    e.type = EventType::kBounced;
    e.time = T0() + absl::Minutes(1);
    e.recipient = "bob@example.org";
    e.source = "dsn";
    u.events.push_back(e);
    Suppression s;
    s.tenant_id = tenant_;
    s.address = "bob@example.org";
    s.reason = SuppressionReason::kHardBounce;
    s.create_time = T0() + absl::Minutes(1);
    s.source_message = message_id_;
    s.evidence = "550 5.1.1 no such user";
    u.new_suppressions.push_back(s);
    return u;
  }

  int64_t tenant_ = 0;
  int64_t other_ = 0;
  std::string message_id_;
};
TYPED_TEST_SUITE(FeedbackTest, StoreFactories, FactoryName);

TYPED_TEST(FeedbackTest, AppliesEveryChangeInOneCommit) {
  STORE_ASSERT_OK_AND_ASSIGN(bool applied,
                             this->store().ApplyFeedback(this->Bounce("f1")));
  EXPECT_TRUE(applied);
  STORE_ASSERT_OK_AND_ASSIGN(
      Message m, this->store().GetMessage(this->tenant_, this->message_id_,
                                          false));
  EXPECT_EQ(m.status, MessageStatus::kBounced);
  ASSERT_EQ(m.recipients.size(), 2u);
  EXPECT_EQ(m.recipients[0].status, MessageStatus::kSent);
  EXPECT_EQ(m.recipients[1].status, MessageStatus::kBounced);
  EXPECT_EQ(m.recipients[1].last_reply.code, 550);
  EXPECT_EQ(m.recipients[1].last_reply.enhanced_code, "5.1.1");
  EXPECT_EQ(m.recipients[1].detail, "user_unknown");
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      this->store().MessageEvents(this->tenant_, this->message_id_));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, EventType::kBounced);
  EXPECT_EQ(events[1].source, "dsn");
  STORE_ASSERT_OK_AND_ASSIGN(
      auto found, this->store().FindSuppressions(
                      this->tenant_, {"BOB@example.org"}, "", T0() + absl::Hours(1)));
  ASSERT_TRUE(found[0].has_value());
  EXPECT_EQ(found[0]->reason, SuppressionReason::kHardBounce);
  EXPECT_EQ(found[0]->source_message, this->message_id_);
}

TYPED_TEST(FeedbackTest, TheSameFingerprintChangesNothingTwice) {
  STORE_ASSERT_OK(this->store().ApplyFeedback(this->Bounce("f1")));
  FeedbackUpdate again = this->Bounce("f1");
  again.message_status = MessageStatus::kConfirmed;  // would be visible
  STORE_ASSERT_OK_AND_ASSIGN(bool applied, this->store().ApplyFeedback(again));
  EXPECT_FALSE(applied);
  STORE_ASSERT_OK_AND_ASSIGN(
      Message m, this->store().GetMessage(this->tenant_, this->message_id_,
                                          false));
  EXPECT_EQ(m.status, MessageStatus::kBounced);
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      this->store().MessageEvents(this->tenant_, this->message_id_));
  EXPECT_EQ(events.size(), 2u);
}

TYPED_TEST(FeedbackTest, FingerprintsArePerTenant) {
  STORE_ASSERT_OK(this->store().ApplyFeedback(this->Bounce("shared")));
  FeedbackUpdate theirs;
  theirs.tenant_id = this->other_;
  theirs.fingerprint = "shared";
  Suppression s;
  s.tenant_id = this->other_;
  s.address = "x@example.net";
  s.reason = SuppressionReason::kComplaint;
  s.create_time = T0();
  theirs.new_suppressions.push_back(s);
  STORE_ASSERT_OK_AND_ASSIGN(bool applied, this->store().ApplyFeedback(theirs));
  EXPECT_TRUE(applied);
}

TYPED_TEST(FeedbackTest, UnknownMessageIsNotFoundAndNotRemembered) {
  FeedbackUpdate u = this->Bounce("f1");
  u.message_id = "m_missing";
  EXPECT_TRUE(absl::IsNotFound(this->store().ApplyFeedback(u).status()));
  // Another tenant's message is just as missing.
  FeedbackUpdate theirs = this->Bounce("f2");
  theirs.tenant_id = this->other_;
  EXPECT_TRUE(absl::IsNotFound(this->store().ApplyFeedback(theirs).status()));
  // Nothing was committed, so the right message can take the fingerprint.
  STORE_ASSERT_OK_AND_ASSIGN(bool applied,
                             this->store().ApplyFeedback(this->Bounce("f1")));
  EXPECT_TRUE(applied);
}

TYPED_TEST(FeedbackTest, StaleGuardIsAbortedAndChangesNothing) {
  STORE_ASSERT_OK_AND_ASSIGN(
      Message before, this->store().GetMessage(this->tenant_,
                                               this->message_id_, false));
  FeedbackUpdate stale = this->Bounce("f1");
  stale.expected_update_time = before.update_time - absl::Seconds(1);
  EXPECT_TRUE(absl::IsAborted(this->store().ApplyFeedback(stale).status()));
  FeedbackUpdate fresh = this->Bounce("f1");
  fresh.expected_update_time = before.update_time;
  STORE_ASSERT_OK_AND_ASSIGN(bool applied, this->store().ApplyFeedback(fresh));
  EXPECT_TRUE(applied);
}

TYPED_TEST(FeedbackTest, MessagelessFeedbackUpdatesSubscriptionsAndScores) {
  FeedbackUpdate u;
  u.tenant_id = this->tenant_;
  u.fingerprint = "unsub-1";
  Subscription sub;
  sub.tenant_id = this->tenant_;
  sub.address = "Carol@Example.org";
  sub.list = "news";
  sub.state = SubscriptionState::kUnsubscribed;
  sub.create_time = T0();
  sub.update_time = T0();
  sub.source = "rpc";
  sub.metadata = std::string("\x00meta", 5);
  u.subscriptions.push_back(sub);
  SoftBounceScore score;
  score.tenant_id = this->tenant_;
  score.address = "Carol@Example.org";
  score.score = 1.75;
  score.updated = T0();
  u.scores.push_back(score);
  Event e;
  e.tenant_id = this->tenant_;
  e.type = EventType::kUnsubscribed;
  e.time = T0();
  e.recipient = "carol@example.org";
  e.source = "rpc";
  u.events.push_back(e);
  STORE_ASSERT_OK(this->store().ApplyFeedback(u));

  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Subscription> subs,
      this->store().GetSubscriptions(this->tenant_, "carol@example.ORG", ""));
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0].address, "carol@example.org");
  EXPECT_EQ(subs[0].list, "news");
  EXPECT_EQ(subs[0].state, SubscriptionState::kUnsubscribed);
  EXPECT_EQ(subs[0].create_time, T0());
  EXPECT_EQ(subs[0].source, "rpc");
  EXPECT_EQ(subs[0].metadata, std::string("\x00meta", 5));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::optional<SoftBounceScore> got,
      this->store().GetSoftBounceScore(this->tenant_, "CAROL@example.org"));
  ASSERT_TRUE(got.has_value());
  EXPECT_DOUBLE_EQ(got->score, 1.75);
  EXPECT_EQ(got->updated, T0());
  STORE_ASSERT_OK_AND_ASSIGN(
      EventBatch batch,
      this->store().ReadEvents(this->tenant_, 0, EventFilter{}, 100));
  ASSERT_FALSE(batch.events.empty());
  EXPECT_EQ(batch.events.back().type, EventType::kUnsubscribed);
  EXPECT_EQ(batch.events.back().message_id, "");
  // Other tenants see none of it.
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Subscription> theirs,
      this->store().GetSubscriptions(this->other_, "carol@example.org", ""));
  EXPECT_TRUE(theirs.empty());
  STORE_ASSERT_OK_AND_ASSIGN(
      std::optional<SoftBounceScore> their_score,
      this->store().GetSoftBounceScore(this->other_, "carol@example.org"));
  EXPECT_FALSE(their_score.has_value());
}

TYPED_TEST(FeedbackTest, SubscriptionUpsertKeepsCreateTimeAndFiltersByList) {
  for (const char* list : {"news", "alerts"}) {
    FeedbackUpdate u;
    u.tenant_id = this->tenant_;
    u.fingerprint = std::string("sub-") + list;
    Subscription sub;
    sub.tenant_id = this->tenant_;
    sub.address = "dave@example.org";
    sub.list = list;
    sub.state = SubscriptionState::kSubscribed;
    sub.create_time = T0();
    sub.update_time = T0();
    u.subscriptions.push_back(sub);
    STORE_ASSERT_OK(this->store().ApplyFeedback(u));
  }
  FeedbackUpdate later;
  later.tenant_id = this->tenant_;
  later.fingerprint = "unsub-news";
  Subscription sub;
  sub.tenant_id = this->tenant_;
  sub.address = "dave@example.org";
  sub.list = "news";
  sub.state = SubscriptionState::kUnsubscribed;
  sub.create_time = T0() + absl::Hours(5);
  sub.update_time = T0() + absl::Hours(5);
  sub.source = "list-unsubscribe";
  later.subscriptions.push_back(sub);
  STORE_ASSERT_OK(this->store().ApplyFeedback(later));

  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Subscription> all,
      this->store().GetSubscriptions(this->tenant_, "dave@example.org", ""));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].list, "alerts");
  EXPECT_EQ(all[1].list, "news");
  EXPECT_EQ(all[1].state, SubscriptionState::kUnsubscribed);
  EXPECT_EQ(all[1].create_time, T0());
  EXPECT_EQ(all[1].update_time, T0() + absl::Hours(5));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Subscription> one,
      this->store().GetSubscriptions(this->tenant_, "dave@example.org",
                                     "alerts"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].state, SubscriptionState::kSubscribed);
}

TYPED_TEST(FeedbackTest, RemovesSuppressionsWithTheirNote) {
  Suppression s;
  s.tenant_id = this->tenant_;
  s.address = "erin@example.org";
  s.scope = "news";
  s.reason = SuppressionReason::kUnsubscribed;
  s.create_time = T0();
  STORE_ASSERT_OK(this->store().UpsertSuppression(s, "test"));
  FeedbackUpdate u;
  u.tenant_id = this->tenant_;
  u.fingerprint = "resub";
  u.removed_suppressions.push_back({"Erin@example.org", "news"});
  // Removing what is not there is not an error.
  u.removed_suppressions.push_back({"nobody@example.org", "news"});
  u.removal_note = "subscribed again";
  STORE_ASSERT_OK(this->store().ApplyFeedback(u));
  STORE_ASSERT_OK_AND_ASSIGN(
      auto found, this->store().FindSuppressions(this->tenant_,
                                                 {"erin@example.org"}, "news",
                                                 T0()));
  EXPECT_FALSE(found[0].has_value());
}

TYPED_TEST(FeedbackTest, FindMessageTenantAcrossTenants) {
  STORE_ASSERT_OK_AND_ASSIGN(int64_t owner,
                             this->store().FindMessageTenant(this->message_id_));
  EXPECT_EQ(owner, this->tenant_);
  std::string theirs =
      this->InsertOne(this->MakeMessage(this->other_, T0()));
  STORE_ASSERT_OK_AND_ASSIGN(int64_t other,
                             this->store().FindMessageTenant(theirs));
  EXPECT_EQ(other, this->other_);
  EXPECT_TRUE(absl::IsNotFound(
      this->store().FindMessageTenant("m_missing").status()));
}

}  // namespace
}  // namespace deliverd::store::conformance
