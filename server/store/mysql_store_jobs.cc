// MysqlStore: scheduled list-cleaning jobs and their runs — create, read,
// list, delete, lease claims (due jobs and on-demand runs), recording a
// run's end, and the next due time. Mirrors SqliteStore's behaviour; see
// server/store/store.h for the contract.
//
// Claims run in transactions of their own (Transact) with row locks, so two
// replicas never lease one job at once and a claim never waits behind a
// write group; the other writes go through the group writer.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/store/mysql_rows.h"
#include "server/store/mysql_store.h"
#include "server/store/status_macros.h"
#include "server/store/store_codec.h"

namespace deliverd::store {
namespace {

constexpr char kJobColumns[] =
    "tenant_id, id, display_name, source, destination, schedule, offline, "
    "remove_risky, stream, on_undeliverable, on_risky, create_time, "
    "next_run_time, consecutive_failures";

constexpr char kRunColumns[] =
    "id, tenant_id, job_id, state, start_time, end_time, rows_total, kept, "
    "removed, duplicates, by_verdict, removed_by_reason, suppressed_added, "
    "flagged, error";

CleaningJob ReadJobRow(const MysqlRows& r) {
  CleaningJob j;
  j.tenant_id = r.Int(0);
  j.id = r.Text(1);
  j.display_name = r.Text(2);
  j.source = r.Text(3);
  j.destination = r.Text(4);
  j.schedule = r.Text(5);
  j.offline = r.Int(6) != 0;
  j.remove_risky = r.Int(7) != 0;
  j.stream = r.Text(8);
  j.on_undeliverable = static_cast<CleaningJobAction>(r.Int(9));
  j.on_risky = static_cast<CleaningJobAction>(r.Int(10));
  j.create_time = r.Time(11);
  j.next_run_time = r.Time(12);  // NULL: not scheduled
  j.consecutive_failures = static_cast<int>(r.Int(13));
  return j;
}

CleaningJobRun ReadRunRow(const MysqlRows& r) {
  CleaningJobRun run;
  run.id = r.Int(0);
  run.tenant_id = r.Int(1);
  run.job_id = r.Text(2);
  run.state = static_cast<CleaningRunState>(r.Int(3));
  run.start_time = r.Time(4);
  run.end_time = r.Time(5);  // NULL: still running
  run.summary.rows = r.Int(6);
  run.summary.kept = r.Int(7);
  run.summary.removed = r.Int(8);
  run.summary.duplicates = r.Int(9);
  run.summary.by_verdict = DecodeCounts(r.Text(10));
  run.summary.removed_by_reason = DecodeCounts(r.Text(11));
  run.summary.suppressed_added = r.Int(12);
  run.summary.flagged = r.Int(13);
  run.error = r.Text(14);
  return run;
}

absl::Status LoadLastRun(MysqlConnection& db, CleaningJob& job) {
  static const std::string kSql = absl::StrCat(
      "SELECT ", kRunColumns,
      " FROM cleaning_job_runs WHERE tenant_id = ? AND job_id = ? ORDER BY "
      "id DESC LIMIT 1");
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, job.tenant_id).Bind(2, job.id);
  ASSIGN_OR_RETURN(rows, stmt->Query());
  ASSIGN_OR_RETURN(found, rows->Next());
  job.last_run.reset();
  if (found) job.last_run = ReadRunRow(*rows);
  return absl::OkStatus();
}

// Leases `job` (read and row-locked by the caller, lease free) to `owner`
// and inserts its RUNNING run. A run still RUNNING belongs to a runner whose
// lease expired: it is closed as FAILED first, so the history shows what
// happened.
absl::StatusOr<ClaimedCleaningJob> LeaseJob(MysqlConnection& db,
                                            CleaningJob job,
                                            const std::string& owner,
                                            absl::Time now,
                                            absl::Duration lease) {
  {
    static const std::string kAbandon =
        "UPDATE cleaning_job_runs SET state = 3, end_time = ?, error = "
        "'abandoned: the runner stopped before recording the end (lease "
        "expired)' WHERE tenant_id = ? AND job_id = ? AND state = 1";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kAbandon));
    stmt->BindTime(1, now).Bind(2, job.tenant_id).Bind(3, job.id);
    RETURN_IF_ERROR(stmt->Execute().status());
  }
  {
    static const std::string kLease =
        "UPDATE cleaning_jobs SET lease_owner = ?, lease_until = ? WHERE "
        "tenant_id = ? AND id = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kLease));
    stmt->Bind(1, owner)
        .BindTime(2, now + lease)
        .Bind(3, job.tenant_id)
        .Bind(4, job.id);
    RETURN_IF_ERROR(stmt->Execute().status());
  }
  ClaimedCleaningJob claimed;
  claimed.run.tenant_id = job.tenant_id;
  claimed.run.job_id = job.id;
  claimed.run.state = CleaningRunState::kRunning;
  claimed.run.start_time = now;
  {
    // The TEXT columns have no default (MySQL allows none), so they are
    // given explicitly.
    static const std::string kInsert =
        "INSERT INTO cleaning_job_runs (tenant_id, job_id, state, "
        "start_time, by_verdict, removed_by_reason, error) VALUES (?, ?, 1, "
        "?, '', '', '')";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kInsert));
    stmt->Bind(1, job.tenant_id).Bind(2, job.id).BindTime(3, now);
    RETURN_IF_ERROR(stmt->Execute().status());
    ASSIGN_OR_RETURN(id, db.QueryInt("SELECT LAST_INSERT_ID()"));
    claimed.run.id = id;
  }
  RETURN_IF_ERROR(LoadLastRun(db, job));
  claimed.job = std::move(job);
  return claimed;
}

}  // namespace

