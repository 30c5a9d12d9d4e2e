// Retry schedule and soft-bounce suppression; see policy.h.
#include "hygiene/policy.h"

#include <algorithm>
#include <cmath>

namespace deliverd::hygiene {
namespace {

using bounce::BounceClass;
using bounce::Reason;

double Seconds(PolicyDuration d) { return static_cast<double>(d.count()); }

}  // namespace

absl::Status ValidateRetrySchedule(const RetrySchedule& s) {
  if (s.initial_delay.count() <= 0) {
    return absl::InvalidArgumentError("initial_delay must be positive");
  }
  if (!(s.multiplier >= 1.0) || !std::isfinite(s.multiplier)) {
    return absl::InvalidArgumentError("multiplier must be finite and >= 1");
  }
  if (s.max_delay < s.initial_delay) {
    return absl::InvalidArgumentError("max_delay must be >= initial_delay");
  }
  if (s.give_up_after.count() < 0) {
    return absl::InvalidArgumentError("give_up_after must not be negative");
  }
  if (!(s.jitter >= 0.0 && s.jitter <= 1.0)) {
    return absl::InvalidArgumentError("jitter must be in [0, 1]");
  }
  return absl::OkStatus();
}

absl::StatusOr<RetryDecision> NextAttempt(const RetrySchedule& schedule,
                                          int attempts_made,
                                          PolicyTime first_attempt_time,
                                          PolicyTime now, double random_unit) {
  if (absl::Status s = ValidateRetrySchedule(schedule); !s.ok()) return s;
  if (attempts_made < 1) {
    return absl::InvalidArgumentError("attempts_made must be >= 1");
  }
  if (!(random_unit >= 0.0 && random_unit < 1.0)) {
    return absl::InvalidArgumentError("random_unit must be in [0, 1)");
  }
  RetryDecision decision;
  const PolicyTime deadline = first_attempt_time + schedule.give_up_after;
  if (now >= deadline) {
    decision.give_up = true;
    return decision;
  }
  // pow() saturates to +inf for large exponents; min() then caps it.
  double base = Seconds(schedule.initial_delay) *
                std::pow(schedule.multiplier, attempts_made - 1);
  if (!std::isfinite(base) || base > Seconds(schedule.max_delay)) {
    base = Seconds(schedule.max_delay);
  }
  double jittered = base * (1.0 - schedule.jitter * random_unit);
  // Never retry sooner than one second, even with jitter 1.
  auto delay = PolicyDuration(
      std::max<int64_t>(1, static_cast<int64_t>(std::floor(jittered))));
  if (delay > deadline - now) {
    decision.at = deadline;
    decision.delay = std::chrono::duration_cast<PolicyDuration>(deadline - now);
    decision.final_attempt = true;
    return decision;
  }
  decision.at = now + delay;
  decision.delay = delay;
  return decision;
}

absl::Status ValidateSoftBouncePolicy(const SoftBouncePolicy& p) {
  if (p.half_life.count() <= 0) {
    return absl::InvalidArgumentError("half_life must be positive");
  }
  if (!(p.threshold > 0.0) || !std::isfinite(p.threshold)) {
    return absl::InvalidArgumentError("threshold must be finite and > 0");
  }
  if (p.suppress_for.count() < 0) {
    return absl::InvalidArgumentError("suppress_for must not be negative");
  }
  return absl::OkStatus();
}

double SoftBounceWeight(Reason reason) {
  switch (reason) {
    // The mailbox itself is in trouble.
    case Reason::kMailboxFull:
    case Reason::kSuspended:
    case Reason::kExpired:
    case Reason::kUnknown:
    // Hard reasons seen as soft (a 4xx "user unknown"): count like the rest.
    case Reason::kUserUnknown:
    case Reason::kHostUnknown:
    case Reason::kHasMoved:
    case Reason::kNotAccept:
      return 1.0;
    // Their servers failing: may be the mailbox's provider, may be the path.
    case Reason::kSystemError:
    case Reason::kNetworkError:
      return 0.5;
    // About us, our message or our setup: never the address's fault.
    default:
      return 0.0;
  }
}

namespace {

// AddSoftBounce for a policy already validated.
SoftScoreStep SoftStep(const SoftBouncePolicy& policy, SoftScore current,
                       PolicyTime at, Reason reason) {
  SoftScoreStep step;
  step.next = current;
  double w = SoftBounceWeight(reason);
  if (w == 0) return step;
  if (at < current.time) at = current.time;
  double dt = std::chrono::duration<double>(at - current.time).count();
  double decayed = current.score == 0
                       ? 0
                       : current.score * std::exp2(-dt / Seconds(policy.half_life));
  step.next = SoftScore{decayed + w, at};
  if (step.next.score >= policy.threshold) {
    step.suppress = true;
    step.until = at + policy.suppress_for;
    step.next.score = 0;
  }
  return step;
}

}  // namespace

absl::StatusOr<SoftScoreStep> AddSoftBounce(const SoftBouncePolicy& policy,
                                            SoftScore current, PolicyTime at,
                                            Reason reason) {
  if (absl::Status s = ValidateSoftBouncePolicy(policy); !s.ok()) return s;
  if (!std::isfinite(current.score) || current.score < 0) {
    return absl::InvalidArgumentError("soft score must be finite and >= 0");
  }
  return SoftStep(policy, current, at, reason);
}

absl::StatusOr<SuppressionDecision> EvaluateSuppression(
    const SoftBouncePolicy& policy, std::vector<DeliveryEvent> events,
    PolicyTime now) {
  if (absl::Status s = ValidateSoftBouncePolicy(policy); !s.ok()) return s;
  std::stable_sort(events.begin(), events.end(),
                   [](const DeliveryEvent& a, const DeliveryEvent& b) {
                     return a.time < b.time;
                   });
  const double half_life = Seconds(policy.half_life);
  auto decay = [&](PolicyTime from, PolicyTime to) {
    double dt = std::chrono::duration<double>(to - from).count();
    return std::exp2(-dt / half_life);
  };

  double score = 0;
  PolicyTime score_time{};
  bool hard = false;
  PolicyTime hard_since{};
  bool window = false;
  PolicyTime window_since{}, window_until{};
  for (const DeliveryEvent& e : events) {
    if (e.time > now) break;
    switch (e.bounce_class) {
      case BounceClass::kHard:
        if (!hard) hard_since = e.time;
        hard = true;
        break;
      case BounceClass::kNone:
        if (e.reason == Reason::kDelivered) {
          score = 0;
          score_time = e.time;
          hard = false;
        }
        break;
      case BounceClass::kSoft: {
        SoftScoreStep step =
            SoftStep(policy, SoftScore{score, score_time}, e.time, e.reason);
        score = step.next.score;
        score_time = step.next.time;
        if (step.suppress) {
          window = true;
          window_since = e.time;
          window_until = step.until;
        }
        break;
      }
    }
  }
  SuppressionDecision d;
  d.score = score == 0 ? 0 : score * decay(score_time, now);
  if (hard) {
    d.suppress = true;
    d.permanent = true;
    d.since = hard_since;
    d.until = PolicyTime::max();
  } else if (window && now < window_until) {
    d.suppress = true;
    d.since = window_since;
    d.until = window_until;
  }
  return d;
}

}  // namespace deliverd::hygiene
