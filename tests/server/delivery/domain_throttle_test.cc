#include "server/delivery/domain_throttle.h"

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace deliverd::delivery {
namespace {

using Verdict = DomainThrottle::Verdict;

DomainThrottleOptions Options(int per_domain) {
  DomainThrottleOptions o;
  o.max_concurrent_per_domain = per_domain;
  o.initial_backoff = absl::Minutes(1);
  o.max_backoff = absl::Minutes(4);
  return o;
}

TEST(DomainThrottleTest, LimitsConcurrencyPerDomain) {
  DomainThrottle throttle(Options(2));
  absl::Time now = absl::Now();
  auto a = throttle.TryAcquire({"x.example"}, now);
  auto b = throttle.TryAcquire({"x.example"}, now);
  ASSERT_EQ(a.verdict, Verdict::kGo);
  ASSERT_EQ(b.verdict, Verdict::kGo);
  EXPECT_EQ(throttle.InFlight("x.example"), 2);
  EXPECT_EQ(throttle.TryAcquire({"x.example"}, now).verdict, Verdict::kBusy);
  // Another domain is not affected.
  EXPECT_EQ(throttle.TryAcquire({"y.example"}, now).verdict, Verdict::kGo);
  // Releasing a slot (destroying it) frees the domain.
  a.slots = DomainThrottle::Slots();
  EXPECT_EQ(throttle.InFlight("x.example"), 1);
  EXPECT_EQ(throttle.TryAcquire({"x.example"}, now).verdict, Verdict::kGo);
}

TEST(DomainThrottleTest, AllOrNothingAcrossDomains) {
  DomainThrottle throttle(Options(1));
  absl::Time now = absl::Now();
  auto held = throttle.TryAcquire({"b.example"}, now);
  auto both = throttle.TryAcquire({"a.example", "b.example"}, now);
  EXPECT_EQ(both.verdict, Verdict::kBusy);
  EXPECT_FALSE(both.slots.held());
  // a.example was not left half-taken.
  EXPECT_EQ(throttle.InFlight("a.example"), 0);
}

TEST(DomainThrottleTest, DuplicateDomainsTakeOneSlot) {
  DomainThrottle throttle(Options(1));
  auto d = throttle.TryAcquire({"a.example", "a.example"}, absl::Now());
  ASSERT_EQ(d.verdict, Verdict::kGo);
  EXPECT_EQ(throttle.InFlight("a.example"), 1);
}

TEST(DomainThrottleTest, BackoffDoublesUpToTheCapAndEndsOnSuccess) {
  DomainThrottle throttle(Options(4));
  absl::Time t0 = absl::FromUnixSeconds(1000000);
  EXPECT_EQ(throttle.Throttled("x.example", t0), t0 + absl::Minutes(1));
  // A second throttle while backing off does not extend it.
  EXPECT_EQ(throttle.Throttled("x.example", t0 + absl::Seconds(10)),
            t0 + absl::Minutes(1));
  auto d = throttle.TryAcquire({"x.example", "y.example"}, t0 + absl::Seconds(30));
  EXPECT_EQ(d.verdict, Verdict::kBackingOff);
  EXPECT_EQ(d.retry_at, t0 + absl::Minutes(1));
  absl::Time t1 = t0 + absl::Minutes(2);
  EXPECT_EQ(throttle.Throttled("x.example", t1), t1 + absl::Minutes(2));
  absl::Time t2 = t1 + absl::Minutes(3);
  EXPECT_EQ(throttle.Throttled("x.example", t2), t2 + absl::Minutes(4));
  absl::Time t3 = t2 + absl::Minutes(5);
  EXPECT_EQ(throttle.Throttled("x.example", t3), t3 + absl::Minutes(4));
  throttle.Succeeded("x.example");
  EXPECT_EQ(throttle.BackoffUntil("x.example"), absl::InfinitePast());
  absl::Time t4 = t3 + absl::Minutes(10);
  EXPECT_EQ(throttle.Throttled("x.example", t4), t4 + absl::Minutes(1));
}

TEST(DomainThrottleTest, WaitForReleaseWakesWhenASlotIsGivenBack) {
  DomainThrottle throttle(Options(1));
  auto held = throttle.TryAcquire({"x.example"}, absl::Now());
  std::thread releaser([&] { held.slots = DomainThrottle::Slots(); });
  // Bounded: returns at the release, or after 10 s at worst.
  throttle.WaitForRelease(absl::Now() + absl::Seconds(10));
  releaser.join();
  EXPECT_EQ(throttle.TryAcquire({"x.example"}, absl::Now()).verdict,
            Verdict::kGo);
}

TEST(DomainThrottleTest, DomainOfLowerCasesAndNeedsAnAt) {
  EXPECT_EQ(DomainOf("Someone@Example.ORG"), "example.org");
  EXPECT_EQ(DomainOf("a@b@c.example"), "c.example");
  EXPECT_EQ(DomainOf("nobody"), "");
}

}  // namespace
}  // namespace deliverd::delivery
