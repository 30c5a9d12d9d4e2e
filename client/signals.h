// Ending a long-running call cleanly on SIGINT or SIGTERM (used by watch).
//
// Why not a signal handler: cancelling a gRPC call is not async-signal-safe.
// Instead the signals are blocked in every thread and one thread takes them
// with sigwait(), where any code may run.
//
// Contract: call BlockTerminationSignals() before the first gRPC call of the
// process, so that the threads gRPC starts inherit the mask (otherwise a
// gRPC thread could receive the signal and the default action would kill
// the process mid-output). Then, while a TerminationSignalWatcher lives, the
// first SIGINT/SIGTERM runs `on_signal` once on the watcher's thread; a
// second one exits the process at once (status 130), so a stuck call never
// traps the user.
#ifndef DELIVERD_CLIENT_SIGNALS_H_
#define DELIVERD_CLIENT_SIGNALS_H_

#include <atomic>
#include <functional>
#include <thread>

namespace deliverd::client {

void BlockTerminationSignals();

class TerminationSignalWatcher {
 public:
  explicit TerminationSignalWatcher(std::function<void()> on_signal);
  ~TerminationSignalWatcher();

  TerminationSignalWatcher(const TerminationSignalWatcher&) = delete;
  TerminationSignalWatcher& operator=(const TerminationSignalWatcher&) = delete;

  // Whether a signal arrived (and on_signal ran or is running).
  bool signalled() const { return signalled_.load(); }

 private:
  void Run();

  std::function<void()> on_signal_;
  std::atomic<bool> signalled_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_SIGNALS_H_
