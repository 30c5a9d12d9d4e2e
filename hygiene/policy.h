// Delivery policy as pure functions: when to retry a transient failure and
// when a run of soft bounces suppresses an address for a while.
//
// Why hand-written: these few formulas are the project's core contract with
// receivers (how hard we knock) and with users (when an address stops
// receiving); they must be exact, deterministic and testable without a clock,
// a queue or a database, so the dispatcher (issue 3) and feedback ingestion
// (issue 6) call them and store the results.
//
// Contract
//   * Pure: no clock, no randomness of its own, no global state; thread-safe.
//     Callers pass `now` and, for jitter, a uniform random number in [0, 1),
//     so equal inputs always give equal outputs (tests are deterministic).
//   * Times are std::chrono::system_clock time points and durations in whole
//     seconds, so hygiene/ needs no extra library; the server converts with
//     absl::FromChrono / absl::ToChronoTime.
//   * Invalid parameters (negative durations, multiplier < 1, jitter outside
//     [0, 1], random_unit outside [0, 1), attempts < 1, NaN) give
//     absl::InvalidArgumentError, never a silent guess.
//
// Retry schedule (defaults in the spirit of Postfix and Exim: the first retry
// after minutes, backing off to hours, giving up after about a day and a
// half, as issue 3 asks):
//   base(n)  = min(initial_delay * multiplier^(n-1), max_delay)
//              for n = attempts already made (1 after the first failure):
//              5m, 10m, 20m, 40m, 80m, 2h, 2h, ... with the defaults
//   delay(n) = base(n) * (1 - jitter * random_unit)     (downward jitter only,
//              so max_delay is a hard cap and delays never exceed base(n))
//   deadline = first_attempt_time + give_up_after
//   now >= deadline                 -> give up
//   now + delay(n) > deadline       -> one last attempt exactly at deadline
//   otherwise                       -> retry at now + delay(n)
//
// Soft-bounce suppression (issue 3: soft bounces do not suppress "except
// through the soft-bounce policy"):
//   * Input: the address's delivery history as events (time, reason, class),
//     one per message outcome, not per attempt.
//   * Each soft event adds SoftBounceWeight(reason) to a score that halves
//     every `half_life`. Only reasons about the mailbox count (mailbox_full,
//     suspended, expired, unknown, network/system errors at half weight);
//     reasons about us (blocked, spam_detected, policy, rate_limited,
//     security_error, relay_denied, content_rejected, virus,
//     message_too_large) weigh 0: a reputation block never suppresses.
//   * Reaching `threshold` suppresses the address from that event's time for
//     `suppress_for`, and the score restarts from zero.
//   * A delivery (class none, reason delivered) resets the score to zero and
//     lifts an earlier hard suppression (the mailbox demonstrably works).
//     Complaints and auto-replies (also class none) change nothing here.
//   * A hard event suppresses with no expiry until such a delivery.
//   * Events after `now` are ignored; events are taken in time order (ties
//     keep their input order).
//   Defaults: half-life 7 days, threshold 2.5, suppression 30 days: three
//   mailbox-full outcomes on consecutive days (score about 2.73) suppress for
//   a month; three spread over a week (about 2.2) do not, and one a week
//   never does (the score stays below 2).
#ifndef DELIVERD_HYGIENE_POLICY_H_
#define DELIVERD_HYGIENE_POLICY_H_

#include <chrono>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hygiene/bounce/reason.h"

namespace deliverd::hygiene {

using PolicyClock = std::chrono::system_clock;
using PolicyTime = PolicyClock::time_point;
using PolicyDuration = std::chrono::seconds;

struct RetrySchedule {
  PolicyDuration initial_delay = std::chrono::minutes(5);
  double multiplier = 2.0;
  PolicyDuration max_delay = std::chrono::hours(2);
  PolicyDuration give_up_after = std::chrono::hours(36);
  double jitter = 0.2;  // fraction of the delay removed at most
};

absl::Status ValidateRetrySchedule(const RetrySchedule& schedule);

struct RetryDecision {
  bool give_up = false;
  PolicyTime at{};             // when to retry (unset when give_up)
  PolicyDuration delay{0};     // at - now
  bool final_attempt = false;  // `at` is the deadline itself
};

// `attempts_made` >= 1: attempts that already happened (the one that just
// failed included).
absl::StatusOr<RetryDecision> NextAttempt(const RetrySchedule& schedule,
                                          int attempts_made,
                                          PolicyTime first_attempt_time,
                                          PolicyTime now, double random_unit);

struct SoftBouncePolicy {
  PolicyDuration half_life = std::chrono::hours(24 * 7);
  double threshold = 2.5;
  PolicyDuration suppress_for = std::chrono::hours(24 * 30);
};

absl::Status ValidateSoftBouncePolicy(const SoftBouncePolicy& policy);

struct DeliveryEvent {
  PolicyTime time;
  bounce::Reason reason = bounce::Reason::kUnknown;
  bounce::BounceClass bounce_class = bounce::BounceClass::kSoft;
};

// How much one soft event with this reason counts (0, 0.5 or 1).
double SoftBounceWeight(bounce::Reason reason);

struct SuppressionDecision {
  bool suppress = false;
  bool permanent = false;  // a hard bounce
  PolicyTime since{};      // when the suppression started
  PolicyTime until{};      // PolicyTime::max() when permanent
  double score = 0;        // the soft score decayed to `now`
};

// The running form of the soft score, for callers that keep one number per
// address instead of its history (feedback ingestion): the score as of
// `time`.
struct SoftScore {
  double score = 0;
  PolicyTime time{};
};

struct SoftScoreStep {
  SoftScore next;         // store this; zero again after a suppression
  bool suppress = false;  // the threshold was reached at `at`
  PolicyTime until{};     // at + suppress_for, when suppress
};

// One soft event with `reason` at `at`: decays `current` to `at` (an `at`
// before current.time counts as current.time) and adds the reason's weight.
// Gives the same scores as EvaluateSuppression over the same soft events.
absl::StatusOr<SoftScoreStep> AddSoftBounce(const SoftBouncePolicy& policy,
                                            SoftScore current, PolicyTime at,
                                            bounce::Reason reason);

absl::StatusOr<SuppressionDecision> EvaluateSuppression(
    const SoftBouncePolicy& policy, std::vector<DeliveryEvent> events,
    PolicyTime now);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_POLICY_H_
