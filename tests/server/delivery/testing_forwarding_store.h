// A Store that forwards every call to another store: tests derive from it
// and override only the calls they want to fail or observe.
#ifndef DELIVERD_TESTS_SERVER_DELIVERY_TESTING_FORWARDING_STORE_H_
#define DELIVERD_TESTS_SERVER_DELIVERY_TESTING_FORWARDING_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/store/store.h"

namespace deliverd::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store* inner) : inner_(inner) {}

  absl::StatusOr<int64_t> CreateTenant(absl::string_view name) override {
    return inner_->CreateTenant(name);
  }
  absl::StatusOr<int64_t> FindTenant(absl::string_view name) override {
    return inner_->FindTenant(name);
  }
  absl::StatusOr<TenantSendPolicy> GetSendPolicy(int64_t tenant_id) override {
    return inner_->GetSendPolicy(tenant_id);
  }
  absl::Status SetSendPolicy(int64_t tenant_id, const TenantSendPolicy& policy) override {
    return inner_->SetSendPolicy(tenant_id, policy);
  }
  absl::StatusOr<ApiKey> CreateApiKey(int64_t tenant_id, absl::string_view key_hash, absl::string_view prefix, absl::string_view label) override {
    return inner_->CreateApiKey(tenant_id, key_hash, prefix, label);
  }
  absl::StatusOr<ApiKey> FindApiKeyByHash( absl::string_view key_hash) override {
    return inner_->FindApiKeyByHash(key_hash);
  }
  absl::StatusOr<int64_t> CountApiKeys() override {
    return inner_->CountApiKeys();
  }
  void InsertMessages(std::vector<NewMessage> batch, InsertCallback done) override {
    inner_->InsertMessages(std::move(batch), std::move(done));
  }
  absl::StatusOr<Message> GetMessage(int64_t tenant_id, absl::string_view id, bool with_content) override {
    return inner_->GetMessage(tenant_id, id, with_content);
  }
  absl::StatusOr<int64_t> FindMessageTenant(absl::string_view id) override {
    return inner_->FindMessageTenant(id);
  }
  absl::StatusOr<std::vector<Event>> MessageEvents( int64_t tenant_id, absl::string_view id) override {
    return inner_->MessageEvents(tenant_id, id);
  }
  absl::StatusOr<MessagePage> ListMessages( int64_t tenant_id, const MessageFilter& filter, int page_size, const std::optional<MessageCursor>& after) override {
    return inner_->ListMessages(tenant_id, filter, page_size, after);
  }
  absl::StatusOr<EventBatch> ReadEvents(int64_t tenant_id, int64_t after_id, const EventFilter& filter, int limit) override {
    return inner_->ReadEvents(tenant_id, after_id, filter, limit);
  }
  absl::StatusOr<int64_t> LastEventId(int64_t tenant_id) override {
    return inner_->LastEventId(tenant_id);
  }
  void SetEventListener(std::function<void()> listener) override {
    inner_->SetEventListener(std::move(listener));
  }
  absl::StatusOr<std::vector<Message>> ClaimDueMessages( absl::string_view owner, absl::Time now, absl::Duration lease, int limit) override {
    return inner_->ClaimDueMessages(owner, now, lease, limit);
  }
  absl::Status RecordDelivery(const DeliveryUpdate& update) override {
    return inner_->RecordDelivery(update);
  }
  absl::Status ReleaseAllLeases() override {
    return inner_->ReleaseAllLeases();
  }
  absl::StatusOr<absl::Time> NextDueTime() override {
    return inner_->NextDueTime();
  }
  absl::Status UpsertSuppression(const Suppression& suppression, absl::string_view note) override {
    return inner_->UpsertSuppression(suppression, note);
  }
  absl::StatusOr<Suppression> RemoveSuppression( int64_t tenant_id, absl::string_view address, absl::string_view scope, absl::string_view reason) override {
    return inner_->RemoveSuppression(tenant_id, address, scope, reason);
  }
  absl::StatusOr<std::vector<std::optional<Suppression>>> FindSuppressions(int64_t tenant_id, const std::vector<std::string>& addresses, absl::string_view stream, absl::Time now) override {
    return inner_->FindSuppressions(tenant_id, addresses, stream, now);
  }
  absl::StatusOr<SuppressionPage> ListSuppressions( int64_t tenant_id, const SuppressionFilter& filter, int page_size, const std::optional<SuppressionCursor>& after) override {
    return inner_->ListSuppressions(tenant_id, filter, page_size, after);
  }
  absl::StatusOr<bool> ApplyFeedback(const FeedbackUpdate& update) override {
    return inner_->ApplyFeedback(update);
  }
  absl::StatusOr<std::optional<SoftBounceScore>> GetSoftBounceScore( int64_t tenant_id, absl::string_view address) override {
    return inner_->GetSoftBounceScore(tenant_id, address);
  }
  absl::StatusOr<CleaningJob> CreateCleaningJob( const CleaningJob& job) override {
    return inner_->CreateCleaningJob(job);
  }
  absl::StatusOr<CleaningJob> GetCleaningJob(int64_t tenant_id, absl::string_view id) override {
    return inner_->GetCleaningJob(tenant_id, id);
  }
  absl::StatusOr<std::vector<CleaningJob>> ListCleaningJobs( int64_t tenant_id, int page_size, absl::string_view after_id) override {
    return inner_->ListCleaningJobs(tenant_id, page_size, after_id);
  }
  absl::Status DeleteCleaningJob(int64_t tenant_id, absl::string_view id) override {
    return inner_->DeleteCleaningJob(tenant_id, id);
  }
  absl::StatusOr<std::vector<ClaimedCleaningJob>> ClaimDueCleaningJobs( absl::string_view owner, absl::Time now, absl::Duration lease, int limit) override {
    return inner_->ClaimDueCleaningJobs(owner, now, lease, limit);
  }
  absl::StatusOr<ClaimedCleaningJob> ClaimCleaningJob( int64_t tenant_id, absl::string_view id, absl::string_view owner, absl::Time now, absl::Duration lease) override {
    return inner_->ClaimCleaningJob(tenant_id, id, owner, now, lease);
  }
  absl::Status FinishCleaningJobRun( const CleaningRunFinish& finish) override {
    return inner_->FinishCleaningJobRun(finish);
  }
  absl::StatusOr<std::vector<CleaningJobRun>> ListCleaningJobRuns( int64_t tenant_id, absl::string_view job_id, int limit) override {
    return inner_->ListCleaningJobRuns(tenant_id, job_id, limit);
  }
  absl::StatusOr<absl::Time> NextCleaningJobDueTime() override {
    return inner_->NextCleaningJobDueTime();
  }
  absl::StatusOr<std::vector<Subscription>> GetSubscriptions( int64_t tenant_id, absl::string_view address, absl::string_view list) override {
    return inner_->GetSubscriptions(tenant_id, address, list);
  }

 protected:
  Store* inner_;
};

}  // namespace deliverd::store

#endif  // DELIVERD_TESTS_SERVER_DELIVERY_TESTING_FORWARDING_STORE_H_
