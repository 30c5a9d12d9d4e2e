// Delivery of one alert request with retries and exponential backoff.
//
// Deliver() sends the request and retries:
//   - on transport errors that may pass (UNAVAILABLE, DEADLINE_EXCEEDED),
//   - on 5xx, and on 429 (Too Many Requests),
// and not on other statuses (2xx is accepted; 3xx and other 4xx are final:
// a wrong URL or a rejected payload does not get better by retrying).
// The wait before attempt n+1 is min(max_delay, initial_delay * 2^(n-1)),
// reduced by up to `jitter` (a fraction: 0.2 waits 80-100% of it) so that
// many senders do not retry in step. On 429 and 503 a Retry-After header
// (seconds or HTTP-date) replaces the computed wait; if it asks for more
// than max_retry_after, delivery stops there (not accepted) rather than
// holding the worker.
//
// The request is rebuilt for each attempt (RequestBuilder gets the attempt's
// time) so that signed requests carry a fresh timestamp.
//
// The result is a DeliveryRecord: what was sent where (channel name and the
// redacted destination), when (first and last attempt), how many attempts,
// the final HTTP status and whether the channel accepted it.
//
// Thread-safety: Deliver() may be called from several threads at once if
// the HttpClient and Clock allow it (CurlHttpClient and RealClock() do).
#ifndef DELIVERD_SERVER_ALERTS_ALERT_SENDER_H_
#define DELIVERD_SERVER_ALERTS_ALERT_SENDER_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/alerts/clock.h"
#include "server/alerts/http_client.h"
#include "server/alerts/http_request.h"

namespace deliverd::alerts {

struct RetryPolicy {
  int max_attempts = 5;
  absl::Duration initial_delay = absl::Seconds(1);
  absl::Duration max_delay = absl::Minutes(1);
  double jitter = 0.2;  // 0: exact delays
  absl::Duration max_retry_after = absl::Minutes(5);
};

struct DeliveryRecord {
  std::string channel;      // e.g. "slack", "webhook:ops"
  std::string destination;  // RedactUrl() of the request URL
  int attempts = 0;
  int status_code = 0;    // final HTTP status; 0: no response
  bool accepted = false;  // a 2xx response
  std::string error;      // empty when accepted
  absl::Time first_attempt = absl::InfinitePast();
  absl::Time last_attempt = absl::InfinitePast();
};

// Builds the request for an attempt made at `now`.
using RequestBuilder = std::function<HttpRequest(absl::Time now)>;

// The wait after failed attempt `attempt` (1-based) with `unit_random` in
// [0, 1): initial_delay * 2^(attempt-1), capped at max_delay, times
// (1 - jitter * unit_random).
absl::Duration BackoffDelay(const RetryPolicy& policy, int attempt,
                            double unit_random);

// Whether a response status is worth another attempt.
bool IsRetryableStatus(int status_code);

// The random source of the backoff jitter: uniform values in [0, 1) from a
// generator seeded by std::random_device, replaceable for tests.
// Thread-safe. Shared by every channel that retries with BackoffDelay().
class JitterRandom {
 public:
  JitterRandom();
  JitterRandom(const JitterRandom&) = delete;
  JitterRandom& operator=(const JitterRandom&) = delete;

  double Next();
  // Replaces the source; values in [0, 1).
  void Set(std::function<double()> random);

 private:
  absl::Mutex mu_;
  std::function<double()> random_ ABSL_GUARDED_BY(mu_);
};

// The wait between two attempts: sleeps `wait` on `clock` and returns true,
// or, if `cancel` (may be null) is notified first, appends " (cancelled)" to
// record->error and returns false (delivery then stops with that record).
bool WaitBeforeRetry(Clock* clock, absl::Duration wait,
                     const absl::Notification* cancel, DeliveryRecord* record);

class AlertSender {
 public:
  // `client` and `clock` must outlive the sender.
  AlertSender(HttpClient* client, Clock* clock, RetryPolicy policy);

  // Replaces the random source of the jitter (tests); values in [0, 1).
  void SetRandomForTesting(std::function<double()> random);

  // Delivers, retrying as above. If `cancel` is notified during a wait,
  // delivery stops with the last outcome, its error ending "(cancelled)".
  DeliveryRecord Deliver(absl::string_view channel, const RequestBuilder& build,
                         const absl::Notification* cancel = nullptr);
  DeliveryRecord Deliver(absl::string_view channel, const HttpRequest& request,
                         const absl::Notification* cancel = nullptr);

  const RetryPolicy& policy() const { return policy_; }

 private:
  HttpClient* const client_;
  Clock* const clock_;
  const RetryPolicy policy_;
  JitterRandom random_;
};

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_ALERT_SENDER_H_
