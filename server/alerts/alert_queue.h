// Asynchronous alert delivery: a bounded queue and one worker thread, so
// that raising an alert never blocks sending mail.
//
// Enqueue() never blocks and never fails loudly: when the queue is full (or
// shut down) the job is dropped and counted (dropped(), for a metric or a
// periodic log line); the callback is not run on the caller's thread, so a
// slow callback can never hold up the code that raised the alert.
// The worker delivers jobs in order through AlertSender (retries included)
// and reports every DeliveryRecord to the callback, on the worker thread.
//
// Shutdown() (also run by the destructor) stops accepting jobs, interrupts
// the current delivery's backoff wait (an HTTP request in flight finishes
// or times out), reports each job still queued to the callback as dropped
// (attempts = 0, error "dropped: shutdown"; on the calling thread), and
// joins the worker. The callback must not call back into the queue's
// Shutdown().
//
// Thread-safety: Enqueue(), dropped(), delivered() and Shutdown() may be
// called from any thread.
#ifndef DELIVERD_SERVER_ALERTS_ALERT_QUEUE_H_
#define DELIVERD_SERVER_ALERTS_ALERT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/alerts/alert_sender.h"

namespace deliverd::alerts {

struct AlertJob {
  std::string channel;
  // An HTTP channel's request, delivered through the queue's AlertSender...
  RequestBuilder build;
  // ...or, when set, a delivery of its own (an email channel), which must
  // end its retries early once `cancel` is notified.
  std::function<DeliveryRecord(const absl::Notification* cancel)> deliver;
  // Where the job goes, for the record of a job dropped at shutdown
  // (redacted URL); delivered jobs take it from the request.
  std::string destination;
  // Called once with the job's record (delivered or dropped), after the
  // queue's callback, on the thread that reports it.
  std::function<void(const DeliveryRecord&)> done;
};

class AlertQueue {
 public:
  using Callback = std::function<void(const DeliveryRecord&)>;

  // `sender` must outlive the queue. capacity >= 1.
  AlertQueue(AlertSender* sender, size_t capacity, Callback on_record);
  ~AlertQueue();

  AlertQueue(const AlertQueue&) = delete;
  AlertQueue& operator=(const AlertQueue&) = delete;

  // True if queued; false if dropped (full or shut down).
  bool Enqueue(AlertJob job);

  void Shutdown();

  int64_t dropped() const;
  int64_t delivered() const;  // jobs whose delivery finished (any outcome)

 private:
  void Run();
  void ReportDropped(const AlertJob& job, absl::string_view reason);

  AlertSender* const sender_;
  const size_t capacity_;
  const Callback on_record_;
  absl::Notification stop_;
  mutable absl::Mutex mu_;
  std::deque<AlertJob> jobs_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex join_mu_;  // serialises concurrent Shutdown() joins
  std::thread worker_;
};

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_ALERT_QUEUE_H_
