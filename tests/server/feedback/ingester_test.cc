// FeedbackIngester against a real SqliteStore in a temporary directory.
#include "server/feedback/ingester.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/store/sqlite_store.h"
#include "testing_feedback_store.h"

namespace deliverd::feedback {
namespace {

using hygiene::bounce::BounceClass;
using hygiene::bounce::Reason;
using store::MessageStatus;

// Our ids: "m_" and 26 Crockford base32 characters.
constexpr char kId1[] = "m_01hzzzzzzzzzzzzzzzzzzzzzz1";
constexpr char kId2[] = "m_01hzzzzzzzzzzzzzzzzzzzzzz2";

using testing::T0;

class IngesterTest : public testing::FeedbackStoreTest {
 protected:
  void SetUp() override {
    FeedbackStoreTest::SetUp();
    if (HasFatalFailure()) return;
    Insert(tenant_, kId1, {"alice@example.org", "bob@example.org"});
    Insert(other_, kId2, {"carol@example.org"});
    ingester_ = std::make_unique<FeedbackIngester>(store_.get(),
                                                   hygiene::SoftBouncePolicy{});
  }
  void TearDown() override {
    ingester_.reset();
    FeedbackStoreTest::TearDown();
  }

  static FeedbackItem Bounce(const std::string& recipient, Reason reason,
                             BounceClass klass) {
    FeedbackItem item;
    item.kind = FeedbackKind::kBounce;
    item.recipient = recipient;
    item.reason = reason;
    item.bounce_class = klass;
    item.status = klass == BounceClass::kHard ? "5.1.1" : "4.2.2";
    item.reply_code = klass == BounceClass::kHard ? 550 : 452;
    item.diagnostic = "the receiver said no";
    item.source = "dsn";
    item.ref.verp_address = absl::StrCat("bounce+", kId1, "@bounces.example");
    return item;
  }

  IngestResult Ingest(const std::vector<FeedbackItem>& items,
                      const std::string& digest, bool trusted = false,
                      int64_t tenant = 0) {
    FeedbackSource source;
    source.digest = digest;
    source.trusted = trusted;
    auto result = ingester_->Ingest(tenant == 0 ? tenant_ : tenant, items,
                                    source, T0() + absl::Hours(1));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(IngestResult{});
  }

  store::Message Get(const std::string& id, int64_t tenant = 0) {
    auto m = store_->GetMessage(tenant == 0 ? tenant_ : tenant, id, false);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.value_or(store::Message{});
  }

  std::optional<store::Suppression> Suppressed(const std::string& address,
                                               const std::string& stream = "",
                                               int64_t tenant = 0) {
    auto found = store_->FindSuppressions(tenant == 0 ? tenant_ : tenant,
                                          {address}, stream,
                                          T0() + absl::Hours(2));
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? (*found)[0] : std::nullopt;
  }

  std::vector<store::Event> Events(const std::string& id) {
    auto events = store_->MessageEvents(tenant_, id);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.value_or(std::vector<store::Event>{});
  }