absl::StatusOr<CleaningJob> MysqlStore::CreateCleaningJob(
    const CleaningJob& job) {
  CleaningJob stored = job;
  stored.id = NewJobId();
  stored.create_time = StoredTime(absl::Now());
  stored.next_run_time = StoredTime(stored.next_run_time);
  stored.consecutive_failures = 0;
  stored.last_run.reset();
  RETURN_IF_ERROR(WriteAndWait([&](Tx& tx) -> absl::Status {
    static const std::string kInsert = absl::StrCat(
        "INSERT INTO cleaning_jobs (", kJobColumns,
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kInsert));
    stmt->Bind(1, stored.tenant_id)
        .Bind(2, stored.id)
        .Bind(3, stored.display_name)
        .Bind(4, stored.source)
        .Bind(5, stored.destination)
        .Bind(6, stored.schedule)
        .Bind(7, static_cast<int64_t>(stored.offline ? 1 : 0))
        .Bind(8, static_cast<int64_t>(stored.remove_risky ? 1 : 0))
        .Bind(9, stored.stream)
        .Bind(10, static_cast<int64_t>(stored.on_undeliverable))
        .Bind(11, static_cast<int64_t>(stored.on_risky))
        .BindTime(12, stored.create_time)
        .BindOptionalTime(13, stored.next_run_time)
        .Bind(14, int64_t{0});
    return stmt->Execute().status();
  }));
  return stored;
}

absl::StatusOr<CleaningJob> MysqlStore::GetCleaningJob(int64_t tenant_id,
                                                       absl::string_view id) {
  CleaningJob job;
  // The job and its last run from one snapshot.
  RETURN_IF_ERROR(Read(
      [&](MysqlConnection& db) -> absl::Status {
        static const std::string kSql = absl::StrCat(
            "SELECT ", kJobColumns,
            " FROM cleaning_jobs WHERE tenant_id = ? AND id = ?");
        {
          ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
          stmt->Bind(1, tenant_id).Bind(2, id);
          ASSIGN_OR_RETURN(rows, stmt->Query());
          ASSIGN_OR_RETURN(found, rows->Next());
          if (!found) return CleaningJobNotFoundError(id);
          job = ReadJobRow(*rows);
        }
        return LoadLastRun(db, job);
      },
      /*snapshot=*/true));
  return job;
}

absl::StatusOr<std::vector<CleaningJob>> MysqlStore::ListCleaningJobs(
    int64_t tenant_id, int page_size, absl::string_view after_id) {
  std::vector<CleaningJob> jobs;
  RETURN_IF_ERROR(Read(
      [&](MysqlConnection& db) -> absl::Status {
        jobs.clear();
        static const std::string kSql = absl::StrCat(
            "SELECT ", kJobColumns,
            " FROM cleaning_jobs WHERE tenant_id = ? AND id > ? ORDER BY id "
            "LIMIT ?");
        {
          ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
          stmt->Bind(1, tenant_id)
              .Bind(2, after_id)
              .Bind(3, static_cast<int64_t>(page_size));
          ASSIGN_OR_RETURN(rows, stmt->Query());
          while (true) {
            ASSIGN_OR_RETURN(more, rows->Next());
            if (!more) break;
            jobs.push_back(ReadJobRow(*rows));
          }
        }
        for (CleaningJob& job : jobs) RETURN_IF_ERROR(LoadLastRun(db, job));
        return absl::OkStatus();
      },
      /*snapshot=*/true));
  return jobs;
}

