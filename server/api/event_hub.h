// Wakes WatchEvents streams when new events may exist.
//
// The store reports every commit that appended events; the hub turns those
// reports (and a periodic tick, for events written by other processes) into
// calls of each registered watcher's Poll() on the hub's own thread, so
// watchers read the store there and never on the store's writer thread.
//
// Thread-safe. A watcher must Unregister before it is destroyed; after
// Unregister returns, Poll is not running and will not be called again.
#ifndef DELIVERD_SERVER_API_EVENT_HUB_H_
#define DELIVERD_SERVER_API_EVENT_HUB_H_

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "absl/time/time.h"

namespace deliverd::api {

class EventWatcher {
 public:
  virtual ~EventWatcher() = default;
  // Reads what is new and starts writing it; must not block for long.
  virtual void Poll() = 0;
  // The server is shutting down: finish the stream.
  virtual void Shutdown() = 0;
};

class EventHub {
 public:
  explicit EventHub(absl::Duration tick = absl::Seconds(1));
  ~EventHub();

  // Something was committed; wake the watchers soon.
  void Notify();
  void Register(EventWatcher* watcher);
  void Unregister(EventWatcher* watcher);
  // Asks every watcher to finish, and stops accepting new ones.
  void Shutdown();
  bool shutting_down();

 private:
  void Run();

  absl::Duration tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::set<EventWatcher*> watchers_;
  // Held while Poll runs, so Unregister can wait for a running Poll.
  std::mutex poll_mu_;
  std::thread thread_;
};

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_EVENT_HUB_H_
