// Conformance: tenant isolation. Tenant B can neither see nor change
// tenant A's messages, events or suppressions, even knowing their ids.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class IsolationTest : public StoreTest<F> {
 protected:
  void SetUp() override {
    StoreTest<F>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    a_ = this->MakeTenant("acme");
    b_ = this->MakeTenant("globex");
    NewMessage item = this->MakeMessage(a_, T0(), {"shared@example.org"});
    item.message.from_address = "sender@example.com";
    item.message.tags = {"secret"};
    item.message.status = MessageStatus::kSent;
    message_ = this->InsertOne(item);
    Suppression s;
    s.tenant_id = a_;
    s.address = "shared@example.org";
    s.reason = SuppressionReason::kHardBounce;
    s.create_time = T0();
    STORE_ASSERT_OK(this->store().UpsertSuppression(s, "a"));
    s.scope = "news";
    STORE_ASSERT_OK(this->store().UpsertSuppression(s, "a"));
  }

  int64_t a_ = 0, b_ = 0;
  std::string message_;
};
TYPED_TEST_SUITE(IsolationTest, StoreFactories, FactoryName);

TYPED_TEST(IsolationTest, OtherTenantCannotGetTheMessage) {
  absl::StatusOr<Message> m =
      this->store().GetMessage(this->b_, this->message_, true);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound) << m.status();
  // A still can.
  EXPECT_EQ(this->Get(this->a_, this->message_).id, this->message_);
}

TYPED_TEST(IsolationTest, OtherTenantListsNothing) {
  EXPECT_TRUE(this->ListAll(this->b_).empty());
  MessageFilter f;
  f.recipient = "shared@example.org";
  EXPECT_TRUE(this->ListAll(this->b_, f).empty());
  f = {};
  f.sender = "sender@example.com";
  EXPECT_TRUE(this->ListAll(this->b_, f).empty());
  f = {};
  f.tag = "secret";
  EXPECT_TRUE(this->ListAll(this->b_, f).empty());
  f = {};
  f.statuses = {MessageStatus::kSent};
  EXPECT_TRUE(this->ListAll(this->b_, f).empty());
  // ...while A's own listing has it (so the filters do match).
  f = {};
  f.recipient = "shared@example.org";
  f.tag = "secret";
  EXPECT_EQ(IdsOf(this->ListAll(this->a_, f)),
            std::vector<std::string>{this->message_});
}

TYPED_TEST(IsolationTest, OtherTenantReadsNoEvents) {
  absl::StatusOr<std::vector<Event>> events =
      this->store().MessageEvents(this->b_, this->message_);
  if (events.ok()) {
    EXPECT_TRUE(events->empty());
  } else {
    EXPECT_EQ(events.status().code(), absl::StatusCode::kNotFound)
        << events.status();
  }
  STORE_ASSERT_OK_AND_ASSIGN(EventBatch batch,
                             this->store().ReadEvents(this->b_, 0, {}, 100));
  EXPECT_TRUE(batch.events.empty());
  EventFilter f;
  f.message_id = this->message_;
  STORE_ASSERT_OK_AND_ASSIGN(batch,
                             this->store().ReadEvents(this->b_, 0, f, 100));
  EXPECT_TRUE(batch.events.empty());
  f = {};
  f.tag = "secret";
  STORE_ASSERT_OK_AND_ASSIGN(batch,
                             this->store().ReadEvents(this->b_, 0, f, 100));
  EXPECT_TRUE(batch.events.empty());
  STORE_ASSERT_OK_AND_ASSIGN(int64_t last, this->store().LastEventId(this->b_));
  EXPECT_EQ(last, 0);
  // A sees its event.
  EXPECT_EQ(this->EventsOf(this->a_, this->message_).size(), 1u);
}

TYPED_TEST(IsolationTest, OtherTenantSeesNoSuppressions) {
  STORE_ASSERT_OK_AND_ASSIGN(
      auto found,
      this->store().FindSuppressions(this->b_, {"shared@example.org"}, "news",
                                     T0()));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_FALSE(found[0].has_value());
  SuppressionFilter all;
  all.all_scopes = true;
  STORE_ASSERT_OK_AND_ASSIGN(
      SuppressionPage page,
      this->store().ListSuppressions(this->b_, all, 100, std::nullopt));
  EXPECT_TRUE(page.suppressions.empty());
  EXPECT_FALSE(page.next.has_value());
}

TYPED_TEST(IsolationTest, OtherTenantCannotRemoveSuppressions) {
  for (const char* scope : {"", "news"}) {
    absl::StatusOr<Suppression> removed = this->store().RemoveSuppression(
        this->b_, "shared@example.org", scope, "not mine");
    EXPECT_EQ(removed.status().code(), absl::StatusCode::kNotFound)
        << removed.status();
  }
  STORE_ASSERT_OK_AND_ASSIGN(
      auto found,
      this->store().FindSuppressions(this->a_, {"shared@example.org"}, "", T0()));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].has_value());
  SuppressionFilter all;
  all.all_scopes = true;
  STORE_ASSERT_OK_AND_ASSIGN(
      SuppressionPage page,
      this->store().ListSuppressions(this->a_, all, 100, std::nullopt));
  EXPECT_EQ(page.suppressions.size(), 2u);
}

TYPED_TEST(IsolationTest, SameIdempotencyKeyAndAddressesStaySeparate) {
  // B suppressing the same address does not replace A's row.
  Suppression s;
  s.tenant_id = this->b_;
  s.address = "shared@example.org";
  s.reason = SuppressionReason::kManual;
  s.create_time = T0();
  STORE_ASSERT_OK(this->store().UpsertSuppression(s, "b"));
  STORE_ASSERT_OK_AND_ASSIGN(
      auto a_found,
      this->store().FindSuppressions(this->a_, {"shared@example.org"}, "", T0()));
  ASSERT_TRUE(a_found.at(0).has_value());
  EXPECT_EQ(a_found[0]->reason, SuppressionReason::kHardBounce);
  EXPECT_EQ(a_found[0]->tenant_id, this->a_);
  STORE_ASSERT_OK_AND_ASSIGN(
      Suppression removed,
      this->store().RemoveSuppression(this->b_, "shared@example.org", "", ""));
  EXPECT_EQ(removed.tenant_id, this->b_);
  EXPECT_EQ(removed.reason, SuppressionReason::kManual);
  STORE_ASSERT_OK_AND_ASSIGN(
      a_found,
      this->store().FindSuppressions(this->a_, {"shared@example.org"}, "", T0()));
  EXPECT_TRUE(a_found.at(0).has_value()) << "B's removal removed A's row";
}

}  // namespace
}  // namespace deliverd::store::conformance
