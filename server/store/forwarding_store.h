// A Store that forwards every call to another store (its target), unchanged.
//
// The base for decorators: a class that adds behaviour to some calls (alerts
// on failures, metrics, fault injection in tests) derives from it, overrides
// only those calls and forwards to ForwardingStore's own implementation (or
// to target()) for the real work; every other call reaches the target as it
// is. A new Store method is added here once, and every decorator forwards it.
//
// Thread-safe as far as the target is; the forwarding itself holds no state.
// The target must outlive the ForwardingStore.
#ifndef DELIVERD_SERVER_STORE_FORWARDING_STORE_H_
#define DELIVERD_SERVER_STORE_FORWARDING_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/store.h"
#include "server/store/types.h"

namespace deliverd::store {

class ForwardingStore : public Store {
 public:
  // `target` is not owned.
  explicit ForwardingStore(Store* target) : target_(target) {}
  ForwardingStore(const ForwardingStore&) = delete;
  ForwardingStore& operator=(const ForwardingStore&) = delete;

  absl::StatusOr<int64_t> CreateTenant(absl::string_view name) override;
  absl::StatusOr<int64_t> FindTenant(absl::string_view name) override;
  absl::StatusOr<std::string> TenantName(int64_t tenant_id) override;
  absl::StatusOr<TenantSendPolicy> GetSendPolicy(int64_t tenant_id) override;
  absl::Status SetSendPolicy(int64_t tenant_id,
                             const TenantSendPolicy& policy) override;
  absl::StatusOr<ApiKey> CreateApiKey(int64_t tenant_id,
                                      absl::string_view key_hash,
                                      absl::string_view prefix,
                                      absl::string_view label) override;
  absl::StatusOr<ApiKey> FindApiKeyByHash(absl::string_view key_hash) override;
  absl::StatusOr<int64_t> CountApiKeys() override;

  void InsertMessages(std::vector<NewMessage> batch,
                      InsertCallback done) override;
  absl::StatusOr<Message> GetMessage(int64_t tenant_id, absl::string_view id,
                                     bool with_content) override;
  absl::StatusOr<int64_t> FindMessageTenant(absl::string_view id) override;
  absl::StatusOr<std::vector<Event>> MessageEvents(
      int64_t tenant_id, absl::string_view id) override;
  absl::StatusOr<MessagePage> ListMessages(
      int64_t tenant_id, const MessageFilter& filter, int page_size,
      const std::optional<MessageCursor>& after) override;

  absl::StatusOr<EventBatch> ReadEvents(int64_t tenant_id, int64_t after_id,
                                        const EventFilter& filter,
                                        int limit) override;
  absl::StatusOr<int64_t> LastEventId(int64_t tenant_id) override;
  void SetEventListener(std::function<void()> listener) override;

  absl::StatusOr<std::vector<Message>> ClaimDueMessages(absl::string_view owner,
                                                        absl::Time now,
                                                        absl::Duration lease,
                                                        int limit) override;
  void RecordDeliveryAsync(std::shared_ptr<const DeliveryUpdate> update,
                           RecordCallback done) override;
  absl::Status ReleaseAllLeases() override;
  absl::StatusOr<absl::Time> NextDueTime() override;

  absl::Status UpsertSuppression(const Suppression& suppression,
                                 absl::string_view note) override;
  absl::StatusOr<Suppression> RemoveSuppression(
      int64_t tenant_id, absl::string_view address, absl::string_view scope,
      absl::string_view reason) override;
  absl::StatusOr<std::vector<std::optional<Suppression>>> FindSuppressions(
      int64_t tenant_id, const std::vector<std::string>& addresses,
      absl::string_view stream, absl::Time now) override;
  absl::StatusOr<SuppressionPage> ListSuppressions(
      int64_t tenant_id, const SuppressionFilter& filter, int page_size,
      const std::optional<SuppressionCursor>& after) override;

  absl::StatusOr<bool> ApplyFeedback(const FeedbackUpdate& update) override;
  absl::StatusOr<std::optional<SoftBounceScore>> GetSoftBounceScore(
      int64_t tenant_id, absl::string_view address) override;

  absl::StatusOr<CleaningJob> CreateCleaningJob(
      const CleaningJob& job) override;
  absl::StatusOr<CleaningJob> GetCleaningJob(int64_t tenant_id,
                                             absl::string_view id) override;
  absl::StatusOr<std::vector<CleaningJob>> ListCleaningJobs(
      int64_t tenant_id, int page_size, absl::string_view after_id) override;
  absl::Status DeleteCleaningJob(int64_t tenant_id,
                                 absl::string_view id) override;
  absl::StatusOr<std::vector<ClaimedCleaningJob>> ClaimDueCleaningJobs(
      absl::string_view owner, absl::Time now, absl::Duration lease,
      int limit) override;
  absl::StatusOr<ClaimedCleaningJob> ClaimCleaningJob(
      int64_t tenant_id, absl::string_view id, absl::string_view owner,
      absl::Time now, absl::Duration lease) override;
  absl::Status FinishCleaningJobRun(const CleaningRunFinish& finish) override;
  absl::StatusOr<std::vector<CleaningJobRun>> ListCleaningJobRuns(
      int64_t tenant_id, absl::string_view job_id, int limit) override;
  absl::StatusOr<absl::Time> NextCleaningJobDueTime() override;

  absl::Status CreateAlertChannel(const AlertChannelRow& channel) override;
  absl::StatusOr<std::vector<AlertChannelRow>> ListAlertChannels(
      int64_t tenant_id) override;
  absl::Status DeleteAlertChannel(int64_t tenant_id,
                                  absl::string_view name) override;
  absl::Status UpdateAlertChannel(const AlertChannelRow& channel) override;
  absl::Status CreateAlertRule(const AlertRuleRow& rule) override;
  absl::StatusOr<std::vector<AlertRuleRow>> ListAlertRules(
      int64_t tenant_id) override;
  absl::Status DeleteAlertRule(int64_t tenant_id,
                               absl::string_view id) override;
  absl::StatusOr<std::vector<AlertRuleRow>> ListAllAlertRules() override;
  absl::StatusOr<std::vector<AlertChannelRow>> ListAllAlertChannels() override;
  absl::StatusOr<int64_t> InsertAlertRecord(
      const AlertRecordRow& record) override;
  absl::StatusOr<std::vector<AlertRecordRow>> ListAlertRecords(
      int64_t tenant_id, absl::string_view channel, int kind, int page_size,
      int64_t before_id) override;
  absl::StatusOr<std::vector<OldestUnsentMessage>> OldestUnsentMessages()
      override;
  absl::StatusOr<AlertWindow> ClaimAlertWindow(int64_t tenant_id,
                                               absl::string_view key,
                                               absl::Time now,
                                               absl::Time until) override;
  absl::Status SetAlertWindowNote(int64_t tenant_id, absl::string_view key,
                                  absl::string_view note) override;

  absl::StatusOr<std::vector<Subscription>> GetSubscriptions(
      int64_t tenant_id, absl::string_view address,
      absl::string_view list) override;

 protected:
  Store* target() const { return target_; }

 private:
  Store* const target_;
};

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_FORWARDING_STORE_H_