  std::unique_ptr<FeedbackIngester> ingester_;
};

TEST_F(IngesterTest, HardBounceByVerpBouncesTheRecipientAndSuppresses) {
  IngestResult r = Ingest(
      {Bounce("Bob@example.org", Reason::kUserUnknown, BounceClass::kHard)},
      "raw-1");
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_EQ(r.outcomes[0], ItemOutcome::kApplied);
  EXPECT_EQ(r.matched_messages, std::vector<std::string>{kId1});
  EXPECT_EQ(r.suppressed, std::vector<std::string>{"bob@example.org"});
  store::Message m = Get(kId1);
  EXPECT_EQ(m.recipients[0].status, MessageStatus::kSent);
  EXPECT_EQ(m.recipients[1].status, MessageStatus::kBounced);
  EXPECT_EQ(m.recipients[1].last_reply.code, 550);
  // Still sent to alice: in progress beats refused.
  EXPECT_EQ(m.status, MessageStatus::kSent);
  std::vector<store::Event> events = Events(kId1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, store::EventType::kBounced);
  EXPECT_EQ(events[0].recipient, "bob@example.org");
  EXPECT_EQ(events[0].source, "dsn");
  std::optional<store::Suppression> s = Suppressed("bob@example.org");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->reason, store::SuppressionReason::kHardBounce);
  EXPECT_EQ(s->source_message, absl::StrCat("messages/", kId1));
  EXPECT_EQ(s->expire_time, absl::InfiniteFuture());
}

TEST_F(IngesterTest, TheSameBounceTwiceChangesNothingTheSecondTime) {
  FeedbackItem item =
      Bounce("bob@example.org", Reason::kUserUnknown, BounceClass::kHard);
  Ingest({item}, "raw-1");
  IngestResult again = Ingest({item}, "raw-1");
  ASSERT_EQ(again.outcomes.size(), 1u);
  EXPECT_EQ(again.outcomes[0], ItemOutcome::kDuplicate);
  EXPECT_TRUE(again.suppressed.empty());
  EXPECT_EQ(Events(kId1).size(), 1u);
}

TEST_F(IngesterTest, ProviderEventIdsDecideDuplicatesWhateverTheBody) {
  FeedbackItem item =
      Bounce("bob@example.org", Reason::kUserUnknown, BounceClass::kHard);
  item.source = "ses";
  item.event_id = "feedback-1:bob@example.org";
  Ingest({item}, "body-a", true);
  IngestResult again = Ingest({item}, "body-b-reformatted", true);
  EXPECT_EQ(again.outcomes[0], ItemOutcome::kDuplicate);
}

TEST_F(IngesterTest, AllRecipientsBouncedMakesTheMessageBounced) {
  Ingest({Bounce("alice@example.org", Reason::kUserUnknown, BounceClass::kHard),
          Bounce("bob@example.org", Reason::kHostUnknown, BounceClass::kHard)},
         "raw-2");
  EXPECT_EQ(Get(kId1).status, MessageStatus::kBounced);
}

TEST_F(IngesterTest, MatchesByMessageIdWhenThereIsNoVerp) {
  FeedbackItem item =
      Bounce("alice@example.org", Reason::kUserUnknown, BounceClass::kHard);
  item.ref.verp_address.clear();
  item.ref.rfc822_message_id = absl::StrCat("<", kId1, "@SENDER.example>");
  IngestResult r = Ingest({item}, "raw-3");
  EXPECT_EQ(r.outcomes[0], ItemOutcome::kApplied);
  EXPECT_EQ(Get(kId1).recipients[0].status, MessageStatus::kBounced);
}

TEST_F(IngesterTest, AMessageIdWithTheWrongDomainDoesNotMatch) {
  FeedbackItem item =
      Bounce("alice@example.org", Reason::kUserUnknown, BounceClass::kHard);
  item.ref.verp_address.clear();
  item.ref.rfc822_message_id = absl::StrCat(kId1, "@elsewhere.example");
  IngestResult r = Ingest({item}, "raw-4");
  EXPECT_EQ(r.outcomes[0], ItemOutcome::kUnmatched);
  EXPECT_FALSE(Suppressed("alice@example.org").has_value());
}

TEST_F(IngesterTest, AnotherTenantsMessageIsNeverMatched) {
  FeedbackItem item =
      Bounce("carol@example.org", Reason::kUserUnknown, BounceClass::kHard);
  item.ref.verp_address = absl::StrCat("bounce+", kId2, "@bounces.example");
  IngestResult r = Ingest({item}, "raw-5");
  EXPECT_EQ(r.outcomes[0], ItemOutcome::kUnmatched);
  EXPECT_EQ(Get(kId2, other_).recipients[0].status, MessageStatus::kSent);
  EXPECT_FALSE(Suppressed("carol@example.org", "", other_).has_value());
}

TEST_F(IngesterTest, DeliveredConfirms) {
  FeedbackItem a = Bounce("alice@example.org", Reason::kDelivered,
                          BounceClass::kNone);
  a.kind = FeedbackKind::kDelivered;
  FeedbackItem b = a;
  b.recipient = "bob@example.org";
  Ingest({a, b}, "raw-6");
  store::Message m = Get(kId1);
  EXPECT_EQ(m.recipients[0].status, MessageStatus::kConfirmed);
  EXPECT_EQ(m.status, MessageStatus::kConfirmed);
  EXPECT_EQ(Events(kId1)[0].type, store::EventType::kConfirmed);
}

TEST_F(IngesterTest, ComplaintSuppressesWithoutChangingStatus) {
  FeedbackItem item = Bounce("alice@example.org", Reason::kComplaint,
                             BounceClass::kNone);
  item.kind = FeedbackKind::kComplaint;
  item.feedback_type = "abuse";
  item.source = "arf";
  Ingest({item}, "raw-7");
  EXPECT_EQ(Get(kId1).recipients[0].status, MessageStatus::kSent);
  std::optional<store::Suppression> s = Suppressed("alice@example.org");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->reason, store::SuppressionReason::kComplaint);
  EXPECT_EQ(Events(kId1)[0].type, store::EventType::kComplained);
  EXPECT_EQ(Events(kId1)[0].detail, "complaint: abuse");
}

TEST_F(IngesterTest, ReputationBlockIsBlockedAndNeverSuppresses) {
  for (int i = 0; i < 5; ++i) {
    Ingest({Bounce("alice@example.org", Reason::kBlocked, BounceClass::kSoft)},
           absl::StrCat("raw-block-", i));
  }
  EXPECT_EQ(Get(kId1).recipients[0].status, MessageStatus::kBlocked);
  EXPECT_FALSE(Suppressed("alice@example.org").has_value());
  auto score = store_->GetSoftBounceScore(tenant_, "alice@example.org");
  ASSERT_TRUE(score.ok());
  EXPECT_FALSE(score->has_value());
}

