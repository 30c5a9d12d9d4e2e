// A store decorator that shows the alert engine the events the dispatcher
// and the feedback ingester commit (RecordDelivery, ApplyFeedback), after
// they are committed (on the store's thread for RecordDeliveryAsync, on the
// caller's for ApplyFeedback). The engine only counts and
// queues (AlertEngine::OnEvents never blocks on I/O), so sending is never
// held up by alerting. Every other call goes straight to the store.
//
// Hooking the store rather than the dispatcher and the ingester keeps one
// place that sees every outcome, whichever code path records it, and only
// outcomes that really were stored (a write refused for a lost lease or a
// repeated feedback fingerprint raises nothing).
//
// Thread-safety: as the wrapped store. Ownership: `target` and `engine` must
// outlive this object.
#ifndef DELIVERD_SERVER_ALERTS_ALERTING_STORE_H_
#define DELIVERD_SERVER_ALERTS_ALERTING_STORE_H_

#include "server/alerts/alert_engine.h"
#include "server/store/forwarding_store.h"

namespace deliverd::alerts {

class AlertingStore : public store::ForwardingStore {
 public:
  AlertingStore(store::Store* target, AlertEngine* engine)
      : ForwardingStore(target), engine_(engine) {}

  void RecordDeliveryAsync(std::shared_ptr<const store::DeliveryUpdate> update,
                           RecordCallback done) override;
  absl::StatusOr<bool> ApplyFeedback(
      const store::FeedbackUpdate& update) override;

 private:
  AlertEngine* const engine_;
};

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_ALERTING_STORE_H_
