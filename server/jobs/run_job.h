// One run of a cleaning job: read the source CSV, clean it with
// hygiene::ListCleaner (the pipeline `deliverctl clean` and the CleanList
// RPC use), apply the job's per-verdict actions, and write the destination.
//
// The destination is the cleaned list: the source's columns plus `verdict`
// and `reason` (the removal reason, or "" for a row the cleaner kept). It is
// written to "<destination>.tmp-<run id>" and renamed into place only when
// the whole run succeeded, so a reader sees the previous complete list or
// the new one, never half of one; a failed run removes its temporary file.
//
// Actions (store::CleaningJobAction), for rows removed as invalid or
// undeliverable (on_undeliverable) and for risky rows (on_risky):
//   keep      the cleaner's decision stands;
//   flag      the row is written even if the cleaner removed it (its reason
//             column says why it is flagged), counted in `flagged`;
//   suppress  a valid address gets a store::Suppression (reason INVALID,
//             evidence "cleaning job <id>: <reason>") and is left out;
//             addresses that do not parse are only left out.
// Duplicates and addresses already suppressed are always left out.
//
// Memory is bounded by one chunk of rows plus the cleaner's dedupe set,
// whatever the file's size. Errors (unreadable source, malformed CSV, a
// path outside the jobs folder, a store failure, `cancelled` becoming true
// between chunks) come back as a status whose message is what the run
// records. Thread-safe in the sense that concurrent calls for different
// jobs share nothing but the store and resolver, which are thread-safe.
#ifndef DELIVERD_SERVER_JOBS_RUN_JOB_H_
#define DELIVERD_SERVER_JOBS_RUN_JOB_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "auth_checks/dns/resolver.h"
#include "server/store/store.h"

namespace deliverd::jobs {

struct RunJobContext {
  store::Store* store = nullptr;
  // Null: jobs that are not offline fail with "no DNS resolver".
  auth_checks::dns::Resolver* resolver = nullptr;
  // The root every source and destination must stay under.
  std::string jobs_dir;
  // Checked between chunks; a run that sees it set fails ("interrupted").
  const std::atomic<bool>* cancelled = nullptr;
};

// Rows read and judged per chunk (the same as the CleanList RPC's).
inline constexpr int kRunJobChunkRows = 500;

absl::StatusOr<store::CleaningRunSummary> RunCleaningJob(
    const RunJobContext& context, const store::CleaningJob& job,
    int64_t run_id);

}  // namespace deliverd::jobs

#endif  // DELIVERD_SERVER_JOBS_RUN_JOB_H_
