// ForwardingStore: every call goes to the target unchanged.
#include "server/store/forwarding_store.h"

namespace deliverd::store {

absl::StatusOr<int64_t> ForwardingStore::CreateTenant(absl::string_view name) {
  return target_->CreateTenant(name);
}

absl::StatusOr<int64_t> ForwardingStore::FindTenant(absl::string_view name) {
  return target_->FindTenant(name);
}

absl::StatusOr<std::string> ForwardingStore::TenantName(int64_t tenant_id) {
  return target_->TenantName(tenant_id);
}

absl::StatusOr<TenantSendPolicy> ForwardingStore::GetSendPolicy(
    int64_t tenant_id) {
  return target_->GetSendPolicy(tenant_id);
}

absl::Status ForwardingStore::SetSendPolicy(int64_t tenant_id,
                                            const TenantSendPolicy& policy) {
  return target_->SetSendPolicy(tenant_id, policy);
}

absl::StatusOr<ApiKey> ForwardingStore::CreateApiKey(int64_t tenant_id,
                                                     absl::string_view key_hash,
                                                     absl::string_view prefix,
                                                     absl::string_view label) {
  return target_->CreateApiKey(tenant_id, key_hash, prefix, label);
}

absl::StatusOr<ApiKey> ForwardingStore::FindApiKeyByHash(
    absl::string_view key_hash) {
  return target_->FindApiKeyByHash(key_hash);
}

absl::StatusOr<int64_t> ForwardingStore::CountApiKeys() {
  return target_->CountApiKeys();
}

void ForwardingStore::InsertMessages(std::vector<NewMessage> batch,
                                     InsertCallback done) {
  target_->InsertMessages(std::move(batch), std::move(done));
}

absl::StatusOr<Message> ForwardingStore::GetMessage(int64_t tenant_id,
                                                    absl::string_view id,
                                                    bool with_content) {
  return target_->GetMessage(tenant_id, id, with_content);
}

absl::StatusOr<int64_t> ForwardingStore::FindMessageTenant(
    absl::string_view id) {
  return target_->FindMessageTenant(id);
}

absl::StatusOr<std::vector<Event>> ForwardingStore::MessageEvents(
    int64_t tenant_id, absl::string_view id) {
  return target_->MessageEvents(tenant_id, id);
}

absl::StatusOr<MessagePage> ForwardingStore::ListMessages(
    int64_t tenant_id, const MessageFilter& filter, int page_size,
    const std::optional<MessageCursor>& after) {
  return target_->ListMessages(tenant_id, filter, page_size, after);
}

absl::StatusOr<EventBatch> ForwardingStore::ReadEvents(
    int64_t tenant_id, int64_t after_id, const EventFilter& filter, int limit) {
  return target_->ReadEvents(tenant_id, after_id, filter, limit);
}

absl::StatusOr<int64_t> ForwardingStore::LastEventId(int64_t tenant_id) {
  return target_->LastEventId(tenant_id);
}

void ForwardingStore::SetEventListener(std::function<void()> listener) {
  target_->SetEventListener(std::move(listener));
}

absl::StatusOr<std::vector<Message>> ForwardingStore::ClaimDueMessages(
    absl::string_view owner, absl::Time now, absl::Duration lease, int limit) {
  return target_->ClaimDueMessages(owner, now, lease, limit);
}

void ForwardingStore::RecordDeliveryAsync(
    std::shared_ptr<const DeliveryUpdate> update, RecordCallback done) {
  target_->RecordDeliveryAsync(std::move(update), std::move(done));
}

absl::Status ForwardingStore::ReleaseAllLeases() {
  return target_->ReleaseAllLeases();
}

absl::StatusOr<absl::Time> ForwardingStore::NextDueTime() {
  return target_->NextDueTime();
}

absl::Status ForwardingStore::UpsertSuppression(const Suppression& suppression,
                                                absl::string_view note) {
  return target_->UpsertSuppression(suppression, note);
}

absl::StatusOr<Suppression> ForwardingStore::RemoveSuppression(
    int64_t tenant_id, absl::string_view address, absl::string_view scope,
    absl::string_view reason) {
  return target_->RemoveSuppression(tenant_id, address, scope, reason);
}

absl::StatusOr<std::vector<std::optional<Suppression>>>
ForwardingStore::FindSuppressions(int64_t tenant_id,
                                  const std::vector<std::string>& addresses,
                                  absl::string_view stream, absl::Time now) {
  return target_->FindSuppressions(tenant_id, addresses, stream, now);
}

absl::StatusOr<SuppressionPage> ForwardingStore::ListSuppressions(
    int64_t tenant_id, const SuppressionFilter& filter, int page_size,
    const std::optional<SuppressionCursor>& after) {
  return target_->ListSuppressions(tenant_id, filter, page_size, after);
}

absl::StatusOr<bool> ForwardingStore::ApplyFeedback(
    const FeedbackUpdate& update) {
  return target_->ApplyFeedback(update);
}

absl::StatusOr<std::optional<SoftBounceScore>>
ForwardingStore::GetSoftBounceScore(int64_t tenant_id,
                                    absl::string_view address) {
  return target_->GetSoftBounceScore(tenant_id, address);
}

absl::StatusOr<CleaningJob> ForwardingStore::CreateCleaningJob(
    const CleaningJob& job) {
  return target_->CreateCleaningJob(job);
}

absl::StatusOr<CleaningJob> ForwardingStore::GetCleaningJob(
    int64_t tenant_id, absl::string_view id) {
  return target_->GetCleaningJob(tenant_id, id);
}

absl::StatusOr<std::vector<CleaningJob>> ForwardingStore::ListCleaningJobs(
    int64_t tenant_id, int page_size, absl::string_view after_id) {
  return target_->ListCleaningJobs(tenant_id, page_size, after_id);
}

absl::Status ForwardingStore::DeleteCleaningJob(int64_t tenant_id,
                                                absl::string_view id) {
  return target_->DeleteCleaningJob(tenant_id, id);
}

absl::StatusOr<std::vector<ClaimedCleaningJob>>
ForwardingStore::ClaimDueCleaningJobs(absl::string_view owner, absl::Time now,
                                      absl::Duration lease, int limit) {
  return target_->ClaimDueCleaningJobs(owner, now, lease, limit);
}

absl::StatusOr<ClaimedCleaningJob> ForwardingStore::ClaimCleaningJob(
    int64_t tenant_id, absl::string_view id, absl::string_view owner,
    absl::Time now, absl::Duration lease) {
  return target_->ClaimCleaningJob(tenant_id, id, owner, now, lease);
}

absl::Status ForwardingStore::FinishCleaningJobRun(
    const CleaningRunFinish& finish) {
  return target_->FinishCleaningJobRun(finish);
}

absl::StatusOr<std::vector<CleaningJobRun>>
ForwardingStore::ListCleaningJobRuns(int64_t tenant_id,
                                     absl::string_view job_id, int limit) {
  return target_->ListCleaningJobRuns(tenant_id, job_id, limit);
}

absl::StatusOr<absl::Time> ForwardingStore::NextCleaningJobDueTime() {
  return target_->NextCleaningJobDueTime();
}

absl::Status ForwardingStore::CreateAlertChannel(
    const AlertChannelRow& channel) {
  return target_->CreateAlertChannel(channel);
}

absl::StatusOr<std::vector<AlertChannelRow>> ForwardingStore::ListAlertChannels(
    int64_t tenant_id) {
  return target_->ListAlertChannels(tenant_id);
}

absl::Status ForwardingStore::DeleteAlertChannel(int64_t tenant_id,
                                                 absl::string_view name) {
  return target_->DeleteAlertChannel(tenant_id, name);
}

absl::Status ForwardingStore::UpdateAlertChannel(
    const AlertChannelRow& channel) {
  return target_->UpdateAlertChannel(channel);
}

absl::Status ForwardingStore::CreateAlertRule(const AlertRuleRow& rule) {
  return target_->CreateAlertRule(rule);
}

absl::StatusOr<std::vector<AlertRuleRow>> ForwardingStore::ListAlertRules(
    int64_t tenant_id) {
  return target_->ListAlertRules(tenant_id);
}

absl::Status ForwardingStore::DeleteAlertRule(int64_t tenant_id,
                                              absl::string_view id) {
  return target_->DeleteAlertRule(tenant_id, id);
}

absl::StatusOr<std::vector<AlertRuleRow>> ForwardingStore::ListAllAlertRules() {
  return target_->ListAllAlertRules();
}

absl::StatusOr<std::vector<AlertChannelRow>>
ForwardingStore::ListAllAlertChannels() {
  return target_->ListAllAlertChannels();
}

absl::StatusOr<int64_t> ForwardingStore::InsertAlertRecord(
    const AlertRecordRow& record) {
  return target_->InsertAlertRecord(record);
}

absl::StatusOr<std::vector<AlertRecordRow>> ForwardingStore::ListAlertRecords(
    int64_t tenant_id, absl::string_view channel, int kind, int page_size,
    int64_t before_id) {
  return target_->ListAlertRecords(tenant_id, channel, kind, page_size,
                                   before_id);
}

absl::StatusOr<std::vector<OldestUnsentMessage>>
ForwardingStore::OldestUnsentMessages() {
  return target_->OldestUnsentMessages();
}

absl::StatusOr<AlertWindow> ForwardingStore::ClaimAlertWindow(
    int64_t tenant_id, absl::string_view key, absl::Time now,
    absl::Time until) {
  return target_->ClaimAlertWindow(tenant_id, key, now, until);
}

absl::Status ForwardingStore::SetAlertWindowNote(int64_t tenant_id,
                                                 absl::string_view key,
                                                 absl::string_view note) {
  return target_->SetAlertWindowNote(tenant_id, key, note);
}

absl::StatusOr<std::vector<Subscription>> ForwardingStore::GetSubscriptions(
    int64_t tenant_id, absl::string_view address, absl::string_view list) {
  return target_->GetSubscriptions(tenant_id, address, list);
}

}  // namespace deliverd::store
