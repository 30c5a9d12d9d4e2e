#include "client/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <utility>

namespace deliverd::client {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

TerminationSignalWatcher::TerminationSignalWatcher(
    std::function<void()> on_signal)
    : on_signal_(std::move(on_signal)) {
  // The thread inherits this mask. Blocking here too (it is idempotent)
  // keeps the destructor's pthread_kill from killing the process if a
  // caller forgot BlockTerminationSignals().
  BlockTerminationSignals();
  thread_ = std::thread([this] { Run(); });
}

TerminationSignalWatcher::~TerminationSignalWatcher() {
  stopping_ = true;
  // Wakes sigwait() in the watcher thread. The signal is blocked in that
  // thread (the constructor saw to it), so it cannot end the process: it
  // stays pending for the thread and sigwait() consumes it.
  pthread_kill(thread_.native_handle(), SIGTERM);  // NOLINT: see above.
  thread_.join();
}

void TerminationSignalWatcher::Run() {
  const sigset_t set = TerminationSignals();
  while (true) {
    int signal_number = 0;
    if (sigwait(&set, &signal_number) != 0) continue;
    if (stopping_) return;
    if (signalled_.exchange(true)) _exit(128 + SIGINT);
    on_signal_();
  }
}

}  // namespace deliverd::client
