#include "server/alerts/alert_queue.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace deliverd::alerts {

AlertQueue::AlertQueue(AlertSender* sender, size_t capacity, Callback on_record)
    : sender_(sender),
      capacity_(std::max<size_t>(1, capacity)),
      on_record_(std::move(on_record)),
      worker_([this] { Run(); }) {}

AlertQueue::~AlertQueue() { Shutdown(); }

bool AlertQueue::Enqueue(AlertJob job) {
  absl::MutexLock lock(&mu_);
  if (shut_down_ || jobs_.size() >= capacity_) {
    ++dropped_;
    return false;
  }
  jobs_.push_back(std::move(job));
  return true;
}

void AlertQueue::ReportDropped(const AlertJob& job, absl::string_view reason) {
  DeliveryRecord record;
  record.channel = job.channel;
  record.destination = job.destination;
  record.error = absl::StrCat("dropped: ", reason);
  if (on_record_) on_record_(record);
  if (job.done) job.done(record);
}

void AlertQueue::Shutdown() {
  std::deque<AlertJob> left;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      // Already shut down (or shutting down on another thread).
    } else {
      shut_down_ = true;
      left.swap(jobs_);
      dropped_ += static_cast<int64_t>(left.size());
    }
  }
  if (!stop_.HasBeenNotified()) stop_.Notify();
  {
    absl::MutexLock lock(&join_mu_);
    if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) {
      worker_.join();
    }
  }
  for (const AlertJob& job : left) ReportDropped(job, "shutdown");
}

int64_t AlertQueue::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

int64_t AlertQueue::delivered() const {
  absl::MutexLock lock(&mu_);
  return delivered_;
}

void AlertQueue::Run() {
  while (true) {
    AlertJob job;
    {
      absl::MutexLock lock(&mu_);
      const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shut_down_ || !jobs_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (jobs_.empty()) return;  // shut down
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    const DeliveryRecord record =
        job.deliver ? job.deliver(&stop_)
                    : sender_->Deliver(job.channel, job.build, &stop_);
    {
      absl::MutexLock lock(&mu_);
      ++delivered_;
    }
    if (on_record_) on_record_(record);
    if (job.done) job.done(record);
  }
}

}  // namespace deliverd::alerts
