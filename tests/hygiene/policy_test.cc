// Tests for hygiene/policy: the retry schedule (monotonic, capped, gives up,
// jitter bounds, deterministic) and the soft-bounce suppression score.
#include "hygiene/policy.h"

#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "hygiene/bounce/reason.h"

namespace deliverd::hygiene {
namespace {

using bounce::BounceClass;
using bounce::Reason;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const PolicyTime kT0 = PolicyTime(seconds(1'800'000'000));

RetryDecision Next(const RetrySchedule& s, int attempts, PolicyTime now,
                   double u = 0) {
  absl::StatusOr<RetryDecision> d = NextAttempt(s, attempts, kT0, now, u);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : RetryDecision{};
}

TEST(RetryScheduleTest, DefaultsWithoutJitter) {
  RetrySchedule s;
  EXPECT_EQ(s.initial_delay, minutes(5));
  EXPECT_EQ(s.give_up_after, hours(36));
  const PolicyDuration want[] = {minutes(5),  minutes(10), minutes(20),
                                 minutes(40), minutes(80), hours(2),
                                 hours(2)};
  for (int n = 1; n <= 7; ++n) {
    RetryDecision d = Next(s, n, kT0);
    EXPECT_FALSE(d.give_up);
    EXPECT_EQ(d.delay, want[n - 1]) << n;
    EXPECT_EQ(d.at, kT0 + want[n - 1]) << n;
  }
}

TEST(RetryScheduleTest, MonotonicAndCapped) {
  RetrySchedule s;
  s.give_up_after = hours(24 * 365);
  for (double u : {0.0, 0.3, 0.999}) {
    PolicyDuration prev(0);
    for (int n = 1; n < 200; ++n) {
      RetryDecision d = Next(s, n, kT0, u);
      ASSERT_FALSE(d.give_up);
      EXPECT_GE(d.delay, prev) << n;
      EXPECT_LE(d.delay, s.max_delay) << n;
      prev = d.delay;
    }
  }
  // Huge attempt counts do not overflow.
  RetryDecision d = Next(s, 1'000'000'000, kT0);
  EXPECT_EQ(d.delay, s.max_delay);
}

TEST(RetryScheduleTest, JitterBoundsAndDeterminism) {
  RetrySchedule s;
  s.jitter = 0.25;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int n = 1; n <= 10; ++n) {
    PolicyDuration base = Next(s, n, kT0, 0).delay;
    for (int i = 0; i < 200; ++i) {
      double u = unit(rng);
      if (u >= 1.0) continue;
      RetryDecision a = Next(s, n, kT0, u);
      RetryDecision b = Next(s, n, kT0, u);
      EXPECT_EQ(a.at, b.at);  // same input, same answer
      EXPECT_LE(a.delay, base);
      EXPECT_GE(a.delay.count(), static_cast<int64_t>(base.count() * 0.75) - 1);
    }
  }
  // Different random inputs spread the retries.
  EXPECT_NE(Next(s, 3, kT0, 0.1).at, Next(s, 3, kT0, 0.9).at);
  // Jitter 0 ignores the random input.
  s.jitter = 0;
  EXPECT_EQ(Next(s, 3, kT0, 0.1).at, Next(s, 3, kT0, 0.9).at);
}

TEST(RetryScheduleTest, GivesUpAfterDeadlineWithOneFinalAttempt) {
  RetrySchedule s;
  const PolicyTime deadline = kT0 + s.give_up_after;
  // Simulate a message retried until it gives up: attempt times increase,
  // the last attempt is at the deadline, and then it gives up.
  PolicyTime now = kT0;
  int attempts = 1;
  bool saw_final = false;
  for (; attempts < 1000; ++attempts) {
    RetryDecision d = Next(s, attempts, now, 0.5);
    if (d.give_up) break;
    ASSERT_GT(d.at, now);
    ASSERT_LE(d.at, deadline);
    if (d.final_attempt) {
      EXPECT_EQ(d.at, deadline);
      saw_final = true;
    }
    now = d.at;
  }
  EXPECT_TRUE(saw_final);
  EXPECT_GE(now, deadline);
  EXPECT_GT(attempts, 10);  // about 20 attempts over 36 h with the defaults
  EXPECT_LT(attempts, 40);
  // Past the deadline: always give up, whatever the attempt number.
  EXPECT_TRUE(Next(s, 1, deadline).give_up);
  EXPECT_TRUE(Next(s, 3, deadline + hours(5)).give_up);
  // Just before it: a final attempt at the deadline.
  RetryDecision d = Next(s, 20, deadline - minutes(1));
  EXPECT_FALSE(d.give_up);
  EXPECT_TRUE(d.final_attempt);
  EXPECT_EQ(d.at, deadline);
  EXPECT_EQ(d.delay, minutes(1));
}

TEST(RetryScheduleTest, RejectsInvalidInput) {
  RetrySchedule s;
  EXPECT_FALSE(NextAttempt(s, 0, kT0, kT0, 0).ok());
  EXPECT_FALSE(NextAttempt(s, 1, kT0, kT0, 1.0).ok());
  EXPECT_FALSE(NextAttempt(s, 1, kT0, kT0, -0.1).ok());
  EXPECT_FALSE(NextAttempt(s, 1, kT0, kT0, std::nan("")).ok());
  RetrySchedule bad = s;
  bad.multiplier = 0.5;
  EXPECT_FALSE(ValidateRetrySchedule(bad).ok());
  bad = s;
  bad.multiplier = std::nan("");
  EXPECT_FALSE(ValidateRetrySchedule(bad).ok());
  bad = s;
  bad.jitter = 1.5;
  EXPECT_FALSE(ValidateRetrySchedule(bad).ok());
  bad = s;
  bad.initial_delay = seconds(0);
  EXPECT_FALSE(ValidateRetrySchedule(bad).ok());
  bad = s;
  bad.max_delay = minutes(1);
  EXPECT_FALSE(ValidateRetrySchedule(bad).ok());
  EXPECT_TRUE(ValidateRetrySchedule(s).ok());
}

DeliveryEvent Soft(PolicyTime t, Reason r = Reason::kMailboxFull) {
  return {t, r, BounceClass::kSoft};
}

SuppressionDecision Eval(const std::vector<DeliveryEvent>& events,
                         PolicyTime now, SoftBouncePolicy p = {}) {
  absl::StatusOr<SuppressionDecision> d = EvaluateSuppression(p, events, now);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : SuppressionDecision{};
}

TEST(SoftBounceTest, DefaultsAreTheDocumentedOnes) {
  SoftBouncePolicy p;
  EXPECT_EQ(p.half_life, hours(24 * 7));
  EXPECT_EQ(p.threshold, 2.5);
  EXPECT_EQ(p.suppress_for, hours(24 * 30));
  // Three within a week (days 0, 3.5, 7) stay below the threshold.
  EXPECT_FALSE(Eval({Soft(kT0), Soft(kT0 + hours(84)), Soft(kT0 + hours(168))},
                    kT0 + hours(169))
                   .suppress);
}

TEST(SoftBounceTest, ThreeCloseSoftBouncesSuppressForThirtyDays) {
  std::vector<DeliveryEvent> events = {Soft(kT0), Soft(kT0 + hours(24)),
                                       Soft(kT0 + hours(48))};
  SuppressionDecision d = Eval(events, kT0 + hours(49));
  EXPECT_FALSE(Eval({events[0], events[1]}, kT0 + hours(49)).suppress);
  ASSERT_TRUE(d.suppress);
  EXPECT_FALSE(d.permanent);
  EXPECT_EQ(d.since, kT0 + hours(48));
  EXPECT_EQ(d.until, kT0 + hours(48) + hours(24 * 30));
  // Expiry: after the window the address is free again and the score
  // restarted.
  SuppressionDecision later = Eval(events, d.until);
  EXPECT_FALSE(later.suppress);
  EXPECT_EQ(later.score, 0);
}

TEST(SoftBounceTest, SpreadOutSoftBouncesDecayAndNeverSuppress) {
  std::vector<DeliveryEvent> events;
  for (int week = 0; week < 52; ++week) {
    events.push_back(Soft(kT0 + hours(24 * 7 * week)));
  }
  SuppressionDecision d = Eval(events, kT0 + hours(24 * 7 * 52));
  EXPECT_FALSE(d.suppress);
  // Geometric series with ratio 1/2 stays below 2.
  EXPECT_LT(d.score, 2.0);
  EXPECT_GT(d.score, 0.9);
}

TEST(SoftBounceTest, ScoreHalvesEveryHalfLife) {
  SuppressionDecision d = Eval({Soft(kT0)}, kT0 + hours(24 * 7));
  EXPECT_NEAR(d.score, 0.5, 1e-9);
  d = Eval({Soft(kT0)}, kT0 + hours(24 * 14));
  EXPECT_NEAR(d.score, 0.25, 1e-9);
}

TEST(SoftBounceTest, ReputationBlocksNeverSuppress) {
  std::vector<DeliveryEvent> events;
  for (Reason r :
       {Reason::kBlocked, Reason::kSpamDetected, Reason::kPolicy,
        Reason::kRateLimited, Reason::kSecurityError, Reason::kRelayDenied,
        Reason::kContentRejected, Reason::kVirus, Reason::kMessageTooLarge}) {
    EXPECT_EQ(SoftBounceWeight(r), 0.0) << bounce::ReasonName(r);
    for (int i = 0; i < 20; ++i) events.push_back(Soft(kT0 + seconds(i), r));
  }
  SuppressionDecision d = Eval(events, kT0 + minutes(1));
  EXPECT_FALSE(d.suppress);
  EXPECT_EQ(d.score, 0);
}

TEST(SoftBounceTest, DeliveryResetsAndHardIsPermanent) {
  std::vector<DeliveryEvent> events = {
      Soft(kT0),
      Soft(kT0 + hours(1)),
      {kT0 + hours(2), Reason::kDelivered, BounceClass::kNone},
      Soft(kT0 + hours(3))};
  SuppressionDecision d = Eval(events, kT0 + hours(4));
  EXPECT_FALSE(d.suppress);
  EXPECT_LT(d.score, 1.01);

  events.push_back({kT0 + hours(5), Reason::kUserUnknown, BounceClass::kHard});
  d = Eval(events, kT0 + hours(24 * 365));
  EXPECT_TRUE(d.suppress);
  EXPECT_TRUE(d.permanent);
  EXPECT_EQ(d.since, kT0 + hours(5));
  EXPECT_EQ(d.until, PolicyTime::max());

  // A later confirmed delivery shows the mailbox works again.
  events.push_back({kT0 + hours(6), Reason::kDelivered, BounceClass::kNone});
  EXPECT_FALSE(Eval(events, kT0 + hours(7)).suppress);
  // A complaint (class none) is not a delivery: the hard one stays.
  events.pop_back();
  events.push_back({kT0 + hours(6), Reason::kComplaint, BounceClass::kNone});
  EXPECT_TRUE(Eval(events, kT0 + hours(7)).suppress);
}

TEST(SoftBounceTest, OrderOfInputDoesNotMatterAndFutureIgnored) {
  std::vector<DeliveryEvent> events = {Soft(kT0 + hours(48)), Soft(kT0),
                                       Soft(kT0 + hours(24))};
  EXPECT_TRUE(Eval(events, kT0 + hours(49)).suppress);
  // Seen from before the third event, nothing is suppressed yet.
  EXPECT_FALSE(Eval(events, kT0 + hours(30)).suppress);
}

TEST(SoftBounceTest, HalfWeightForSystemErrors) {
  std::vector<DeliveryEvent> events;
  for (int i = 0; i < 5; ++i) {
    events.push_back(Soft(kT0 + minutes(i), Reason::kSystemError));
  }
  events.pop_back();
  EXPECT_FALSE(Eval(events, kT0 + minutes(10)).suppress);  // ~2.0 < 2.5
  events.push_back(Soft(kT0 + minutes(6), Reason::kNetworkError));
  events.push_back(Soft(kT0 + minutes(7), Reason::kNetworkError));
  EXPECT_TRUE(Eval(events, kT0 + minutes(10)).suppress);  // ~3.0
}

TEST(SoftBounceTest, RejectsInvalidPolicy) {
  SoftBouncePolicy p;
  p.half_life = seconds(0);
  EXPECT_FALSE(EvaluateSuppression(p, {}, kT0).ok());
  p = {};
  p.threshold = 0;
  EXPECT_FALSE(EvaluateSuppression(p, {}, kT0).ok());
  EXPECT_TRUE(EvaluateSuppression({}, {}, kT0).ok());
}

TEST(SoftBounceTest, RunningScoreAgreesWithTheHistory) {
  SoftBouncePolicy p;
  std::vector<DeliveryEvent> events = {
      Soft(kT0), Soft(kT0 + hours(30), Reason::kNetworkError),
      Soft(kT0 + hours(40), Reason::kBlocked), Soft(kT0 + hours(50))};
  SoftScore running;
  for (const DeliveryEvent& e : events) {
    absl::StatusOr<SoftScoreStep> step =
        AddSoftBounce(p, running, e.time, e.reason);
    ASSERT_TRUE(step.ok()) << step.status();
    EXPECT_FALSE(step->suppress);
    running = step->next;
  }
  // Decayed to the same instant, both forms agree.
  SuppressionDecision d = Eval(events, running.time);
  EXPECT_NEAR(running.score, d.score, 1e-9);
  // A blocked bounce weighs nothing and does not move the clock.
  absl::StatusOr<SoftScoreStep> blocked =
      AddSoftBounce(p, running, running.time + hours(5), Reason::kBlocked);
  ASSERT_TRUE(blocked.ok());
  EXPECT_EQ(blocked->next.time, running.time);
  EXPECT_EQ(blocked->next.score, running.score);
}

TEST(SoftBounceTest, RunningScoreSuppressesAtTheThresholdAndRestarts) {
  SoftBouncePolicy p;
  SoftScore running;
  PolicyTime t = kT0;
  for (int i = 0; i < 2; ++i) {
    running = AddSoftBounce(p, running, t, Reason::kMailboxFull)->next;
  }
  absl::StatusOr<SoftScoreStep> third =
      AddSoftBounce(p, running, t, Reason::kMailboxFull);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->suppress);
  EXPECT_EQ(third->until, t + p.suppress_for);
  EXPECT_EQ(third->next.score, 0);
  // An event before the stored time counts at the stored time.
  absl::StatusOr<SoftScoreStep> early =
      AddSoftBounce(p, SoftScore{1.0, t}, t - hours(48), Reason::kMailboxFull);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->next.score, 2.0);
  EXPECT_FALSE(AddSoftBounce(p, SoftScore{-1, t}, t, Reason::kMailboxFull).ok());
  SoftBouncePolicy bad;
  bad.threshold = -1;
  EXPECT_FALSE(AddSoftBounce(bad, {}, t, Reason::kMailboxFull).ok());
}

}  // namespace
}  // namespace deliverd::hygiene
