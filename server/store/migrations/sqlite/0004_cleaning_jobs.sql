-- Scheduled list-cleaning jobs (server/jobs) and the record of their runs.

-- One row per job. A runner leases the row while it runs the job
-- (lease_owner, lease_until), as the delivery queue leases messages, so two
-- replicas never run one job at once. next_run_time NULL: nothing due (an
-- on-demand job between runs).
CREATE TABLE cleaning_jobs (
  tenant_id INTEGER NOT NULL,
  id TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  destination TEXT NOT NULL,
  schedule TEXT NOT NULL DEFAULT '',
  offline INTEGER NOT NULL DEFAULT 0,
  remove_risky INTEGER NOT NULL DEFAULT 0,
  stream TEXT NOT NULL DEFAULT '',
  on_undeliverable INTEGER NOT NULL DEFAULT 0,
  on_risky INTEGER NOT NULL DEFAULT 0,
  create_time INTEGER NOT NULL,
  next_run_time INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX cleaning_jobs_due ON cleaning_jobs (next_run_time);

-- Each run of a job: RUNNING (1) until its runner records the end,
-- SUCCEEDED (2) or FAILED (3) with the error. Summary maps are stored as
-- "key=count" lines.
CREATE TABLE cleaning_job_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  rows_total INTEGER NOT NULL DEFAULT 0,
  kept INTEGER NOT NULL DEFAULT 0,
  removed INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  by_verdict TEXT NOT NULL DEFAULT '',
  removed_by_reason TEXT NOT NULL DEFAULT '',
  suppressed_added INTEGER NOT NULL DEFAULT 0,
  flagged INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cleaning_job_runs_job ON cleaning_job_runs (tenant_id, job_id, id);
