// Conformance: durability across close and reopen, and schema migrations.
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class DurabilityTest : public StoreTest<F> {};
TYPED_TEST_SUITE(DurabilityTest, StoreFactories, FactoryName);

TYPED_TEST(DurabilityTest, EverythingSurvivesReopen) {
  int64_t acme = this->MakeTenant("acme");
  STORE_ASSERT_OK_AND_ASSIGN(
      ApiKey key, this->store().CreateApiKey(acme, "hash-1", "dk_1", "label"));
  NewMessage item = this->MakeMessage(acme, T0(), {"a@example.org"});
  item.message.tags = {"t1", "t2"};
  item.message.metadata = std::string("\0meta\xff", 6);
  item.message.request_id = "req-1";
  item.request_hash = "hash";
  const Message want = item.message;
  std::string id = this->InsertOne(item);
  Suppression s;
  s.tenant_id = acme;
  s.address = "a@example.org";
  s.scope = "news";
  s.reason = SuppressionReason::kUnsubscribed;
  s.create_time = T0();
  STORE_ASSERT_OK(this->store().UpsertSuppression(s, "test"));
  // A leased message keeps its lease across a restart.
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Message> claimed,
      this->store().ClaimDueMessages("w1", T0(), absl::Hours(1), 10));
  ASSERT_EQ(claimed.size(), 1u);
  std::vector<Event> events = this->EventsOf(acme, id);
  ASSERT_EQ(events.size(), 1u);

  ASSERT_NO_FATAL_FAILURE(this->Reopen());

  STORE_ASSERT_OK_AND_ASSIGN(int64_t found_tenant,
                             this->store().FindTenant("acme"));
  EXPECT_EQ(found_tenant, acme);
  STORE_ASSERT_OK_AND_ASSIGN(ApiKey found_key,
                             this->store().FindApiKeyByHash("hash-1"));
  EXPECT_EQ(found_key.id, key.id);
  EXPECT_EQ(found_key.tenant_name, "acme");
  ExpectSameMessage(want, this->Get(acme, id, true), true);
  std::vector<Event> events_after = this->EventsOf(acme, id);
  ASSERT_EQ(events_after.size(), 1u);
  EXPECT_EQ(events_after[0].id, events[0].id);
  ExpectSameEvent(item.events[0], {"t1", "t2"}, events_after[0]);
  STORE_ASSERT_OK_AND_ASSIGN(
      auto found,
      this->store().FindSuppressions(acme, {"A@example.org"}, "news", T0()));
  ASSERT_TRUE(found.at(0).has_value());
  EXPECT_EQ(found[0]->reason, SuppressionReason::kUnsubscribed);
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<Message> reclaimed,
      this->store().ClaimDueMessages("w2", T0(), absl::Hours(1), 10));
  EXPECT_TRUE(reclaimed.empty()) << "the lease was lost on reopen";
  // The idempotency record survives too.
  NewMessage again = this->MakeMessage(acme, T0() + absl::Minutes(1));
  again.message.request_id = "req-1";
  again.request_hash = "hash";
  std::vector<InsertOutcome> outcomes = this->InsertAll({again});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].replayed);
  EXPECT_EQ(outcomes[0].message_id, id);

  // Event ids keep increasing after a restart (watchers' cursors stay valid).
  std::string next = this->InsertOne(this->MakeMessage(acme, T0()));
  std::vector<Event> next_events = this->EventsOf(acme, next);
  ASSERT_EQ(next_events.size(), 1u);
  EXPECT_GT(next_events[0].id, events[0].id);
}

TYPED_TEST(DurabilityTest, WritesSubmittedBeforeCloseAreFinished) {
  int64_t acme = this->MakeTenant("acme");
  constexpr int kMessages = 50;
  std::vector<std::string> ids;
  std::vector<std::promise<absl::Status>> done(kMessages);
  for (int i = 0; i < kMessages; ++i) {
    NewMessage item = this->MakeMessage(acme, T0() + absl::Seconds(i));
    ids.push_back(item.message.id);
    std::vector<NewMessage> batch;
    batch.push_back(std::move(item));
    this->store().InsertMessages(
        std::move(batch),
        [&done, i](absl::StatusOr<std::vector<InsertOutcome>> result) {
          done[i].set_value(result.status());
        });
  }
  // Closing right away: every submitted write completes, and is there
  // after reopening.
  ASSERT_NO_FATAL_FAILURE(this->Reopen());
  for (int i = 0; i < kMessages; ++i) {
    auto future = done[i].get_future();
    ASSERT_EQ(future.wait_for(std::chrono::seconds(0)),
              std::future_status::ready)
        << "callback " << i << " had not run when the store was destroyed";
    EXPECT_TRUE(future.get().ok());
  }
  EXPECT_EQ(IdsOf(this->ListAll(acme)).size(), static_cast<size_t>(kMessages));
  for (const std::string& id : ids) EXPECT_EQ(this->Get(acme, id).id, id);
}

TYPED_TEST(DurabilityTest, MigrationsAreAppliedOnce) {
  const int latest = this->factory_->MigrationCount();
  ASSERT_GE(latest, 2);
  STORE_ASSERT_OK_AND_ASSIGN(int version,
                             this->factory_->SchemaVersion(this->store()));
  EXPECT_EQ(version, latest);
  this->MakeTenant("acme");
  ASSERT_NO_FATAL_FAILURE(this->Reopen());
  STORE_ASSERT_OK_AND_ASSIGN(version,
                             this->factory_->SchemaVersion(this->store()));
  EXPECT_EQ(version, latest);
  ASSERT_NO_FATAL_FAILURE(this->Reopen());
  STORE_ASSERT_OK_AND_ASSIGN(version,
                             this->factory_->SchemaVersion(this->store()));
  EXPECT_EQ(version, latest);
  STORE_ASSERT_OK_AND_ASSIGN(
      int64_t rows,
      this->factory_->QueryInt("SELECT COUNT(*) FROM schema_migrations"));
  EXPECT_EQ(rows, latest) << "a migration was recorded twice";
  STORE_ASSERT_OK_AND_ASSIGN(
      int64_t max_version,
      this->factory_->QueryInt("SELECT MAX(version) FROM schema_migrations"));
  EXPECT_EQ(max_version, latest);
  // Data written before the reopens is intact (a re-run would have failed
  // or wiped it).
  STORE_ASSERT_OK(this->store().FindTenant("acme"));
}

TYPED_TEST(DurabilityTest, NewerSchemaThanKnownFailsToOpen) {
  this->MakeTenant("acme");
  this->store_.reset();
  STORE_ASSERT_OK(this->factory_->ExecSql(
      "INSERT INTO schema_migrations (version, name, applied_time) VALUES "
      "(9999, '9999_from_the_future', CURRENT_TIMESTAMP)"));
  absl::StatusOr<std::unique_ptr<Store>> store = this->factory_->Open();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  // Nothing was changed by the refused open: still version 9999 on top.
  STORE_ASSERT_OK_AND_ASSIGN(
      int64_t rows,
      this->factory_->QueryInt("SELECT COUNT(*) FROM schema_migrations"));
  EXPECT_EQ(rows, this->factory_->MigrationCount() + 1);
}

}  // namespace
}  // namespace deliverd::store::conformance