absl::Status MysqlStore::DeleteCleaningJob(int64_t tenant_id,
                                           absl::string_view id) {
  std::string job_id(id);
  return WriteAndWait([&](Tx& tx) -> absl::Status {
    {
      static const std::string kJob =
          "DELETE FROM cleaning_jobs WHERE tenant_id = ? AND id = ?";
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kJob));
      stmt->Bind(1, tenant_id).Bind(2, job_id);
      ASSIGN_OR_RETURN(deleted, stmt->Execute());
      if (deleted == 0) return CleaningJobNotFoundError(job_id);
    }
    static const std::string kRuns =
        "DELETE FROM cleaning_job_runs WHERE tenant_id = ? AND job_id = ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kRuns));
    stmt->Bind(1, tenant_id).Bind(2, job_id);
    return stmt->Execute().status();
  });
}

absl::StatusOr<std::vector<ClaimedCleaningJob>>
MysqlStore::ClaimDueCleaningJobs(absl::string_view owner, absl::Time now,
                                 absl::Duration lease, int limit) {
  std::vector<ClaimedCleaningJob> claimed;
  std::string lease_owner(owner);
  RETURN_IF_ERROR(Transact([&](Tx& tx) -> absl::Status {
    claimed.clear();
    // SKIP LOCKED: a job another replica is claiming right now is not
    // waited for; it is theirs.
    static const std::string kDue = absl::StrCat(
        "SELECT ", kJobColumns,
        " FROM cleaning_jobs WHERE next_run_time IS NOT NULL AND "
        "next_run_time <= ? AND (lease_until IS NULL OR lease_until <= ?) "
        "ORDER BY next_run_time LIMIT ? FOR UPDATE SKIP LOCKED");
    std::vector<CleaningJob> due;
    {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kDue));
      stmt->BindTime(1, now).BindTime(2, now).Bind(
          3, static_cast<int64_t>(limit));
      ASSIGN_OR_RETURN(rows, stmt->Query());
      while (true) {
        ASSIGN_OR_RETURN(more, rows->Next());
        if (!more) break;
        due.push_back(ReadJobRow(*rows));
      }
    }
    for (CleaningJob& job : due) {
      ASSIGN_OR_RETURN(
          one, LeaseJob(tx.db(), std::move(job), lease_owner, now, lease));
      claimed.push_back(std::move(one));
    }
    return absl::OkStatus();
  }));
  return claimed;
}

absl::StatusOr<ClaimedCleaningJob> MysqlStore::ClaimCleaningJob(
    int64_t tenant_id, absl::string_view id, absl::string_view owner,
    absl::Time now, absl::Duration lease) {
  ClaimedCleaningJob claimed;
  std::string job_id(id);
  std::string lease_owner(owner);
  RETURN_IF_ERROR(Transact([&](Tx& tx) -> absl::Status {
    // Waits for a concurrent claim or finish of this job (not SKIP LOCKED):
    // whether the lease is free is only known once that one is done.
    static const std::string kFind = absl::StrCat(
        "SELECT ", kJobColumns,
        ", lease_until FROM cleaning_jobs WHERE tenant_id = ? AND id = ? FOR "
        "UPDATE");
    CleaningJob job;
    {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kFind));
      stmt->Bind(1, tenant_id).Bind(2, job_id);
      ASSIGN_OR_RETURN(rows, stmt->Query());
      ASSIGN_OR_RETURN(found, rows->Next());
      if (!found) return CleaningJobNotFoundError(job_id);
      job = ReadJobRow(*rows);
      // NULL reads as InfiniteFuture, so test for it first.
      if (!rows->IsNull(14) && rows->Time(14) > now) {
        return absl::FailedPreconditionError(
            absl::StrCat("cleaning job ", job_id, " is already running"));
      }
    }
    ASSIGN_OR_RETURN(
        one, LeaseJob(tx.db(), std::move(job), lease_owner, now, lease));
    claimed = std::move(one);
    return absl::OkStatus();
  }));
  return claimed;
}

