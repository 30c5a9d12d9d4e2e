#include "server/jobs/job_runner.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/jobs/cron.h"
#include "server/jobs/run_job.h"

namespace deliverd::jobs {
namespace {

// How long the loop sleeps when the store cannot say what is due (an error),
// so a broken store is retried without spinning.
constexpr absl::Duration kErrorPause = absl::Seconds(30);

}  // namespace

JobRunner::JobRunner(store::Store* store, auth_checks::dns::Resolver* resolver,
                     JobRunnerOptions options)
    : store_(store), resolver_(resolver), options_(std::move(options)) {}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (loop_.joinable() || stopping_) return;
  loop_ = std::thread([this] { Loop(); });
}

void JobRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cancelled_ = true;
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return running_ == 0; });
}

void JobRunner::Nudge() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    nudged_ = true;
  }
  wake_.notify_all();
}

absl::Time JobRunner::NextRunTime(const store::CleaningJob& job, absl::Time now,
                                  int failures) const {
  absl::Time scheduled = absl::InfiniteFuture();
  if (!job.schedule.empty()) {
    absl::StatusOr<CronSchedule> cron = CronSchedule::Parse(job.schedule);
    if (cron.ok()) scheduled = cron->Next(now);
  }
  if (failures == 0) return scheduled;
  if (job.schedule.empty() && failures > kOnDemandRetries) {
    return absl::InfiniteFuture();
  }
  // 5 min, 10, 20, ... ; the shift is capped so it cannot overflow.
  absl::Duration backoff =
      options_.retry_initial * (int64_t{1} << std::min(failures - 1, 20));
  return std::min(now + backoff, scheduled);
}

store::CleaningRunFinish JobRunner::Execute(
    const store::ClaimedCleaningJob& claimed) {
  RunJobContext ctx;
  ctx.store = store_;
  ctx.resolver = resolver_;
  ctx.jobs_dir = options_.jobs_dir;
  ctx.cancelled = &cancelled_;
  absl::StatusOr<store::CleaningRunSummary> summary =
      RunCleaningJob(ctx, claimed.job, claimed.run.id);

  store::CleaningRunFinish finish;
  finish.tenant_id = claimed.job.tenant_id;
  finish.job_id = claimed.job.id;
  finish.run_id = claimed.run.id;
  finish.lease_owner = options_.owner;
  finish.end_time = options_.now();
  if (summary.ok()) {
    finish.state = store::CleaningRunState::kSucceeded;
    finish.summary = *std::move(summary);
    finish.consecutive_failures = 0;
    finish.next_run_time = NextRunTime(claimed.job, finish.end_time, 0);
  } else {
    finish.state = store::CleaningRunState::kFailed;
    finish.error = std::string(summary.status().message());
    finish.consecutive_failures = claimed.job.consecutive_failures + 1;
    finish.next_run_time = absl::IsAborted(summary.status())
                               ? finish.end_time  // interrupted: run again
                               : NextRunTime(claimed.job, finish.end_time,
                                             finish.consecutive_failures);
  }
  absl::Status recorded = store_->FinishCleaningJobRun(finish);
  if (!recorded.ok()) {
    // The lease was lost (deleted job, or taken over); nothing to retry here.
    std::cerr << "deliverd: cleaning job " << claimed.job.id
              << ": cannot record run " << claimed.run.id << ": " << recorded
              << "\n";
  }
  return finish;
}

void JobRunner::StartWorker(store::ClaimedCleaningJob claimed) {
  std::thread([this, claimed = std::move(claimed)] {
    Execute(claimed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --running_;
      nudged_ = true;  // a slot is free, and the job's next time changed
    }
    idle_.notify_all();
    wake_.notify_all();
  }).detach();
}

absl::StatusOr<store::CleaningJobRun> JobRunner::RunNow(
    int64_t tenant_id, absl::string_view job_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("deliverd is stopping");
    if (running_ >= options_.max_concurrent) {
      return absl::ResourceExhaustedError(absl::StrCat(
          options_.max_concurrent, " cleaning jobs are running; retry later"));
    }
    ++running_;
  }
  absl::StatusOr<store::ClaimedCleaningJob> claimed = store_->ClaimCleaningJob(
      tenant_id, job_id, options_.owner, options_.now(), options_.lease);
  if (!claimed.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --running_;
    }
    idle_.notify_all();
    return claimed.status();
  }
  store::CleaningJobRun run = claimed->run;
  StartWorker(*std::move(claimed));
  return run;
}

void JobRunner::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    nudged_ = false;
    int free = options_.max_concurrent - running_;
    absl::Time wake_at = absl::InfiniteFuture();
    if (free > 0) {
      // Unlocked while the store works, so RunNow and the workers are not
      // held up; a RunNow in between can push running_ one or two past
      // max_concurrent, which is harmless.
      lock.unlock();
      absl::StatusOr<std::vector<store::ClaimedCleaningJob>> claimed =
          store_->ClaimDueCleaningJobs(options_.owner, options_.now(),
                                       options_.lease, free);
      absl::StatusOr<absl::Time> next = store_->NextCleaningJobDueTime();
      lock.lock();
      int started = 0;
      if (claimed.ok()) {
        started = static_cast<int>(claimed->size());
        running_ += started;
        for (store::ClaimedCleaningJob& c : *claimed) StartWorker(std::move(c));
      } else {
        std::cerr << "deliverd: cannot claim cleaning jobs: "
                  << claimed.status() << "\n";
      }
      if (started == free) continue;  // maybe more are due
      wake_at =
          next.ok() && claimed.ok() ? *next : options_.now() + kErrorPause;
    }
    if (stopping_ || nudged_) continue;
    // Wait on the real clock even under a test clock; tests drive Execute
    // directly rather than through this loop.
    if (options_.max_idle != absl::InfiniteDuration()) {
      wake_at = std::min(wake_at, options_.now() + options_.max_idle);
    }
    if (wake_at == absl::InfiniteFuture()) {
      wake_.wait(lock, [this] { return stopping_ || nudged_; });
    } else {
      absl::Duration wait =
          std::max(wake_at - options_.now(), absl::ZeroDuration());
      wake_.wait_for(
          lock, absl::ToChronoMilliseconds(wait) + std::chrono::milliseconds(1),
          [this] { return stopping_ || nudged_; });
    }
  }
}

}  // namespace deliverd::jobs
