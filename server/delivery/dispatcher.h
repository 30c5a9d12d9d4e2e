// The dispatcher: takes due messages from the store's queue (with a lease,
// so a crashed process's work is taken over once the lease ends), composes
// them, hands them to the transport and records what happened as events and
// statuses.
//
// Suppressions are checked again right before sending: a suppression added
// after a message was queued still stops it. A transient failure schedules
// a retry on hygiene/policy's schedule (failed once it gives up); a
// permanent reply is classified by hygiene/bounce: an address problem is
// bounced and suppresses the address (hard_bounce, with the reply as
// evidence), a reputation, policy or content refusal is blocked and never
// suppresses, anything else failed.
//
// Each recipient domain has a concurrency limit and a back-off
// (domain_throttle): a worker delivers the messages of its claimed batch
// whose domains are free, waits for a slot when none is, and gives a
// message back to the queue (no attempt counted) while its domain backs
// off after a 421 or a 4.7.x rate-limit reply. Whatever of a batch is not
// tried when half its lease has passed goes back to the queue too, so no
// attempt starts on a lease that may run out under it; and should an
// attempt outlast its lease anyway (a relay that hangs), a second claim of
// the message by another worker of this process is not attempted while the
// first is under way (all workers share one lease owner).
//
// A worker hands each outcome of its batch to the store without waiting for
// its commit (up to `uncommitted_outcomes` at a time), and waits for all of
// them before it claims again: the message stays leased to us meanwhile, so
// nobody else can take it, and a crash before the commit leaves it to be
// tried again, as a crash between the relay's reply and the commit always
// did. Once the store refuses an outcome (it may be away), the worker sends
// nothing more from that batch; the refused outcomes are recorded again,
// one by one, with bounded retries that end while a quarter of the lease
// is left.
//
// Thread-safe. Start() launches the workers; Stop() stops claiming, lets
// attempts already under way finish and record their outcome, gives
// claimed messages not yet attempted back to the queue, and joins.
#ifndef DELIVERD_SERVER_DELIVERY_DISPATCHER_H_
#define DELIVERD_SERVER_DELIVERY_DISPATCHER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/time/time.h"
#include "hygiene/policy.h"
#include "server/delivery/domain_throttle.h"
#include "server/delivery/return_path.h"
#include "server/delivery/transport.h"
#include "server/store/store.h"

namespace deliverd::delivery {

struct DispatcherOptions {
  // Identifies this process's leases.
  std::string owner = "deliverd";
  absl::Duration lease = absl::Minutes(5);
  int workers = 2;
  int claim_batch = 32;
  // How many of a worker's outcomes may wait for their commit while it
  // goes on delivering. Each is a message the relay accepted that a crash
  // at that moment would send again; more lets a worker keep its
  // connection busy through a slow commit.
  int uncommitted_outcomes = 8;
  // Longest sleep between looks at the queue when nothing is due (other
  // processes may add work the store does not tell us about).
  absl::Duration idle_poll = absl::Seconds(1);
  // When transient failures are retried (hygiene/policy), counted from
  // the message's queueing.
  hygiene::RetrySchedule retry;
  // The envelope sender of each message.
  ReturnPathOptions return_path;
  // Per-recipient-domain concurrency and back-off.
  DomainThrottleOptions domains;
};

class Dispatcher {
 public:
  Dispatcher(store::Store* store, Transport* transport,
             DispatcherOptions options);
  ~Dispatcher();

  void Start();
  void Stop();
  // New work may be due now.
  void Nudge();
  // True from Stop() on.
  bool Stopping();

  // Delivers one claimed message and records the outcome. Public for tests.
  // `suppressed`: the suppressions of the message's pending recipients
  // that may be sent to (no override), in recipient order, when the caller
  // looked them up for a whole batch; else looked up here.
  absl::Status Deliver(
      store::Message message,
      const std::vector<std::optional<store::Suppression>>* suppressed =
          nullptr);
  // The suppressions Deliver needs for each message of `batch` (by index),
  // with one store lookup per (tenant, stream) rather than one per message.
  // Empty when the lookup failed (each message then looks up its own).
  std::vector<std::vector<std::optional<store::Suppression>>>
  BatchSuppressions(const std::vector<store::Message>& batch);

  // Delivers a claimed batch, honouring the domains' limits. Public for
  // tests.
  void DeliverBatch(std::vector<store::Message> batch);

  const DomainThrottle& throttle() const { return throttle_; }

 private:
  class PendingRecords;

  void WorkerLoop();
  // Deliver, with the outcome handed to `records` (not waited for) when it
  // is not null.
  absl::Status DeliverTo(
      store::Message message,
      const std::vector<std::optional<store::Suppression>>* suppressed,
      PendingRecords* records);
  // Waits for `pending`'s outcomes; records again those the store was away
  // for (until `give_up`), and logs the others that failed.
  void FinishRecords(PendingRecords& pending, absl::Time give_up);
  // Marks a message as being attempted by this process; false when it
  // already is (by another worker).
  bool BeginAttempt(const std::string& id);
  void EndAttempts(const std::vector<std::string>& ids);
  // Gives a claimed message back to the queue, due at `at`, without an
  // attempt.
  absl::Status Postpone(const store::Message& message, absl::Time at);
  // RecordDelivery, retried while the store is UNAVAILABLE (bounded by half
  // the lease, and by Stop()).
  absl::Status Record(const store::DeliveryUpdate& update);
  // The same, retried until `give_up`.
  absl::Status Record(const store::DeliveryUpdate& update, absl::Time give_up);

  store::Store* store_;
  Transport* transport_;
  DispatcherOptions options_;
  DomainThrottle throttle_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t nudges_ = 0;
  std::vector<std::thread> workers_;

  std::mutex in_flight_mu_;
  std::unordered_set<std::string> in_flight_;
};


}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_DISPATCHER_H_
