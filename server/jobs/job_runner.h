// Runs scheduled cleaning jobs: one thread sleeps until the next job is due
// (a condition variable with that deadline; Nudge() and Stop() wake it),
// claims due jobs from the store with a lease, and runs each on a worker
// thread of its own, off the gRPC threads. The store's lease is what keeps
// two replicas from running the same job at once.
//
// After a run the job's next run time is set from its schedule (success) or
// from the retry back-off (failure): retry_initial after the first failure,
// doubling with each further one, but never later than the schedule's next
// regular run. A job without a schedule is retried the same way up to
// kOnDemandRetries times and then waits for the next RunNow.
//
// Leases last `lease`; they are not renewed during a run, so a run longer
// than the lease could be claimed a second time by another replica (the
// embedded store serves one process, where this cannot happen).
//
// Thread-safe. Stop() (also run by the destructor) asks running jobs to
// stop between chunks, records them FAILED with "interrupted" and a retry
// due at once, and waits for every worker. The store and resolver must
// outlive the runner.
#ifndef DELIVERD_SERVER_JOBS_JOB_RUNNER_H_
#define DELIVERD_SERVER_JOBS_JOB_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auth_checks/dns/resolver.h"
#include "server/store/store.h"

namespace deliverd::jobs {

struct JobRunnerOptions {
  // The lease owner name; unique per process ("deliverd-<pid>").
  std::string owner = "deliverd";
  // Root of every job's source and destination (see job_paths.h).
  std::string jobs_dir;
  absl::Duration lease = absl::Hours(1);
  absl::Duration retry_initial = absl::Minutes(5);
  // Jobs running at once in this process.
  int max_concurrent = 2;
  // The longest the scheduler sleeps without looking at the store: on a
  // shared store another replica may add a job or die holding one, and
  // nothing nudges this process then.
  absl::Duration max_idle = absl::InfiniteDuration();
  // The clock (tests substitute one).
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class JobRunner {
 public:
  static constexpr int kOnDemandRetries = 3;

  JobRunner(store::Store* store, auth_checks::dns::Resolver* resolver,
            JobRunnerOptions options);
  ~JobRunner();

  // Starts the scheduling thread.
  void Start();
  void Stop();
  // Re-reads the next due time (a job was created or changed).
  void Nudge();

  // Claims the job now and starts its run on a worker thread; returns the
  // run as it starts (RUNNING). NOT_FOUND, FAILED_PRECONDITION (already
  // running), RESOURCE_EXHAUSTED (max_concurrent runs busy) or
  // UNAVAILABLE (stopping).
  absl::StatusOr<store::CleaningJobRun> RunNow(int64_t tenant_id,
                                               absl::string_view job_id);

  // Runs a claimed job on the calling thread and records its end; returns
  // what was recorded. Exposed for tests and used by the workers.
  store::CleaningRunFinish Execute(const store::ClaimedCleaningJob& claimed);

  // When a job should next run after a run that ended at `now`.
  // `failures` is the count of consecutive failures including this run (0
  // after a success).
  absl::Time NextRunTime(const store::CleaningJob& job, absl::Time now,
                         int failures) const;

 private:
  void Loop();
  // Starts `claimed` on a worker; the caller has reserved a slot.
  void StartWorker(store::ClaimedCleaningJob claimed);

  store::Store* store_;
  auth_checks::dns::Resolver* resolver_;
  JobRunnerOptions options_;
  std::atomic<bool> cancelled_{false};

  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  bool stopping_ = false;
  bool nudged_ = false;
  int running_ = 0;
  std::thread loop_;
};

}  // namespace deliverd::jobs

#endif  // DELIVERD_SERVER_JOBS_JOB_RUNNER_H_
