#include "server/api/event_hub.h"

#include <chrono>
#include <vector>

namespace deliverd::api {

EventHub::EventHub(absl::Duration tick) : tick_(tick) {
  thread_ = std::thread([this] { Run(); });
}

EventHub::~EventHub() {
  Shutdown();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventHub::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The store calls this after every commit, a thousand times a second
    // under load: wake the thread only when a watcher is there and no
    // wake-up is on its way already (Register polls for a new watcher).
    if (watchers_.empty() || pending_) return;
    pending_ = true;
  }
  cv_.notify_all();
}

void EventHub::Register(EventWatcher* watcher) {
  std::lock_guard<std::mutex> lock(mu_);
  watchers_.insert(watcher);
  pending_ = true;
  cv_.notify_all();
}

void EventHub::Unregister(EventWatcher* watcher) {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  watchers_.erase(watcher);
}

bool EventHub::shutting_down() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void EventHub::Shutdown() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  std::set<EventWatcher*> watchers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    watchers = watchers_;
  }
  cv_.notify_all();
  for (EventWatcher* w : watchers) w->Shutdown();
}

void EventHub::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, absl::ToChronoNanoseconds(tick_),
                 [this] { return pending_ || stopping_; });
    if (stopping_) break;
    pending_ = false;
    lock.unlock();
    {
      std::lock_guard<std::mutex> poll_lock(poll_mu_);
      std::vector<EventWatcher*> watchers;
      {
        std::lock_guard<std::mutex> inner(mu_);
        watchers.assign(watchers_.begin(), watchers_.end());
      }
      for (EventWatcher* w : watchers) w->Poll();
    }
    lock.lock();
  }
}

}  // namespace deliverd::api