absl::Status MysqlStore::FinishCleaningJobRun(const CleaningRunFinish& f) {
  return WriteAndWait([&](Tx& tx) -> absl::Status {
    {
      static const std::string kRelease =
          "UPDATE cleaning_jobs SET lease_owner = NULL, lease_until = NULL, "
          "next_run_time = ?, consecutive_failures = ? WHERE tenant_id = ? "
          "AND id = ? AND lease_owner = ?";
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kRelease));
      stmt->BindOptionalTime(1, f.next_run_time)
          .Bind(2, static_cast<int64_t>(f.consecutive_failures))
          .Bind(3, f.tenant_id)
          .Bind(4, f.job_id)
          .Bind(5, f.lease_owner);
      // Rows matched (CLIENT_FOUND_ROWS), so 0 means the lease is gone.
      ASSIGN_OR_RETURN(matched, stmt->Execute());
      if (matched == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "lease on cleaning job ", f.job_id, " is no longer held by ",
            f.lease_owner));
      }
    }
    static const std::string kRun =
        "UPDATE cleaning_job_runs SET state = ?, end_time = ?, rows_total = "
        "?, kept = ?, removed = ?, duplicates = ?, by_verdict = ?, "
        "removed_by_reason = ?, suppressed_added = ?, flagged = ?, error = ? "
        "WHERE tenant_id = ? AND id = ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kRun));
    stmt->Bind(1, static_cast<int64_t>(f.state))
        .BindTime(2, f.end_time)
        .Bind(3, f.summary.rows)
        .Bind(4, f.summary.kept)
        .Bind(5, f.summary.removed)
        .Bind(6, f.summary.duplicates)
        .Bind(7, EncodeCounts(f.summary.by_verdict))
        .Bind(8, EncodeCounts(f.summary.removed_by_reason))
        .Bind(9, f.summary.suppressed_added)
        .Bind(10, f.summary.flagged)
        .Bind(11, f.error)
        .Bind(12, f.tenant_id)
        .Bind(13, f.run_id);
    return stmt->Execute().status();
  });
}

absl::StatusOr<std::vector<CleaningJobRun>> MysqlStore::ListCleaningJobRuns(
    int64_t tenant_id, absl::string_view job_id, int limit) {
  std::vector<CleaningJobRun> runs;
  RETURN_IF_ERROR(Read(
      [&](MysqlConnection& db) -> absl::Status {
        runs.clear();
        {
          static const std::string kJob =
              "SELECT 1 FROM cleaning_jobs WHERE tenant_id = ? AND id = ?";
          ASSIGN_OR_RETURN(stmt, db.Prepare(kJob));
          stmt->Bind(1, tenant_id).Bind(2, job_id);
          ASSIGN_OR_RETURN(rows, stmt->Query());
          ASSIGN_OR_RETURN(found, rows->Next());
          if (!found) return CleaningJobNotFoundError(job_id);
        }
        static const std::string kSql = absl::StrCat(
            "SELECT ", kRunColumns,
            " FROM cleaning_job_runs WHERE tenant_id = ? AND job_id = ? "
            "ORDER BY id DESC LIMIT ?");
        ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
        stmt->Bind(1, tenant_id).Bind(2, job_id).Bind(
            3, static_cast<int64_t>(limit));
        ASSIGN_OR_RETURN(rows, stmt->Query());
        while (true) {
          ASSIGN_OR_RETURN(more, rows->Next());
          if (!more) break;
          runs.push_back(ReadRunRow(*rows));
        }
        return absl::OkStatus();
      },
      /*snapshot=*/true));
  return runs;
}

absl::StatusOr<absl::Time> MysqlStore::NextCleaningJobDueTime() {
  absl::Time next = absl::InfiniteFuture();
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    static const std::string kSql =
        "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > "
        "next_run_time THEN lease_until ELSE next_run_time END) FROM "
        "cleaning_jobs WHERE next_run_time IS NOT NULL";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    // No row, or MIN over none (NULL): nothing scheduled.
    next = found ? rows->Time(0) : absl::InfiniteFuture();
    return absl::OkStatus();
  }));
  return next;
}

}  // namespace deliverd::store