TEST_F(IngesterTest, RepeatedMailboxFullSuppressesForAWhile) {
  for (int i = 0; i < 2; ++i) {
    Ingest({Bounce("alice@example.org", Reason::kMailboxFull,
                   BounceClass::kSoft)},
           absl::StrCat("raw-full-", i));
    EXPECT_FALSE(Suppressed("alice@example.org").has_value()) << i;
  }
  EXPECT_EQ(Get(kId1).recipients[0].status, MessageStatus::kFailed);
  IngestResult third = Ingest(
      {Bounce("alice@example.org", Reason::kMailboxFull, BounceClass::kSoft)},
      "raw-full-2");
  EXPECT_EQ(third.suppressed, std::vector<std::string>{"alice@example.org"});
  std::optional<store::Suppression> s = Suppressed("alice@example.org");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->reason, store::SuppressionReason::kSoftBounce);
  EXPECT_EQ(s->expire_time,
            T0() + absl::Hours(1) + absl::Hours(24 * 30));
}

TEST_F(IngesterTest, ATenantsOwnSoftBounceThresholdApplies) {
  store::TenantSendPolicy policy;
  policy.soft_bounce_threshold = 1.0;
  policy.soft_bounce_suppress_seconds = 7200;
  ASSERT_TRUE(store_->SetSendPolicy(tenant_, policy).ok());
  IngestResult first = Ingest(
      {Bounce("alice@example.org", Reason::kMailboxFull, BounceClass::kSoft)},
      "raw-tenant-1");
  EXPECT_EQ(first.suppressed, std::vector<std::string>{"alice@example.org"});
  std::optional<store::Suppression> s = Suppressed("alice@example.org");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->reason, store::SuppressionReason::kSoftBounce);
  EXPECT_EQ(s->expire_time, T0() + absl::Hours(3));
}

TEST_F(IngesterTest, UnmatchedRawMessageChangesNothingButProviderEventsApply) {
  FeedbackItem item = Bounce("stranger@example.net", Reason::kComplaint,
                             BounceClass::kNone);
  item.kind = FeedbackKind::kComplaint;
  item.ref = MessageRef{};
  EXPECT_EQ(Ingest({item}, "raw-8").outcomes[0], ItemOutcome::kUnmatched);
  EXPECT_FALSE(Suppressed("stranger@example.net").has_value());
  item.source = "sendgrid";
  EXPECT_EQ(Ingest({item}, "body-8", true).outcomes[0], ItemOutcome::kApplied);
  EXPECT_TRUE(Suppressed("stranger@example.net").has_value());
}

TEST_F(IngesterTest, UnsubscribeFromTheMessagesStream) {
  Insert(tenant_, "m_01hzzzzzzzzzzzzzzzzzzzzzz3", {"dave@example.org"}, "news");
  FeedbackItem item;
  item.kind = FeedbackKind::kUnsubscribe;
  item.recipient = "dave@example.org";
  item.source = "mailgun";
  item.ref.deliverd_id = "m_01hzzzzzzzzzzzzzzzzzzzzzz3";
  Ingest({item}, "body-9", true);
  auto subs = store_->GetSubscriptions(tenant_, "dave@example.org", "");
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].list, "news");
  EXPECT_EQ((*subs)[0].state, store::SubscriptionState::kUnsubscribed);
  EXPECT_TRUE(Suppressed("dave@example.org", "news").has_value());
  // Transactional mail is not affected.
  EXPECT_FALSE(Suppressed("dave@example.org", "").has_value());
}

TEST_F(IngesterTest, AutoRepliesAreIgnored) {
  FeedbackItem item = Bounce("alice@example.org", Reason::kAutoReply,
                             BounceClass::kNone);
  item.kind = FeedbackKind::kAutoReply;
  EXPECT_EQ(Ingest({item}, "raw-10").outcomes[0], ItemOutcome::kIgnored);
  EXPECT_TRUE(Events(kId1).empty());
}

TEST(StatusForBounceTest, HardIsBouncedReputationIsBlockedRestFailed) {
  EXPECT_EQ(StatusForBounce(Reason::kUserUnknown, BounceClass::kHard),
            MessageStatus::kBounced);
  EXPECT_EQ(StatusForBounce(Reason::kSpamDetected, BounceClass::kSoft),
            MessageStatus::kBlocked);
  EXPECT_EQ(StatusForBounce(Reason::kMailboxFull, BounceClass::kSoft),
            MessageStatus::kFailed);
}

}  // namespace
}  // namespace deliverd::feedback
