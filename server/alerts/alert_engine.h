// The alert engine: turns what happens to a tenant's mail into alerts on
// the tenant's channels, following the tenant's rules (alert_config.h).
//
// What raises an alert:
//   - events (OnEvents, called after the store committed them): FAILED
//     (MESSAGE_FAILED), BOUNCED and BLOCKED (HARD_BOUNCE), COMPLAINED
//     (COMPLAINT); SENT events, with the others, feed the bounce and
//     complaint rates over each rate rule's window (per-minute buckets);
//   - a periodic tick: rates above threshold (with at least min_volume sent
//     in the window), the oldest queued/waiting message older than max_age,
//     and the scheduled checks of the domains of DOMAIN_AUTH_REGRESSED rules
//     (an SPF, DKIM or DMARC error code that the previous check of that
//     domain did not report; the first check sets the baseline).
//
// Deduplication and rate limits: a rule alerts at most once per cooldown.
// Matches that arrive while a rule cools down are counted (with a sample of
// message ids and the latest evidence), and one summary alert with the count
// is sent when the cooldown ends. The cooldown window lives in the store
// (ClaimAlertWindow), so replicas sharing a database send the first alert
// of a burst once between them; each replica then summarises the matches it
// saw itself. Rates are each replica's own view of the traffic it handled.
// Domain checks are claimed through the store too, so one replica checks a
// domain per interval, and the previous result is kept in the window's
// note.
//
// Never blocks sending: OnEvents only updates counters and appends matches
// to a bounded list (overflow is counted, not waited for); a worker thread
// claims windows, builds alerts and hands them to an AlertQueue, whose own
// thread delivers them (retries, backoff) and records each delivery in the
// store (ListAlertRecords).
//
// Thread-safety: every public method may be called from any thread.
// Ownership: the store, clock, HTTP client and the optional email delivery and
// resolver must outlive the engine; Stop() (or the destructor) must run
// before they go.
#ifndef DELIVERD_SERVER_ALERTS_ALERT_ENGINE_H_
#define DELIVERD_SERVER_ALERTS_ALERT_ENGINE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "auth_checks/dns/resolver.h"
#include "deliverd/v1/alerts.pb.h"
#include "server/alerts/alert.h"
#include "server/alerts/alert_config.h"
#include "server/alerts/alert_queue.h"
#include "server/alerts/alert_sender.h"
#include "server/alerts/clock.h"
#include "server/alerts/email_alert.h"
#include "server/store/store.h"

namespace deliverd::alerts {

struct AlertEngineOptions {
  // How often the rules and channels are read again from the store (other
  // replicas' changes); this replica's own changes apply at once
  // (ConfigChanged).
  absl::Duration config_refresh = absl::Seconds(10);
  // How often rates, queue age, domain checks and ended cooldowns are
  // looked at.
  absl::Duration tick = absl::Seconds(15);
  size_t queue_capacity = 1000;
  // Matches waiting for the worker; beyond this they are counted as dropped.
  size_t max_pending_matches = 100000;
  // Email alerts' sender (From), e.g. "alerts@deliverd.example".
  EmailAlertSettings email;
  // Retries of queued alerts, and of a test alert (whose caller waits).
  RetryPolicy retry;
  RetryPolicy test_retry{/*max_attempts=*/2, absl::Seconds(1), absl::Seconds(1),
                         0.2, absl::Seconds(5)};
};

class AlertEngine {
 public:
  // `email` and `resolver` may be null: email channels then fail with a
  // recorded error, domain checks are skipped.
  AlertEngine(store::Store* store, Clock* clock, HttpClient* http,
              EmailAlertDelivery* email, auth_checks::dns::Resolver* resolver,
              AlertEngineOptions options);
  ~AlertEngine();

  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Starts the worker thread. Alerts are raised only after Start().
  void Start();
  // Stops the worker, then the delivery queue (alerts not yet delivered are
  // recorded as dropped).
  void Stop();

  // Events the store has just committed. Cheap; never blocks on I/O.
  void OnEvents(const std::vector<store::Event>& events);

  // The rules or channels of a tenant changed on this replica.
  void ConfigChanged();

  // Sends a test alert to a channel now (not through the queue, so the
  // caller gets the channel's answer), records it and returns the record.
  // NOT_FOUND for an unknown channel.
  absl::StatusOr<v1::AlertRecord> SendTestAlert(int64_t tenant_id,
                                                absl::string_view tenant_name,
                                                absl::string_view channel);

  // One pass at the clock's now: new matches and ended cooldowns always;
  // rates, queue age and domain checks when a tick has passed since they
  // last ran (the worker calls it; tests call it directly with a fake
  // clock instead of Start()).
  void RunOnce();

  // Blocks until every alert handed to the delivery queue so far has been
  // delivered or dropped (tests; bounded by `timeout`). False on timeout.
  bool WaitForDeliveries(absl::Duration timeout);

  int64_t dropped_matches() const;

 private:
  struct Match {
    int64_t tenant_id = 0;
    std::string message_id;
    store::EventType type = store::EventType::kUnspecified;
    std::string recipient;
    std::string evidence;
    std::string detail;
  };
  struct RuleState;
  struct TenantRates;
  struct Config;

  void Run();
  absl::Status RefreshConfig(bool force);
  std::shared_ptr<const Config> config() const;
  void ProcessMatches(std::vector<Match> matches, const Config& config,
                      absl::Time now);
  void CheckRates(const Config& config, absl::Time now);
  void CheckQueueAge(const Config& config, absl::Time now);
  void CheckDomains(const Config& config, absl::Time now);
  void SendSummaries(const Config& config, absl::Time now);
  // Claims the rule's cooldown window and, when it was free, sends `alert`.
  // Returns whether it was sent.
  bool RaiseIfFree(const RuleConfig& rule, const Config& config, Alert alert,
                   absl::Time now);
  void Dispatch(const RuleConfig* rule, const ChannelConfig& channel,
                const Alert& alert);
  std::vector<AlertJob> JobsFor(const ChannelConfig& channel,
                                const Alert& alert,
                                const std::string& alert_id);
  void Record(const RuleConfig* rule, const ChannelConfig& channel,
              const Alert& alert, const DeliveryRecord& delivery,
              v1::AlertRecord* out);

  store::Store* const store_;
  Clock* const clock_;
  AlertSender sender_;
  AlertSender test_sender_;
  EmailAlertDelivery* const email_;
  auth_checks::dns::Resolver* const resolver_;
  const AlertEngineOptions options_;
  std::unique_ptr<AlertQueue> queue_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Config> config_ ABSL_GUARDED_BY(mu_);
  // Bumped by ConfigChanged(); config_ is stale until it reflects the
  // current generation. While stale, OnEvents keeps every event (a tenant's
  // first rule may be missing from config_).
  int64_t config_generation_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t loaded_generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time config_loaded_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::vector<Match> pending_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_matches_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<int64_t, std::unique_ptr<TenantRates>> rates_
      ABSL_GUARDED_BY(mu_);
  int64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The earliest end of a cooldown that has matches to summarise.
  absl::Time next_summary_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();

  // Worker-only state. Keyed by "<tenant id>/<rule id>".
  absl::flat_hash_map<std::string, std::unique_ptr<RuleState>> rule_states_;
  absl::Mutex run_mu_;  // serialises RunOnce
  absl::Time last_periodic_ ABSL_GUARDED_BY(run_mu_) = absl::InfinitePast();

  std::thread worker_;
};

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_ALERT_ENGINE_H_
