#include "server/alerts/alerting_store.h"

namespace deliverd::alerts {

absl::Status AlertingStore::RecordDelivery(
    const store::DeliveryUpdate& update) {
  absl::Status status = ForwardingStore::RecordDelivery(update);
  if (status.ok()) engine_->OnEvents(update.events);
  return status;
}

absl::StatusOr<bool> AlertingStore::ApplyFeedback(
    const store::FeedbackUpdate& update) {
  absl::StatusOr<bool> applied = ForwardingStore::ApplyFeedback(update);
  if (applied.ok() && *applied) engine_->OnEvents(update.events);
  return applied;
}

}  // namespace deliverd::alerts
