#include "server/alerts/alerting_store.h"

namespace deliverd::alerts {

void AlertingStore::RecordDeliveryAsync(
    std::shared_ptr<const store::DeliveryUpdate> update, RecordCallback done) {
  ForwardingStore::RecordDeliveryAsync(
      update, [engine = engine_, update, done = std::move(done)](
                  absl::Status status) {
        if (status.ok()) engine->OnEvents(update->events);
        done(std::move(status));
      });
}

absl::StatusOr<bool> AlertingStore::ApplyFeedback(
    const store::FeedbackUpdate& update) {
  absl::StatusOr<bool> applied = ForwardingStore::ApplyFeedback(update);
  if (applied.ok() && *applied) engine_->OnEvents(update.events);
  return applied;
}

}  // namespace deliverd::alerts
