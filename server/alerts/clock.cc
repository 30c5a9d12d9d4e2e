#include "server/alerts/clock.h"

namespace deliverd::alerts {
namespace {

class SystemClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  bool Sleep(absl::Duration duration,
             const absl::Notification* cancel) override {
    if (cancel != nullptr) {
      if (cancel->HasBeenNotified()) return false;
      if (duration <= absl::ZeroDuration()) return true;
      return !cancel->WaitForNotificationWithTimeout(duration);
    }
    if (duration > absl::ZeroDuration()) absl::SleepFor(duration);
    return true;
  }
};

}  // namespace

Clock* RealClock() {
  static Clock* const clock = new SystemClock();
  return clock;
}

}  // namespace deliverd::alerts
