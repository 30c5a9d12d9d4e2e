// The time source and sleeper of the alert sender, injectable so that tests
// of the retry schedule run without sleeping.
//
// Contract: Sleep(d, cancel) waits `d` (nothing for d <= 0) and returns true,
// or returns false as soon as `cancel` (may be null) is notified.
// RealClock() is the system clock and real waits; it is a process-wide
// instance, never destroyed. Implementations must be thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_CLOCK_H_
#define DELIVERD_SERVER_ALERTS_CLOCK_H_

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace deliverd::alerts {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  virtual bool Sleep(absl::Duration duration,
                     const absl::Notification* cancel) = 0;
};

Clock* RealClock();

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_CLOCK_H_
