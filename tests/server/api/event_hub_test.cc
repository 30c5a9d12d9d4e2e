#include "server/api/event_hub.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"

namespace deliverd::api {
namespace {

// Records, at each Poll, the newest commit it was told of before polling.
class RecordingWatcher : public EventWatcher {
 public:
  explicit RecordingWatcher(const std::atomic<int>* committed)
      : committed_(committed) {}
  void Poll() override {
    int now = committed_->load();
    std::lock_guard<std::mutex> lock(mu_);
    polls_++;
    seen_ = now;
    cv_.notify_all();
  }
  void Shutdown() override {}
  // Waits (at most 10 s) until a Poll has started after commit `n`.
  bool WaitSeen(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10),
                        [&] { return seen_ >= n; });
  }
  int polls() {
    std::lock_guard<std::mutex> lock(mu_);
    return polls_;
  }

 private:
  const std::atomic<int>* committed_;
  std::mutex mu_;
  std::condition_variable cv_;
  int polls_ = 0;
  int seen_ = -1;
};

// Notifications that arrive while a wake-up is pending are folded into it;
// none may be lost: after the last one a Poll still runs.
TEST(EventHub, EveryNotificationIsFollowedByAPoll) {
  std::atomic<int> committed{0};
  RecordingWatcher watcher(&committed);
  // A tick far beyond the test, so only notifications wake the hub.
  EventHub hub(absl::Hours(1));
  hub.Register(&watcher);
  std::thread notifier([&] {
    for (int i = 1; i <= 20000; ++i) {
      committed.store(i);
      hub.Notify();
    }
  });
  notifier.join();
  EXPECT_TRUE(watcher.WaitSeen(20000));
  EXPECT_GE(watcher.polls(), 1);
  hub.Unregister(&watcher);
}

// With no watcher, notifications wake nobody; a watcher registered later
// is polled at once all the same.
TEST(EventHub, AWatcherRegisteredLaterIsPolled) {
  std::atomic<int> committed{0};
  EventHub hub(absl::Hours(1));
  for (int i = 1; i <= 100; ++i) {
    committed.store(i);
    hub.Notify();
  }
  RecordingWatcher watcher(&committed);
  hub.Register(&watcher);
  EXPECT_TRUE(watcher.WaitSeen(100));
  committed.store(101);
  hub.Notify();
  EXPECT_TRUE(watcher.WaitSeen(101));
  hub.Unregister(&watcher);
}

}  // namespace
}  // namespace deliverd::api
